import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accumulateLabel, classFrequencies, emptyStats, enetWeights, medianFrequencyWeights, mergeStats, pixelShares } from '../../src/data/stats.js';

/** Two 2×2 images, 3 classes + ignore: image A = [0,0,1,255], image B = [0,2,2,2]. */
function example() {
  const s = emptyStats(3);
  accumulateLabel(s, new Uint8Array([0, 0, 1, 255]), 2, 2);
  accumulateLabel(s, new Uint8Array([0, 2, 2, 2]), 2, 2);
  return s;
}

test('pixel counts, shares and labelled-pixel frequencies', () => {
  const s = example();
  assert.deepEqual([...s.counts], [3, 1, 3]);
  assert.equal(s.ignored, 1);
  assert.equal(s.total, 8);
  assert.equal(s.images, 2);
  assert.deepEqual(s.sizes, { '2×2': 2 });
  const sh = pixelShares(s);
  assert.deepEqual([...sh.classes], [3 / 8, 1 / 8, 3 / 8]);
  assert.equal(sh.ignored, 1 / 8);
  assert.deepEqual([...classFrequencies(s)], [3 / 7, 1 / 7, 3 / 7]);
});

test('ENet weights 1/ln(c + p) with p over labelled pixels', () => {
  const w = enetWeights(example(), 1.1);
  const expected = [3 / 7, 1 / 7, 3 / 7].map((p) => 1 / Math.log(1.1 + p));
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(w[i]! - expected[i]!) < 1e-12);
  assert.ok(w[1]! > w[0]!, 'rarer class gets a larger weight');
  assert.throws(() => enetWeights(example(), 1), /c must be > 1/);
});

test('median-frequency weights: freq = pixels / pixels of images containing the class', () => {
  // class 0: 3 px in images A+B (8 px) → 3/8; class 1: 1 px in A (4 px) → 1/4; class 2: 3 px in B → 3/4
  const w = medianFrequencyWeights(example());
  const f = [3 / 8, 1 / 4, 3 / 4];
  const median = 3 / 8;
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(w[i]! - median / f[i]!) < 1e-12, `class ${i}`);
  // a class that never appears gets weight 0 and is not in the median
  const s = emptyStats(4);
  accumulateLabel(s, new Uint8Array([0, 1, 1, 1]), 2, 2);
  const w4 = medianFrequencyWeights(s);
  assert.equal(w4[2], 0);
  assert.equal(w4[3], 0);
  assert.ok(Math.abs(w4[0]! - (0.25 + 0.75) / 2 / 0.25) < 1e-12);
});

test('merge and bad values', () => {
  const a = example();
  const b = example();
  mergeStats(a, b);
  assert.deepEqual([...a.counts], [6, 2, 6]);
  assert.equal(a.images, 4);
  assert.throws(() => accumulateLabel(emptyStats(3), new Uint8Array([0, 7]), 2, 1, 'x.png'), /x\.png: label value 7 is outside the label set \(0–2, ignore 255\)/);
});
