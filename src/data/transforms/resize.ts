/**
 * `Resize` and `RandomResize` with mmcv/mmseg semantics:
 * - `scale` is [width, height] (mmcv order). With `keepRatio`, the image is rescaled by
 *   `min(max(scale)/max(h, w), min(scale)/min(h, w))` to `round(w·f), round(h·f)` (mmcv `imrescale`);
 *   without it, resized to exactly `scale`.
 * - `RandomResize` draws `ratio ~ U[ratioRange)` and uses the scale `(int(w·ratio), int(h·ratio))`.
 * Images are bilinear, labels nearest neighbour.
 */
import type { Sample } from '../sample.js';
import { resizeBilinear, resizeNearest } from './resample.js';
import type { Rng } from '../rng.js';
import { RESIZE_PLAN, type Transform } from './types.js';

export interface ResizeOptions {
  /** Target [width, height] (mmcv order). Either this or `scaleFactor`. */
  scale?: readonly [number, number];
  /** Uniform scale factor instead of a target size. */
  scaleFactor?: number;
  /** Keep the aspect ratio (fit inside `scale` with long/short edge rule). Default false, as mmcv. */
  keepRatio?: boolean;
}

export interface RandomResizeOptions {
  /** Base [width, height], multiplied by the random ratio. */
  scale: readonly [number, number];
  /** Ratio range, e.g. [0.5, 2.0]. */
  ratioRange: readonly [number, number];
  /** Default false as in mmcv; mmseg configs set true. */
  keepRatio?: boolean;
}

/** mmcv `rescale_size`: the output (w, h) for keep-ratio resizing of (w, h) into `scale`. */
export function rescaleSize(w: number, h: number, scale: readonly [number, number] | number): [number, number] {
  const f =
    typeof scale === 'number'
      ? scale
      : Math.min(Math.max(scale[0], scale[1]) / Math.max(h, w), Math.min(scale[0], scale[1]) / Math.min(h, w));
  return [Math.max(1, Math.floor(w * f + 0.5)), Math.max(1, Math.floor(h * f + 0.5))];
}

/** Resizes a sample to (dw, dh): image bilinear, label nearest. */
export function resizeSample(s: Sample, dw: number, dh: number): Sample {
  if (dw === s.width && dh === s.height) return s;
  if (!(Number.isInteger(dw) && dw > 0 && Number.isInteger(dh) && dh > 0)) throw new Error(`resize: invalid target size ${dw}×${dh}`);
  return {
    image: resizeBilinear(s.image, s.width, s.height, s.channels, dw, dh),
    label: resizeNearest(s.label, s.width, s.height, dw, dh),
    width: dw,
    height: dh,
    channels: s.channels,
    meta: { ...s.meta, scaleFactor: [dw / s.width, dh / s.height] },
  };
}

export function resize(opts: ResizeOptions): Transform {
  const { scale, scaleFactor } = opts;
  if (!scale && scaleFactor === undefined) throw new Error('Resize: give `scale` ([width, height]) or `scaleFactor`');
  if (scale && !(scale[0] > 0 && scale[1] > 0)) throw new Error(`Resize: scale must be positive [width, height], got ${JSON.stringify(scale)}`);
  if (scaleFactor !== undefined && !(scaleFactor > 0)) throw new Error(`Resize: scaleFactor must be > 0, got ${scaleFactor}`);
  const keepRatio = opts.keepRatio ?? false;
  const plan = (w: number, h: number): [number, number] =>
    scale ? (keepRatio ? rescaleSize(w, h, scale) : [Math.max(1, Math.trunc(scale[0])), Math.max(1, Math.trunc(scale[1]))]) : rescaleSize(w, h, scaleFactor!);
  const t: Transform = function Resize(s) {
    const [w, h] = plan(s.width, s.height);
    return resizeSample(s, w, h);
  };
  return Object.assign(t, { [RESIZE_PLAN]: plan });
}

export function randomResize(opts: RandomResizeOptions): Transform {
  const [lo, hi] = opts.ratioRange;
  if (!(lo > 0 && lo <= hi)) throw new Error(`RandomResize: ratioRange must be [min, max] with 0 < min ≤ max, got ${JSON.stringify(opts.ratioRange)}`);
  const keepRatio = opts.keepRatio ?? false;
  /** The output size for an input of w×h. */
  const plan = (w: number, h: number, rng: Rng): [number, number] => {
    const ratio = rng.random() * (hi - lo) + lo;
    const scale: [number, number] = [Math.trunc(opts.scale[0] * ratio), Math.trunc(opts.scale[1] * ratio)];
    return keepRatio ? rescaleSize(w, h, scale) : [Math.max(1, scale[0]), Math.max(1, scale[1])];
  };
  const t: Transform = function RandomResize(s, rng) {
    const [w, h] = plan(s.width, s.height, rng);
    return resizeSample(s, w, h);
  };
  return Object.assign(t, { [RESIZE_PLAN]: plan });
}
