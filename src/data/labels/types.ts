/**
 * Label sets: one table per dataset convention, like cityscapesScripts' `labels.py`, from which every
 * mapping (raw id → train id, train id → name/colour, categories, ignore flags) is derived.
 */

export type RGB = readonly [number, number, number];

/** One row of a label table (field names follow cityscapesScripts' `Label` namedtuple). */
export interface Label {
  /** Unique name, e.g. 'car'. */
  name: string;
  /** The value stored in ground-truth files (−1: has no id, never appears in files). */
  id: number;
  /** The class index used for training, or the set's ignore index (255). −1: none. */
  trainId: number;
  category: string;
  categoryId: number;
  hasInstances: boolean;
  /** Whether pixels of this label are ignored in evaluation (and, with trainId 255, in training). */
  ignoreInEval: boolean;
  color: RGB;
}

/** A complete label convention: the raw table plus every derived lookup. */
export interface LabelSet {
  /** Registry name, e.g. 'cityscapes', 'camvid'. */
  readonly name: string;
  /** The raw table, in definition order. */
  readonly labels: readonly Label[];
  /** Number of train classes (train ids 0..numClasses−1). */
  readonly numClasses: number;
  /** Class names by train id. */
  readonly classes: readonly string[];
  /** Colours by train id. */
  readonly palette: readonly RGB[];
  /** The label value meaning "ignore" after mapping to train ids (255 in every built-in set). */
  readonly ignoreIndex: number;
  /** Colour used to draw ignored pixels. */
  readonly ignoreColor: RGB;
  /** 256 entries: raw id → train id (ignored ids → ignoreIndex). Only meaningful where `validIds` is 1. */
  readonly idToTrainId: Uint8Array;
  /** 256 entries: 1 where a raw id is part of the table (or is the ignore value itself). */
  readonly validIds: Uint8Array;
  /** 256 entries: 1 where a train-id map value is legal (0..numClasses−1 and ignoreIndex). */
  readonly validTrainIds: Uint8Array;
  /** Categories in id order (cityscapes has 8; flat sets have one per class or none). */
  readonly categories: readonly { name: string; id: number }[];
  /** Describes the raw ids a file may hold, for error messages ("0–11", "0–33 and 255"). */
  readonly validIdsText: string;
  /** Label by name, raw id, or train id (first label in table order with that train id, as labels.py). */
  byName(name: string): Label | undefined;
  byId(id: number): Label | undefined;
  byTrainId(trainId: number): Label | undefined;
}

export interface LabelSetOptions {
  ignoreIndex?: number;
  ignoreColor?: RGB;
  /**
   * Whether the ignore value itself (e.g. 255) may appear in raw files (default true: padding and
   * "don't care" regions are commonly stored as 255).
   */
  acceptIgnoreInFiles?: boolean;
}

