/** Summary statistics of latency samples, as `segkit benchmark` reports them. */

/** Latency summary in the samples' unit (ms in `segkit benchmark`). */
export interface LatencyStats {
  median: number;
  mean: number;
  /** 90th percentile, linear interpolation between order statistics (see {@link percentile}). */
  p90: number;
  min: number;
  max: number;
  /** Population standard deviation (divides by n, numpy's default `ddof=0`). */
  std: number;
}

/**
 * The p-th percentile (0 ≤ p ≤ 100) of samples sorted ascending, by linear interpolation between
 * the order statistics at rank r = (n − 1)·p/100 (numpy's default 'linear' method, Hyndman–Fan
 * type 7). The 50th is the usual median: the middle value, or the mean of the two middle values.
 * Chosen over nearest-rank so that the median and p90 follow the same rule and move smoothly.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('percentile: no samples');
  if (!(p >= 0 && p <= 100)) throw new Error(`percentile: p must be in [0, 100], got ${p}`);
  const r = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(r);
  const hi = Math.ceil(r);
  return sorted[lo]! + (r - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Median, mean, p90, min, max and standard deviation of the samples (in any order). */
export function latencyStats(samples: readonly number[]): LatencyStats {
  if (samples.length === 0) throw new Error('latencyStats: no samples');
  const bad = samples.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new Error(`latencyStats: sample ${bad} is not a finite number (${samples[bad]})`);
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const mean = sorted.reduce((a, v) => a + v, 0) / n;
  // Two passes (mean, then squared deviations): no cancellation for samples far from zero.
  const variance = sorted.reduce((a, v) => a + (v - mean) ** 2, 0) / n;
  return { median: percentile(sorted, 50), mean, p90: percentile(sorted, 90), min: sorted[0]!, max: sorted[n - 1]!, std: Math.sqrt(variance) };
}
