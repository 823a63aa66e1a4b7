// Person/background effects against float64 loops written here from the definitions (windowed
// averages with clamped edges, the compositing formula) and against hand-computed values.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DecodedImage } from '../../src/data/image.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeCodec } from '../../src/data/image-node.js';
import { resizeBilinear } from '../../src/data/transforms/resample.js';
import { REPO } from '../data/helpers.js';
import {
  alphaMatte,
  backgroundBlurReduction,
  blurBackground,
  blurImage,
  compositeOver,
  featherMask,
  fitBackground,
  matteToBytes,
  replaceBackground,
  smoothMasks,
} from '../../src/segmenter/effects.js';

/** Deterministic pseudo-random numbers in [0, 1) (a 32-bit LCG), independent of src/. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomImage(w: number, h: number, seed: number): DecodedImage {
  const r = lcg(seed);
  return { data: Uint8Array.from({ length: w * h * 3 }, () => Math.floor(r() * 256)), width: w, height: h, channels: 3 };
}

function randomMatte(n: number, seed: number): Float32Array {
  const r = lcg(seed);
  return Float32Array.from({ length: n }, () => r());
}

/**
 * Reference blur: `passes` times, a horizontal then a vertical window mean of 2r+1 samples, each
 * computed directly (no running sum) with indices clamped to the image.
 */
function refBlur(src: ArrayLike<number>, w: number, h: number, c: number, r: number, passes = 3): Float64Array {
  let a = Float64Array.from(src);
  const clamp = (v: number, n: number) => Math.min(n - 1, Math.max(0, v));
  for (let p = 0; p < passes; p++) {
    const t = new Float64Array(a.length);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let ch = 0; ch < c; ch++) {
          let s = 0;
          for (let d = -r; d <= r; d++) s += a[(y * w + clamp(x + d, w)) * c + ch]!;
          t[(y * w + x) * c + ch] = s / (2 * r + 1);
        }
    const v = new Float64Array(a.length);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let ch = 0; ch < c; ch++) {
          let s = 0;
          for (let d = -r; d <= r; d++) s += t[(clamp(y + d, h) * w + x) * c + ch]!;
          v[(y * w + x) * c + ch] = s / (2 * r + 1);
        }
    a = v;
  }
  return a;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** blur(image·(1 − alpha)) / blur(1 − alpha) composited under the person, in float64 at full resolution. */
function refBlurBackground(img: DecodedImage, a: Float32Array, r: number): number[] {
  const { width: w, height: h } = img;
  const weight = Array.from(a, (v) => 1 - v);
  const num = refBlur(Array.from(img.data, (v, i) => v * weight[Math.floor(i / 3)]!), w, h, 3, r);
  const den = refBlur(weight, w, h, 1, r);
  return Array.from(img.data, (v, i) => {
    const p = Math.floor(i / 3);
    const back = den[p]! > 1e-3 ? num[i]! / den[p]! : v;
    return a[p]! * v + (1 - a[p]!) * back;
  });
}

describe('blurImage', () => {
  test('equals three clamped-edge window means per axis (float64), within rounding', () => {
    // Radii below, near and above the image size (7 > height 5 - 1: every window is mostly clamped edge).
    const img = randomImage(13, 5, 1);
    for (const r of [1, 2, 7]) {
      const got = blurImage(img, r);
      assert.equal(got.width, 13);
      assert.equal(got.height, 5);
      const ref = refBlur(img.data, 13, 5, 3, r);
      assert.ok(maxAbsDiff(got.data, ref) <= 0.5 + 1e-3, `radius ${r}: max error ${maxAbsDiff(got.data, ref)}`);
    }
  });

  test('radius 0 copies; a constant image stays constant; bad radius is an error', () => {
    const img = randomImage(4, 3, 2);
    assert.deepEqual(blurImage(img, 0).data, img.data);
    const flat: DecodedImage = { data: new Uint8Array(6 * 4 * 3).fill(77), width: 6, height: 4, channels: 3 };
    assert.ok(blurImage(flat, 3).data.every((v) => v === 77));
    assert.throws(() => blurImage(img, 1.5), /radius must be a non-negative integer \(pixels\), got 1\.5/);
    assert.throws(() => blurImage({ ...img, channels: 4 }, 1), /expected an RGB image of 4×3×3 = 36 bytes, got 4 channels/);
  });
});

describe('featherMask', () => {
  test('a hard square mask equals the float64 window-mean reference and stays in [0, 1]', () => {
    const w = 11;
    const h = 9;
    const m = new Float32Array(w * h);
    for (let y = 3; y < 7; y++) for (let x = 2; x < 8; x++) m[y * w + x] = 1;
    for (const r of [1, 3]) {
      const got = featherMask(m, w, h, r);
      const err = maxAbsDiff(got, refBlur(m, w, h, 1, r));
      assert.ok(err < 1e-6, `radius ${r}: max error ${err}`);
      assert.ok(got.every((v) => v >= 0 && v <= 1 + 1e-6));
    }
    assert.throws(() => featherMask(m, w, h + 1, 1), /expected a Float32Array matte of 11×10 = 110 values, got 99/);
  });
});

