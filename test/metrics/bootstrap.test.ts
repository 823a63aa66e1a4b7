// The bootstrap interval of mIoU over images, against hand-worked values: with two images A (all
// right, mIoU 1) and B (mIoU 7/12), a resample is AA, AB, BA or BB, so with thousands of resamples
// the 2.5 % and 97.5 % quantiles are exactly B's and A's scores. Over many images the width shrinks
// as 1/√N (the set repeated four times: about half), the interval holds the split's own mIoU, and
// the seed fixes the draws.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bootstrapMIoU, ConfusionMatrix, computeMetrics } from '../../src/metrics/index.js';
import { Rng } from '../../src/data/rng.js';

const image = (pred: number[], label: number[]) => new ConfusionMatrix(2).update(pred, label);

describe('bootstrapMIoU', () => {
  it('two images: the interval runs from the worse image alone to the better one alone', () => {
    const a = image([0, 0, 1, 1], [0, 0, 1, 1]);
    // B: class 0 IoU 1/(1 + 2 − 1) = 1/2, class 1 IoU 2/(3 + 2 − 2) = 2/3.
    const b = image([1, 0, 1, 1], [0, 0, 1, 1]);
    const r = bootstrapMIoU([a, b], { resamples: 4000 });
    assert.ok(Math.abs(r.low - 7 / 12) < 1e-12, `low ${r.low}, expected 7/12`);
    assert.ok(Math.abs(r.high - 1) < 1e-12, `high ${r.high}, expected 1`);
    assert.deepEqual([r.level, r.resamples, r.seed], [0.95, 4000, 0]);
  });

  it('many images: holds the split mIoU; four copies of the split halve the width; the seed fixes the draws', () => {
    const rng = new Rng(3);
    const images = Array.from({ length: 40 }, () => {
      const label = Array.from({ length: 50 }, () => (rng.bool(0.4) ? 1 : 0));
      const wrong = rng.uniform(0, 0.3);
      return image(label.map((y) => (rng.bool(wrong) ? 1 - y : y)), label);
    });
    const whole = new ConfusionMatrix(2);
    for (const m of images) whole.merge(m);
    const full = computeMetrics(whole).mIoU;
    const r = bootstrapMIoU(images);
    assert.ok(r.low < full && full < r.high, `${full} outside [${r.low}, ${r.high}]`);
    const r4 = bootstrapMIoU([...images, ...images, ...images, ...images]);
    const ratio = (r4.high - r4.low) / (r.high - r.low);
    assert.ok(ratio > 0.35 && ratio < 0.65, `width ratio ${ratio}, expected about 1/2`);
    assert.deepEqual(bootstrapMIoU(images, { seed: 5 }), bootstrapMIoU(images, { seed: 5 }));
    assert.notDeepEqual(bootstrapMIoU(images, { seed: 5 }).low, r.low);
  });

  it('errors name the bad value', () => {
    assert.throws(() => bootstrapMIoU([]), /no images/);
    assert.throws(() => bootstrapMIoU([image([0], [0])], { level: 95 }), /level must be in \(0, 1\), got 95/);
    assert.throws(() => bootstrapMIoU([image([0], [0])], { resamples: 0.5 }), /resamples must be a positive integer, got 0.5/);
  });
});
