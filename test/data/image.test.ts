import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { DataError } from '../../src/data/errors.js';
import { decodeImage, decodeLabel, encodeImage, encodePng, nodeCodec } from '../../src/data/image-node.js';
import { coordImage, jpegRgb, pngGrey, pngRgb, tempDir, webpRgb, writeBytes } from './helpers.js';

const W = 37;
const H = 23;

test('decodeImage: PNG, lossless WebP exact; JPEG close; bytes or path; always RGB', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const rgb = coordImage(W, H);
  for (const [name, bytes, exact] of [
    ['a.png', await pngRgb(rgb, W, H), true],
    ['a.webp', await webpRgb(rgb, W, H), true],
    ['a.jpg', await jpegRgb(rgb, W, H), false],
  ] as const) {
    const p = join(dir, name);
    writeBytes(p, bytes);
    for (const src of [p, bytes]) {
      const img = await decodeImage(src);
      assert.equal(img.width, W);
      assert.equal(img.height, H);
      assert.equal(img.channels, 3);
      if (exact) assert.deepEqual(img.data, rgb, name);
      else {
        let maxErr = 0;
        for (let i = 0; i < rgb.length; i++) maxErr = Math.max(maxErr, Math.abs(img.data[i]! - rgb[i]!));
        assert.ok(maxErr < 24, `${name}: max error ${maxErr}`);
      }
    }
  }
  // a grey PNG image is expanded to RGB
  const grey = await decodeImage(await pngGrey(new Uint8Array(W * H).fill(77), W, H));
  assert.equal(grey.channels, 3);
  assert.equal(grey.data[5], 77);
});

test('decodeLabel: 1-channel PNG gives one channel of exact values (not 3)', async () => {
  const vals = new Uint8Array(W * H);
  for (let i = 0; i < vals.length; i++) vals[i] = i % 13 === 0 ? 255 : i % 12;
  const bytes = await pngGrey(vals, W, H);
  const meta = await sharp(bytes).metadata();
  assert.equal(meta.channels, 1);
  const lab = await decodeLabel(bytes);
  assert.equal(lab.channels, 1);
  assert.equal(lab.data.length, W * H);
  assert.deepEqual(lab.data, vals);
  // the same file through the sharp path (RGB copy of a grey image) gives the same values
  const rgb = new Uint8Array(W * H * 3);
  for (let i = 0; i < vals.length; i++) rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = vals[i]!;
  assert.deepEqual((await decodeLabel(await pngRgb(rgb, W, H))).data, vals);
});

/** Builds a PNG by hand: palette (type 3) or grey (type 0) with a given bit depth. */
function handPng(w: number, h: number, colorType: 0 | 3, bitDepth: number, values: number[], palette?: number[][]): Uint8Array {
  const chunks: Buffer[] = [];
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer): number => {
    let c = 0xffffffff;
    for (const v of b) c = crcTable[(c ^ v) & 255]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer): void => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    chunks.push(len, td, c);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colorType;
  chunk('IHDR', ihdr);
  if (palette) chunk('PLTE', Buffer.from(palette.flat()));
  const stride = Math.ceil((w * bitDepth) / 8);
  const raw = Buffer.alloc((stride + 1) * h);
  for (let y = 0; y < h; y++) {
    raw[y * (stride + 1)] = y % 2; // filter 0 or 1 (Sub) — exercise unfiltering
    const row = Buffer.alloc(stride);
    for (let x = 0; x < w; x++) {
      const v = values[y * w + x]!;
      if (bitDepth === 16) row.writeUInt16BE(v, x * 2);
      else if (bitDepth === 8) row[x] = v;
      else {
        const per = 8 / bitDepth;
        row[Math.floor(x / per)]! |= v << (8 - bitDepth * ((x % per) + 1));
      }
    }
    if (y % 2 === 1) {
      const bpp = Math.max(1, bitDepth >> 3);
      for (let i = stride - 1; i >= bpp; i--) row[i] = (row[i]! - row[i - bpp]!) & 255;
    }
    row.copy(raw, y * (stride + 1) + 1);
  }
  chunk('IDAT', deflateSync(raw));
  chunk('IEND', Buffer.alloc(0));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ...chunks]);
}

