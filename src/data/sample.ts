/**
 * A training sample as it flows through datasets and transforms: an HWC image (uint8 until
 * `Normalize`, float32 after), a HW label map of train ids (ignore = 255) and metadata.
 */

export type ImageArray = Uint8Array | Float32Array;

export interface SampleMeta {
  /** Dataset-unique id (usually the file stem). */
  id?: string;
  /** Index in the dataset. */
  index?: number;
  imagePath?: string;
  labelPath?: string;
  /** [height, width] as decoded, before any transform. */
  oriShape?: [number, number];
  /** Set by flips: whether the sample was flipped horizontally / vertically. */
  flip?: boolean;
  flipDirection?: 'horizontal' | 'vertical';
  /** Set by resizes: output size / input size, [x, y]. */
  scaleFactor?: [number, number];
  /** Set by crops: [y1, y2, x1, x2] of the crop in the input. */
  cropBbox?: [number, number, number, number];
  /** Set by pads: [height, width] after padding. */
  padShape?: [number, number];
  [key: string]: unknown;
}

export interface Sample {
  /** HWC pixels, `channels` per pixel. */
  image: ImageArray;
  /** HW train ids. */
  label: Uint8Array;
  width: number;
  height: number;
  channels: number;
  meta: SampleMeta;
}

/** Throws if a sample's arrays do not match its declared shape (used at pipeline boundaries). */
export function checkSample(s: Sample, where = 'sample'): void {
  const n = s.width * s.height;
  if (s.image.length !== n * s.channels) {
    throw new Error(`${where}: image has ${s.image.length} values, expected ${s.height}×${s.width}×${s.channels} = ${n * s.channels}`);
  }
  if (s.label.length !== n) throw new Error(`${where}: label has ${s.label.length} values, expected ${s.height}×${s.width} = ${n}`);
}

/** A new image array of the same kind (uint8 or float32) as `like`. */
export function allocLike(like: ImageArray, n: number): ImageArray {
  return like instanceof Float32Array ? new Float32Array(n) : new Uint8Array(n);
}