describe('compositeOver', () => {
  test('hand values: alpha·fg + (1 − alpha)·bg, rounded', () => {
    const fg: DecodedImage = { data: Uint8Array.of(200, 100, 0, 10, 20, 30), width: 2, height: 1, channels: 3 };
    const bg: DecodedImage = { data: Uint8Array.of(0, 50, 255, 250, 240, 230), width: 2, height: 1, channels: 3 };
    // 0.25·200 = 50; 0.25·100 + 0.75·50 = 62.5 → 63; 0.75·255 = 191.25 → 191. Alpha 1: the foreground.
    assert.deepEqual([...compositeOver(fg, bg, Float32Array.of(0.25, 1)).data], [50, 63, 191, 10, 20, 30]);
    assert.deepEqual([...compositeOver(fg, bg, Float32Array.of(0, 0)).data], [0, 50, 255, 250, 240, 230]);
  });

  test('random images match the float64 formula within rounding; size mismatches are errors', () => {
    const fg = randomImage(7, 6, 3);
    const bg = randomImage(7, 6, 4);
    const a = randomMatte(42, 5);
    const got = compositeOver(fg, bg, a);
    const ref = Array.from(fg.data, (f, i) => a[Math.floor(i / 3)]! * f + (1 - a[Math.floor(i / 3)]!) * bg.data[i]!);
    assert.ok(maxAbsDiff(got.data, ref) <= 0.5 + 1e-4);
    assert.throws(() => compositeOver(fg, randomImage(6, 7, 1), a), /foreground is 7×6 but background is 6×7/);
  });
});

describe('alphaMatte, matteToBytes, smoothMasks', () => {
  test('the ramp from low to high, clamped (hand values)', () => {
    const p = Float32Array.of(0.1, 0.2, 0.4, 0.6, 0.9, 0.5);
    const got = alphaMatte(p, 3, 2, { low: 0.2, high: 0.6 });
    const want = [0, 0, 0.5, 1, 1, 0.75];
    assert.ok(maxAbsDiff(got, want) < 1e-6, `${[...got]}`);
    assert.ok(maxAbsDiff(alphaMatte(p, 3, 2), p) === 0, 'defaults keep the probability');
    assert.throws(() => alphaMatte(Float32Array.of(0.5, 1.5), 2, 1), /probability 1\.5 at \(x=1, y=0\) is not in \[0, 1\]/);
    assert.throws(() => alphaMatte(p, 3, 2, { low: 0.7, high: 0.6 }), /need 0 ≤ low < high ≤ 1, got low 0\.7, high 0\.6/);
  });

  test('matteToBytes rounds alpha·255', () => {
    assert.deepEqual([...matteToBytes(Float32Array.of(0, 0.5, 1, 0.2, 1.2))], [0, 128, 255, 51, 255]);
  });

  test('smoothMasks is factor·prev + (1 − factor)·next; the first frame is next itself', () => {
    const prev = Float32Array.of(1, 0, 0.5);
    const next = Float32Array.of(0, 1, 0.5);
    assert.ok(maxAbsDiff(smoothMasks(prev, next, 0.25), [0.25, 0.75, 0.5]) < 1e-7);
    assert.deepEqual(smoothMasks(undefined, next, 0.25), next);
    assert.throws(() => smoothMasks(prev, next, 1), /factor must be in \[0, 1\), got 1/);
    assert.throws(() => smoothMasks(prev, Float32Array.of(1), 0.5), /masks differ in size \(3 and 1 values\)/);
  });
});

