/**
 * A transform is a pure function of (sample, rng) → sample: it never mutates its input, and every
 * random choice comes from `rng`, so the same generator gives the same output anywhere.
 */
import type { Rng } from '../rng.js';
import type { Sample } from '../sample.js';

export type Transform = (sample: Sample, rng: Rng) => Sample;

/**
 * Optional hooks that let `compose` run a RandomResize immediately followed by a RandomCrop as one
 * step — resizing the label fully (the crop needs it) but computing only the cropped window of the
 * image. The output is identical to running them one after the other.
 */
export const RESIZE_PLAN = Symbol('segkit.resizePlan');
export const CROP_PLAN = Symbol('segkit.cropPlan');
export type ResizePlan = (w: number, h: number, rng: Rng) => [number, number];
export type CropPlan = (label: LabelView, rng: Rng) => [number, number, number, number];

/**
 * A label map of `width`×`height`, stored as is (`xi`/`yi` null) or seen through a nearest-neighbour
 * resize of a `srcWidth`-wide map (pixel (x, y) is `data[yi[y] * srcWidth + xi[x]]`), so a crop can
 * be chosen without materialising the resized map.
 */
export interface LabelView {
  data: Uint8Array;
  srcWidth: number;
  width: number;
  height: number;
  xi: Int32Array | null;
  yi: Int32Array | null;
}

/** Throws a clear error when a photometric transform meets a float image (it must run before Normalize). */
export function requireU8(s: Sample, who: string): Uint8Array {
  if (!(s.image instanceof Uint8Array)) {
    throw new Error(`${who} works on uint8 images; put it before Normalize in the pipeline (got a float32 image)`);
  }
  if (s.channels !== 3) throw new Error(`${who} expects an RGB image (3 channels), got ${s.channels}`);
  return s.image;
}

/** Validates a [lo, hi] range option. */
export function range2(v: number | readonly [number, number], name: string, symmetric = true): [number, number] {
  const r: [number, number] = typeof v === 'number' ? (symmetric ? [-Math.abs(v), Math.abs(v)] : [v, v]) : [v[0], v[1]];
  if (!(Number.isFinite(r[0]) && Number.isFinite(r[1]) && r[0] <= r[1])) throw new Error(`${name}: expected [lo, hi] with lo ≤ hi, got ${JSON.stringify(v)}`);
  return r;
}

/** Applies a 256-entry LUT to every value of a uint8 array (new array). */
export function applyLut(src: Uint8Array, lut: Uint8Array): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = lut[src[i]!]!;
  return out;
}

/** clip(v, 0, 255) then truncation toward zero, like numpy `np.clip(x, 0, 255).astype(np.uint8)`. */
export function clipTrunc(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.floor(v);
}
