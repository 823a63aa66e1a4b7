// Whole-image inference: pad-and-crop-back and aligned resize against float64 references built
// from test/reference (bilinear resize with PyTorch's align_corners=False rule, 1×1 conv, average
// pooling), and the test-size rules (mmseg keep-ratio rescale, rounding up to multiples) by hand.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alignedSize, runInference, testSize, wholeInference } from '../../src/inference/index.js';
import { assertClose } from '../reference/ndarray.js';
import { pad, resize2d, slice } from '../reference/ops.js';
import { linearForward, linearRef, randomImage, type Recorder } from './fakes.js';

describe('whole-image inference', () => {
  it("fit 'pad': the model sees the input padded bottom/right to multiples, the logits are cropped back", async () => {
    const { t, a } = randomImage([2, 3, 5, 7], 1);
    const rec: Recorder = { shapes: [], batches: [] };
    const out = await wholeInference(t, linearForward(1, rec), { inputMultiple: 4, fit: 'pad', padValue: 3 });
    assert.deepEqual(rec.shapes, [[2, 3, 8, 8]]);
    const seen = rec.batches[0]!;
    for (let p = 0; p < 6; p++)
      for (let y = 0; y < 8; y++)
        for (let x = 0; x < 8; x++) assert.equal(seen[(p * 8 + y) * 8 + x], y < 5 && x < 7 ? t.f32[(p * 5 + y) * 7 + x] : 3, `plane ${p} (${y}, ${x})`);
    // A per-pixel model: padding must not leak into the kept region.
    assertClose({ data: out.f32, shape: out.shape }, linearRef(a), 1e-6, 'pad');
  });

  it("fit 'pad' with a stride-2 model: logits resized to the padded size, then cropped", async () => {
    const { t, a } = randomImage([1, 3, 5, 7], 2);
    const out = await wholeInference(t, linearForward(2), { inputMultiple: 4, fit: 'pad', padValue: 0 });
    const padded = pad(a, [0, 0, 0, 0, 0, 0, 3, 1], 'constant', 0);
    const up = resize2d(linearRef(padded, 2), { size: [8, 8] }, 'bilinear');
    assertClose({ data: out.f32, shape: out.shape }, slice(up, [0, 0, 0, 0], [1, 4, 5, 7]), 1e-5, 'pad, stride 2');
  });

  it("fit 'resize' (AlignedResize) with a stride-2 model: image → multiples, logits → aligned size → input size", async () => {
    const { t, a } = randomImage([1, 3, 6, 10], 3);
    const rec: Recorder = { shapes: [], batches: [] };
    const out = await wholeInference(t, linearForward(2, rec), { inputMultiple: 4 });
    assert.deepEqual(rec.shapes, [[1, 3, 8, 12]]);
    const x8 = resize2d(a, { size: [8, 12] }, 'bilinear');
    const expected = resize2d(resize2d(linearRef(x8, 2), { size: [8, 12] }, 'bilinear'), { size: [6, 10] }, 'bilinear');
    assertClose({ data: out.f32, shape: out.shape }, expected, 1e-5, 'aligned resize');
  });

  it('test sizes follow mmseg: keep-ratio rescale to the scale, ratios truncated, sides rounded up to multiples', () => {
    // Cityscapes 1024×2048, img_scale (2048, 1024), ratio 0.75: scale (1536, 768) → factor 0.75.
    assert.deepEqual(testSize(1024, 2048, 0.75, [2048, 1024]), [768, 1536]);
    // ADE20K-like 375×500, img_scale (2048, 512): factor min(2048/500, 512/375) = 1.3653 → 512×683;
    // AlignedResize to multiples of 32 → 512×704.
    assert.deepEqual(testSize(375, 500, 1, [2048, 512]), [512, 683]);
    assert.deepEqual(alignedSize(512, 683, 32), [512, 704]);
    // No base scale: the image's own size; ratio 1.5 of 6×10 → scale (15, 9) → 9×15.
    assert.deepEqual(testSize(6, 10, 1.5), [9, 15]);
    assert.deepEqual(testSize(6, 10, 1), [6, 10]);
    // Ratio 0.75 of 6×10: scale (int 7.5, int 4.5) = (7, 4) → factor min(7/10, 4/6) = 2/3 → 4×7 (6.67 rounds to 7).
    assert.deepEqual(testSize(6, 10, 0.75), [4, 7]);
    assert.throws(() => testSize(6, 10, 0), /ratio must be a positive number, got 0/);
  });

  it('a base scale (short side 12) runs the model at the aligned rescaled size and returns input-size logits', async () => {
    const { t } = randomImage([1, 3, 6, 10], 4);
    const rec: Recorder = { shapes: [], batches: [] };
    // 6×10 → short side 12: 12×20 → multiples of 8: 16×24.
    const r = await runInference(t, linearForward(2, rec), { inputMultiple: 8, scale: [Infinity, 12] });
    assert.deepEqual(rec.shapes, [[1, 3, 16, 24]]);
    assert.deepEqual(r.scores.shape, [1, 4, 6, 10]);
    assert.equal(r.kind, 'logits');
  });

  it('bad input is a clear error', async () => {
    const { t } = randomImage([3, 5, 7], 1);
    await assert.rejects(wholeInference(t, linearForward(), { inputMultiple: 1 }), /expected an N×C×H×W float32 HostTensor with non-zero sizes, got float32 tensor of shape \[3, 5, 7\]/);
    const { t: t4 } = randomImage([1, 3, 5, 7], 1);
    await assert.rejects(wholeInference(t4, linearForward(), { inputMultiple: 0 }), /inputMultiple must be a positive integer, got 0/);
    await assert.rejects(wholeInference(t4, linearForward(), { inputMultiple: 2, fit: 'crop' as 'pad' }), /fit must be 'resize' or 'pad', got "crop"/);
  });
});
