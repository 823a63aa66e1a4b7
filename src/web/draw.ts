/**
 * Drawing segmentations on canvases, with the names and arguments of tfjs-models
 * body-segmentation (`toBinaryMask`, `drawMask`, `drawBokehEffect`) plus background replacement
 * and coloured class masks. The pixel work is src/segmenter/effects.ts; this file moves pixels
 * between the browser's images and those functions.
 */
import type { DecodedImage } from '../data/image.js';
import type { RGB } from '../data/labels/types.js';
import { blurBackground, featherMask, fitBackground, replaceBackground as replaceBackgroundPixels } from '../segmenter/effects.js';
import type { Segmentation } from '../segmenter/segmenter.js';
import { thresholdMask, type PersonSegmentation } from './person.js';
import { context2d, createCanvas, isDecodedImage, isImageDataLike, makeImageData, readPixels, sourceSize, toRgba, type ImageDataLike, type WebImageInput } from './pixels.js';

/** An RGBA colour, channels 0–255. */
export interface Color {
  r: number;
  g: number;
  b: number;
  a: number;
}

type Canvas = HTMLCanvasElement | OffscreenCanvas;
type AnyImage = WebImageInput | ImageDataLike | DecodedImage;

function checkColor(c: Color, what: string): void {
  for (const k of ['r', 'g', 'b', 'a'] as const) {
    const v = c?.[k];
    if (!(Number.isInteger(v) && v >= 0 && v <= 255)) throw new Error(`toBinaryMask: ${what}.${k} must be an integer 0–255, got ${v}`);
  }
}

/**
 * The person mask as ImageData: `foreground` where there is a person, `background` elsewhere
 * (defaults: transparent person, opaque black background, as in body-segmentation). A `threshold`
 * re-thresholds the probabilities instead of using the segmentation's own mask.
 */
export function toBinaryMask(
  seg: PersonSegmentation,
  foreground: Color = { r: 0, g: 0, b: 0, a: 0 },
  background: Color = { r: 0, g: 0, b: 0, a: 255 },
  o: { threshold?: number } = {},
): ImageData {
  checkColor(foreground, 'foreground');
  checkColor(background, 'background');
  const mask = o.threshold === undefined ? seg.mask : thresholdMask(seg.probability, o.threshold);
  const n = seg.width * seg.height;
  if (mask.length !== n) throw new Error(`toBinaryMask: mask has ${mask.length} values for ${seg.width}×${seg.height}`);
  const data = new Uint8ClampedArray(n * 4);
  const fg = [foreground.r, foreground.g, foreground.b, foreground.a];
  const bg = [background.r, background.g, background.b, background.a];
  for (let p = 0; p < n; p++) data.set(mask[p] ? fg : bg, p * 4);
  return makeImageData(data, seg.width, seg.height);
}

/**
 * A label map in its classes' palette colours as ImageData, `alpha` 0–255 (default 255); labels
 * outside the palette (ignore values) are transparent.
 */
export function toColoredMask(s: Pick<Segmentation, 'labels' | 'width' | 'height' | 'palette'>, o: { alpha?: number; palette?: readonly RGB[] } = {}): ImageData {
  const alpha = o.alpha ?? 255;
  if (!(Number.isInteger(alpha) && alpha >= 0 && alpha <= 255)) throw new Error(`toColoredMask: alpha must be an integer 0–255, got ${alpha}`);
  const palette = o.palette ?? s.palette;
  const n = s.width * s.height;
  if (s.labels.length !== n) throw new Error(`toColoredMask: ${s.labels.length} labels for ${s.width}×${s.height}`);
  const data = new Uint8ClampedArray(n * 4);
  for (let p = 0; p < n; p++) {
    const c = palette[s.labels[p]!];
    if (!c) continue;
    data[p * 4] = c[0];
    data[p * 4 + 1] = c[1];
    data[p * 4 + 2] = c[2];
    data[p * 4 + 3] = alpha;
  }
  return makeImageData(data, s.width, s.height);
}

/** Something drawImage takes: ImageData and decoded pixels are put on a canvas first. */
function drawable(image: AnyImage): CanvasImageSource | OffscreenCanvas {
  if (!isDecodedImage(image) && !isImageDataLike(image)) return image as CanvasImageSource;
  const { width, height } = image;
  const c = createCanvas(width, height);
  const data = isDecodedImage(image) ? toRgba(image) : image.data;
  context2d(c).putImageData(makeImageData(data, width, height), 0, 0);
  return c;
}

function sizeCanvas(canvas: Canvas, width: number, height: number): void {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
}

/** Writes RGB pixels to the canvas (resized to them), mirrored left–right when asked. */
export function putPixels(canvas: Canvas, img: DecodedImage, flipHorizontal = false): void {
  const { width: w, height: h } = img;
  sizeCanvas(canvas, w, h);
  const rgba = toRgba(img);
  if (flipHorizontal) {
    const row = new Uint32Array(rgba.buffer);
    for (let y = 0; y < h; y++) row.subarray(y * w, (y + 1) * w).reverse();
  }
  context2d(canvas).putImageData(makeImageData(rgba, w, h), 0, 0);
}

