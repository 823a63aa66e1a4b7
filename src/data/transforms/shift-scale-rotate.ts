/**
 * `ShiftScaleRotate` (albumentations): rotate by U(−rotateLimit, rotateLimit) degrees (counter-
 * clockwise positive, as OpenCV), scale by U(1 − scaleLimit, 1 + scaleLimit) about the image centre,
 * shift by U(−shiftLimit, shiftLimit)·(width, height). Constant border: image `value`, label
 * `maskValue` (default 255 = ignore; FastSeg's recipe uses 0). Output keeps the input size.
 */
import type { Sample } from '../sample.js';
import { warpAffine, type Affine } from './resample.js';
import { range2, type Transform } from './types.js';

export interface ShiftScaleRotateOptions {
  shiftLimit?: number | readonly [number, number];
  scaleLimit?: number | readonly [number, number];
  rotateLimit?: number | readonly [number, number];
  value?: number;
  maskValue?: number;
}

/** cv2.getRotationMatrix2D(center, angle, scale) plus a shift (dx, dy) in pixels. */
export function rotationMatrix(cx: number, cy: number, angleDeg: number, scale: number, dx = 0, dy = 0): Affine {
  const t = (angleDeg * Math.PI) / 180;
  const a = scale * Math.cos(t);
  const b = scale * Math.sin(t);
  return [a, b, (1 - a) * cx - b * cy + dx, -b, a, b * cx + (1 - a) * cy + dy];
}

export function shiftScaleRotate(opts: ShiftScaleRotateOptions = {}): Transform {
  const shift = range2(opts.shiftLimit ?? 0.0625, 'ShiftScaleRotate.shiftLimit');
  const sc = range2(opts.scaleLimit ?? 0.1, 'ShiftScaleRotate.scaleLimit');
  const rot = range2(opts.rotateLimit ?? 45, 'ShiftScaleRotate.rotateLimit');
  const value = opts.value ?? 0;
  const maskValue = opts.maskValue ?? 255;
  return function ShiftScaleRotate(s: Sample, rng): Sample {
    const angle = rng.uniform(rot[0], rot[1]);
    const scale = rng.uniform(1 + sc[0], 1 + sc[1]);
    const dx = rng.uniform(shift[0], shift[1]);
    const dy = rng.uniform(shift[0], shift[1]);
    const m = rotationMatrix(s.width / 2 - 0.5, s.height / 2 - 0.5, angle, scale, dx * s.width, dy * s.height);
    const { image, label } = warpAffine(s.image, s.label, s.width, s.height, s.channels, m, value, maskValue);
    return { ...s, image, label, meta: { ...s.meta, shiftScaleRotate: { angle, scale, dx, dy } } };
  };
}
