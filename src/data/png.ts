/**
 * A minimal PNG reader for label maps: grey (colour type 0) and palette (colour type 3) images,
 * non-interlaced, returning the stored sample values — for palette PNGs the palette *indices*, as
 * PIL (and so mmseg) reads them. Anything else returns `null` so the caller falls back to its general
 * decoder. Inflating is injected (Node: zlib; browser: DecompressionStream), so this file has no
 * platform imports.
 */

export interface PngIndexImage {
  /** One value per pixel, row-major. Uint16Array for 16-bit grey. */
  data: Uint8Array | Uint16Array;
  width: number;
  height: number;
  bitDepth: number;
  colorType: 0 | 3;
}

/** Inflates a zlib stream (RFC 1950); throws on corrupt or truncated input. */
export type Inflate = (data: Uint8Array) => Uint8Array | Promise<Uint8Array>;

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Thrown for a structurally broken PNG (truncated, bad chunk lengths, wrong data size). */
export class PngFormatError extends Error {}

function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/**
 * Decodes a grey or palette PNG to its sample values. Returns null when the PNG is of another kind
 * (RGB, grey+alpha, RGBA, interlaced), for the caller's general decoder.
 */
export async function decodePngIndices(bytes: Uint8Array, inflate: Inflate): Promise<PngIndexImage | null> {
  if (bytes.length < 8 || SIGNATURE.some((v, i) => bytes[i] !== v)) throw new PngFormatError('not a PNG (bad signature)');
  let pos = 8;
  let width = 0;
  let height = 0;
  let bitDepth = 0;
  let colorType = -1;
  let interlace = 0;
  const idat: Uint8Array[] = [];
  let idatLen = 0;
  let sawEnd = false;
  while (pos + 8 <= bytes.length) {
    const len = readU32(bytes, pos);
    const type = String.fromCharCode(bytes[pos + 4]!, bytes[pos + 5]!, bytes[pos + 6]!, bytes[pos + 7]!);
    const start = pos + 8;
    const end = start + len;
    if (end + 4 > bytes.length) throw new PngFormatError(`truncated PNG: chunk ${type} needs ${len} bytes, file ends first`);
    if (type === 'IHDR') {
      if (len < 13) throw new PngFormatError(`IHDR chunk is ${len} bytes; expected 13`);
      width = readU32(bytes, start);
      height = readU32(bytes, start + 4);
      bitDepth = bytes[start + 8]!;
      colorType = bytes[start + 9]!;
      interlace = bytes[start + 12]!;
      if (colorType !== 0 && colorType !== 3) return null;
      if (interlace !== 0) return null;
    } else if (type === 'IDAT') {
      idat.push(bytes.subarray(start, end));
      idatLen += len;
    } else if (type === 'IEND') {
      sawEnd = true;
      break;
    }
    pos = end + 4; // skip CRC
  }
  if (colorType < 0) throw new PngFormatError('PNG without IHDR chunk');
  // Checked before anything is sized from the header: with bit depth 0 the data-size check below
  // would pass for any width, and width × height would be allocated unchecked.
  if (!(colorType === 0 ? [1, 2, 4, 8, 16] : [1, 2, 4, 8]).includes(bitDepth)) {
    throw new PngFormatError(`invalid PNG bit depth ${bitDepth} for colour type ${colorType} (${colorType === 0 ? 'grey: 1, 2, 4, 8 or 16' : 'palette: 1, 2, 4 or 8'})`);
  }
  if (!sawEnd) throw new PngFormatError('truncated PNG: no IEND chunk');
  if (idatLen === 0) throw new PngFormatError('PNG without image data (no IDAT chunk)');
  const z = new Uint8Array(idatLen);
  let o = 0;
  for (const c of idat) {
    z.set(c, o);
    o += c.length;
  }
  let raw: Uint8Array;
  try {
    raw = await inflate(z);
  } catch (e) {
    throw new PngFormatError(`corrupt PNG data: ${(e as Error).message}`);
  }
  const bitsPerPixel = bitDepth; // 1 sample per pixel for types 0 and 3
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  if (raw.length < (stride + 1) * height) {
    throw new PngFormatError(`truncated PNG data: ${raw.length} bytes, ${(stride + 1) * height} needed for ${width}×${height}`);
  }
  const bpp = Math.max(1, bitsPerPixel >> 3); // filter byte distance
  unfilter(raw, stride, height, bpp);
  const n = width * height;
  if (bitDepth === 16) {
    const out = new Uint16Array(n);
    for (let y = 0; y < height; y++) {
      const row = y * (stride + 1) + 1;
      for (let x = 0; x < width; x++) out[y * width + x] = (raw[row + 2 * x]! << 8) | raw[row + 2 * x + 1]!;
    }
    return { data: out, width, height, bitDepth, colorType: colorType as 0 | 3 };
  }
  const out = new Uint8Array(n);
  if (bitDepth === 8) {
    for (let y = 0; y < height; y++) out.set(raw.subarray(y * (stride + 1) + 1, y * (stride + 1) + 1 + width), y * width);
  } else {
    const perByte = 8 / bitDepth;
    const mask = (1 << bitDepth) - 1;
    for (let y = 0; y < height; y++) {
      const row = y * (stride + 1) + 1;
      for (let x = 0; x < width; x++) {
        const byte = raw[row + Math.floor(x / perByte)]!;
        const shift = 8 - bitDepth * ((x % perByte) + 1);
        out[y * width + x] = (byte >> shift) & mask;
      }
    }
  }
  return { data: out, width, height, bitDepth, colorType: colorType as 0 | 3 };
}

/** Reverses PNG scanline filters in place (each row: 1 filter byte + stride bytes). */
function unfilter(raw: Uint8Array, stride: number, height: number, bpp: number): void {
  const rowLen = stride + 1;
  for (let y = 0; y < height; y++) {
    const r = y * rowLen;
    const f = raw[r]!;
    const cur = r + 1;
    const prev = r + 1 - rowLen; // valid only when y > 0
    switch (f) {
      case 0:
        break;
      case 1:
        for (let i = bpp; i < stride; i++) raw[cur + i] = (raw[cur + i]! + raw[cur + i - bpp]!) & 255;
        break;
      case 2:
        if (y > 0) for (let i = 0; i < stride; i++) raw[cur + i] = (raw[cur + i]! + raw[prev + i]!) & 255;
        break;
      case 3:
        for (let i = 0; i < stride; i++) {
          const a = i >= bpp ? raw[cur + i - bpp]! : 0;
          const b = y > 0 ? raw[prev + i]! : 0;
          raw[cur + i] = (raw[cur + i]! + ((a + b) >> 1)) & 255;
        }
        break;
      case 4:
        for (let i = 0; i < stride; i++) {
          const a = i >= bpp ? raw[cur + i - bpp]! : 0;
          const b = y > 0 ? raw[prev + i]! : 0;
          const c = i >= bpp && y > 0 ? raw[prev + i - bpp]! : 0;
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          const pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          raw[cur + i] = (raw[cur + i]! + pred) & 255;
        }
        break;
      default:
        throw new PngFormatError(`corrupt PNG data: unknown filter type ${f} on row ${y}`);
    }
  }
}