/** Formats a set of integers compactly: "0–11", "0–33 and 255". */
export function rangesText(values: number[]): string {
  const v = [...new Set(values)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < v.length; ) {
    let j = i;
    while (j + 1 < v.length && v[j + 1] === v[j]! + 1) j++;
    parts.push(j === i ? `${v[i]}` : j === i + 1 ? `${v[i]}, ${v[j]}` : `${v[i]}–${v[j]}`);
    i = j + 1;
  }
  if (parts.length <= 1) return parts[0] ?? '(none)';
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

/**
 * Builds a {@link LabelSet} from a table. Train ids must cover 0..K−1 without gaps; labels whose
 * train id is the ignore index (or −1) are ignored in training.
 */
export function defineLabelSet(name: string, labels: readonly Label[], opts: LabelSetOptions = {}): LabelSet {
  const ignoreIndex = opts.ignoreIndex ?? 255;
  const idToTrainId = new Uint8Array(256).fill(ignoreIndex);
  const validIds = new Uint8Array(256);
  const byId = new Map<number, Label>();
  const byName = new Map<string, Label>();
  const byTrain = new Map<number, Label>();
  const byTrainAll = new Map<number, Label>();
  for (const l of labels) {
    if (byName.has(l.name)) throw new Error(`label set ${name}: duplicate label name '${l.name}'`);
    byName.set(l.name, l);
    if (l.id >= 0) {
      if (l.id > 255) throw new Error(`label set ${name}: id ${l.id} of '${l.name}' does not fit a uint8 label map`);
      if (byId.has(l.id)) throw new Error(`label set ${name}: duplicate id ${l.id}`);
      byId.set(l.id, l);
      validIds[l.id] = 1;
      idToTrainId[l.id] = l.trainId < 0 ? ignoreIndex : l.trainId;
    }
    if (l.trainId >= 0 && !byTrainAll.has(l.trainId)) byTrainAll.set(l.trainId, l);
    if (l.trainId >= 0 && l.trainId !== ignoreIndex && !byTrain.has(l.trainId)) byTrain.set(l.trainId, l);
  }
  if (opts.acceptIgnoreInFiles ?? true) {
    if (!validIds[ignoreIndex]) {
      validIds[ignoreIndex] = 1;
      idToTrainId[ignoreIndex] = ignoreIndex;
    }
  }
  const numClasses = byTrain.size;
  for (let t = 0; t < numClasses; t++) {
    if (!byTrain.has(t)) throw new Error(`label set ${name}: train ids must be 0..${numClasses - 1} without gaps; ${t} is missing`);
  }
  const classes = Array.from({ length: numClasses }, (_, t) => byTrain.get(t)!.name);
  const palette = Array.from({ length: numClasses }, (_, t) => byTrain.get(t)!.color);
  const validTrainIds = new Uint8Array(256);
  for (let t = 0; t < numClasses; t++) validTrainIds[t] = 1;
  validTrainIds[ignoreIndex] = 1;
  const cats = new Map<number, string>();
  for (const l of labels) if (!cats.has(l.categoryId)) cats.set(l.categoryId, l.category);
  const categories = [...cats.entries()].sort((a, b) => a[0] - b[0]).map(([id, n]) => ({ name: n, id }));
  const ids: number[] = [];
  for (let i = 0; i < 256; i++) if (validIds[i]) ids.push(i);
  return Object.freeze({
    name,
    labels: Object.freeze([...labels]),
    numClasses,
    classes: Object.freeze(classes),
    palette: Object.freeze(palette),
    ignoreIndex,
    ignoreColor: opts.ignoreColor ?? ([0, 0, 0] as const),
    idToTrainId,
    validIds,
    validTrainIds,
    categories: Object.freeze(categories),
    validIdsText: rangesText(ids),
    byName: (n: string) => byName.get(n),
    byId: (id: number) => byId.get(id),
    byTrainId: (t: number) => byTrainAll.get(t),
  });
}

/** A flat label set: class i has id i and train id i (plus optional extra ignored ids). */
export function flatLabelSet(
  name: string,
  classes: readonly { name: string; color: RGB }[],
  opts: LabelSetOptions & { ignored?: readonly { id: number; name: string; color: RGB }[] } = {},
): LabelSet {
  const labels: Label[] = classes.map((c, i) => ({
    name: c.name,
    id: i,
    trainId: i,
    category: c.name,
    categoryId: i,
    hasInstances: false,
    ignoreInEval: false,
    color: c.color,
  }));
  for (const g of opts.ignored ?? []) {
    labels.push({
      name: g.name,
      id: g.id,
      trainId: opts.ignoreIndex ?? 255,
      category: 'void',
      categoryId: classes.length,
      hasInstances: false,
      ignoreInEval: true,
      color: g.color,
    });
  }
  return defineLabelSet(name, labels, opts);
}

/**
 * A deterministic palette for `n` classes (used when a generic dataset gives no colours): evenly
 * spread hues with alternating lightness, so neighbouring class ids look different.
 */
export function generatePalette(n: number): RGB[] {
  const out: RGB[] = [];
  for (let i = 0; i < n; i++) {
    const h = (i * 0.618033988749895) % 1;
    const l = i % 2 === 0 ? 0.5 : 0.35;
    const s = 0.75;
    const f = (k: number) => {
      const a = s * Math.min(l, 1 - l);
      const kk = (k + h * 12) % 12;
      return Math.round(255 * (l - a * Math.max(-1, Math.min(kk - 3, 9 - kk, 1))));
    };
    out.push([f(0), f(8), f(4)]);
  }
  return out;
}
