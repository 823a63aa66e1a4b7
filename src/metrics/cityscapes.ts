/**
 * The official Cityscapes pixel-level protocol, as cityscapesScripts'
 * `evaluation/evalPixelLevelSemanticLabeling.py` computes it: class IoU and instance-weighted iIoU
 * ("nIoU") over the 19 evaluated classes, and the same over the 7 evaluated categories.
 *
 * It differs from the plain trainId histogram (`ConfusionMatrix` + `computeMetrics`) in ways that
 * change numbers: predictions are label ids (0..33), so a prediction of a void id on a valid pixel
 * is a false negative; pixels whose ground truth is void are never false positives; category scores
 * pool the confusion matrix over a category's classes; iIoU re-weights each ground-truth instance's
 * TP and FN pixels by `avgClassSize[class] / instanceSize` and leaves FP unweighted.
 */
import { CITYSCAPES_LABELS, cityscapesLabels, cityscapesTrainIdToId } from '../data/labels/cityscapes.js';
import type { Label } from '../data/labels/types.js';

/**
 * cityscapesScripts' `args.avgClassSize`: the average instance size (pixels, at 2048×1024) of each
 * instance class over the training set. Fixed constants of the protocol, not re-estimated.
 */
export const CITYSCAPES_AVG_CLASS_SIZE: Readonly<Record<string, number>> = Object.freeze({
  bicycle: 4672.3249222261,
  caravan: 36771.8241758242,
  motorcycle: 6298.7200839748,
  rider: 3930.4788056518,
  bus: 35732.1511111111,
  train: 67583.7075812274,
  car: 12794.0202738185,
  person: 3462.4756337644,
  truck: 27855.1264367816,
  trailer: 16926.9763313609,
});

/** Label ids 0..33: the rows and columns of the confusion matrix (license plate, id −1, has none). */
const NUM_IDS = 34;
const NUM_TRAIN_IDS = cityscapesLabels.numClasses;
/** Instance ids are `labelId·1000 + k`; the script only looks at values above this. */
const INSTANCE_BASE = 1000;
/** Columns of one row of instance counts. */
const TP = 0;
const FN = 1;
const TP_W = 2;
const FN_W = 3;
const STAT_COLS = 4;

interface Protocol {
  /** Per label id: whether the id's ground-truth pixels are left out of FP counts and scores. */
  ignored: Uint8Array;
  /** Per label id: its category name. */
  categoryOf: string[];
  /** Evaluated labels (not ignoreInEval), in id order. */
  evalLabels: Label[];
  /** Categories with at least one evaluated label, in id order, with those labels' ids. */
  categories: { name: string; id: number; ids: number[] }[];
  /** Per label id: row in the instance counts (−1: not an instance class). */
  instRow: Int32Array;
  /** Instance classes (hasInstances, not ignoreInEval), in id order. */
  instClasses: Label[];
  /**
   * Categories whose labels all have instances (human, vehicle), with all their label ids,
   * ignored ones included: the script's `instanceStats["categories"][c]["labelIds"]`.
   */
  instCategories: { name: string; ids: number[] }[];
  /** Per label id: index into instCategories (−1: none). */
  instCatOf: Int32Array;
  /** instCategories[c] as a 0/1 mask over predicted ids, flattened c·NUM_IDS + id. */
  instCatMask: Uint8Array;
}

