/**
 * Size rules of mmseg's test pipelines: keep-ratio rescaling to a test scale, multi-scale ratios,
 * and rounding up to the model's input multiple.
 */
import { rescaleSize } from '../data/transforms/resize.js';

/** The smallest multiple of `m` that is ≥ `v`. */
export function ceilToMultiple(v: number, m: number): number {
  return Math.ceil(v / m) * m;
}

/**
 * The network input size for an h×w image under mmseg's AlignedResize / size_divisor rule: each
 * side rounded up to a multiple of `inputMultiple`.
 */
export function alignedSize(h: number, w: number, inputMultiple: number): [h: number, w: number] {
  return [ceilToMultiple(h, inputMultiple), ceilToMultiple(w, inputMultiple)];
}

/**
 * The image size for one test scale, as mmseg's MultiScaleFlipAug + keep-ratio Resize compute it:
 * the base scale (`scale`, mmcv `img_scale` — an unordered pair bounding the long and the short
 * side, e.g. [2048, 1024]; default the image's own size) is multiplied by `ratio` and truncated to
 * integers, then the image is rescaled keeping its aspect ratio by the largest factor that fits
 * (long side ≤ max, short side ≤ min), each side rounded to the nearest integer.
 */
export function testSize(h: number, w: number, ratio: number, scale?: readonly [number, number]): [h: number, w: number] {
  if (!(ratio > 0 && Number.isFinite(ratio))) throw new Error(`testSize: ratio must be a positive number, got ${ratio}`);
  if (scale && !(scale.length === 2 && scale[0] > 0 && scale[1] > 0)) throw new Error(`testSize: scale must be two positive numbers [long, short], got ${JSON.stringify(scale)}`);
  const base = scale ?? [w, h];
  const s: [number, number] = [Math.trunc(base[0] * ratio), Math.trunc(base[1] * ratio)];
  if (s[0] < 1 || s[1] < 1) throw new Error(`testSize: ratio ${ratio} of scale [${base.join(', ')}] leaves an empty size [${s.join(', ')}]`);
  const [rw, rh] = rescaleSize(w, h, s);
  return [rh, rw];
}
