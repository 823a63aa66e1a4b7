// Segmenter: grey and RGBA inputs are the RGB image they stand for; the CRF option equals the
// mean-field CRF applied to the model's logits, then upsampled; a fixed input size comes from the
// training config; refine is the guided filter of the float64 reference on P(person); bad images
// and use after dispose are clear errors.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { nodeCodec } from '../../src/data/image-node.js';
import type { DecodedImage } from '../../src/data/image.js';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { resizeBilinearNCHW } from '../../src/inference/nchw.js';
import { softmaxChannels } from '../../src/inference/scores.js';
import { crfMeanField } from '../../src/losses/crf.js';
import { createModel } from '../../src/models/index.js';
import { compileModule } from '../../src/nn/compile.js';
import { manualSeed } from '../../src/nn/init.js';
import { Segmenter } from '../../src/segmenter/segmenter.js';
import type { Checkpoint } from '../../src/train/checkpoint-format.js';
import { runTraced } from '../engine/harness.js';
import { guidedRef } from '../reference/guided-filter.js';
import { textureImage } from '../data/helpers.js';
import { countingRuntime } from '../robustness/streaming.js';

const [W, H] = [40, 32];
const options = { encoder: 'mit-b0', decoderHiddenSize: 32, numClasses: 3 };

function checkpoint(config?: unknown, classes = ['a', 'b', 'c']): Checkpoint {
  manualSeed(5);
  const o = { ...options, numClasses: classes.length };
  const model = createModel('segformer', o);
  return { meta: { format: 'segkit-checkpoint/1', iteration: 0, model: { name: 'segformer', options: o }, classes, config }, model: model.stateDict(), optimizer: {} };
}

/** The model's raw logits on an RGB image (float pixels allowed), normalised here from the model's mean/std. */
async function rawLogits(c: Checkpoint, img: { data: ArrayLike<number> }, [h, w]: [number, number] = [H, W]): Promise<HostTensor> {
  const model = createModel('segformer', c.meta.model.options);
  model.loadStateDict(c.model);
  model.eval();
  const { mean, std } = model.normalization;
  const x = new Float32Array(3 * w * h);
  for (let ch = 0; ch < 3; ch++) for (let p = 0; p < w * h; p++) x[ch * w * h + p] = (img.data[p * 3 + ch]! / 255 - mean[ch]!) / std[ch]!;
  const f = compileModule(model, { runtime: nodeRuntime, threads: 1 });
  try {
    return (await f.run(new HostTensor(x, [1, 3, h, w]))) as HostTensor;
  } finally {
    await f.dispose();
  }
}

/** Half-pixel bilinear source taps of one output coordinate (PyTorch align_corners=False, clamped). */
function taps(o: number, inSize: number, outSize: number): [number, number, number] {
  const s = Math.max(0, ((o + 0.5) * inSize) / outSize - 0.5);
  const i0 = Math.min(Math.floor(s), inSize - 1);
  return [i0, Math.min(i0 + 1, inSize - 1), s - i0];
}

/** HWC RGB resized bilinearly in float64 (the Segmenter resizes its input the same way). */
function resizeRgb(src: ArrayLike<number>, w: number, h: number, oh: number, ow: number): Float64Array {
  const out = new Float64Array(oh * ow * 3);
  for (let y = 0; y < oh; y++) {
    const [y0, y1, fy] = taps(y, h, oh);
    for (let x = 0; x < ow; x++) {
      const [x0, x1, fx] = taps(x, w, ow);
      for (let ch = 0; ch < 3; ch++) {
        const v = (yy: number, xx: number) => src[(yy * w + xx) * 3 + ch]!;
        out[(y * ow + x) * 3 + ch] = (1 - fy) * ((1 - fx) * v(y0, x0) + fx * v(y0, x1)) + fy * ((1 - fx) * v(y1, x0) + fx * v(y1, x1));
      }
    }
  }
  return out;
}

