// Test-time augmentation (multi-scale + horizontal flip, mean of softmax probabilities) against
// float64 references built from test/reference: bilinear resize (align_corners False), the fake
// model's 1×1 conv + pooling, softmax, mirrored with a local flip.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { runInference, type ForwardFn } from '../../src/inference/index.js';
import { arr, assertClose, type Arr } from '../reference/ndarray.js';
import { resize2d, sigmoidScalar, softmax } from '../reference/ops.js';
import { flipRef, linearForward, linearRef, randomImage, type Recorder } from './fakes.js';

const close = (t: HostTensor, e: Arr, tol: number, what: string) => assertClose({ data: t.f32, shape: t.shape }, e, tol, what);

/** A left–right symmetric random image. */
function symmetricImage(shape: number[], seed: number): { t: HostTensor; a: Arr } {
  const { a } = randomImage(shape, seed);
  const f = flipRef(a);
  const data = Float32Array.from(a.data, (v, i) => (v + f.data[i]!) / 2);
  return { t: new HostTensor(data, shape), a: arr(shape, data) };
}

/** Not flip-equivariant: the linear model plus a ramp along the width on class 0. */
function rampForward(): ForwardFn {
  const inner = linearForward();
  return async (x) => {
    const out = await inner(x);
    const [n, k, h, w] = out.shape as [number, number, number, number];
    const d = out.f32;
    for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) d[((b * k) * h + y) * w + xx]! += 0.3 * xx;
    return out;
  };
}
function rampRef(x: Arr): Arr {
  const y = linearRef(x);
  const [n, k, h, w] = y.shape as [number, number, number, number];
  for (let b = 0; b < n; b++) for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) y.data[((b * k) * h + r) * w + c]! += 0.3 * c;
  return y;
}

const mean = (xs: Arr[]): Arr => arr(xs[0]!.shape, xs[0]!.data.map((_, i) => xs.reduce((s, x) => s + x.data[i]!, 0) / xs.length));

describe('test-time augmentation', () => {
  it('flip TTA of a flip-symmetric input with a flip-equivariant model equals the plain result', async () => {
    const { t, a } = symmetricImage([2, 3, 4, 6], 1);
    const plain = await runInference(t, linearForward(), { inputMultiple: 1 });
    const tta = await runInference(t, linearForward(), { inputMultiple: 1, flip: true });
    assert.equal(plain.kind, 'logits');
    assert.equal(tta.kind, 'probabilities');
    close(plain.scores, linearRef(a), 1e-6, 'plain logits');
    close(tta.scores, softmax(linearRef(a), 1), 1e-6, 'flip TTA = softmax of plain');
    assert.deepEqual([...tta.labels], [...plain.labels]);
  });

  it('the flipped view is un-flipped before averaging (a model that is not flip-equivariant)', async () => {
    const { t, a } = randomImage([1, 3, 4, 6], 2);
    const r = await runInference(t, rampForward(), { inputMultiple: 1, flip: true });
    const expected = mean([softmax(rampRef(a), 1), flipRef(softmax(rampRef(flipRef(a)), 1))]);
    close(r.scores, expected, 1e-6, 'flip TTA');
  });

  it('multi-scale + flip: each view resized, run, resized back, softmaxed, averaged', async () => {
    const { t, a } = randomImage([1, 3, 6, 10], 3);
    const rec: Recorder = { shapes: [], batches: [] };
    const r = await runInference(t, linearForward(2, rec), { inputMultiple: 2, ratios: [0.5, 1, 1.5], flip: true });
    // Test sizes of 6×10 (hand): 0.5 → scale (5, 3) → 3×5 → multiples of 2: 4×6; 1 → 6×10; 1.5 → (15, 9) → 9×15 → 10×16.
    assert.deepEqual(rec.shapes.map((s) => s.slice(2)), [[4, 6], [4, 6], [6, 10], [6, 10], [10, 16], [10, 16]]);
    const views: Arr[] = [];
    for (const [ah, aw] of [[4, 6], [6, 10], [10, 16]] as const) {
      for (const flip of [false, true]) {
        const x = flip ? flipRef(a) : a;
        const logits = resize2d(resize2d(linearRef(resize2d(x, { size: [ah, aw] }, 'bilinear'), 2), { size: [ah, aw] }, 'bilinear'), { size: [6, 10] }, 'bilinear');
        const p = softmax(logits, 1);
        views.push(flip ? flipRef(p) : p);
      }
    }
    close(r.scores, mean(views), 1e-5, 'multi-scale + flip');
    // Labels are the argmax of the averaged probabilities.
    const e = mean(views);
    for (let i = 0; i < 60; i++) {
      let best = 0;
      for (let k = 1; k < 4; k++) if (e.data[k * 60 + i]! > e.data[best * 60 + i]!) best = k;
      assert.equal(r.labels[i], best, `label at pixel ${i}`);
    }
  });

  it('multi-scale in slide mode resizes the image per scale and the logits back', async () => {
    const { t, a } = randomImage([1, 3, 6, 10], 4);
    const r = await runInference(t, linearForward(), { inputMultiple: 1, mode: { mode: 'slide', crop: [4, 4], stride: [3, 3] }, ratios: [0.5, 1] });
    // A per-pixel model: sliding windows change nothing, so each view is resize → linear → resize back.
    const views = [[3, 5], [6, 10]].map(([h, w]) => softmax(resize2d(linearRef(resize2d(a, { size: [h!, w!] }, 'bilinear')), { size: [6, 10] }, 'bilinear'), 1));
    close(r.scores, mean(views), 1e-5, 'slide multi-scale');
  });

  it('a single-channel model averages sigmoids and thresholds them', async () => {
    const { t, a } = symmetricImage([1, 3, 4, 6], 5);
    const w = [[0.7, -0.5, 0.9]];
    const r = await runInference(t, linearForward(1, undefined, w, [0.1]), { inputMultiple: 1, flip: true });
    const logits = linearRef(a, 1, w, [0.1]);
    const p = arr(logits.shape, logits.data.map(sigmoidScalar));
    close(r.scores, p, 1e-6, 'sigmoid average');
    assert.deepEqual([...r.labels], [...p.data].map((v) => (v > 0.5 ? 1 : 0)));
  });

  it('bad options are clear errors', async () => {
    const { t } = randomImage([1, 3, 4, 6], 1);
    await assert.rejects(runInference(t, linearForward(), { inputMultiple: 1, ratios: [] }), /ratios must list at least one scale ratio/);
    await assert.rejects(runInference(t, linearForward(), { inputMultiple: 1, ratios: [1, -0.5] }), /scale ratios must be positive numbers, got -0.5/);
    await assert.rejects(runInference(t, linearForward(), { inputMultiple: 1, mode: { mode: 'tiles' } as never }), /mode must be 'whole' or 'slide', got "tiles"/);
  });
});
