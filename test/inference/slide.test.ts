// Sliding-window inference (mmseg slide_inference): the window grid and hit counts against
// hand-computed cases, averaging of overlapping windows against the hand windows, one window ≡
// whole-image inference, padding of windows larger than the image, batching of windows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { slideCounts, slideInference, slideWindows, wholeInference, type ForwardFn } from '../../src/inference/index.js';
import { assertClose } from '../reference/ndarray.js';
import { resize2d, slice } from '../reference/ops.js';
import { linearForward, linearRef, randomImage, type Recorder } from './fakes.js';

// H = 5, W = 7, crop 3×4, stride 2×3:
//   rows:    nH = max(5 − 3 + 2 − 1, 0) // 2 + 1 = 2; i=0: [0, 3); i=1: y2 = min(2 + 3, 5) = 5, y1 = 2 → [2, 5)
//   columns: nW = max(7 − 4 + 3 − 1, 0) // 3 + 1 = 2; j=0: [0, 4); j=1: x2 = min(3 + 4, 7) = 7, x1 = 3 → [3, 7)
const HAND_WINDOWS = [
  { y1: 0, y2: 3, x1: 0, x2: 4 },
  { y1: 0, y2: 3, x1: 3, x2: 7 },
  { y1: 2, y2: 5, x1: 0, x2: 4 },
  { y1: 2, y2: 5, x1: 3, x2: 7 },
];
// Row 2 and column 3 are in both windows of their axis.
const HAND_COUNTS = [
  [1, 1, 1, 2, 1, 1, 1],
  [1, 1, 1, 2, 1, 1, 1],
  [2, 2, 2, 4, 2, 2, 2],
  [1, 1, 1, 2, 1, 1, 1],
  [1, 1, 1, 2, 1, 1, 1],
];

// H = 6, W = 9, crop 4×4, stride 3×3 — here the last windows are shifted inward:
//   rows:    nH = max(6 − 4 + 3 − 1, 0) // 3 + 1 = 2; [0, 4); i=1: y2 = min(3 + 4, 6) = 6, y1 = 2 → [2, 6)
//   columns: nW = max(9 − 4 + 3 − 1, 0) // 3 + 1 = 3; [0, 4), [3, 7); j=2: x2 = min(6 + 4, 9) = 9, x1 = 5 → [5, 9)
const SHIFTED_WINDOWS = [
  { y1: 0, y2: 4, x1: 0, x2: 4 },
  { y1: 0, y2: 4, x1: 3, x2: 7 },
  { y1: 0, y2: 4, x1: 5, x2: 9 },
  { y1: 2, y2: 6, x1: 0, x2: 4 },
  { y1: 2, y2: 6, x1: 3, x2: 7 },
  { y1: 2, y2: 6, x1: 5, x2: 9 },
];
// Rows 2–3 are in both row windows; column 3 and columns 5–6 in two column windows.
const SHIFTED_COUNTS = [
  [1, 1, 1, 2, 1, 2, 2, 1, 1],
  [1, 1, 1, 2, 1, 2, 2, 1, 1],
  [2, 2, 2, 4, 2, 4, 4, 2, 2],
  [2, 2, 2, 4, 2, 4, 4, 2, 2],
  [1, 1, 1, 2, 1, 2, 2, 1, 1],
  [1, 1, 1, 2, 1, 2, 2, 1, 1],
];

/** A model whose two output channels are each pixel's row and column inside the window it was given. */
const positionForward: ForwardFn = async (x) => {
  const [n, , h, w] = x.shape as [number, number, number, number];
  const out = new Float32Array(n * 2 * h * w);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) {
        out[((b * 2 + 0) * h + y) * w + xx] = y;
        out[((b * 2 + 1) * h + y) * w + xx] = xx;
      }
  return new HostTensor(out, [n, 2, h, w]);
};

