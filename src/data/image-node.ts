/**
 * Image I/O for Node.js with sharp (libvips): JPEG, PNG, WebP. Label PNGs that are grey or palette
 * are read with segkit's own PNG reader (`png.ts`, zlib from Node), which returns exact indices and is
 * faster than a libvips pipeline for small 1-channel files.
 */
import { readFile } from 'node:fs/promises';
import { inflateSync } from 'node:zlib';
import sharp, { type OutputInfo, type Sharp } from 'sharp';
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

/** Reads a file, turning "no such file" into a {@link DataError} that names it. */
export async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DataError(`missing file: ${path} does not exist`, 'missing', path);
    if (code === 'EISDIR') throw new DataError(`expected an image file but ${path} is a directory`, 'missing', path);
    throw new DataError(`cannot read ${path}: ${(e as Error).message}`, 'missing', path);
  }
}

async function bytesOf(src: ImageSource): Promise<Uint8Array> {
  return typeof src === 'string' ? readBytes(src) : asBytes(src);
}

/** libvips repeats its warnings once per decode attempt; keep each line once, on one line. */
function vipsMessage(e: unknown): string {
  return [...new Set(String((e as Error).message).split('\n').map((l) => l.trim()).filter(Boolean))].join('; ');
}

function corrupt(name: string, bytes: Uint8Array, e: unknown): DataError {
  const fmt = sniffFormat(bytes);
  const what = fmt
    ? `cannot decode ${fmt.toUpperCase()} ${name} (${bytes.length} bytes; truncated or corrupt?): ${vipsMessage(e)}`
    : `cannot decode ${name}: not a PNG, JPEG or WebP file (${bytes.length} bytes, starts with ${hexHead(bytes)})`;
  return new DataError(what, 'corrupt', name);
}

function hexHead(b: Uint8Array): string {
  return Array.from(b.subarray(0, 8), (v) => v.toString(16).padStart(2, '0')).join(' ') || '(empty)';
}

/**
 * Default {@link NodeDecodeOptions.maxPixels}: 100 megapixels (a 12000×8333 photo), 300 MB as RGB —
 * far above any segmentation input, low enough that a hostile or mistaken file cannot exhaust memory.
 */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/** Node decoding options: {@link DecodeOptions} plus a pixel limit. */
export interface NodeDecodeOptions extends DecodeOptions {
  /**
   * Refuse images with more pixels (width × height) than this, before decoding them (sharp's
   * `limitInputPixels`). Default {@link DEFAULT_MAX_PIXELS}.
   */
  maxPixels?: number;
}

/** The error for an image over the pixel limit: its name, size and the limit (read from its header). */
async function tooLarge(name: string, bytes: Uint8Array, limit: number, what = 'image'): Promise<DataError> {
  const { width, height } = await sharp(bytes).metadata();
  return new DataError(
    `${what} ${name} is ${width}×${height} (${((width! * height!) / 1e6).toFixed(1)} megapixels), over the decode limit of ${limit} pixels; ` +
      'downscale it, or raise the limit with the maxPixels option',
    'format',
    name,
  );
}

function pixelLimit(opts: NodeDecodeOptions, who: string): number {
  const limit = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!(Number.isInteger(limit) && limit >= 1)) throw new RangeError(`${who}: maxPixels must be a positive integer, got ${limit}`);
  return limit;
}

/** Decodes JPEG/PNG/WebP to RGB uint8 HWC (grey expanded, alpha dropped). Errors name the file. */
export async function decodeImage(src: ImageSource, opts: NodeDecodeOptions = {}): Promise<DecodedImage> {
  const name = sourceName(src, opts);
  const limit = pixelLimit(opts, 'decodeImage');
  const bytes = await bytesOf(src);
  try {
    let pipe = sharp(bytes, { failOn: 'warning', limitInputPixels: limit });
    if (opts.autoOrient) pipe = pipe.rotate();
    const { data, info } = await pipe.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const out: DecodedImage = { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: info.channels };
    if (out.channels !== 3) throw new Error(`decoded to ${out.channels} channels, expected 3`);
    return out;
  } catch (e) {
    if (/pixel limit/i.test(String((e as Error).message))) throw await tooLarge(name, bytes, limit);
    throw corrupt(name, bytes, e);
  }
}

const inflate = (z: Uint8Array): Uint8Array => inflateSync(z);

