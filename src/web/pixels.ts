/**
 * Pixels of the browser's image types, as segkit's RGB uint8 HWC {@link DecodedImage}: elements,
 * bitmaps and canvases are drawn into a scratch canvas and read back; ImageData (and decoded
 * images) are converted without a canvas, so this also runs in workers and in Node (tests).
 */
import type { DecodedImage } from '../data/image.js';
import { resizeBilinear } from '../data/transforms/resample.js';

/** The browser images segkit accepts (everything `drawImage` takes, and ImageData). */
export type WebImageInput = ImageData | HTMLImageElement | HTMLVideoElement | HTMLCanvasElement | ImageBitmap | OffscreenCanvas;

/** An ImageData or anything shaped like one (RGBA bytes, width, height): Node has no ImageData. */
export interface ImageDataLike {
  readonly data: Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}

type Drawable = Exclude<WebImageInput, ImageData>;

export function isImageDataLike(x: unknown): x is ImageDataLike {
  const o = x as ImageDataLike;
  return typeof x === 'object' && x !== null && o.data instanceof Uint8ClampedArray && Number.isInteger(o.width) && Number.isInteger(o.height) && !('channels' in o);
}

export function isDecodedImage(x: unknown): x is DecodedImage {
  const o = x as DecodedImage;
  return typeof x === 'object' && x !== null && o.data instanceof Uint8Array && Number.isInteger(o.channels) && Number.isInteger(o.width);
}

function ctorName(x: unknown): string {
  return (x as object)?.constructor?.name ?? typeof x;
}

/** True for the inputs that {@link readPixels} draws through a canvas. */
export function isDrawable(x: unknown): x is Drawable {
  const g = globalThis as Record<string, unknown>;
  for (const name of ['HTMLImageElement', 'HTMLVideoElement', 'HTMLCanvasElement', 'ImageBitmap', 'OffscreenCanvas']) {
    const C = g[name] as (abstract new (...a: never[]) => unknown) | undefined;
    if (typeof C === 'function' && x instanceof C) return true;
  }
  return false;
}

/** The natural size of an input (a video's frame size, an image's intrinsic size). */
export function sourceSize(input: WebImageInput | ImageDataLike | DecodedImage): { width: number; height: number } {
  const g = globalThis as Record<string, unknown>;
  let width: number;
  let height: number;
  if (typeof g.HTMLVideoElement === 'function' && input instanceof (g.HTMLVideoElement as typeof HTMLVideoElement)) {
    [width, height] = [input.videoWidth, input.videoHeight];
    if (!(width > 0 && height > 0)) throw new Error(`segkit: the video has no frame yet (videoWidth ${width}, videoHeight ${height}); wait for its 'loadeddata' event`);
  } else if (typeof g.HTMLImageElement === 'function' && input instanceof (g.HTMLImageElement as typeof HTMLImageElement)) {
    [width, height] = [input.naturalWidth, input.naturalHeight];
    if (!(width > 0 && height > 0)) throw new Error(`segkit: the image ${input.src ? `'${input.src.slice(0, 100)}'` : ''} is not loaded (naturalWidth ${width}); await img.decode() first`);
  } else {
    [width, height] = [(input as { width: number }).width, (input as { height: number }).height];
  }
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new Error(`segkit: ${ctorName(input)} is ${width}×${height}; expected a non-empty image`);
  }
  return { width, height };
}

/** A 2D canvas of at least one pixel: OffscreenCanvas where there is one (workers too), else a DOM canvas. */
export function createCanvas(width: number, height: number): OffscreenCanvas | HTMLCanvasElement {
  if (typeof OffscreenCanvas === 'function') return new OffscreenCanvas(width, height);
  if (typeof document === 'object') {
    const c = document.createElement('canvas');
    c.width = width;
    c.height = height;
    return c;
  }
  throw new Error('segkit: this environment has neither OffscreenCanvas nor a DOM; pass ImageData or a decoded image instead');
}

export type Context2D = OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;

export function context2d(canvas: OffscreenCanvas | HTMLCanvasElement, readBack = false): Context2D {
  const ctx = canvas.getContext('2d', readBack ? { willReadFrequently: true } : undefined) as Context2D | null;
  if (!ctx) throw new Error(`segkit: cannot get a 2D context from the ${ctorName(canvas)} (is it already used for WebGL/WebGPU?)`);
  return ctx;
}