describe('background replacement and blur', () => {
  test('replaceBackground with a colour and with an image follows the compositing formula', () => {
    const img = randomImage(5, 4, 6);
    const a = randomMatte(20, 7);
    const green = replaceBackground(img, a, [0, 255, 0]);
    const ref = Array.from(img.data, (v, i) => a[Math.floor(i / 3)]! * v + (1 - a[Math.floor(i / 3)]!) * [0, 255, 0][i % 3]!);
    assert.ok(maxAbsDiff(green.data, ref) <= 0.5 + 1e-4);
    const bg = randomImage(5, 4, 8);
    const ref2 = Array.from(img.data, (v, i) => a[Math.floor(i / 3)]! * v + (1 - a[Math.floor(i / 3)]!) * bg.data[i]!);
    assert.ok(maxAbsDiff(replaceBackground(img, a, bg).data, ref2) <= 0.5 + 1e-4);
    assert.throws(() => replaceBackground(img, a, [0, 256, 0]), /colour must be three integers 0–255, got \[0,256,0\]/);
  });

  test('fitBackground covers and centre-crops (hand values)', () => {
    // 4×2 into 2×2: scale 1, columns 1 and 2 kept.
    const wide: DecodedImage = { data: Uint8Array.from({ length: 24 }, (_, i) => i), width: 4, height: 2, channels: 3 };
    assert.deepEqual([...fitBackground(wide, 2, 2).data], [3, 4, 5, 6, 7, 8, 15, 16, 17, 18, 19, 20]);
    // red|blue 2×1 into 2×2: scaled ×2 to 4×2, columns 1, 2 kept: sample x = 0.25 and 0.75 of the way.
    const rb: DecodedImage = { data: Uint8Array.of(255, 0, 0, 0, 0, 255), width: 2, height: 1, channels: 3 };
    const got = fitBackground(rb, 2, 2).data;
    const want = [191.25, 0, 63.75, 63.75, 0, 191.25, 191.25, 0, 63.75, 63.75, 0, 191.25];
    assert.ok(maxAbsDiff(got, want) <= 1, `${[...got]}`);
  });

  test('blurBackground equals the normalised-convolution formula (float64) and leaves no halo', () => {
    const w = 12;
    const h = 10;
    const img = randomImage(w, h, 9);
    const a = new Float32Array(w * h);
    // A person block with a soft one-pixel rim.
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) a[y * w + x] = x >= 4 && x < 8 && y >= 3 && y < 8 ? 1 : x >= 3 && x < 9 && y >= 2 && y < 9 ? 0.5 : 0;
    // Radius 8 runs at reduced resolution unless asked not to.
    for (const r of [1, 4, 8]) {
      const err = maxAbsDiff(blurBackground(img, a, r, { exact: true }).data, refBlurBackground(img, a, r));
      assert.ok(err <= 0.5 + 1e-3, `radius ${r}: max error ${err}`);
    }
    // A white person on black: the blurred background next to the person stays black (a plain blur
    // of the whole image would smear grey around the person).
    const white: DecodedImage = { data: new Uint8Array(w * h * 3), width: w, height: h, channels: 3 };
    const hard = new Float32Array(w * h);
    for (let y = 3; y < 7; y++) for (let x = 4; x < 8; x++) {
      hard[y * w + x] = 1;
      white.data.fill(255, (y * w + x) * 3, (y * w + x) * 3 + 3);
    }
    const out = blurBackground(white, hard, 3);
    assert.deepEqual(out.data, white.data);
  });

  test('blurBackground at reduced resolution (radius ≥ 8) stays within about a level of the full-resolution formula on a photo', async () => {
    // The sample portrait at 160×120 under a soft elliptic matte: photo texture, a person, edges.
    const photo = await nodeCodec.decodeImage(readFileSync(join(REPO, 'samples/portrait.jpg')));
    const [w, h] = [160, 120];
    const img: DecodedImage = { data: resizeBilinear(photo.data as Uint8Array, photo.width, photo.height, 3, w, h), width: w, height: h, channels: 3 };
    const a = new Float32Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) a[y * w + x] = Math.min(1, Math.max(0, (1.1 - Math.hypot((x - 80) / 40, (y - 66) / 54)) / 0.2));
    // Measured: radius 8 (2×2 blocks) mean 0.78 levels, 99th percentile 4.9; radius 12 (3×3) 1.24
    // and 7.6. Upsampling shifted by one pixel gives 1.49 and 1.60; a low-resolution radius one too
    // large, 2.9 and 3.2.
    for (const [r, meanBound, p99Bound] of [[8, 1.0, 6], [12, 1.4, 9]] as const) {
      const ref = refBlurBackground(img, a, r);
      const got = blurBackground(img, a, r).data;
      const errs = Array.from(got, (v, i) => Math.abs(v - ref[i]!)).sort((p, q) => p - q);
      const mean = errs.reduce((s, e) => s + e, 0) / errs.length;
      const p99 = errs[Math.floor(0.99 * errs.length)]!;
      assert.ok(mean <= meanBound && p99 <= p99Bound, `radius ${r}: mean error ${mean.toFixed(3)} (bound ${meanBound}), 99th percentile ${p99.toFixed(2)} (bound ${p99Bound})`);
      // The person is composited at full resolution: where alpha is 1 the photo is untouched.
      for (let p = 0; p < w * h; p++) if (a[p] === 1) assert.deepEqual([...got.subarray(p * 3, p * 3 + 3)], [...img.data.subarray(p * 3, p * 3 + 3)]);
    }
    assert.equal(backgroundBlurReduction(7), 1);
    assert.equal(backgroundBlurReduction(8), 2);
    assert.equal(backgroundBlurReduction(20), 5);
  });
});
