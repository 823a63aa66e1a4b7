/**
 * The one dataset implementation every layout uses: a list of (image, label) files plus a label set
 * that maps raw label values to train ids. Layout files only build the list.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { DataError } from '../errors.js';
import { decodeImage, decodeLabel } from '../image-node.js';
import type { LabelSet } from '../labels/types.js';
import type { Sample } from '../sample.js';
import type { DatasetEntry, DatasetSpec, SegDataset } from './types.js';

/**
 * Maps raw label values to train ids through the label set, checking each value.
 * Throws a {@link DataError} naming the file, the value, its position and the accepted values.
 */
export function mapLabel(raw: Uint8Array, width: number, labels: LabelSet, file: string): Uint8Array {
  const lut = labels.idToTrainId;
  const valid = labels.validIds;
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i]!;
    if (valid[v] === 0) {
      throw new DataError(
        `label ${file} has value ${v} at (x=${i % width}, y=${Math.floor(i / width)}); ` +
          `${labels.name} label files hold ${labels.validIdsText}` +
          (labels.ignoreIndex === 255 && valid[255] ? ' (255 = ignore)' : ''),
        'label-value',
        file,
      );
    }
    out[i] = lut[v]!;
  }
  return out;
}

export class ListDataset implements SegDataset {
  readonly length: number;
  constructor(
    readonly name: string,
    readonly spec: DatasetSpec,
    readonly root: string,
    readonly split: string,
    readonly labels: LabelSet,
    readonly entries: readonly DatasetEntry[],
  ) {
    this.length = entries.length;
  }

  private entry(i: number): DatasetEntry {
    const e = this.entries[i];
    if (!e) throw new RangeError(`${this.name} ${this.split}: sample index ${i} out of range 0..${this.length - 1}`);
    return e;
  }

  async loadLabel(i: number): Promise<{ label: Uint8Array; width: number; height: number; entry: DatasetEntry }> {
    const entry = this.entry(i);
    const raw = await decodeLabel(entry.label);
    return { label: mapLabel(raw.data, raw.width, this.labels, entry.label), width: raw.width, height: raw.height, entry };
  }

  async load(i: number): Promise<Sample> {
    const entry = this.entry(i);
    // Decode both at once, but report problems in a fixed order (image first) whatever finishes first.
    const [ri, rl] = await Promise.allSettled([decodeImage(entry.image), decodeLabel(entry.label)]);
    if (ri.status === 'rejected') throw ri.reason;
    if (rl.status === 'rejected') throw rl.reason;
    const img = ri.value;
    const raw = rl.value;
    if (img.width !== raw.width || img.height !== raw.height) {
      throw new DataError(
        `size mismatch: image ${entry.image} is ${img.width}×${img.height} but label ${entry.label} is ${raw.width}×${raw.height} (width×height); they must be equal`,
        'size-mismatch',
        entry.label,
      );
    }
    const label = mapLabel(raw.data, raw.width, this.labels, entry.label);
    return {
      image: img.data,
      label,
      width: img.width,
      height: img.height,
      channels: 3,
      meta: { id: entry.id, index: i, imagePath: entry.image, labelPath: entry.label, oriShape: [img.height, img.width] },
    };
  }
}

/** The file stem: basename without its last extension. */
export function stem(path: string): string {
  const b = basename(path);
  const dot = b.lastIndexOf('.');
  return dot > 0 ? b.slice(0, dot) : b;
}

/**
 * Resolves a path from a list file: relative to `root`; an absolute path that does not exist (SegNet's
 * lists say `/SegNet/CamVid/train/x.png`) falls back to `root/<parent>/<name>`.
 */
export function resolveListed(root: string, p: string): string {
  if (!isAbsolute(p)) return resolve(root, p);
  if (existsSync(p)) return p;
  const alt = join(root, basename(dirname(p)), basename(p));
  return existsSync(alt) ? alt : p;
}

/**
 * Reads a SegNet-style list file (`image_path label_path` per line, `#` comments and blank lines
 * skipped). Errors name the file and line.
 */
export function readPairList(root: string, listFile: string): DatasetEntry[] {
  if (!existsSync(listFile)) throw new DataError(`list file ${listFile} not found`, 'layout', listFile);
  const lines = readFileSync(listFile, 'utf8').split(/\r?\n/);
  const out: DatasetEntry[] = [];
  const seen = new Set<string>();
  lines.forEach((line, n) => {
    const t = line.trim();
    if (!t || t.startsWith('#')) return;
    const parts = t.split(/\s+/);
    if (parts.length !== 2) {
      throw new DataError(`${listFile} line ${n + 1}: expected 'image_path label_path', got '${t}'`, 'layout', listFile);
    }
    const image = resolveListed(root, parts[0]!);
    let id = stem(image);
    if (seen.has(id)) id = `${id}#${n + 1}`;
    seen.add(id);
    out.push({ id, image, label: resolveListed(root, parts[1]!) });
  });
  if (out.length === 0) throw new DataError(`list file ${listFile} lists no image/label pairs`, 'layout', listFile);
  return out;
}

/** Lists the split names a folder offers as `<split>.txt` files (for error messages). */
export function availableLists(root: string, names: readonly string[]): string[] {
  return names.filter((n) => existsSync(join(root, `${n}.txt`)));
}