/**
 * Decodes a label map to 1 channel of class indices (grey values, or palette indices for palette
 * PNGs). A colour label (channels differ) or a 16-bit label with values above 255 is an error.
 */
export async function decodeLabel(src: ImageSource, opts: NodeDecodeOptions = {}): Promise<DecodedImage> {
  const name = sourceName(src, opts);
  const limit = pixelLimit(opts, 'decodeLabel');
  const bytes = await bytesOf(src);
  if (sniffFormat(bytes) === 'png') {
    // segkit's own PNG decoder: check the size in the IHDR chunk (bytes 16–23) before inflating.
    if (bytes.length >= 24) {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
      if (view.getUint32(16) * view.getUint32(20) > limit) throw await tooLarge(name, bytes, limit, 'label');
    }
    let png;
    try {
      png = await decodePngIndices(bytes, inflate);
    } catch (e) {
      if (e instanceof PngFormatError) throw new DataError(`cannot decode PNG ${name} (${bytes.length} bytes): ${e.message}`, 'corrupt', name);
      throw e;
    }
    if (png) {
      let data: Uint8Array;
      if (png.data instanceof Uint16Array) {
        data = new Uint8Array(png.data.length);
        for (let i = 0; i < png.data.length; i++) {
          const v = png.data[i]!;
          if (v > 255) {
            const x = i % png.width;
            const y = Math.floor(i / png.width);
            throw new DataError(
              `label ${name} is a 16-bit PNG with value ${v} at (x=${x}, y=${y}); segkit label maps hold class indices 0–255`,
              'format',
              name,
            );
          }
          data[i] = v;
        }
      } else {
        data = png.data;
      }
      return { data, width: png.width, height: png.height, channels: 1 };
    }
  }
  // RGB/RGBA/grey+alpha PNG, WebP or JPEG label: decode everything, accept only if the colour
  // channels are equal (a grey image stored as RGB).
  let data: Buffer;
  let info: OutputInfo;
  try {
    ({ data, info } = await sharp(bytes, { failOn: 'warning', limitInputPixels: limit }).raw().toBuffer({ resolveWithObject: true }));
  } catch (e) {
    if (/pixel limit/i.test(String((e as Error).message))) throw await tooLarge(name, bytes, limit, 'label');
    throw corrupt(name, bytes, e);
  }
  const { width, height, channels } = info;
  const out = new Uint8Array(width * height);
  if (channels <= 2) {
    for (let i = 0; i < out.length; i++) out[i] = data[i * channels]!;
  } else {
    for (let i = 0; i < out.length; i++) {
      const r = data[i * channels]!;
      const g = data[i * channels + 1]!;
      const b = data[i * channels + 2]!;
      if (r !== g || g !== b) {
        throw new DataError(
          `label ${name} is a colour image (RGB ${r},${g},${b} at x=${i % width}, y=${Math.floor(i / width)}); ` +
            'segkit expects class indices in one channel (a grey or palette PNG) — convert the colours to indices first',
          'format',
          name,
        );
      }
      out[i] = r;
    }
  }
  return { data: out, width, height, channels: 1 };
}

function sharpFromRaw(img: DecodedImage): Sharp {
  checkImage(img, 'encode');
  const buf = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  const s = sharp(buf, { raw: { width: img.width, height: img.height, channels: img.channels as 1 | 2 | 3 | 4 } });
  return img.channels === 1 ? s.toColourspace('b-w') : s;
}

/** Encodes uint8 HWC pixels (1, 3 or 4 channels) as PNG; 1 channel gives a 1-channel grey PNG. */
export async function encodePng(img: DecodedImage): Promise<Uint8Array> {
  const b = await sharpFromRaw(img).png({ compressionLevel: 6 }).toBuffer();
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** Encodes to PNG, JPEG or WebP. */
export async function encodeImage(img: DecodedImage, format: EncodeFormat, opts: EncodeOptions = {}): Promise<Uint8Array> {
  if (format === 'png') return encodePng(img);
  const s = sharpFromRaw(img);
  const quality = opts.quality ?? 90;
  const b = format === 'jpeg' ? await s.jpeg({ quality }).toBuffer() : await s.webp({ quality, lossless: opts.lossless ?? false }).toBuffer();
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** The Node implementation of {@link ImageCodec}. */
export const nodeCodec: ImageCodec = { decodeImage, decodeLabel, encodePng, encodeImage };
