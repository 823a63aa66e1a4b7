/** Shared helpers for the data tests: temp folders, synthetic images, the shared datasets path. */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';

/** The repository root (this file is test/data/helpers.ts). */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** `../shared/datasets` next to the checkout. */
export const SHARED_DATASETS = resolve(REPO, '..', 'shared', 'datasets');
export const sharedDataset = (name: string): string | null => {
  const p = join(SHARED_DATASETS, name);
  return existsSync(p) ? p : null;
};

export function tempDir(prefix = 'segkit-data-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function writeBytes(path: string, bytes: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

/** RGB test image: R encodes x, G encodes y, B = 255 (so resampled borders are detectable). */
export function coordImage(w: number, h: number): Uint8Array {
  const d = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      d[i] = Math.round((x * 255) / (w - 1));
      d[i + 1] = Math.round((y * 255) / (h - 1));
      d[i + 2] = 255;
    }
  }
  return d;
}

/** Label as a function of position: 8×8 blocks cycling through k classes. */
export const blockLabelAt = (x: number, y: number, k: number): number => ((x >> 3) + 3 * (y >> 3)) % k;

export function blockLabel(w: number, h: number, k: number): Uint8Array {
  const l = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) l[y * w + x] = blockLabelAt(x, y, k);
  return l;
}

export async function pngRgb(data: Uint8Array, w: number, h: number): Promise<Uint8Array> {
  return sharp(data, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
}
export async function jpegRgb(data: Uint8Array, w: number, h: number): Promise<Uint8Array> {
  return sharp(data, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
}
export async function webpRgb(data: Uint8Array, w: number, h: number, lossless = true): Promise<Uint8Array> {
  return sharp(data, { raw: { width: w, height: h, channels: 3 } }).webp({ lossless }).toBuffer();
}
/** A 1-channel grey PNG of label values. */
export async function pngGrey(data: Uint8Array, w: number, h: number): Promise<Uint8Array> {
  return sharp(data, { raw: { width: w, height: h, channels: 1 } }).toColourspace('b-w').png().toBuffer();
}

/** A varied RGB image (smooth gradients + texture) for photometric tests. */
export function textureImage(w: number, h: number, seed = 1): Uint8Array {
  const d = new Uint8Array(w * h * 3);
  let s = seed >>> 0;
  for (let i = 0; i < d.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const p = Math.floor(i / 3);
    const x = p % w;
    const y = Math.floor(p / w);
    d[i] = (((x * 3 + y * (i % 3 + 1)) & 255) * 3 + (s >>> 24)) >> 2;
  }
  return d;
}

/**
 * A three-class folder dataset (images/, masks/, splits/train.txt and val.txt, classes.txt): vertical
 * bands red (class 0), green (1), blue (2) at a per-image offset, with texture — learnable in a few
 * steps. Returns the stems of each split.
 */
export async function writeBandsDataset(root: string, { w = 32, h = 32, train = 8, val = 2 } = {}): Promise<{ train: string[]; val: string[] }> {
  const stems: string[] = [];
  for (let n = 0; n < train + val; n++) {
    const img = new Uint8Array(w * h * 3);
    const lab = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const k = Math.floor(((x + 3 * n) % w) / (w / 3 + 1));
        lab[y * w + x] = k;
        for (let c = 0; c < 3; c++) img[(y * w + x) * 3 + c] = (c === k ? 200 : 40) + ((x * 7 + y * 13 + n * 5 + c * 3) % 23);
      }
    }
    const stem = `img${n}`;
    stems.push(stem);
    writeBytes(join(root, 'images', `${stem}.png`), await pngRgb(img, w, h));
    writeBytes(join(root, 'masks', `${stem}.png`), await pngGrey(lab, w, h));
  }
  const enc = (s: string) => new TextEncoder().encode(s);
  writeBytes(join(root, 'splits', 'train.txt'), enc(stems.slice(0, train).join('\n')));
  writeBytes(join(root, 'splits', 'val.txt'), enc(stems.slice(train).join('\n')));
  writeBytes(join(root, 'classes.txt'), enc('red\ngreen\nblue\n'));
  return { train: stems.slice(0, train), val: stems.slice(train) };
}

/** A 16-bit grey PNG (Cityscapes instance ids), written by hand: sharp's raw input is 8-bit. */
export function pngGrey16(data: Uint16Array, w: number, h: number): Uint8Array {
  const chunk = (type: string, body: Uint8Array): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
    return Buffer.concat([head, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([16, 0, 0, 0, 0], 8); // bit depth 16, grey, deflate, no filter method, no interlace
  const rows = Buffer.alloc(h * (1 + 2 * w));
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rows.writeUInt16BE(data[y * w + x]!, y * (1 + 2 * w) + 1 + 2 * x);
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', new Uint8Array(0))]);
}

/**
 * The tiny training job the trainer, kill -9 and resume tests run on a writeBandsDataset folder: a
 * SegFormer-B0 with a 32-wide head, batch 2, AdamW, one thread, a loss record every iteration.
 */
export function tinyTrainConfig(root: string, train: { iters: number; valInterval: number; checkpointInterval: number }, name = 'tiny_segformer_synthetic'): object {
  return {
    name,
    model: { name: 'segformer', options: { encoder: 'mit-b0', decoderHiddenSize: 32 } },
    data: { dataset: 'folder', root, trainPipeline: [{ type: 'RandomFlip', prob: 0.5 }, { type: 'Normalize' }], batchSize: 2, workers: 0 },
    loss: { type: 'ce' },
    optimizer: { type: 'adamw', lr: 1e-3, weightDecay: 0.01 },
    schedule: { type: 'poly', power: 1, warmupIters: 3 },
    train: { ...train, maxKeepCheckpoints: 2, logInterval: 1, seed: 3, threads: 1 },
  };
}
