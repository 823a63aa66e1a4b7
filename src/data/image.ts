/**
 * The image codec interface, shared by Node (sharp, `image-node.ts`) and the browser
 * (`createImageBitmap` / `OffscreenCanvas`, `image-web.ts`). This file imports nothing platform
 * specific.
 *
 * Pixel layout everywhere in `src/data`: HWC, row-major, uint8; images RGB (3 channels), label
 * maps 1 channel of class indices.
 */

/** Decoded pixels: `data[(y * width + x) * channels + c]`. */
export interface DecodedImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/**
 * Where to read an image from: encoded bytes, or a string that is a file path (Node) or a URL
 * (browser).
 */
export type ImageSource = Uint8Array | ArrayBuffer | string;

export interface DecodeOptions {
  /** Name used in error messages when `src` is bytes (a path names itself). */
  name?: string;
  /**
   * Apply the EXIF orientation tag (images only). Default false: pixels as stored, which is what
   * label maps are aligned with in every supported dataset.
   */
  autoOrient?: boolean;
}

export type EncodeFormat = 'png' | 'jpeg' | 'webp';

export interface EncodeOptions {
  /** JPEG/WebP quality 1–100 (default 90). */
  quality?: number;
  /** WebP only: lossless. */
  lossless?: boolean;
}

/** One interface, two implementations (Node: `nodeCodec`; browser: `webCodec`). */
export interface ImageCodec {
  /** Decodes JPEG, PNG or WebP to RGB uint8 HWC (grey images are expanded, alpha dropped). */
  decodeImage(src: ImageSource, opts?: DecodeOptions): Promise<DecodedImage>;
  /**
   * Decodes a label map to 1 channel of class indices. Grey PNGs give their values, palette PNGs
   * their palette indices (as PIL and mmseg read them); an RGB label whose channels differ is an
   * error (it is a colour rendering, not indices).
   */
  decodeLabel(src: ImageSource, opts?: DecodeOptions): Promise<DecodedImage>;
  /** Encodes 1 (grey), 3 (RGB) or 4 (RGBA) channel uint8 pixels as PNG. */
  encodePng(img: DecodedImage): Promise<Uint8Array>;
  /** Encodes to PNG, JPEG or WebP. */
  encodeImage(img: DecodedImage, format: EncodeFormat, opts?: EncodeOptions): Promise<Uint8Array>;
}

/** A readable name for an image source in error messages. */
export function sourceName(src: ImageSource, opts?: DecodeOptions): string {
  if (typeof src === 'string') return src;
  return opts?.name ?? `<${src.byteLength} bytes>`;
}

/** Bytes view of a source that is not a path. */
export function asBytes(src: Uint8Array | ArrayBuffer): Uint8Array {
  return src instanceof Uint8Array ? src : new Uint8Array(src);
}

/** Checks that an image's data length matches its declared shape (throws with the numbers). */
export function checkImage(img: DecodedImage, what = 'image'): void {
  const { width, height, channels, data } = img;
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new Error(`${what}: width and height must be positive integers, got ${width}×${height}`);
  }
  if (![1, 2, 3, 4].includes(channels)) throw new Error(`${what}: channels must be 1–4, got ${channels}`);
  if (data.length !== width * height * channels) {
    throw new Error(`${what}: ${data.length} bytes for ${width}×${height}×${channels} (expected ${width * height * channels})`);
  }
}

/** Detects the container format from magic bytes (null if not PNG/JPEG/WebP). */
export function sniffFormat(bytes: Uint8Array): 'png' | 'jpeg' | 'webp' | null {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (
    bytes.length >= 12 &&
    bytes[0] === 0x52 && bytes[1] === 0x49 && bytes[2] === 0x46 && bytes[3] === 0x46 &&
    bytes[8] === 0x57 && bytes[9] === 0x45 && bytes[10] === 0x42 && bytes[11] === 0x50
  ) {
    return 'webp';
  }
  return null;
}
