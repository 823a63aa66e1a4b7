/**
 * `Normalize`: (pixel − mean) / std per channel, float32 output, optionally reordered to BGR.
 * Input is always RGB; `mean`/`std` are given in the *output* channel order (as mmseg's data
 * preprocessor after `bgr_to_rgb`). Defaults: ImageNet statistics on 0–255.
 */
import type { Sample } from '../sample.js';
import type { Transform } from './types.js';

export const IMAGENET_MEAN: readonly [number, number, number] = [123.675, 116.28, 103.53];
export const IMAGENET_STD: readonly [number, number, number] = [58.395, 57.12, 57.375];

export interface NormalizeOptions {
  mean?: readonly number[];
  std?: readonly number[];
  /** Output channel order. Default 'rgb'. */
  channelOrder?: 'rgb' | 'bgr';
}

export function normalize(opts: NormalizeOptions = {}): Transform {
  const mean = opts.mean ?? IMAGENET_MEAN;
  const std = opts.std ?? IMAGENET_STD;
  const bgr = (opts.channelOrder ?? 'rgb') === 'bgr';
  if (opts.channelOrder && opts.channelOrder !== 'rgb' && opts.channelOrder !== 'bgr') throw new Error(`Normalize: channelOrder must be 'rgb' or 'bgr', got '${opts.channelOrder}'`);
  if (std.some((v) => !(v > 0))) throw new Error(`Normalize: std values must be > 0, got ${JSON.stringify(std)}`);
  return function Normalize(s: Sample): Sample {
    const c = s.channels;
    if (mean.length !== c || std.length !== c) throw new Error(`Normalize: mean/std have ${mean.length}/${std.length} values for a ${c}-channel image`);
    if (bgr && c !== 3) throw new Error(`Normalize: channelOrder 'bgr' needs 3 channels, got ${c}`);
    const inv = std.map((v) => 1 / v);
    const out = new Float32Array(s.image.length);
    const src = s.image;
    if (c === 3) {
      const [m0, m1, m2] = mean as [number, number, number];
      const [i0, i1, i2] = inv as [number, number, number];
      const [f0, f2] = bgr ? [2, 0] : [0, 2];
      for (let p = 0; p < src.length; p += 3) {
        out[p] = (src[p + f0]! - m0) * i0;
        out[p + 1] = (src[p + 1]! - m1) * i1;
        out[p + 2] = (src[p + f2]! - m2) * i2;
      }
      return { ...s, image: out, meta: { ...s.meta, channelOrder: bgr ? 'bgr' : 'rgb' } };
    }
    for (let p = 0; p < src.length; p += c) {
      for (let k = 0; k < c; k++) {
        const from = bgr ? c - 1 - k : k;
        out[p + k] = (src[p + from]! - mean[k]!) * inv[k]!;
      }
    }
    return { ...s, image: out, meta: { ...s.meta, channelOrder: bgr ? 'bgr' : 'rgb' } };
  };
}