/**
 * Draws the image with a mask over it (e.g. {@link toBinaryMask} or {@link toColoredMask}) at
 * `opacity`, the mask blurred by `maskBlurAmount` pixels and scaled to the image; the canvas takes
 * the image's size.
 */
export function drawMask(canvas: Canvas, image: AnyImage, maskImage: ImageDataLike | null, opacity = 0.7, maskBlurAmount = 0, flipHorizontal = false): void {
  if (!(opacity >= 0 && opacity <= 1)) throw new Error(`drawMask: opacity must be in [0, 1], got ${opacity}`);
  if (!(maskBlurAmount >= 0)) throw new Error(`drawMask: maskBlurAmount must be ≥ 0 pixels, got ${maskBlurAmount}`);
  const { width: w, height: h } = sourceSize(image);
  sizeCanvas(canvas, w, h);
  const ctx = context2d(canvas);
  ctx.save();
  if (flipHorizontal) {
    ctx.translate(w, 0);
    ctx.scale(-1, 1);
  }
  ctx.drawImage(drawable(image) as CanvasImageSource, 0, 0, w, h);
  if (maskImage) {
    ctx.globalAlpha = opacity;
    if (maskBlurAmount > 0) ctx.filter = `blur(${maskBlurAmount}px)`;
    ctx.drawImage(drawable(maskImage) as CanvasImageSource, 0, 0, w, h);
  }
  ctx.restore();
}

export interface BokehOptions {
  /** Background blur radius in pixels (default 3). */
  backgroundBlurAmount?: number;
  /** Feathering of the person's edges in pixels (default 3). */
  edgeBlurAmount?: number;
  flipHorizontal?: boolean;
}

/** The matte to composite with: the person probability, its edges feathered. */
export function personMatte(seg: PersonSegmentation, edgeBlurAmount: number): Float32Array {
  return edgeBlurAmount > 0 ? featherMask(seg.probability, seg.width, seg.height, edgeBlurAmount) : seg.probability;
}

/**
 * Blurs the background behind the people (portrait mode) and draws the result; the canvas takes
 * the segmentation's size and the image is read at that size. Returns the composited pixels.
 */
export function drawBokehEffect(canvas: Canvas, image: AnyImage, seg: PersonSegmentation, o: BokehOptions = {}): DecodedImage {
  const rgb = readPixels(image, seg.width, seg.height);
  const out = blurBackground(rgb, personMatte(seg, o.edgeBlurAmount ?? 3), o.backgroundBlurAmount ?? 3);
  putPixels(canvas, out, o.flipHorizontal);
  return out;
}

/** Background images fitted to a size, kept for images that cannot change (not canvases or videos). */
const fitted = new WeakMap<object, { key: string; pixels: DecodedImage }>();

function isStatic(x: object): boolean {
  const g = globalThis as Record<string, unknown>;
  return isDecodedImage(x) || isImageDataLike(x) || (typeof g.HTMLImageElement === 'function' && x instanceof (g.HTMLImageElement as typeof HTMLImageElement)) || (typeof g.ImageBitmap === 'function' && x instanceof (g.ImageBitmap as typeof ImageBitmap));
}

/** A background covering w×h (scaled, centre-cropped), cached per static image and size. */
function backgroundPixels(bg: AnyImage, w: number, h: number): DecodedImage {
  const key = `${w}x${h}:${(bg as { src?: string }).src ?? ''}`;
  const hit = fitted.get(bg);
  if (hit && hit.key === key) return hit.pixels;
  const pixels = fitBackground(readPixels(bg), w, h);
  if (isStatic(bg)) fitted.set(bg, { key, pixels });
  return pixels;
}

export interface ReplaceOptions {
  /** Feathering of the person's edges in pixels (default 3). */
  edgeBlurAmount?: number;
  flipHorizontal?: boolean;
}

/**
 * Puts the people over another background: an image (scaled to cover, centre-cropped; ImageData,
 * images and bitmaps are fitted once per size and cached, so do not mutate them afterwards), or
 * an [r, g, b] colour. Returns the composited pixels.
 */
export function replaceBackground(canvas: Canvas, image: AnyImage, seg: PersonSegmentation, background: AnyImage | RGB, o: ReplaceOptions = {}): DecodedImage {
  const rgb = readPixels(image, seg.width, seg.height);
  const bg = Array.isArray(background) ? (background as RGB) : backgroundPixels(background as AnyImage, seg.width, seg.height);
  const out = replaceBackgroundPixels(rgb, personMatte(seg, o.edgeBlurAmount ?? 3), bg);
  putPixels(canvas, out, o.flipHorizontal);
  return out;
}
