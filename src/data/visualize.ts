/**
 * Drawing label maps for people to look at: colour a label map with its label set's palette, blend it
 * over the image, and put panels side by side. Pure typed-array code (Node and browser).
 */
import type { DecodedImage } from './image.js';
import type { LabelSet } from './labels/types.js';

/** RGB rendering of a train-id label map (ignore → the set's ignore colour; unknown ids → magenta). */
export function colorizeLabel(label: Uint8Array, width: number, height: number, labels: Pick<LabelSet, 'palette' | 'ignoreIndex' | 'ignoreColor'>): DecodedImage {
  const lut = new Uint8Array(256 * 3);
  for (let v = 0; v < 256; v++) {
    const c = v < labels.palette.length ? labels.palette[v]! : v === labels.ignoreIndex ? labels.ignoreColor : ([255, 0, 255] as const);
    lut[v * 3] = c[0];
    lut[v * 3 + 1] = c[1];
    lut[v * 3 + 2] = c[2];
  }
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < label.length; i++) {
    const v = label[i]! * 3;
    data[i * 3] = lut[v]!;
    data[i * 3 + 1] = lut[v + 1]!;
    data[i * 3 + 2] = lut[v + 2]!;
  }
  return { data, width, height, channels: 3 };
}

/** `alpha`·overlay + (1 − alpha)·image, per pixel (both RGB, same size). */
export function blend(image: DecodedImage, overlay: DecodedImage, alpha = 0.5): DecodedImage {
  if (image.width !== overlay.width || image.height !== overlay.height || image.channels !== 3 || overlay.channels !== 3) {
    throw new Error(`blend: need two RGB images of the same size, got ${image.width}×${image.height}×${image.channels} and ${overlay.width}×${overlay.height}×${overlay.channels}`);
  }
  const data = new Uint8Array(image.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.round(image.data[i]! * (1 - alpha) + overlay.data[i]! * alpha);
  return { data, width: image.width, height: image.height, channels: 3 };
}

/** Places RGB panels left to right with `gap` pixels of `background` between them. */
export function sideBySide(panels: readonly DecodedImage[], gap = 4, background: readonly [number, number, number] = [255, 255, 255]): DecodedImage {
  const height = Math.max(...panels.map((p) => p.height));
  const width = panels.reduce((s, p) => s + p.width, 0) + gap * (panels.length - 1);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    data[i * 3] = background[0];
    data[i * 3 + 1] = background[1];
    data[i * 3 + 2] = background[2];
  }
  let x0 = 0;
  for (const p of panels) {
    if (p.channels !== 3) throw new Error(`sideBySide: panels must be RGB, got ${p.channels} channels`);
    for (let y = 0; y < p.height; y++) data.set(p.data.subarray(y * p.width * 3, (y + 1) * p.width * 3), (y * width + x0) * 3);
    x0 += p.width + gap;
  }
  return { data, width, height, channels: 3 };
}

/** A uint8 RGB view of an HWC image that may be float (min–max stretched to 0–255 when float). */
export function toDisplayRgb(image: Uint8Array | Float32Array, width: number, height: number, channels: number): DecodedImage {
  if (channels !== 3) throw new Error(`toDisplayRgb: expected 3 channels, got ${channels}`);
  if (image instanceof Uint8Array) return { data: image, width, height, channels: 3 };
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of image) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  const data = new Uint8Array(image.length);
  for (let i = 0; i < image.length; i++) data[i] = Math.round((image[i]! - lo) * scale);
  return { data, width, height, channels: 3 };
}