test('decodeLabel: palette PNGs give palette indices (as PIL/mmseg), sub-byte depths and 16-bit work', async () => {
  const w = 11;
  const h = 5;
  const idx = Array.from({ length: w * h }, (_, i) => i % 4);
  const pal = [[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0]];
  for (const depth of [2, 4, 8]) {
    const png = handPng(w, h, 3, depth, idx, pal);
    const lab = await decodeLabel(png);
    assert.deepEqual([...lab.data], idx, `palette depth ${depth}`);
    // sharp would give colours, not indices
    const viaSharp = await sharp(png).raw().toBuffer();
    assert.equal(viaSharp[3], 128);
  }
  const g16 = handPng(w, h, 0, 16, idx.map((v) => v * 50));
  assert.deepEqual([...(await decodeLabel(g16)).data], idx.map((v) => v * 50));
  const big = handPng(w, h, 0, 16, idx.map((v) => v * 1000));
  await assert.rejects(decodeLabel(big, { name: 'deep.png' }), (e: DataError) => e.kind === 'format' && /deep\.png is a 16-bit PNG with value 1000/.test(e.message));
});

test('decodeLabel: a colour label is an error naming the file and the pixel', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const p = join(dir, 'colour.png');
  writeBytes(p, await pngRgb(coordImage(W, H), W, H));
  await assert.rejects(decodeLabel(p), (e: DataError) => e instanceof DataError && e.kind === 'format' && e.file === p && e.message.includes(p) && /colour image/.test(e.message));
});

test('missing, truncated and non-image files are DataErrors naming the file', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const missing = join(dir, 'nope.png');
  await assert.rejects(decodeImage(missing), (e: DataError) => e.kind === 'missing' && e.file === missing && e.message.includes(missing));
  await assert.rejects(decodeLabel(missing), (e: DataError) => e.kind === 'missing' && e.message.includes('does not exist'));
  const full = await jpegRgb(coordImage(64, 48), 64, 48);
  const trunc = join(dir, 'trunc.jpg');
  writeBytes(trunc, full.subarray(0, Math.floor(full.length / 2)));
  await assert.rejects(decodeImage(trunc), (e: DataError) => e.kind === 'corrupt' && e.message.includes(trunc) && /truncated or corrupt/.test(e.message));
  const lpng = await pngGrey(new Uint8Array(64 * 48).fill(3), 64, 48);
  const truncPng = join(dir, 'trunc.png');
  writeBytes(truncPng, lpng.subarray(0, Math.floor(lpng.length * 0.7)));
  await assert.rejects(decodeLabel(truncPng), (e: DataError) => e.kind === 'corrupt' && e.message.includes(truncPng));
  await assert.rejects(decodeImage(truncPng), (e: DataError) => e.kind === 'corrupt' && e.message.includes(truncPng));
  const txt = join(dir, 'notes.png');
  writeBytes(txt, new TextEncoder().encode('hello, not an image'));
  await assert.rejects(decodeImage(txt), (e: DataError) => e.kind === 'corrupt' && /not a PNG, JPEG or WebP/.test(e.message) && e.message.includes(txt));
});

test('encodePng: 1-channel labels stay 1 channel; RGB round-trips; JPEG/WebP encode', async () => {
  const vals = new Uint8Array(W * H).map((_, i) => (i * 7) % 256);
  const png = await encodePng({ data: vals, width: W, height: H, channels: 1 });
  assert.equal((await sharp(png).metadata()).channels, 1);
  assert.deepEqual((await decodeLabel(png)).data, vals);
  const rgb = coordImage(W, H);
  assert.deepEqual((await nodeCodec.decodeImage(await nodeCodec.encodePng({ data: rgb, width: W, height: H, channels: 3 }))).data, rgb);
  for (const f of ['jpeg', 'webp'] as const) {
    const b = await encodeImage({ data: rgb, width: W, height: H, channels: 3 }, f, { quality: 90 });
    assert.equal((await sharp(b).metadata()).format, f);
  }
  await assert.rejects(encodePng({ data: vals, width: W, height: H + 1, channels: 1 }), /expected/);
});

test('PNG reader agrees with libvips on adaptively filtered grey PNGs (all filter types)', async () => {
  const w = 97;
  const h = 61;
  const vals = new Uint8Array(w * h);
  let s = 12345;
  for (let i = 0; i < vals.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const x = i % w;
    const y = Math.floor(i / w);
    vals[i] = (y % 3 === 0 ? x * 2 : y % 3 === 1 ? (s >>> 25) : ((x >> 3) + (y >> 2)) * 9) & 255;
  }
  for (const adaptiveFiltering of [true, false]) {
    const png = await sharp(vals, { raw: { width: w, height: h, channels: 1 } }).toColourspace('b-w').png({ adaptiveFiltering, compressionLevel: 9 }).toBuffer();
    const ref = await sharp(png).extractChannel(0).raw().toBuffer();
    assert.deepEqual((await decodeLabel(png)).data, new Uint8Array(ref));
    assert.deepEqual((await decodeLabel(png)).data, vals);
  }
});
