// The mean-field CRF (crfseg's CRF as FastSeg uses it) and FastSeg's CRF loss against a float64 loop
// written from crfseg's algorithm: x ← U − compat(w · Σ_window k(a)k(b) softmax(x)), compat = −I,
// with 1-D taps k(d) = exp(−(d/θ)²/2), k(0) = 0, over the in-image window (zero padding); values and
// gradients (central differences).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grad } from '../../src/engine/autodiff.js';
import type { HostTensor } from '../../src/engine/host-tensor.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { crfLoss, crfMeanField, type CrfOptions } from '../../src/losses/crf.js';
import { runTraced } from '../engine/harness.js';
import { assertNear, numericGrad } from './finite-diff.js';

const [N, H, W] = [2, 5, 6];
const HW = H * W;

/** crfseg's CRF forward in float64; one channel is its binary case ([z, 0] in, difference out). */
function refCrf(z: Float64Array, k: number, o: CrfOptions = {}): Float64Array {
  const iters = o.iterations ?? 5;
  const size = o.filterSize ?? 11;
  const w = o.smoothnessWeight ?? 1;
  const theta = o.smoothnessTheta ?? 1;
  const r = (size - 1) / 2;
  const tap = (d: number) => (d === 0 ? 0 : Math.exp(-((d / theta) ** 2) / 2));
  const c = k === 1 ? 2 : k;
  const unary = new Float64Array(N * c * HW);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < c; j++) for (let q = 0; q < HW; q++) unary[(n * c + j) * HW + q] = k === 1 ? (j === 0 ? z[n * HW + q]! : 0) : z[(n * c + j) * HW + q]!;
  }
  let x = unary.slice();
  for (let it = 0; it < iters; it++) {
    const prob = new Float64Array(x.length);
    for (let n = 0; n < N; n++) {
      for (let q = 0; q < HW; q++) {
        const v = Array.from({ length: c }, (_, j) => x[(n * c + j) * HW + q]!);
        const m = Math.max(...v);
        const e = v.map((t) => Math.exp(t - m));
        const s = e.reduce((a, b) => a + b, 0);
        e.forEach((t, j) => (prob[(n * c + j) * HW + q] = t / s));
      }
    }
    const next = new Float64Array(x.length);
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < c; j++) {
        for (let i0 = 0; i0 < H; i0++) {
          for (let j0 = 0; j0 < W; j0++) {
            let filtered = 0;
            for (let a = -r; a <= r; a++) {
              for (let b = -r; b <= r; b++) {
                const [y1, x1] = [i0 + a, j0 + b];
                if (y1 < 0 || y1 >= H || x1 < 0 || x1 >= W) continue;
                filtered += tap(a) * tap(b) * prob[(n * c + j) * HW + y1 * W + x1]!;
              }
            }
            const idx = (n * c + j) * HW + i0 * W + j0;
            // compatibility transform with −I, then "unary − message"
            next[idx] = unary[idx]! - -(w * filtered);
          }
        }
      }
    }
    x = next;
  }
  if (k !== 1) return x;
  return Float64Array.from({ length: N * HW }, (_, i) => {
    const n = Math.floor(i / HW);
    const q = i % HW;
    return x[(n * 2) * HW + q]! - x[(n * 2 + 1) * HW + q]!;
  });
}

const makeLogits = (k: number) => Float64Array.from({ length: N * k * HW }, (_, i) => Math.fround(Math.sin(i * 1.37) * 2 + Math.cos(i * 0.21)));
const weights = (len: number) => Float64Array.from({ length: len }, (_, i) => Math.fround(Math.cos(i * 0.73)));

async function engineCrf(z: Float64Array, k: number, o: CrfOptions): Promise<{ y: Float32Array; grad: Float32Array }> {
  const r = weights(z.length);
  const [y, g] = (await runTraced((t, rt) => {
    const out = crfMeanField(t!, o);
    return [out, grad(out.mul(rt!).sum(), [t!])[0]!];
  }, [{ data: z, shape: [N, k, H, W] } as never, { data: r, shape: [N, k, H, W] } as never])) as HostTensor[];
  return { y: y!.f32, grad: g!.f32 };
}

