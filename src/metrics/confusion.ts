/**
 * A K×K confusion matrix accumulated over a whole split (rows: ground truth, columns: prediction),
 * as mmseg's IoUMetric accumulates intersect/union histograms over the dataset rather than
 * averaging per image. Pixels whose label is `ignoreIndex` (or outside 0..K−1) are skipped.
 * Counts are float64 (exact up to 2^53 pixels); matrices from workers merge by addition.
 */
export class ConfusionMatrix {
  readonly counts: Float64Array;

  constructor(
    readonly numClasses: number,
    readonly ignoreIndex = 255,
  ) {
    if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`ConfusionMatrix: numClasses must be a positive integer, got ${numClasses}`);
    this.counts = new Float64Array(numClasses * numClasses);
  }

  /**
   * Adds one image (or batch) of predictions and labels, same length. A prediction outside
   * 0..K−1 is an error (a model bug), not something to skip silently.
   */
  update(pred: ArrayLike<number>, label: ArrayLike<number>): this {
    if (pred.length !== label.length) throw new Error(`ConfusionMatrix.update: ${pred.length} predictions but ${label.length} labels`);
    const k = this.numClasses;
    const c = this.counts;
    for (let i = 0; i < label.length; i++) {
      const y = label[i]!;
      if (y === this.ignoreIndex || y < 0 || y >= k) continue;
      const p = pred[i]!;
      if (!(p >= 0 && p < k)) throw new Error(`ConfusionMatrix.update: prediction ${p} at pixel ${i} is outside 0..${k - 1}`);
      c[y * k + p]!++;
    }
    return this;
  }

  /** Adds another matrix (from another worker or shard). */
  merge(other: ConfusionMatrix): this {
    if (other.numClasses !== this.numClasses) throw new Error(`ConfusionMatrix.merge: ${other.numClasses} classes vs ${this.numClasses}`);
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    return this;
  }

  /** Row-normalised copy (each ground-truth class sums to 1; empty rows stay 0), for heatmaps. */
  normalized(): Float64Array {
    const k = this.numClasses;
    const out = new Float64Array(k * k);
    for (let r = 0; r < k; r++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += this.counts[r * k + j]!;
      if (s > 0) for (let j = 0; j < k; j++) out[r * k + j] = this.counts[r * k + j]! / s;
    }
    return out;
  }
}
