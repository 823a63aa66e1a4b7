/**
 * `Pad`: pads image with `padVal` (0) and label with `segPadVal` (255 = ignore) to a fixed
 * [height, width] or to a multiple of `sizeDivisor`. Padding goes bottom/right (mmseg) or is
 * centred (albumentations' PadIfNeeded). Never shrinks.
 */
import type { Sample } from '../sample.js';
import type { Transform } from './types.js';

export interface PadOptions {
  /** Minimum [height, width] after padding. */
  size?: readonly [number, number];
  /** Pad height and width up to a multiple of this. */
  sizeDivisor?: number;
  /** Image fill value (in the image's current units: pixels before Normalize, normalised after). Default 0. */
  padVal?: number;
  /** Label fill value. Default 255 (ignore). */
  segPadVal?: number;
  /** Where the original goes. Default 'top-left' (pad bottom/right, as mmseg). */
  position?: 'top-left' | 'center';
}

/** Pads a sample to (h, w) with the original at (top, left). */
export function padSample(s: Sample, h: number, w: number, top: number, left: number, padVal: number, segPadVal: number): Sample {
  if (h === s.height && w === s.width) return { ...s, meta: { ...s.meta, padShape: [h, w] } };
  const c = s.channels;
  const image = s.image instanceof Float32Array ? new Float32Array(w * h * c) : new Uint8Array(w * h * c);
  if (padVal !== 0) image.fill(padVal);
  const label = new Uint8Array(w * h).fill(segPadVal);
  for (let y = 0; y < s.height; y++) {
    const src = y * s.width;
    const dst = (y + top) * w + left;
    image.set(s.image.subarray(src * c, (src + s.width) * c), dst * c);
    label.set(s.label.subarray(src, src + s.width), dst);
  }
  return { image, label, width: w, height: h, channels: c, meta: { ...s.meta, padShape: [h, w] } };
}

export function pad(opts: PadOptions): Transform {
  const { size, sizeDivisor } = opts;
  if (!size && !sizeDivisor) throw new Error('Pad: give `size` ([height, width]) or `sizeDivisor`');
  if (sizeDivisor !== undefined && !(Number.isInteger(sizeDivisor) && sizeDivisor > 0)) throw new Error(`Pad: sizeDivisor must be a positive integer, got ${sizeDivisor}`);
  const padVal = opts.padVal ?? 0;
  const segPadVal = opts.segPadVal ?? 255;
  if (!(Number.isInteger(segPadVal) && segPadVal >= 0 && segPadVal <= 255)) throw new Error(`Pad: segPadVal must be 0–255, got ${segPadVal}`);
  const center = (opts.position ?? 'top-left') === 'center';
  return function Pad(s) {
    let h = Math.max(s.height, size?.[0] ?? 0);
    let w = Math.max(s.width, size?.[1] ?? 0);
    if (sizeDivisor) {
      h = Math.ceil(h / sizeDivisor) * sizeDivisor;
      w = Math.ceil(w / sizeDivisor) * sizeDivisor;
    }
    const top = center ? Math.floor((h - s.height) / 2) : 0;
    const left = center ? Math.floor((w - s.width) / 2) : 0;
    const v = s.image instanceof Uint8Array ? Math.min(255, Math.max(0, Math.round(padVal))) : padVal;
    return padSample(s, h, w, top, left, v, segPadVal);
  };
}
