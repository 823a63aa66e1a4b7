// Lovász-softmax against a float64 loop written from the paper's definition (Berman et al. 2018):
// per class c, the Lovász extension of the Jaccard set function ΔJ(A) = |A| / |Fg_c ∪ A| (A a set
// of pixels taken as mispredicted, Fg_c the labelled pixels of class c) at the error vector
// m_i = |[y_i = c] − p_ic|: f(m) = Σ_i m_π(i) (ΔJ(S_i) − ΔJ(S_{i−1})), π sorting m decreasingly and
// S_i = {π(1)…π(i)}. Values and gradients (central differences; the inputs have no tied errors,
// where the loss is differentiable).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grad } from '../../src/engine/autodiff.js';
import type { HostTensor } from '../../src/engine/host-tensor.js';
import { lovaszSoftmax, type LovaszOptions } from '../../src/losses/lovasz.js';
import { runTraced } from '../engine/harness.js';
import { numericGrad } from './finite-diff.js';

const [N, K, H, W] = [2, 3, 3, 4];
const HW = H * W;

const logits = Float64Array.from({ length: N * K * HW }, (_, i) => Math.fround(Math.sin(i * 1.91) * 1.8 + Math.cos(i * 0.37)));
const labels = Array.from({ length: N * HW }, (_, i) => (i % 7 === 3 ? 255 : (i * 5 + (i >> 2)) % K));
/** No pixel of class 2: 'present' and 'all' differ. */
const labelsNo2 = labels.map((y) => (y === 2 ? 0 : y));

function probs(z: Float64Array): number[][] {
  return Array.from({ length: N * HW }, (_, i) => {
    const n = Math.floor(i / HW);
    const q = i % HW;
    const zs = Array.from({ length: K }, (_, k) => z[(n * K + k) * HW + q]!);
    const m = Math.max(...zs);
    const e = zs.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  });
}

/** Per-class errors of the labelled pixels, with their foreground flags. */
function classErrors(z: Float64Array, y: number[], c: number): { m: number; fg: boolean }[] {
  const p = probs(z);
  const out: { m: number; fg: boolean }[] = [];
  y.forEach((label, i) => {
    if (label === 255) return;
    const fg = label === c;
    out.push({ m: Math.abs((fg ? 1 : 0) - p[i]![c]!), fg });
  });
  return out;
}

function lovaszExtension(items: { m: number; fg: boolean }[]): number {
  const nFg = items.filter((t) => t.fg).length;
  const jaccardLoss = (size: number, bgInSet: number) => (size === 0 ? 0 : size / (nFg + bgInSet));
  const sorted = [...items].sort((a, b) => b.m - a.m);
  let f = 0;
  let bg = 0;
  let prev = 0;
  sorted.forEach((t, i) => {
    if (!t.fg) bg++;
    const cur = jaccardLoss(i + 1, bg);
    f += t.m * (cur - prev);
    prev = cur;
  });
  return f;
}

function ref(z: Float64Array, y: number[], o: LovaszOptions): number {
  const classes = o.classes ?? 'present';
  const list = Array.isArray(classes) ? classes : Array.from({ length: K }, (_, c) => c);
  const losses: number[] = [];
  for (const c of list) {
    const items = classErrors(z, y, c);
    if (classes === 'present' && !items.some((t) => t.fg)) continue;
    losses.push(lovaszExtension(items));
  }
  return losses.length === 0 ? 0 : losses.reduce((a, b) => a + b, 0) / losses.length;
}

async function engine(o: LovaszOptions, y: number[]): Promise<{ loss: number; grad: Float32Array }> {
  const [l, g] = (await runTraced((t, lab) => {
    const loss = lovaszSoftmax(t!, lab!, o);
    return [loss, grad(loss, [t!])[0]!];
  }, [{ data: logits, shape: [N, K, H, W] } as never, { ints: y, shape: [N, H, W] }])) as HostTensor[];
  return { loss: l!.f32[0]!, grad: g!.f32 };
}

/** Smallest gap between two errors of one class (ties are where the loss has kinks). */
function minGap(y: number[]): number {
  let gap = Infinity;
  for (let c = 0; c < K; c++) {
    const m = classErrors(logits, y, c).map((t) => t.m).sort((a, b) => a - b);
    for (let i = 1; i < m.length; i++) gap = Math.min(gap, m[i]! - m[i - 1]!);
  }
  return gap;
}

describe('lovaszSoftmax', () => {
  const cases: [string, LovaszOptions, number[]][] = [
    ["classes 'present' (default), every class present", {}, labels],
    ["classes 'present' with class 2 absent", { classes: 'present' }, labelsNo2],
    ["classes 'all' with class 2 absent", { classes: 'all' }, labelsNo2],
    ['classes [0, 2]', { classes: [0, 2] }, labels],
  ];
  for (const [name, o, y] of cases) {
    it(`${name}: value and gradient`, async () => {
      assert.ok(minGap(y) > 1e-4, `test inputs have nearly tied errors (${minGap(y)})`);
      const got = await engine(o, y);
      const want = ref(logits, y, o);
      assert.ok(Math.abs(got.loss - want) < 1e-5 * Math.max(1, want), `loss ${got.loss} vs ${want}`);
      const nums = numericGrad((z) => ref(z, y, o), logits);
      for (let i = 0; i < logits.length; i++) assert.ok(Math.abs(got.grad[i]! - nums[i]!) < 1e-5, `∂/∂logit ${i}: ${got.grad[i]} vs ${nums[i]!}`);
    });
  }
  it("'present' and 'all' differ when a class is absent (the cases above can tell them apart)", () => {
    assert.ok(Math.abs(ref(logits, labelsNo2, { classes: 'present' }) - ref(logits, labelsNo2, { classes: 'all' })) > 1e-3, 'present vs all');
  });
  it('a batch with no labelled pixel gives 0', async () => {
    const got = await engine({}, labels.map(() => 255));
    assert.ok(got.loss === 0, `loss ${got.loss}`); // −0 included
    assert.ok(got.grad.every((v) => v === 0), 'zero gradient');
  });
  it('rejects one logit channel and bad class lists', async () => {
    await assert.rejects(
      runTraced((t, y) => [lovaszSoftmax(t!, y!)], [{ data: new Float64Array(N * HW), shape: [N, 1, H, W] } as never, { ints: labels, shape: [N, H, W] }]),
      /K ≥ 2 classes/,
    );
    await assert.rejects(engine({ classes: [0, 3] }, labels), /distinct class indices in \[0, 3\), got \[0, 3\]/);
    await assert.rejects(engine({ classes: 'some' as never }, labels), /got "some"/);
  });
});