/** Every table the protocol needs, derived from the label table as the script derives them from labels.py. */
function buildProtocol(): Protocol {
  const labels = CITYSCAPES_LABELS.filter((l) => l.id >= 0);
  const ignored = new Uint8Array(NUM_IDS);
  const categoryOf: string[] = [];
  for (const l of labels) {
    ignored[l.id] = l.ignoreInEval ? 1 : 0;
    categoryOf[l.id] = l.category;
  }
  const evalLabels = labels.filter((l) => !l.ignoreInEval);

  const categoryOrder = [...new Map(CITYSCAPES_LABELS.map((l) => [l.category, l.categoryId])).entries()];
  const categories = categoryOrder
    .map(([name, id]) => ({ name, id, ids: evalLabels.filter((l) => l.category === name).map((l) => l.id) }))
    .filter((c) => c.ids.length > 0);

  const instClasses = evalLabels.filter((l) => l.hasInstances);
  const instRow = new Int32Array(NUM_IDS).fill(-1);
  instClasses.forEach((l, i) => (instRow[l.id] = i));

  const instCategories = categoryOrder
    .map(([name]) => ({ name, members: labels.filter((l) => l.category === name) }))
    .filter((c) => c.members.every((l) => l.hasInstances))
    .map((c) => ({ name: c.name, ids: c.members.map((l) => l.id) }));
  const instCatOf = new Int32Array(NUM_IDS).fill(-1);
  const instCatMask = new Uint8Array(instCategories.length * NUM_IDS);
  instCategories.forEach((c, ci) => {
    for (const id of c.ids) instCatMask[ci * NUM_IDS + id] = 1;
  });
  for (const l of instClasses) instCatOf[l.id] = instCategories.findIndex((c) => c.name === l.category);
  return { ignored, categoryOf, evalLabels, categories, instRow, instClasses, instCategories, instCatOf, instCatMask };
}

const P = buildProtocol();

/** The accumulated counters: what workers send to be merged (typed arrays survive structured clone). */
export interface CityscapesCounts {
  /** 34×34 pixel counts, row = ground-truth label id, column = predicted label id, over all pixels. */
  confusion: Float64Array;
  /**
   * Instance counts, one row of [tp, fn, tpWeighted, fnWeighted] per instance class (person, rider,
   * car, truck, bus, train, motorcycle, bicycle) followed by one per instance category (human, vehicle).
   */
  instanceCounts: Float64Array;
}

/** IoU and iIoU of one evaluated class (fractions; NaN where the denominator is 0 or no instances apply). */
export interface CityscapesClassScore {
  name: string;
  labelId: number;
  trainId: number;
  iou: number;
  /** Instance-weighted IoU; NaN for classes without instances (road, sky, ...). */
  iIoU: number;
}

/** IoU and iIoU of one evaluated category. */
export interface CityscapesCategoryScore {
  name: string;
  categoryId: number;
  iou: number;
  /** NaN except for the all-instance categories (human, vehicle). */
  iIoU: number;
}

/** The four numbers of the Cityscapes benchmark plus the per-class and per-category tables. */
export interface CityscapesResult {
  /** "IoU class": mean of the non-NaN class IoUs (the script's "Score Average"). */
  mIoU: number;
  /** "iIoU class": mean of the non-NaN class iIoUs. */
  iIoU: number;
  /** "IoU category": mean of the non-NaN category IoUs. */
  categoryIoU: number;
  /** "iIoU category": mean of the non-NaN category iIoUs. */
  categoryIIoU: number;
  /** The 19 evaluated classes, in label id order (= train id order). */
  classes: CityscapesClassScore[];
  /** The 7 evaluated categories (void has no evaluated class), in category id order. */
  categories: CityscapesCategoryScore[];
  /** Pixels counted in the confusion matrix (all pixels, void ground truth included). */
  pixels: number;
  /** How the numbers were computed, for report headers. */
  convention: string;
}

/** The protocol in one line, printed in report headers (like `METRIC_CONVENTION` for the plain metrics). */
export const CITYSCAPES_CONVENTION =
  'cityscapesScripts evalPixelLevelSemanticLabeling: label-id predictions; 34×34 confusion over all pixels; FN includes predictions of void ids; FP only from non-void ground truth; iIoU weights TP/FN of each GT instance by avgClassSize/instanceSize, FP unweighted; averages skip NaN';