describe('sliding-window inference', () => {
  it('grid and hit counts equal the hand-computed H=5, W=7, crop 3×4, stride 2×3 case', () => {
    const win = slideWindows(5, 7, [3, 4], [2, 3]);
    assert.deepEqual(win, HAND_WINDOWS);
    assert.deepEqual([...slideCounts(5, 7, win)], HAND_COUNTS.flat());
  });

  it('grid and hit counts with inward-shifted last windows (H=6, W=9, crop 4×4, stride 3×3)', () => {
    const win = slideWindows(6, 9, [4, 4], [3, 3]);
    assert.deepEqual(win, SHIFTED_WINDOWS);
    assert.deepEqual([...slideCounts(6, 9, win)], SHIFTED_COUNTS.flat());
  });

  for (const [h, w, crop, stride, windows] of [
    [5, 7, [3, 4], [2, 3], HAND_WINDOWS],
    [6, 9, [4, 4], [3, 3], SHIFTED_WINDOWS],
  ] as const) {
    it(`overlapping windows are averaged with the hit counts (${h}×${w}, crop ${crop.join('×')}, stride ${stride.join('×')})`, async () => {
      const x = HostTensor.zeros([1, 1, h, w]);
      const out = await slideInference(x, positionForward, { inputMultiple: 1, crop, stride });
      assert.deepEqual(out.shape, [1, 2, h, w]);
      // Expected: at each pixel, the mean over the hand windows covering it of its position inside them.
      for (let y = 0; y < h; y++)
        for (let xx = 0; xx < w; xx++) {
          const cover = windows.filter((v) => y >= v.y1 && y < v.y2 && xx >= v.x1 && xx < v.x2);
          const ey = cover.reduce((s, v) => s + (y - v.y1), 0) / cover.length;
          const ex = cover.reduce((s, v) => s + (xx - v.x1), 0) / cover.length;
          const i = y * w + xx;
          assert.ok(Math.abs(out.f32[i]! - ey) < 1e-6, `row channel at (${y}, ${xx}): ${out.f32[i]} vs ${ey}`);
          assert.ok(Math.abs(out.f32[h * w + i]! - ex) < 1e-6, `column channel at (${y}, ${xx}): ${out.f32[h * w + i]} vs ${ex}`);
        }
    });
  }

  it('an image exactly one window large gives the whole-image result', async () => {
    const { t } = randomImage([2, 3, 8, 12], 5);
    // A model with output stride 2: its logits are resized back in both modes.
    const slide = await slideInference(t, linearForward(2), { inputMultiple: 4, crop: [8, 12], stride: [6, 6] });
    for (const fit of ['resize', 'pad'] as const) {
      const whole = await wholeInference(t, linearForward(2), { inputMultiple: 4, fit });
      assert.deepEqual(slide.shape, whole.shape);
      assert.deepEqual([...slide.f32], [...whole.f32], `slide vs whole (${fit})`);
    }
  });

  it('stride-2 model over overlapping windows equals the float64 per-window reference', async () => {
    const { t, a } = randomImage([1, 3, 6, 10], 9);
    const out = await slideInference(t, linearForward(2), { inputMultiple: 2, crop: [4, 6], stride: [2, 4] });
    // Windows: rows [0,4), [2,6); columns [0,6), [4,10). Each window's stride-2 logits are resized
    // to 4×6 (bilinear, align_corners False); overlaps averaged.
    const k = 4;
    const sum = new Float64Array(k * 60);
    const cnt = new Float64Array(60);
    for (const [y1, x1] of [[0, 0], [0, 4], [2, 0], [2, 4]] as const) {
      const crop = slice(a, [0, 0, y1, x1], [1, 3, y1 + 4, x1 + 6]);
      const up = resize2d(linearRef(crop, 2), { size: [4, 6] }, 'bilinear');
      for (let kc = 0; kc < k; kc++)
        for (let y = 0; y < 4; y++)
          for (let xx = 0; xx < 6; xx++) {
            sum[(kc * 6 + y1 + y) * 10 + x1 + xx]! += up.data[(kc * 4 + y) * 6 + xx]!;
            if (kc === 0) cnt[(y1 + y) * 10 + x1 + xx]!++;
          }
    }
    const expected = { data: sum.map((v, i) => v / cnt[i % 60]!), shape: [1, k, 6, 10] };
    assertClose({ data: out.f32, shape: out.shape }, expected, 1e-5, 'slide');
  });

  it('a window larger than the image is padded to the crop size, and the padding cut off', async () => {
    const { t, a } = randomImage([1, 3, 3, 5], 2);
    const rec: Recorder = { shapes: [], batches: [] };
    const out = await slideInference(t, linearForward(1, rec), { inputMultiple: 4, crop: [4, 8], stride: [2, 2], padValue: -7 });
    assert.deepEqual(rec.shapes, [[1, 3, 4, 8]]);
    const seen = rec.batches[0]!;
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 4; y++)
        for (let x = 0; x < 8; x++) {
          const v = seen[(c * 4 + y) * 8 + x]!;
          assert.equal(v, y < 3 && x < 5 ? t.f32[(c * 3 + y) * 5 + x]! : -7, `window pixel (${c}, ${y}, ${x})`);
        }
    assertClose({ data: out.f32, shape: out.shape }, linearRef(a), 1e-6, 'padded window');
  });

  it('batching windows (across images) changes nothing but the forward calls', async () => {
    const { t } = randomImage([2, 3, 5, 7], 4);
    const opts = { inputMultiple: 1, crop: [3, 4] as [number, number], stride: [2, 3] as [number, number] };
    const one: Recorder = { shapes: [], batches: [] };
    const three: Recorder = { shapes: [], batches: [] };
    const a = await slideInference(t, linearForward(1, one), opts);
    const b = await slideInference(t, linearForward(1, three), { ...opts, batchSize: 3 });
    assert.deepEqual([...a.f32], [...b.f32]);
    assert.deepEqual(one.shapes.map((s) => s[0]), [1, 1, 1, 1, 1, 1, 1, 1]);
    assert.deepEqual(three.shapes.map((s) => s[0]), [3, 3, 2]);
  });

  it('bad options are clear errors', async () => {
    const { t } = randomImage([1, 3, 10, 10], 1);
    const f = linearForward();
    await assert.rejects(slideInference(t, f, { inputMultiple: 4, crop: [6, 8], stride: [4, 4] }), /crop 6×8 must be a multiple of the model's inputMultiple 4/);
    await assert.rejects(slideInference(t, f, { inputMultiple: 1, crop: [3, 3], stride: [5, 5] }), /leaves pixels of the 10×10 image uncovered/);
    await assert.rejects(slideInference(t, f, { inputMultiple: 1, crop: [3, 3], stride: [0, 2] }), /stride height must be a positive integer, got 0/);
    const bad: ForwardFn = async (x) => HostTensor.zeros([x.shape[0]! + 1, 2, 3, 3]);
    await assert.rejects(slideInference(t, bad, { inputMultiple: 1, crop: [3, 3], stride: [3, 3] }), /forward was given 1 image\(s\) of shape \[1, 3, 3, 3\] and must return 1×K×h×w float32 logits, got float32 tensor of shape \[2, 2, 3, 3\]/);
  });
});
