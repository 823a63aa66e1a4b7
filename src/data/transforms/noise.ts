/**
 * `GaussNoise` (albumentations): adds N(mean, σ²) noise per pixel and channel with σ² ~ U(varLimit)
 * (default [10, 50]); the result is clipped and truncated to uint8.
 */
import { clipTrunc, range2, requireU8, type Transform } from './types.js';

export interface GaussNoiseOptions {
  varLimit?: number | readonly [number, number];
  mean?: number;
}

export function gaussNoise(opts: GaussNoiseOptions = {}): Transform {
  const v = typeof opts.varLimit === 'number' ? ([0, opts.varLimit] as const) : (opts.varLimit ?? ([10, 50] as const));
  const [lo, hi] = range2(v, 'GaussNoise.varLimit');
  if (lo < 0) throw new Error(`GaussNoise: varLimit must be ≥ 0, got ${JSON.stringify(v)}`);
  const mean = opts.mean ?? 0;
  return function GaussNoise(s, rng) {
    const src = requireU8(s, 'GaussNoise');
    const sigma = Math.sqrt(rng.uniform(lo, hi));
    const out = new Uint8Array(src.length);
    for (let i = 0; i < src.length; i++) out[i] = clipTrunc(src[i]! + rng.normal(mean, sigma));
    return { ...s, image: out };
  };
}
