// BCE-with-logits and the soft Dice losses against float64 loops written from their definitions,
// values and gradients (central differences).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grad } from '../../src/engine/autodiff.js';
import type { HostTensor } from '../../src/engine/host-tensor.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { bceWithLogits, binaryDice, multiclassDice } from '../../src/losses/binary.js';
import { runTraced } from '../engine/harness.js';

const [N, H, W] = [2, 3, 4];
const P = N * H * W;
const sig = (z: number) => 1 / (1 + Math.exp(-z));

function bceRef(z: Float64Array, y: number[]): number {
  let s = 0;
  let n = 0;
  y.forEach((t, i) => {
    if (t === 255) return;
    s += -(t * Math.log(sig(z[i]!)) + (1 - t) * Math.log(1 - sig(z[i]!)));
    n++;
  });
  return s / n;
}

function binaryDiceRef(z: Float64Array, y: number[]): number {
  let i2 = 0;
  let d = 0;
  y.forEach((t, i) => {
    if (t === 255) return;
    const p = sig(z[i]!);
    i2 += p * t;
    d += p + t;
  });
  return 1 - (2 * i2 + 1) / (d + 1);
}

function multiDiceRef(z: Float64Array, y: number[], k: number): number {
  let loss = 0;
  for (let c = 0; c < k; c++) {
    let inter = 0;
    let d = 0;
    for (let n = 0; n < N; n++) {
      for (let q = 0; q < H * W; q++) {
        const t = y[n * H * W + q]!;
        if (t === 255) continue;
        const zs = Array.from({ length: k }, (_, j) => z[(n * k + j) * H * W + q]!);
        const m = Math.max(...zs);
        const e = zs.map((v) => Math.exp(v - m));
        const p = e[c]! / e.reduce((a, b) => a + b, 0);
        const tc = t === c ? 1 : 0;
        inter += p * tc;
        d += p + tc;
      }
    }
    loss += 1 - (2 * inter + 1) / (d + 1);
  }
  return loss / k;
}

async function check(name: string, k: number, f: (z: Tensor, y: Tensor) => Tensor, ref: (z: Float64Array, y: number[]) => number, labels: number[]) {
  const z = Float64Array.from({ length: N * k * H * W }, (_, i) => Math.fround(Math.cos(i * 2.3) * 1.5));
  const [l, g] = (await runTraced((t, y) => {
    const loss = f(t!, y!);
    return [loss, grad(loss, [t!])[0]!];
  }, [{ data: z, shape: [N, k, H, W] } as never, { ints: labels, shape: [N, H, W] }])) as HostTensor[];
  const want = ref(z, labels);
  assert.ok(Math.abs(l!.f32[0]! - want) < 1e-5, `${name}: ${l!.f32[0]} vs ${want}`);
  for (let i = 0; i < z.length; i++) {
    const p = z.slice();
    const m = z.slice();
    p[i]! += 1e-6;
    m[i]! -= 1e-6;
    const num = (ref(p, labels) - ref(m, labels)) / 2e-6;
    assert.ok(Math.abs(g!.f32[i]! - num) < 1e-5, `${name} ∂/∂z${i}: ${g!.f32[i]} vs ${num}`);
  }
}

describe('binary and Dice losses', () => {
  const binary = Array.from({ length: P }, (_, i) => (i % 5 === 2 ? 255 : (i * 3) % 2));
  it('bceWithLogits', () => check('bce', 1, bceWithLogits, bceRef, binary));
  it('binaryDice (soft)', () => check('dice', 1, binaryDice, binaryDiceRef, binary));
  it('multiclassDice', () => check('mdice', 3, multiclassDice, (z, y) => multiDiceRef(z, y, 3), Array.from({ length: P }, (_, i) => (i % 7 === 1 ? 255 : i % 3))));
  it("binaryDice { thresholded: true } (FastSeg's form) has the thresholded value and no gradient", async () => {
    const z = Float64Array.from({ length: P }, (_, i) => Math.fround(Math.cos(i * 2.3) * 1.5));
    const [l] = (await runTraced((t, y) => [binaryDice(t!, y!, { thresholded: true })], [{ data: z, shape: [N, 1, H, W] } as never, { ints: binary, shape: [N, H, W] }])) as HostTensor[];
    let inter = 0;
    let d = 0;
    binary.forEach((t, i) => {
      if (t === 255) return;
      const p = z[i]! >= 0 ? 1 : 0;
      inter += p * t;
      d += p + t;
    });
    assert.ok(Math.abs(l!.f32[0]! - (1 - (2 * inter + 1) / (d + 1))) < 1e-6);
    await runTraced((t, y) => {
      assert.equal(grad(binaryDice(t!, y!, { thresholded: true }), [t!])[0], null);
      return [t!];
    }, [{ data: z, shape: [N, 1, H, W] } as never, { ints: binary, shape: [N, H, W] }]);
  });
  it('binary losses want one logit channel', async () => {
    await assert.rejects(runTraced((t, y) => [bceWithLogits(t!, y!)], [{ data: new Float64Array(N * 2 * H * W), shape: [N, 2, H, W] } as never, { ints: binary, shape: [N, H, W] }]), /N×1×h×w logits/);
  });
});
