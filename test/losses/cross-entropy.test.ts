// Cross-entropy against a float64 loop written from the definitions (PyTorch's weighted mean over
// labelled pixels, and mmseg 0.x's mean over all pixels), values and gradients (central differences).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grad } from '../../src/engine/autodiff.js';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { crossEntropy, labelBoundaryBand, type CrossEntropyOptions } from '../../src/losses/cross-entropy.js';
import { runTraced } from '../engine/harness.js';
import { numericGrad } from './finite-diff.js';

const [N, K, H, W] = [2, 4, 3, 5];

/** 1 + boundaryWeight where the (2r+1)² window (clipped to the image) holds two label values; ignored pixels read as 0. */
function boundaryFactor(labels: number[], o: CrossEntropyOptions, n: number, p: number): number {
  if (!o.boundaryWeight) return 1;
  const r = o.boundaryWidth ?? 2;
  const at = (i: number, j: number) => { const y = labels[n * H * W + i * W + j]!; return y === (o.ignoreIndex ?? 255) ? 0 : y; };
  const [i0, j0] = [Math.floor(p / W), p % W];
  const seen = new Set<number>();
  for (let i = Math.max(0, i0 - r); i <= Math.min(H - 1, i0 + r); i++) for (let j = Math.max(0, j0 - r); j <= Math.min(W - 1, j0 + r); j++) seen.add(at(i, j));
  return seen.size > 1 ? 1 + o.boundaryWeight : 1;
}

function ref(logits: Float64Array, labels: number[], o: CrossEntropyOptions): number {
  const ignore = o.ignoreIndex ?? 255;
  let total = 0;
  let denom = 0;
  for (let n = 0; n < N; n++) {
    for (let p = 0; p < H * W; p++) {
      const y = labels[n * H * W + p]!;
      if (y === ignore) continue;
      const z = Array.from({ length: K }, (_, k) => logits[(n * K + k) * H * W + p]!);
      const m = Math.max(...z);
      const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
      const w = (o.classWeights ? o.classWeights[y]! : 1) * boundaryFactor(labels, o, n, p);
      total += w * (lse - z[y]!);
      denom += w;
    }
  }
  return o.average === 'all' ? total / (N * H * W) : total / denom;
}

const logits = Float64Array.from({ length: N * K * H * W }, (_, i) => Math.fround(Math.sin(i * 1.7) * 2));
const labels = Array.from({ length: N * H * W }, (_, i) => (i % 7 === 3 ? 255 : (i * 5) % K));

async function engine(o: CrossEntropyOptions): Promise<{ loss: number; grad: Float32Array }> {
  const [l, g] = (await runTraced((t, y) => {
    const loss = crossEntropy(t!, y!, o);
    return [loss, grad(loss, [t!])[0]!];
  }, [{ data: logits, shape: [N, K, H, W] } as never, { ints: labels, shape: [N, H, W] }])) as HostTensor[];
  return { loss: l!.f32[0]!, grad: g!.f32 };
}

describe('crossEntropy', () => {
  const cases: [string, CrossEntropyOptions][] = [
    ['mean over labelled pixels (PyTorch)', {}],
    ['class weights, PyTorch normalisation', { classWeights: [0.5, 2, 1, 3] }],
    ["mean over all pixels (mmseg 0.x), class weights", { average: 'all', classWeights: [0.5, 2, 1, 3] }],
    ['boundary band of 1 pixel weighted 3×', { boundaryWeight: 2, boundaryWidth: 1 }],
    ['boundary band (default 2 pixels) with class weights', { boundaryWeight: 1.5, classWeights: [0.5, 2, 1, 3] }],
  ];
  for (const [name, o] of cases) {
    it(`${name}: value and gradient`, async () => {
      const got = await engine(o);
      const want = ref(logits, labels, o);
      assert.ok(Math.abs(got.loss - want) < 1e-5 * Math.max(1, want), `${got.loss} vs ${want}`);
      const nums = numericGrad((z) => ref(z, labels, o), logits);
      for (let i = 0; i < logits.length; i++) assert.ok(Math.abs(got.grad[i]! - nums[i]!) < 1e-5, `∂/∂logit ${i}: ${got.grad[i]} vs ${nums[i]!}`);
    });
  }
  it('logits smaller than the labels are resized bilinearly first', async () => {
    const [l] = (await runTraced((t, y) => [crossEntropy(t!, y!)], [{ data: logits, shape: [N, K, H, W] } as never, { ints: new Array(N * 60).fill(1), shape: [N, 6, 10] }])) as HostTensor[];
    assert.ok(Number.isFinite(l!.f32[0]!));
  });
  it('a boundary band of a hand-drawn label map', async () => {
    // Columns 0–2 are class 0 and 3–5 class 1: with r = 1 the band is columns 2 and 3.
    const map = Array.from({ length: 24 }, (_, i) => (i % 6 < 3 ? 0 : 1));
    const [b] = (await runTraced((y) => [labelBoundaryBand(y!, 1)], [{ ints: map, shape: [1, 4, 6] }])) as HostTensor[];
    assert.deepEqual(Array.from(b!.f32), Array.from({ length: 24 }, (_, i) => (i % 6 === 2 || i % 6 === 3 ? 1 : 0)));
  });
  it('rejects a boundary width that is not a positive integer', async () => {
    await assert.rejects(engine({ boundaryWeight: 1, boundaryWidth: 0 }), /boundaryWidth must be a positive integer \(pixels\), got 0/);
  });
  it('rejects class weights of the wrong length', async () => {
    await assert.rejects(engine({ classWeights: [1, 2] }), /classWeights has 2 values but the logits have 4 classes/);
  });
});
