/**
 * How much a split's mIoU depends on which images it happens to hold: the percentile bootstrap over
 * images (Efron and Tibshirani 1993). Each resample draws the split's N images with replacement,
 * sums their confusion matrices (the split-level mIoU, as computeMetrics scores a whole split) and
 * scores it; the interval is the middle `level` of those scores (quantiles interpolated linearly, as
 * numpy's default). On a held-out split of a hundred portraits it spans about two points: a
 * difference inside it is no evidence either way, and a target inside it is neither met nor missed
 * with confidence.
 */
import { Rng } from '../data/rng.js';
import { ConfusionMatrix } from './confusion.js';
import { computeMetrics } from './segmentation-metrics.js';

export interface BootstrapInterval {
  low: number;
  high: number;
  level: number;
  resamples: number;
  seed: number;
}

export interface BootstrapOptions {
  /** Resamples (default 2000). */
  resamples?: number;
  /** Coverage of the interval (default 0.95). */
  level?: number;
  /** Seed of the draws (default 0): the same seed gives the same interval. */
  seed?: number;
}

/** Linear interpolation between order statistics (numpy's default quantile) of sorted `xs`. */
function quantile(xs: readonly number[], q: number): number {
  const pos = q * (xs.length - 1);
  const i = Math.floor(pos);
  return i + 1 < xs.length ? xs[i]! + (pos - i) * (xs[i + 1]! - xs[i]!) : xs[i]!;
}

/** The percentile bootstrap interval of mIoU from one confusion matrix per image. */
export function bootstrapMIoU(perImage: readonly ConfusionMatrix[], o: BootstrapOptions = {}): BootstrapInterval {
  const { resamples = 2000, level = 0.95, seed = 0 } = o;
  const n = perImage.length;
  if (n < 1) throw new Error('bootstrapMIoU: no images');
  if (!(Number.isInteger(resamples) && resamples >= 1)) throw new Error(`bootstrapMIoU: resamples must be a positive integer, got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new Error(`bootstrapMIoU: level must be in (0, 1), got ${level}`);
  const { numClasses: k, ignoreIndex } = perImage[0]!;
  const sum = new ConfusionMatrix(k, ignoreIndex);
  const rng = new Rng(seed);
  const scores: number[] = [];
  for (let r = 0; r < resamples; r++) {
    sum.counts.fill(0);
    for (let i = 0; i < n; i++) sum.merge(perImage[rng.int(0, n)]!);
    scores.push(computeMetrics(sum).mIoU);
  }
  scores.sort((a, b) => a - b);
  return { low: quantile(scores, (1 - level) / 2), high: quantile(scores, (1 + level) / 2), level, resamples, seed };
}