describe('crfMeanField', () => {
  const cases: [string, number, CrfOptions][] = [
    ["crfseg's defaults (5 iterations, 11×11 window, w 1, θ 1), 3 classes", 3, {}],
    ['2 iterations, 3×3 window, w 0.7, θ 1.5, 2 classes', 2, { iterations: 2, filterSize: 3, smoothnessWeight: 0.7, smoothnessTheta: 1.5 }],
    ["one logit channel (crfseg's binary case), defaults", 1, {}],
  ];
  for (const [name, k, o] of cases) {
    it(`${name}: value and gradient`, async () => {
      const z = makeLogits(k);
      const got = await engineCrf(z, k, o);
      assertNear(got.y, refCrf(z, k, o), 1e-5, 'CRF output');
      const r = weights(z.length);
      const num = numericGrad((zz) => refCrf(zz, k, o).reduce((s, v, i) => s + v * r[i]!, 0), z);
      assertNear(got.grad, num, 1e-5, '∂Σ r·CRF(z)/∂z');
    });
  }
  it('0 iterations return the logits', async () => {
    const z = makeLogits(3);
    const got = await engineCrf(z, 3, { iterations: 0 });
    assertNear(got.y, z, 0, 'identity');
  });
  it('rejects bad settings', async () => {
    const z = makeLogits(2);
    await assert.rejects(engineCrf(z, 2, { filterSize: 4 }), /filterSize must be odd .* got 4/);
    await assert.rejects(engineCrf(z, 2, { iterations: -1 }), /iterations must be a non-negative integer, got -1/);
    await assert.rejects(engineCrf(z, 2, { smoothnessTheta: 0 }), /smoothnessTheta must be a positive number, got 0/);
  });
});

describe('crfLoss (FastSeg: mean(CRF(z) − z))', () => {
  const refLoss = (z: Float64Array, k: number) => {
    const y = refCrf(z, k);
    return y.reduce((s, v, i) => s + v - z[i]!, 0) / z.length;
  };
  async function engineLoss(z: Float64Array, k: number): Promise<{ loss: number; grad: Float32Array }> {
    const [l, g] = (await runTraced((t) => {
      const loss = crfLoss(t!);
      return [loss, grad(loss, [t!])[0] as Tensor];
    }, [{ data: z, shape: [N, k, H, W] } as never])) as HostTensor[];
    return { loss: l!.f32[0]!, grad: g!.f32 };
  }
  it('one logit channel: value and gradient', async () => {
    const z = makeLogits(1);
    const got = await engineLoss(z, 1);
    assert.ok(Math.abs(got.loss - refLoss(z, 1)) < 1e-5, `${got.loss} vs ${refLoss(z, 1)}`);
    const num = numericGrad((zz) => refLoss(zz, 1), z);
    assert.ok(num.some((v) => Math.abs(v) > 1e-3), 'the binary CRF loss has a gradient');
    assertNear(got.grad, num, 1e-6, '∂crfLoss/∂z');
  });
  it('several classes: a constant (the messages sum to G ∗ 1 over classes), so no gradient', async () => {
    const z = makeLogits(3);
    const shifted = z.map((v, i) => v + Math.sin(i));
    assert.ok(Math.abs(refLoss(z, 3) - refLoss(shifted, 3)) < 1e-12, 'the reference is constant too');
    const got = await engineLoss(z, 3);
    assert.ok(Math.abs(got.loss - refLoss(z, 3)) < 1e-5, `${got.loss} vs ${refLoss(z, 3)}`);
    assertNear(got.grad, numericGrad((zz) => refLoss(zz, 3), z), 1e-6, '∂crfLoss/∂z');
  });
});
