/**
 * Label statistics and class weights.
 *
 * - Pixel frequencies per train id (and the ignored share).
 * - ENet weights (Paszke et al. 2016; S2-FPN uses c = 1.10): w_c = 1 / ln(c + p_c), with p_c the
 *   class's share of the labelled (non-ignored) pixels.
 * - Median-frequency weights (Eigen & Fergus 2015; SegNet): f_c = pixels of c / pixels of the images
 *   in which c appears, w_c = median(f) / f_c. Classes that never appear get weight 0 and are left out
 *   of the median.
 */
import { isDataError, type DataError } from './errors.js';

export interface LabelStats {
  numClasses: number;
  ignoreIndex: number;
  /** Images counted. */
  images: number;
  /** Pixels per train id. */
  counts: Float64Array;
  /** Pixels equal to the ignore index. */
  ignored: number;
  /** All pixels (labelled + ignored). */
  total: number;
  /** Per class: total pixels (ignored included) of the images in which the class appears. */
  presencePixels: Float64Array;
  /** Per class: number of images in which it appears. */
  imagesWithClass: Float64Array;
  /** Image sizes seen, "W×H" → count. */
  sizes: Record<string, number>;
}

export function emptyStats(numClasses: number, ignoreIndex = 255): LabelStats {
  return {
    numClasses,
    ignoreIndex,
    images: 0,
    counts: new Float64Array(numClasses),
    ignored: 0,
    total: 0,
    presencePixels: new Float64Array(numClasses),
    imagesWithClass: new Float64Array(numClasses),
    sizes: {},
  };
}

/**
 * Adds one train-id label map. Values other than 0..K−1 and the ignore index are an error naming
 * `name` (they cannot occur in maps a dataset produced).
 */
export function accumulateLabel(stats: LabelStats, label: Uint8Array, width: number, height: number, name = 'label'): void {
  const hist = new Float64Array(256);
  for (let i = 0; i < label.length; i++) hist[label[i]!]++;
  const K = stats.numClasses;
  for (let v = 0; v < 256; v++) {
    if (hist[v]! > 0 && v >= K && v !== stats.ignoreIndex) {
      throw new Error(`${name}: label value ${v} is outside the label set (0–${K - 1}, ignore ${stats.ignoreIndex})`);
    }
  }
  for (let c = 0; c < K; c++) {
    const n = hist[c]!;
    stats.counts[c]! += n;
    if (n > 0) {
      stats.presencePixels[c]! += label.length;
      stats.imagesWithClass[c]!++;
    }
  }
  if (stats.ignoreIndex < 256) stats.ignored += hist[stats.ignoreIndex]!;
  stats.total += label.length;
  stats.images++;
  const key = `${width}×${height}`;
  stats.sizes[key] = (stats.sizes[key] ?? 0) + 1;
}

/** Merges `b` into `a` (same label set). */
export function mergeStats(a: LabelStats, b: LabelStats): LabelStats {
  if (a.numClasses !== b.numClasses || a.ignoreIndex !== b.ignoreIndex) throw new Error('mergeStats: different label sets');
  for (let c = 0; c < a.numClasses; c++) {
    a.counts[c]! += b.counts[c]!;
    a.presencePixels[c]! += b.presencePixels[c]!;
    a.imagesWithClass[c]! += b.imagesWithClass[c]!;
  }
  a.ignored += b.ignored;
  a.total += b.total;
  a.images += b.images;
  for (const [k, v] of Object.entries(b.sizes)) a.sizes[k] = (a.sizes[k] ?? 0) + v;
  return a;
}

/** Share of each class among *all* pixels (ignored included, so shares + ignoredShare = 1). */
export function pixelShares(stats: LabelStats): { classes: Float64Array; ignored: number } {
  const out = new Float64Array(stats.numClasses);
  for (let c = 0; c < stats.numClasses; c++) out[c] = stats.total > 0 ? stats.counts[c]! / stats.total : 0;
  return { classes: out, ignored: stats.total > 0 ? stats.ignored / stats.total : 0 };
}

/** Share of each class among labelled (non-ignored) pixels: the p_c of the ENet rule. */
export function classFrequencies(stats: LabelStats): Float64Array {
  let labelled = 0;
  for (const n of stats.counts) labelled += n;
  return stats.counts.map((n) => (labelled > 0 ? n / labelled : 0));
}

/** ENet class weights 1 / ln(c + p_c). c = 1.10 as S2-FPN (ENet's paper uses 1.02). */
export function enetWeights(stats: LabelStats, c = 1.1): Float64Array {
  if (!(c > 1)) throw new Error(`enetWeights: c must be > 1 (weights are 1/ln(c + p)), got ${c}`);
  return classFrequencies(stats).map((p) => 1 / Math.log(c + p));
}

/** Median-frequency class weights median(f)/f_c; absent classes get 0. */
export function medianFrequencyWeights(stats: LabelStats): Float64Array {
  const freq = stats.counts.map((n, c) => (stats.presencePixels[c]! > 0 ? n / stats.presencePixels[c]! : 0));
  const present = [...freq].filter((f) => f > 0).sort((a, b) => a - b);
  if (present.length === 0) return new Float64Array(stats.numClasses);
  const m = present.length;
  const median = m % 2 === 1 ? present[(m - 1) / 2]! : (present[m / 2 - 1]! + present[m / 2]!) / 2;
  return freq.map((f) => (f > 0 ? median / f : 0));
}

/** What `datasetStats` needs from a dataset (any `SegDataset` fits). */
export interface LabelSource {
  readonly length: number;
  readonly labels: { numClasses: number; ignoreIndex: number };
  loadLabel(i: number): Promise<{ label: Uint8Array; width: number; height: number; entry: { label: string } }>;
}

export interface DatasetStatsOptions {
  /** Labels decoded at once (default 4: sharp/zlib work overlaps on the libuv pool). */
  concurrency?: number;
  /** Count bad samples and go on instead of throwing. */
  skipInvalid?: boolean;
  onInvalid?: (e: DataError, index: number) => void;
  onProgress?: (done: number, total: number) => void;
}

/** Statistics over a whole dataset split, reading labels only. */
export async function datasetStats(ds: LabelSource, opts: DatasetStatsOptions = {}): Promise<LabelStats & { skipped: number }> {
  const stats = emptyStats(ds.labels.numClasses, ds.labels.ignoreIndex);
  let next = 0;
  let done = 0;
  let skipped = 0;
  const worker = async (): Promise<void> => {
    while (next < ds.length) {
      const i = next++;
      try {
        const { label, width, height, entry } = await ds.loadLabel(i);
        accumulateLabel(stats, label, width, height, entry.label);
      } catch (e) {
        if (opts.skipInvalid && isDataError(e)) {
          skipped++;
          opts.onInvalid?.(e, i);
        } else {
          throw e;
        }
      }
      opts.onProgress?.(++done, ds.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  return Object.assign(stats, { skipped });
}
