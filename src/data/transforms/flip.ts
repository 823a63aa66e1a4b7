/** `RandomFlip` (mmseg): flips image and label together with probability `prob`. */
import type { Sample } from '../sample.js';
import type { Transform } from './types.js';

export interface RandomFlipOptions {
  /** Probability of flipping. Default 0.5. */
  prob?: number;
  /** Default 'horizontal'. */
  direction?: 'horizontal' | 'vertical';
}

/** Flips a sample (new arrays). */
export function flipSample(s: Sample, direction: 'horizontal' | 'vertical'): Sample {
  const { width: w, height: h, channels: c } = s;
  const image = s.image instanceof Float32Array ? new Float32Array(s.image.length) : new Uint8Array(s.image.length);
  const label = new Uint8Array(s.label.length);
  if (direction === 'horizontal' && c === 3) {
    const src = s.image;
    for (let y = 0; y < h; y++) {
      const r = y * w;
      for (let x = 0, d = r + w - 1; x < w; x++, d--) {
        label[d] = s.label[r + x]!;
        const i = (r + x) * 3;
        const o = d * 3;
        image[o] = src[i]!;
        image[o + 1] = src[i + 1]!;
        image[o + 2] = src[i + 2]!;
      }
    }
  } else if (direction === 'horizontal') {
    for (let y = 0; y < h; y++) {
      const r = y * w;
      for (let x = 0; x < w; x++) {
        const src = r + x;
        const dst = r + (w - 1 - x);
        label[dst] = s.label[src]!;
        for (let k = 0; k < c; k++) image[dst * c + k] = s.image[src * c + k]!;
      }
    }
  } else {
    for (let y = 0; y < h; y++) {
      const src = y * w;
      const dst = (h - 1 - y) * w;
      label.set(s.label.subarray(src, src + w), dst);
      image.set(s.image.subarray(src * c, (src + w) * c), dst * c);
    }
  }
  return { image, label, width: w, height: h, channels: c, meta: { ...s.meta, flip: true, flipDirection: direction } };
}

export function randomFlip(opts: RandomFlipOptions = {}): Transform {
  const prob = opts.prob ?? 0.5;
  const direction = opts.direction ?? 'horizontal';
  if (!(prob >= 0 && prob <= 1)) throw new Error(`RandomFlip: prob must be in [0, 1], got ${prob}`);
  if (direction !== 'horizontal' && direction !== 'vertical') throw new Error(`RandomFlip: direction must be 'horizontal' or 'vertical', got '${direction}'`);
  return function RandomFlip(s, rng) {
    if (!(rng.random() < prob)) return { ...s, meta: { ...s.meta, flip: false } };
    return flipSample(s, direction);
  };
}
