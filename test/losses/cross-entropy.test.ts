// Cross-entropy against a float64 loop written from the definitions (PyTorch's weighted mean over
// labelled pixels, and mmseg 0.x's mean over all pixels), values and gradients (central differences).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grad } from '../../src/engine/autodiff.js';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { crossEntropy, type CrossEntropyOptions } from '../../src/losses/cross-entropy.js';
import { runTraced } from '../engine/harness.js';
import { numericGrad } from './finite-diff.js';

const [N, K, H, W] = [2, 4, 3, 5];

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
      const w = o.classWeights ? o.classWeights[y]! : 1;
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
  it('rejects class weights of the wrong length', async () => {
    await assert.rejects(engine({ classWeights: [1, 2] }), /classWeights has 2 values but the logits have 4 classes/);
  });
});
