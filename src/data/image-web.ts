/**
 * Image I/O in the browser (and web workers): `createImageBitmap` + `OffscreenCanvas` for
 * JPEG/PNG/WebP, segkit's PNG reader with `DecompressionStream` for grey/palette label PNGs.
 *
 * Caveats of the platform: browsers may colour-manage images with an embedded ICC profile (we ask
 * for `colorSpaceConversion: 'none'`, which all current engines honour for decoding), and canvas
 * encoders always write RGBA PNGs, so a 1-channel label is written as grey RGBA.
 */
import { DataError } from './errors.js';
import {
  asBytes,
  checkImage,
  sniffFormat,
  sourceName,
  type DecodedImage,
  type DecodeOptions,
  type EncodeFormat,
  type EncodeOptions,
  type ImageCodec,
  type ImageSource,
} from './image.js';
import { decodePngIndices, PngFormatError } from './png.js';

async function bytesOf(src: ImageSource): Promise<Uint8Array> {
  if (typeof src !== 'string') return asBytes(src);
  let res: Response;
  try {
    res = await fetch(src);
  } catch (e) {
    throw new DataError(`cannot fetch ${src}: ${(e as Error).message}`, 'missing', src);
  }
  if (!res.ok) throw new DataError(`cannot fetch ${src}: HTTP ${res.status} ${res.statusText}`, 'missing', src);
  return new Uint8Array(await res.arrayBuffer());
}

async function inflate(z: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([z as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function rgbaOf(bytes: Uint8Array, name: string): Promise<{ rgba: Uint8ClampedArray; width: number; height: number }> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (e) {
    const fmt = sniffFormat(bytes);
    throw new DataError(
      fmt
        ? `cannot decode ${fmt.toUpperCase()} ${name} (${bytes.length} bytes; truncated or corrupt?): ${(e as Error).message}`
        : `cannot decode ${name}: not a PNG, JPEG or WebP file`,
      'corrupt',
      name,
    );
  }
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('OffscreenCanvas 2d context is not available');
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return { rgba: ctx.getImageData(0, 0, width, height).data, width, height };
}

/** Decodes JPEG/PNG/WebP bytes or a URL to RGB uint8 HWC. */
export async function decodeImage(src: ImageSource, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const name = sourceName(src, opts);
  const { rgba, width, height } = await rgbaOf(await bytesOf(src), name);
  const n = width * height;
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    data[i * 3] = rgba[i * 4]!;
    data[i * 3 + 1] = rgba[i * 4 + 1]!;
    data[i * 3 + 2] = rgba[i * 4 + 2]!;
  }
  return { data, width, height, channels: 3 };
}

/** Decodes a label map to 1 channel of class indices (palette PNGs give their indices). */
export async function decodeLabel(src: ImageSource, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const name = sourceName(src, opts);
  const bytes = await bytesOf(src);
  if (sniffFormat(bytes) === 'png') {
    try {
      const png = await decodePngIndices(bytes, inflate);
      if (png) {
        const data = new Uint8Array(png.data.length);
        for (let i = 0; i < data.length; i++) {
          const v = png.data[i]!;
          if (v > 255) throw new DataError(`label ${name} is a 16-bit PNG with value ${v}; label maps hold class indices 0–255`, 'format', name);
          data[i] = v;
        }
        return { data, width: png.width, height: png.height, channels: 1 };
      }
    } catch (e) {
      if (e instanceof PngFormatError) throw new DataError(`cannot decode PNG ${name}: ${e.message}`, 'corrupt', name);
      throw e;
    }
  }
  const { rgba, width, height } = await rgbaOf(bytes, name);
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) {
    const r = rgba[i * 4]!;
    if (r !== rgba[i * 4 + 1] || r !== rgba[i * 4 + 2]) {
      throw new DataError(`label ${name} is a colour image (channels differ at x=${i % width}, y=${Math.floor(i / width)}); segkit expects class indices`, 'format', name);
    }
    out[i] = r;
  }
  return { data: out, width, height, channels: 1 };
}

function toCanvas(img: DecodedImage): OffscreenCanvas {
  checkImage(img, 'encode');
  const { width, height, channels, data } = img;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const s = i * channels;
    const g = data[s]!;
    rgba[i * 4] = g;
    rgba[i * 4 + 1] = channels >= 3 ? data[s + 1]! : g;
    rgba[i * 4 + 2] = channels >= 3 ? data[s + 2]! : g;
    rgba[i * 4 + 3] = channels === 4 ? data[s + 3]! : channels === 2 ? data[s + 1]! : 255;
  }
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('OffscreenCanvas 2d context is not available');
  ctx.putImageData(new ImageData(rgba, width, height), 0, 0);
  return canvas;
}

/** Encodes pixels as PNG (always RGBA in browsers). */
export async function encodePng(img: DecodedImage): Promise<Uint8Array> {
  return encodeImage(img, 'png');
}

/** Encodes to PNG, JPEG or WebP with the browser's encoders. */
export async function encodeImage(img: DecodedImage, format: EncodeFormat, opts: EncodeOptions = {}): Promise<Uint8Array> {
  const type = format === 'png' ? 'image/png' : format === 'jpeg' ? 'image/jpeg' : 'image/webp';
  const blob = await toCanvas(img).convertToBlob({ type, quality: (opts.quality ?? 90) / 100 });
  return new Uint8Array(await blob.arrayBuffer());
}

/** The browser implementation of {@link ImageCodec}. */
export const webCodec: ImageCodec = { decodeImage, decodeLabel, encodePng, encodeImage };
