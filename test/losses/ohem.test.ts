// OHEM cross-entropy against a float64 loop written from mmseg's OHEMPixelSampler rule (threshold =
// max(sorted GT probabilities[min(minKept·N, count − 1)], thresh), kept = p < threshold, pooled
// over the batch) followed by the cross-entropy of the kept pixels; values and gradients (central
// differences of the same loop, which re-selects at every evaluation: the inputs keep every
// probability well away from the threshold, so the selection is locally constant).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grad } from '../../src/engine/autodiff.js';
import type { HostTensor } from '../../src/engine/host-tensor.js';
import { ohemCrossEntropy, type OhemOptions } from '../../src/losses/ohem.js';
import { runTraced } from '../engine/harness.js';
import { numericGrad } from './finite-diff.js';

const [N, K, H, W] = [2, 3, 3, 4];
const HW = H * W;

// Labels with ignored pixels (255); image 0 has random logits (hard), image 1 confident correct
// logits (easy), so pooling the selection over the batch differs from selecting per image.
const labels = Array.from({ length: N * HW }, (_, i) => (i % 7 === 3 ? 255 : (i * 5 + (i >> 2)) % K));
const logits = Float64Array.from({ length: N * K * HW }, (_, i) => {
  const n = Math.floor(i / (K * HW));
  const k = Math.floor(i / HW) % K;
  const q = i % HW;
  const noise = Math.sin(i * 1.37) * 1.6;
  return Math.fround(n === 0 ? noise : (labels[n * HW + q] === k ? 3 : 0) + 0.3 * noise);
});

interface Selection {
  kept: boolean[];
  threshold: number;
  probs: number[];
}

function gtProbs(z: Float64Array): number[] {
  return labels.map((y, i) => {
    if (y === 255) return NaN;
    const n = Math.floor(i / HW);
    const q = i % HW;
    const zs = Array.from({ length: K }, (_, k) => z[(n * K + k) * HW + q]!);
    const m = Math.max(...zs);
    const e = zs.map((v) => Math.exp(v - m));
    return e[y]! / e.reduce((a, b) => a + b, 0);
  });
}

function select(z: Float64Array, o: OhemOptions): Selection {
  const probs = gtProbs(z);
  const sorted = probs.filter((p) => !Number.isNaN(p)).sort((a, b) => a - b);
  const batchKept = (o.minKept ?? 100000) * N;
  const minThreshold = sorted.length > 0 ? sorted[Math.min(batchKept, sorted.length - 1)]! : 0;
  const threshold = Math.max(minThreshold, o.thresh ?? 0.7);
  return { kept: probs.map((p) => !Number.isNaN(p) && p < threshold), threshold, probs };
}

function ref(z: Float64Array, o: OhemOptions): number {
  const { kept, probs } = select(z, o);
  let total = 0;
  let denom = 0;
  kept.forEach((k, i) => {
    if (!k) return;
    const w = o.classWeights ? o.classWeights[labels[i]!]! : 1;
    total += -w * Math.log(probs[i]!);
    denom += w;
  });
  if (o.average === 'all') return total / (N * HW);
  return denom > 0 ? total / denom : 0;
}

async function engine(o: OhemOptions, z = logits, y = labels): Promise<{ loss: number; grad: Float32Array }> {
  const [l, g] = (await runTraced((t, lab) => {
    const loss = ohemCrossEntropy(t!, lab!, o);
    return [loss, grad(loss, [t!])[0]!];
  }, [{ data: z, shape: [N, K, H, W] } as never, { ints: y, shape: [N, H, W] }])) as HostTensor[];
  return { loss: l!.f32[0]!, grad: g!.f32 };
}

/** Distance from the threshold to the nearest probability other than the one it equals. */
function margin(s: Selection): number {
  return Math.min(...s.probs.filter((p) => !Number.isNaN(p) && p !== s.threshold).map((p) => Math.abs(p - s.threshold)));
}

describe('ohemCrossEntropy', () => {
  const cases: [string, OhemOptions, (s: Selection) => void][] = [
    ['thresh decides (0.7), class weights', { thresh: 0.7, minKept: 1, classWeights: [0.5, 2, 1] }, (s) => assert.equal(s.threshold, 0.7)],
    [
      'minKept decides: exactly minKept·N pixels of the whole batch, not minKept per image',
      { thresh: 0.05, minKept: 4 },
      (s) => {
        assert.equal(s.kept.filter(Boolean).length, 8);
        assert.notEqual(s.kept.slice(0, HW).filter(Boolean).length, 4, 'the case must tell pooled from per-image selection');
      },
    ],
    [
      "minKept above the labelled count: all but the easiest pixel (mmseg's rule), average 'all', class weights",
      { thresh: 0.05, minKept: 100, average: 'all', classWeights: [0.5, 2, 1] },
      (s) => assert.equal(s.kept.filter(Boolean).length, labels.filter((y) => y !== 255).length - 1),
    ],
    ['defaults (thresh 0.7, minKept 100000)', {}, (s) => assert.ok(s.kept.filter(Boolean).length > 0, 'some pixel is kept')],
  ];
  for (const [name, o, precondition] of cases) {
    it(`${name}: value and gradient`, async () => {
      const s = select(logits, o);
      precondition(s);
      assert.ok(margin(s) > 1e-3, `test inputs too close to the threshold (${margin(s)})`);
      const got = await engine(o);
      const want = ref(logits, o);
      assert.ok(Math.abs(got.loss - want) < 1e-5 * Math.max(1, want), `loss ${got.loss} vs ${want}`);
      const nums = numericGrad((z) => ref(z, o), logits);
      for (let i = 0; i < logits.length; i++) assert.ok(Math.abs(got.grad[i]! - nums[i]!) < 1e-5, `∂/∂logit ${i}: ${got.grad[i]} vs ${nums[i]!}`);
    });
  }
  it('a batch with no labelled pixel gives 0 and a zero gradient', async () => {
    const got = await engine({}, logits, labels.map(() => 255));
    assert.equal(got.loss, 0);
    assert.ok(got.grad.every((v) => v === 0), 'zero gradient');
  });
  it('rejects bad options', async () => {
    await assert.rejects(engine({ minKept: 0 }), /minKept must be a positive integer, got 0/);
    await assert.rejects(engine({ thresh: NaN }), /thresh must be a finite number/);
    await assert.rejects(engine({ classWeights: [1, 2] }), /classWeights has 2 values but the logits have 3 classes/);
  });
});