/** K planes h×w upsampled bilinearly to oh×ow in float64. */
function upsample(z: Float64Array, k: number, h: number, w: number, oh: number, ow: number): Float64Array {
  const out = new Float64Array(k * oh * ow);
  for (let y = 0; y < oh; y++) {
    const [y0, y1, fy] = taps(y, h, oh);
    for (let x = 0; x < ow; x++) {
      const [x0, x1, fx] = taps(x, w, ow);
      for (let c = 0; c < k; c++) {
        const v = (yy: number, xx: number) => z[c * h * w + yy * w + xx]!;
        out[c * oh * ow + y * ow + x] = (1 - fy) * ((1 - fx) * v(y0, x0) + fx * v(y0, x1)) + fy * ((1 - fx) * v(y1, x0) + fx * v(y1, x1));
      }
    }
  }
  return out;
}

function argmax(z: Float64Array, k: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let p = 0; p < n; p++) for (let c = 1; c < k; c++) if (z[c * n + p]! > z[out[p]! * n + p]!) out[p] = c;
  return out;
}

describe('Segmenter', () => {
  const rgb: DecodedImage = { data: textureImage(W, H, 3), width: W, height: H, channels: 3 };
  const c = checkpoint();
  let plain: Segmenter;
  before(() => {
    plain = Segmenter.fromCheckpoint(c, nodeCodec, nodeRuntime, { threads: 1, probabilities: true });
  });
  after(async () => plain.dispose());

  test('a grey image is its RGB expansion; RGBA drops alpha', async () => {
    const grey = Uint8Array.from({ length: W * H }, (_, p) => rgb.data[p * 3]!);
    const greyRgb = Uint8Array.from({ length: W * H * 3 }, (_, i) => grey[Math.floor(i / 3)]!);
    const a = await plain.segment({ data: grey, width: W, height: H, channels: 1 });
    const b = await plain.segment({ data: greyRgb, width: W, height: H, channels: 3 });
    assert.deepEqual(a.labels, b.labels);
    const rgba = Uint8Array.from({ length: W * H * 4 }, (_, i) => (i % 4 === 3 ? 17 : rgb.data[Math.floor(i / 4) * 3 + (i % 4)]!));
    const d = await plain.segment({ data: rgba, width: W, height: H, channels: 4 });
    const e = await plain.segment(rgb);
    assert.deepEqual(d.labels, e.labels);
    assert.deepEqual([e.width, e.height, e.labels.length, e.probabilities!.length], [W, H, W * H, 3 * W * H]);
  });

  test('crf: the mean-field CRF on the logits, then upsampled (default whole mode, input multiple 1)', async () => {
    const logits = await rawLogits(c, rgb);
    const crfLogits = (await runTraced((z: Tensor) => crfMeanField(z), [{ data: Float64Array.from(logits.f32), shape: logits.shape }])) as HostTensor;
    const want = softmaxChannels(resizeBilinearNCHW(crfLogits, H, W)).f32;
    const s = Segmenter.fromCheckpoint(c, nodeCodec, nodeRuntime, { threads: 1, probabilities: true, crf: true });
    try {
      const got = (await s.segment(rgb)).probabilities!;
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
      assert.ok(worst < 1e-5, `probabilities differ by ${worst}`);
      const base = (await plain.segment(rgb)).probabilities!;
      assert.ok(base.some((v, i) => Math.abs(v - got[i]!) > 1e-3), 'the CRF changed nothing');
    } finally {
      await s.dispose();
    }
  });

  test("a fixed validation Resize in the checkpoint's config sets the input size", async () => {
    const config = { data: { valPipeline: [{ type: 'Resize', scale: [32, 32], keepRatio: false }, { type: 'Normalize' }] } };
    const s = Segmenter.fromCheckpoint(checkpoint(config), nodeCodec, nodeRuntime, { threads: 1, probabilities: true });
    const t = Segmenter.fromCheckpoint(c, nodeCodec, nodeRuntime, { threads: 1, probabilities: true, inputSize: [32, 32] });
    const u = Segmenter.fromCheckpoint(c, nodeCodec, nodeRuntime, { threads: 1, probabilities: true });
    try {
      const [a, b, d] = [await s.segment(rgb), await t.segment(rgb), await u.segment(rgb)];
      assert.deepEqual(a.probabilities, b.probabilities);
      assert.notDeepEqual(a.probabilities, d.probabilities);
    } finally {
      await Promise.all([s.dispose(), t.dispose(), u.dispose()]);
    }
  });

  test('with a fixed input size, labels are the argmax of the bilinearly upsampled logits (float64 reference); sessions per size are capped and released', async () => {
    // The labels-only path upsamples and takes the argmax in an onnxruntime graph; the reference
    // upsamples the model's stride-4 logits to its 32×32 input, then to the image, in float64 with
    // half-pixel centres here.
    const logits = await rawLogits(c, { data: resizeRgb(rgb.data, W, H, 32, 32) }, [32, 32]);
    const [k, lh, lw] = logits.shape.slice(1) as [number, number, number];
    const want = argmax(upsample(upsample(Float64Array.from(logits.f32), k, lh, lw, 32, 32), k, 32, 32, H, W), k, H * W);
    const counting = countingRuntime();
    const s = Segmenter.fromCheckpoint(c, nodeCodec, counting, { threads: 1, inputSize: [32, 32] });
    try {
      const got = (await s.segment(rgb)).labels;
      let same = 0;
      for (let i = 0; i < want.length; i++) if (got[i] === want[i]) same++;
      assert.ok(same >= want.length - 2, `${want.length - same} of ${want.length} labels differ`); // float32 near-ties only
      // Images of ten other sizes: the oldest upsampling graphs are released, not hoarded.
      for (let k = 1; k <= 10; k++) await s.segment({ data: textureImage(W + k, H, 3), width: W + k, height: H, channels: 3 });
      assert.ok(counting.open() <= 1 + 8, `${counting.open()} sessions open`);
    } finally {
      await s.dispose();
    }
    assert.equal(counting.open(), 0);
  });

  test('with a fixed input size and probabilities, they are the softmax of the upsampled logits (float64 reference), the labels their argmax', async () => {
    // This path also runs in the upsampling graph: softmax over K after the bilinear upsampling.
    const logits = await rawLogits(c, { data: resizeRgb(rgb.data, W, H, 32, 32) }, [32, 32]);
    const [k, lh, lw] = logits.shape.slice(1) as [number, number, number];
    const z = upsample(upsample(Float64Array.from(logits.f32), k, lh, lw, 32, 32), k, 32, 32, H, W);
    const n = H * W;
    const want = new Float64Array(k * n);
    for (let p = 0; p < n; p++) {
      let max = -Infinity;
      for (let ch = 0; ch < k; ch++) max = Math.max(max, z[ch * n + p]!);
      let sum = 0;
      for (let ch = 0; ch < k; ch++) sum += want[ch * n + p] = Math.exp(z[ch * n + p]! - max);
      for (let ch = 0; ch < k; ch++) want[ch * n + p]! /= sum;
    }
    const s = Segmenter.fromCheckpoint(c, nodeCodec, nodeRuntime, { threads: 1, inputSize: [32, 32], probabilities: true });
    try {
      const got = await s.segment(rgb);
      assert.equal(got.probabilities!.length, k * n);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got.probabilities![i]! - want[i]!));
      assert.ok(worst < 1e-5, `probabilities differ from the float64 reference by ${worst}`);
      const wantLabels = argmax(z, k, n);
      let same = 0;
      for (let p = 0; p < n; p++) if (got.labels[p] === wantLabels[p]) same++;
      assert.ok(same >= n - 2, `${n - same} of ${n} labels differ`); // float32 near-ties only
    } finally {
      await s.dispose();
    }
  });

  test("refine: the checkpoint's guided filter applied to P(person) at the model's size, guided by the image (float64 reference); off with refine: false", async () => {
    const c2 = checkpoint(undefined, ['background', 'person']);
    c2.meta.refine = { radius: 2, eps: 1e-2 };
    const logits = await rawLogits(c2, { data: resizeRgb(rgb.data, W, H, 32, 32) }, [32, 32]);
    const [, lh, lw] = logits.shape.slice(1) as [number, number, number];
    const z = upsample(Float64Array.from(logits.f32), 2, lh, lw, 32, 32);
    const p = Float64Array.from({ length: 32 * 32 }, (_, i) => 1 / (1 + Math.exp(z[i]! - z[1024 + i]!)));
    const guide = { data: Float64Array.from({ length: 3 * W * H }, (_, i) => rgb.data[(i % (W * H)) * 3 + Math.floor(i / (W * H))]! / 255), shape: [1, 3, H, W] };
    const want = guidedRef(guide, { data: p, shape: [1, 1, 32, 32] }, 2, 1e-2).data;
    const s = Segmenter.fromCheckpoint(c2, nodeCodec, nodeRuntime, { threads: 1, inputSize: [32, 32], probabilities: true });
    const off = Segmenter.fromCheckpoint(c2, nodeCodec, nodeRuntime, { threads: 1, inputSize: [32, 32], probabilities: true, refine: false });
    try {
      assert.deepEqual(s.refine, { radius: 2, eps: 1e-2 });
      const got = await s.segment(rgb);
      const n = W * H;
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got.probabilities![n + i]! - want[i]!), Math.abs(got.probabilities![i]! - (1 - want[i]!)));
      assert.ok(worst < 1e-4, `refined probabilities differ from the float64 reference by ${worst}`);
      let same = 0;
      for (let i = 0; i < n; i++) if (got.labels[i] === (want[i]! > 0.5 ? 1 : 0)) same++;
      assert.ok(same >= n - 2, `${n - same} of ${n} labels differ`);
      const plainProbs = (await off.segment(rgb)).probabilities!;
      assert.ok(plainProbs.some((v, i) => Math.abs(v - got.probabilities![i]!) > 1e-2), 'refine changed nothing');
    } finally {
      await Promise.all([s.dispose(), off.dispose()]);
    }
  });

  test('refine: errors name what it needs (two classes, a fixed input size) and the bad setting', () => {
    assert.throws(() => Segmenter.fromCheckpoint(c, nodeCodec, nodeRuntime, { inputSize: [32, 32], refine: true }), /refine \(the guided filter\) works on two-class models \(person\/background\); this one has 3 classes \(a, b, c\)/);
    const c2 = checkpoint(undefined, ['background', 'person']);
    assert.throws(() => Segmenter.fromCheckpoint(c2, nodeCodec, nodeRuntime, { refine: true }), /refine \(the guided filter\) needs a fixed input size/);
    assert.throws(() => Segmenter.fromCheckpoint(c2, nodeCodec, nodeRuntime, { inputSize: [32, 32], refine: { radius: 1.5 } }), /guided filter radius must be a positive integer \(pixels\), got 1.5/);
  });

  test('bad images and use after dispose are clear errors', async () => {
    await assert.rejects(plain.segment({ data: new Uint8Array(5), width: W, height: H, channels: 3 }), /expected 40×32 pixels with 1, 3 or 4 channels \(3840 values\), got 5 values/);
    await assert.rejects(plain.segment({ data: new Uint8Array(0), width: 0, height: 0, channels: 3 }), /image is 0×0; expected a non-empty image/);
    const s = Segmenter.fromCheckpoint(c, nodeCodec, nodeRuntime, { threads: 1 });
    await s.dispose();
    await assert.rejects(s.segment(rgb), /has been disposed/);
  });

  test('dispose() while an image decodes: segment rejects and no session is left open', async () => {
    const counting = countingRuntime();
    const slowCodec = { decodeImage: async () => (await new Promise((r) => setTimeout(r, 10)), rgb) };
    const s = Segmenter.fromCheckpoint(c, slowCodec, counting, { threads: 1 });
    const pending = s.segment(new Uint8Array(8));
    await s.dispose();
    await assert.rejects(pending, /has been disposed/);
    assert.equal(counting.open(), 0);
  });
});
