/**
 * Combinators. `compose` gives the i-th transform the sub-generator `rng.fork(i)`, so adding or
 * removing a transform never changes the random draws of the others.
 */
import type { Sample } from '../sample.js';
import { cropSample } from './crop.js';
import { nearestIndex, resizeBilinear, resizeNearest } from './resample.js';
import { CROP_PLAN, RESIZE_PLAN, type CropPlan, type ResizePlan, type Transform } from './types.js';

/** RandomResize → RandomCrop in one step: only the cropped window of the image is resampled. */
function resizeThenCrop(s: Sample, resizePlan: ResizePlan, cropPlan: CropPlan, rngResize: Parameters<Transform>[1], rngCrop: Parameters<Transform>[1]): Sample {
  const [dw, dh] = resizePlan(s.width, s.height, rngResize);
  const same = dw === s.width && dh === s.height;
  const view = { data: s.label, srcWidth: s.width, width: dw, height: dh, xi: same ? null : nearestIndex(s.width, dw), yi: same ? null : nearestIndex(s.height, dh) };
  const [y1, y2, x1, x2] = cropPlan(view, rngCrop);
  if (same) return cropSample(s, y1, y2, x1, x2);
  const w = x2 - x1;
  const h = y2 - y1;
  const win = { x: x1, y: y1, w, h };
  return {
    image: resizeBilinear(s.image, s.width, s.height, s.channels, dw, dh, win),
    label: resizeNearest(s.label, s.width, s.height, dw, dh, win),
    width: w,
    height: h,
    channels: s.channels,
    meta: { ...s.meta, scaleFactor: [dw / s.width, dh / s.height], cropBbox: [y1, y2, x1, x2] },
  };
}

export function compose(transforms: readonly Transform[]): Transform {
  const ts = [...transforms];
  return function Compose(s, rng) {
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i]!;
      const next = ts[i + 1];
      const rp = (t as { [RESIZE_PLAN]?: ResizePlan })[RESIZE_PLAN];
      const cp = next && (next as { [CROP_PLAN]?: CropPlan })[CROP_PLAN];
      if (rp && cp) {
        s = resizeThenCrop(s, rp, cp, rng.fork(i), rng.fork(i + 1));
        i++;
      } else {
        s = t(s, rng.fork(i));
      }
    }
    return s;
  };
}

/** Applies `t` with probability `p`. */
export function randomApply(t: Transform, p: number): Transform {
  if (!(p >= 0 && p <= 1)) throw new Error(`randomApply: p must be in [0, 1], got ${p}`);
  if (p >= 1) return t;
  const wrapped: Transform = (s, rng) => (rng.random() < p ? t(s, rng) : s);
  Object.defineProperty(wrapped, 'name', { value: t.name });
  return wrapped;
}

/**
 * With probability `p`, applies exactly one of `transforms`, chosen with probability proportional to
 * `weights` (albumentations' OneOf: the children's own `p` are the weights).
 */
export function oneOf(transforms: readonly Transform[], weights: readonly number[], p = 1): Transform {
  if (transforms.length === 0) throw new Error('OneOf: needs at least one transform');
  if (weights.length !== transforms.length) throw new Error(`OneOf: ${transforms.length} transforms but ${weights.length} weights`);
  const ts = [...transforms];
  const ws = [...weights];
  return function OneOf(s, rng) {
    if (!(rng.random() < p)) return s;
    const i = rng.weightedIndex(ws);
    return ts[i]!(s, rng.fork(i));
  };
}