/** Options for {@link CityscapesEvaluator}. */
export interface CityscapesEvaluatorOptions {
  /**
   * Whether instance-level scores are computed (default true, as the script): every `update` must
   * then pass `gtFine_instanceIds`. With false, iIoU values are NaN.
   */
  instanceLevel?: boolean;
}

const nanMean = (xs: number[]): number => {
  const v = xs.filter((x) => !Number.isNaN(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
};

/**
 * Accumulates the Cityscapes protocol over a split, one image per `update`, and computes the
 * benchmark scores. Counters are float64 typed arrays; evaluators from several workers merge by
 * adding them (`merge`).
 *
 * ```ts
 * const ev = new CityscapesEvaluator();
 * for (const s of split) ev.updateTrainIds(predTrainIds, s.labelIds, s.instanceIds);
 * console.log(formatCityscapesResult(ev.result()));
 * ```
 */
export class CityscapesEvaluator implements CityscapesCounts {
  readonly confusion = new Float64Array(NUM_IDS * NUM_IDS);
  readonly instanceCounts = new Float64Array((P.instClasses.length + P.instCategories.length) * STAT_COLS);
  readonly instanceLevel: boolean;
  private readonly trainIdToId = cityscapesTrainIdToId();

  constructor(options: CityscapesEvaluatorOptions = {}) {
    this.instanceLevel = options.instanceLevel ?? true;
  }

  /**
   * Adds one image. `pred` and `gt` hold label ids 0..33 (`*_gtFine_labelIds.png` for the ground
   * truth), `instances` the `*_gtFine_instanceIds.png` values; all three have one entry per pixel.
   * Instance ids are per image, so one call must be one image.
   */
  update(pred: ArrayLike<number>, gt: ArrayLike<number>, instances?: ArrayLike<number>): this {
    const n = gt.length;
    if (pred.length !== n) throw new Error(`CityscapesEvaluator.update: ${pred.length} predictions but ${n} ground-truth pixels`);
    if (this.instanceLevel) {
      if (!instances) throw new Error('CityscapesEvaluator.update: instance ids (gtFine_instanceIds) are required for iIoU; pass them, or construct with { instanceLevel: false }');
      if (instances.length !== n) throw new Error(`CityscapesEvaluator.update: ${instances.length} instance ids but ${n} ground-truth pixels`);
    }
    const cm = this.confusion;
    for (let i = 0; i < n; i++) {
      const g = gt[i]!;
      const p = pred[i]!;
      if (!(g >= 0 && g < NUM_IDS && Number.isInteger(g))) throw new Error(`CityscapesEvaluator.update: ground-truth value ${g} at pixel ${i} is not a Cityscapes label id (0..33)`);
      if (!(p >= 0 && p < NUM_IDS && Number.isInteger(p))) throw new Error(`CityscapesEvaluator.update: prediction ${p} at pixel ${i} is not a Cityscapes label id (0..33); map train ids with updateTrainIds`);
      cm[g * NUM_IDS + p]!++;
    }
    if (this.instanceLevel) this.addInstances(pred, instances!);
    return this;
  }

  /**
   * Adds one image whose predictions are train ids (0..18; 255 allowed and counted as 'unlabeled',
   * a false negative), mapped to label ids with `cityscapesTrainIdToId()` as the official
   * evaluation requires.
   */
  updateTrainIds(predTrainIds: ArrayLike<number>, gt: ArrayLike<number>, instances?: ArrayLike<number>): this {
    const ids = new Uint8Array(predTrainIds.length);
    for (let i = 0; i < ids.length; i++) {
      const t = predTrainIds[i]!;
      if (!((t >= 0 && t < NUM_TRAIN_IDS && Number.isInteger(t)) || t === 255)) {
        throw new Error(`CityscapesEvaluator.updateTrainIds: prediction ${t} at pixel ${i} is not a Cityscapes train id (0..${NUM_TRAIN_IDS - 1} or 255)`);
      }
      ids[i] = this.trainIdToId[t]!;
    }
    return this.update(ids, gt, instances);
  }

  /** Per ground-truth instance: size, TP (predicted its class), category TP (predicted any id of its category). */
  private addInstances(pred: ArrayLike<number>, inst: ArrayLike<number>): void {
    const slots = new Map<number, number>();
    const stats: number[] = []; // per instance: size, tp, catTp
    const ids: number[] = [];
    for (let i = 0; i < inst.length; i++) {
      const id = inst[i]!;
      if (!(id > INSTANCE_BASE)) continue;
      let s = slots.get(id);
      if (s === undefined) {
        const labelId = Math.trunc(id / INSTANCE_BASE);
        if (labelId >= NUM_IDS) throw new Error(`CityscapesEvaluator.update: instance id ${id} at pixel ${i} encodes label id ${labelId}, outside 0..33`);
        if (P.ignored[labelId]) {
          slots.set(id, -1); // caravan, trailer: instances of ignored classes are skipped, as in the script
          continue;
        }
        if (P.instRow[labelId]! < 0) throw new Error(`CityscapesEvaluator.update: instance id ${id} at pixel ${i} belongs to label id ${labelId}, which has no instances`);
        s = ids.length;
        slots.set(id, s);
        ids.push(id);
        stats.push(0, 0, 0);
      }
      if (s < 0) continue;
      const labelId = Math.trunc(id / INSTANCE_BASE);
      const p = pred[i]!;
      stats[3 * s]!++;
      if (p === labelId) stats[3 * s + 1]!++;
      const cat = P.instCatOf[labelId]!;
      if (cat >= 0 && P.instCatMask[cat * NUM_IDS + p]) stats[3 * s + 2]!++;
    }
    const c = this.instanceCounts;
    const nClasses = P.instClasses.length;
    ids.forEach((id, s) => {
      const labelId = Math.trunc(id / INSTANCE_BASE);
      const size = stats[3 * s]!;
      const tp = stats[3 * s + 1]!;
      const catTp = stats[3 * s + 2]!;
      const weight = CITYSCAPES_AVG_CLASS_SIZE[P.instClasses[P.instRow[labelId]!]!.name]! / size;
      const r = P.instRow[labelId]! * STAT_COLS;
      c[r + TP]! += tp;
      c[r + FN]! += size - tp;
      c[r + TP_W]! += tp * weight;
      c[r + FN_W]! += (size - tp) * weight;
      const cat = P.instCatOf[labelId]!;
      if (cat >= 0) {
        const q = (nClasses + cat) * STAT_COLS;
        c[q + TP]! += catTp;
        c[q + FN]! += size - catTp;
        c[q + TP_W]! += catTp * weight;
        c[q + FN_W]! += (size - catTp) * weight;
      }
    });
  }

  /** Adds the counters of another evaluator (or of counts received from a worker). */
  merge(other: CityscapesCounts): this {
    if (other.confusion.length !== this.confusion.length || other.instanceCounts.length !== this.instanceCounts.length) {
      throw new Error(
        `CityscapesEvaluator.merge: expected ${this.confusion.length} confusion and ${this.instanceCounts.length} instance counters, got ${other.confusion.length} and ${other.instanceCounts.length}`,
      );
    }
    for (let i = 0; i < this.confusion.length; i++) this.confusion[i]! += other.confusion[i]!;
    for (let i = 0; i < this.instanceCounts.length; i++) this.instanceCounts[i]! += other.instanceCounts[i]!;
    return this;
  }

  /** Copies of the counters, for sending to another thread. */
  counts(): CityscapesCounts {
    return { confusion: this.confusion.slice(), instanceCounts: this.instanceCounts.slice() };
  }

  /** Scores from everything accumulated so far. */
  result(): CityscapesResult {
    const cm = this.confusion;
    const at = (g: number, p: number) => cm[g * NUM_IDS + p]!;
    // FP of a set of predicted ids: pixels predicted as one of them whose ground truth is evaluated
    // and outside `exclude` (the class itself, or the category's labels).
    const fpOf = (cols: number[], exclude: (g: number) => boolean) => {
      let fp = 0;
      for (let g = 0; g < NUM_IDS; g++) if (!P.ignored[g] && !exclude(g)) for (const p of cols) fp += at(g, p);
      return fp;
    };
    const rowSum = (g: number) => {
      let s = 0;
      for (let p = 0; p < NUM_IDS; p++) s += at(g, p);
      return s;
    };
    const ratio = (tp: number, den: number) => (den === 0 ? NaN : tp / den);
    const ic = this.instanceCounts;
    const inst = this.instanceLevel;

    const classes = P.evalLabels.map((l): CityscapesClassScore => {
      const tp = at(l.id, l.id);
      const fn = rowSum(l.id) - tp;
      const fp = fpOf([l.id], (g) => g === l.id);
      const row = P.instRow[l.id]!;
      let iIoU = NaN;
      if (inst && row >= 0) {
        const tpW = ic[row * STAT_COLS + TP_W]!;
        iIoU = ratio(tpW, tpW + fp + ic[row * STAT_COLS + FN_W]!);
      }
      return { name: l.name, labelId: l.id, trainId: l.trainId, iou: ratio(tp, tp + fp + fn), iIoU };
    });

    const categories = P.categories.map((c): CityscapesCategoryScore => {
      let tp = 0;
      let rows = 0;
      for (const g of c.ids) {
        rows += rowSum(g);
        for (const p of c.ids) tp += at(g, p);
      }
      const inCategory = (g: number) => P.categoryOf[g] === c.name;
      const fp = fpOf(c.ids, inCategory);
      let iIoU = NaN;
      const ci = P.instCategories.findIndex((x) => x.name === c.name);
      if (inst && ci >= 0) {
        // The script's category FP for iIoU uses the instance category's label ids, which include
        // the ignored caravan and trailer columns.
        const q = (P.instClasses.length + ci) * STAT_COLS;
        const tpW = ic[q + TP_W]!;
        iIoU = ratio(tpW, tpW + fpOf(P.instCategories[ci]!.ids, inCategory) + ic[q + FN_W]!);
      }
      return { name: c.name, categoryId: c.id, iou: ratio(tp, tp + fp + (rows - tp)), iIoU };
    });

    let pixels = 0;
    for (let i = 0; i < cm.length; i++) pixels += cm[i]!;
    return {
      mIoU: nanMean(classes.map((s) => s.iou)),
      iIoU: nanMean(classes.map((s) => s.iIoU)),
      categoryIoU: nanMean(categories.map((s) => s.iou)),
      categoryIIoU: nanMean(categories.map((s) => s.iIoU)),
      classes,
      categories,
      pixels,
      convention: CITYSCAPES_CONVENTION,
    };
  }
}

const f3 = (x: number) => (Number.isNaN(x) ? '  nan' : x.toFixed(3));

/**
 * The script's console tables: `classes IoU nIoU` per class, "Score Average", then the same for
 * categories (fractions with 3 decimals).
 */
export function formatCityscapesResult(r: CityscapesResult): string {
  const rule = '--------------------------------';
  const table = (title: string, rows: { name: string; iou: number; iIoU: number }[], avg: [number, number]) => [
    `${title.padEnd(14)}   IoU      nIoU`,
    rule,
    ...rows.map((s) => `${s.name.padEnd(14)}: ${f3(s.iou)}    ${f3(s.iIoU)}`),
    rule,
    `Score Average : ${f3(avg[0])}    ${f3(avg[1])}`,
    rule,
  ];
  return [
    `Cityscapes evaluation (${r.convention}); ${r.pixels} pixels`,
    ...table('classes', r.classes, [r.mIoU, r.iIoU]),
    '',
    ...table('categories', r.categories, [r.categoryIoU, r.categoryIIoU]),
  ].join('\n');
}