let scratch: { canvas: OffscreenCanvas | HTMLCanvasElement; ctx: Context2D } | undefined;

/** The shared read-back canvas, resized to w×h (one per page: readPixels is synchronous). */
function scratchContext(w: number, h: number): Context2D {
  if (!scratch) {
    const canvas = createCanvas(w, h);
    scratch = { canvas, ctx: context2d(canvas, true) };
  }
  if (scratch.canvas.width !== w || scratch.canvas.height !== h) {
    scratch.canvas.width = w;
    scratch.canvas.height = h;
  }
  return scratch.ctx;
}

/** RGBA (4 bytes per pixel) → RGB. */
export function rgbaToRgb(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number): DecodedImage {
  const n = width * height;
  if (rgba.length !== n * 4) throw new Error(`segkit: expected ${width}×${height}×4 = ${n * 4} RGBA bytes, got ${rgba.length}`);
  const data = new Uint8Array(n * 3);
  for (let p = 0, q = 0; p < n * 4; p += 4, q += 3) {
    data[q] = rgba[p]!;
    data[q + 1] = rgba[p + 1]!;
    data[q + 2] = rgba[p + 2]!;
  }
  return { data, width, height, channels: 3 };
}

/** RGB (or grey) → RGBA bytes with alpha 255, for ImageData. */
export function toRgba(img: DecodedImage): Uint8ClampedArray {
  const { width, height, channels, data } = img;
  const n = width * height;
  if (![1, 3, 4].includes(channels) || data.length !== n * channels) throw new Error(`segkit: expected a ${width}×${height} image with 1, 3 or 4 channels, got ${channels} channels and ${data.length} bytes`);
  const out = new Uint8ClampedArray(n * 4);
  for (let p = 0; p < n; p++) {
    const s = p * channels;
    out[p * 4] = data[s]!;
    out[p * 4 + 1] = data[channels === 1 ? s : s + 1]!;
    out[p * 4 + 2] = data[channels === 1 ? s : s + 2]!;
    out[p * 4 + 3] = channels === 4 ? data[s + 3]! : 255;
  }
  return out;
}

/** An ImageData where the platform has one, else a plain object of the same shape (Node). */
export function makeImageData(data: Uint8ClampedArray, width: number, height: number): ImageData {
  if (typeof ImageData === 'function') return new ImageData(data as Uint8ClampedArray<ArrayBuffer>, width, height);
  return { data, width, height, colorSpace: 'srgb' } as ImageData;
}

/**
 * RGB pixels of an input, at its natural size or scaled (bilinear) to width×height. Elements and
 * bitmaps go through the canvas; ImageData and decoded images are converted in place.
 */
export function readPixels(input: WebImageInput | ImageDataLike | DecodedImage, width?: number, height?: number): DecodedImage {
  if (!isDecodedImage(input) && !isImageDataLike(input) && !isDrawable(input)) {
    throw new Error(`segkit: cannot read pixels from a ${ctorName(input)}; expected ImageData, an <img>, <video> or <canvas> element, an ImageBitmap, an OffscreenCanvas or a decoded image`);
  }
  const size = sourceSize(input);
  const w = width ?? size.width;
  const h = height ?? size.height;
  if (!(Number.isInteger(w) && w > 0 && Number.isInteger(h) && h > 0)) throw new Error(`segkit: cannot read pixels at ${w}×${h}; expected positive integer sizes`);
  let rgb: DecodedImage;
  if (isDecodedImage(input)) {
    rgb = input.channels === 3 ? input : { data: toRgbBytes(input), width: input.width, height: input.height, channels: 3 };
  } else if (isImageDataLike(input)) {
    rgb = rgbaToRgb(input.data, input.width, input.height);
  } else {
    const ctx = scratchContext(w, h);
    ctx.clearRect(0, 0, w, h);
    ctx.drawImage(input, 0, 0, w, h);
    return rgbaToRgb(ctx.getImageData(0, 0, w, h).data, w, h);
  }
  if (rgb.width === w && rgb.height === h) return rgb;
  return { data: resizeBilinear(rgb.data, rgb.width, rgb.height, 3, w, h), width: w, height: h, channels: 3 };
}

function toRgbBytes(img: DecodedImage): Uint8Array {
  const rgba = toRgba(img);
  return rgbaToRgb(rgba, img.width, img.height).data;
}
