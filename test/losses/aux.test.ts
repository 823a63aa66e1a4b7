// auxiliaryLoss (main + Σ wᵢ·auxᵢ) and the JSON loss specs of segmentationLoss. Values and
// gradients against float64 loops written here (cross-entropy, BCE, FastSeg's thresholded Dice);
// the specs that name the OHEM, Lovász, Dice and CRF losses (checked against their own references
// in ohem/lovasz/binary-dice/crf tests) are compared with direct calls of those functions with the
// same options, which shows each option reaches its function and each weight is applied.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grad } from '../../src/engine/autodiff.js';
import type { HostTensor } from '../../src/engine/host-tensor.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { auxiliaryLoss, segmentationLoss } from '../../src/losses/aux.js';
import { multiclassDice } from '../../src/losses/binary.js';
import { crfLoss } from '../../src/losses/crf.js';
import { crossEntropy } from '../../src/losses/cross-entropy.js';
import { lovaszSoftmax } from '../../src/losses/lovasz.js';
import { ohemCrossEntropy } from '../../src/losses/ohem.js';
import { runTraced } from '../engine/harness.js';
import { assertNear, numericGrad } from './finite-diff.js';

const [N, K, H, W] = [2, 3, 2, 3];
const HW = H * W;
const labels = Array.from({ length: N * HW }, (_, i) => (i % 5 === 2 ? 255 : (i * 2 + (i >> 1)) % K));
const binaryLabels = Array.from({ length: N * HW }, (_, i) => (i % 5 === 2 ? 255 : (i * 7) % 3 === 0 ? 1 : 0));
const makeLogits = (k: number, seed: number) => Float64Array.from({ length: N * k * HW }, (_, i) => Math.fround(Math.sin(i * 1.3 + seed) * 2));

interface CeRef {
  classWeights?: number[];
  average?: 'valid' | 'all';
}

function ceRef(z: Float64Array, y: number[], o: CeRef = {}): number {
  let total = 0;
  let denom = 0;
  y.forEach((label, i) => {
    if (label === 255) return;
    const n = Math.floor(i / HW);
    const q = i % HW;
    const zs = Array.from({ length: K }, (_, k) => z[(n * K + k) * HW + q]!);
    const m = Math.max(...zs);
    const lse = m + Math.log(zs.reduce((s, v) => s + Math.exp(v - m), 0));
    const w = o.classWeights?.[label] ?? 1;
    total += w * (lse - zs[label]!);
    denom += w;
  });
  return o.average === 'all' ? total / y.length : total / denom;
}

/**
 * The portrait loss in float64: bce·BCEWithLogits + dice·(1 − (2Σpt + s)/(Σp² + Σt² + s)) with
 * p = [z ≥ 0] (FastSeg's form), or the soft Dice's 1 − (2Σpt + s)/(Σp + Σt + s) with p = σ(z).
 */
function bceDiceRef(z: Float64Array, y: number[], o: { bce: number; dice: number; thresholded: boolean; smooth: number }): number {
  let bce = 0;
  let n = 0;
  let inter = 0;
  let sq = 0;
  y.forEach((t, i) => {
    if (t === 255) return;
    const s = 1 / (1 + Math.exp(-z[i]!));
    bce += -(t * Math.log(s) + (1 - t) * Math.log(1 - s));
    n++;
    const p = o.thresholded ? (z[i]! >= 0 ? 1 : 0) : s;
    inter += p * t;
    sq += (o.thresholded ? p * p : p) + t * t;
  });
  return (o.bce * bce) / n + o.dice * (1 - (2 * inter + o.smooth) / (sq + o.smooth));
}

const logitsInput = (z: Float64Array, k: number) => ({ data: z, shape: [N, k, H, W] }) as never;
const labelInput = (y: number[]) => ({ ints: y, shape: [N, H, W] });

describe('auxiliaryLoss', () => {
  const outs = [makeLogits(K, 0), makeLogits(K, 1), makeLogits(K, 2)];
  const ce = (z: Tensor, y: Tensor) => crossEntropy(z, y);
  it('[main, aux1, aux2] with SETR weights 0.4: value and the gradient of every output', async () => {
    const got = (await runTraced((a, b, c, y) => {
      const loss = auxiliaryLoss([a!, b!, c!], [0.4, 0.4], y!, ce);
      return [loss, ...(grad(loss, [a!, b!, c!]) as Tensor[])];
    }, [...outs.map((z) => logitsInput(z, K)), labelInput(labels)])) as HostTensor[];
    const ref = (zs: Float64Array[]) => ceRef(zs[0]!, labels) + 0.4 * ceRef(zs[1]!, labels) + 0.4 * ceRef(zs[2]!, labels);
    assert.ok(Math.abs(got[0]!.f32[0]! - ref(outs)) < 1e-5, `${got[0]!.f32[0]} vs ${ref(outs)}`);
    outs.forEach((z, j) => {
      const num = numericGrad((zj) => ref(outs.map((o, k) => (k === j ? zj : o))), z);
      assertNear(got[j + 1]!.f32, num, 1e-5, `∂/∂output ${j}`);
    });
  });
  it('one tensor and no weights (a model without auxiliary heads) is the plain loss', async () => {
    const [l] = (await runTraced((a, y) => [auxiliaryLoss(a!, [], y!, ce)], [logitsInput(outs[0]!, K), labelInput(labels)])) as HostTensor[];
    assert.ok(Math.abs(l!.f32[0]! - ceRef(outs[0]!, labels)) < 1e-5, `${l!.f32[0]} vs ${ceRef(outs[0]!, labels)}`);
  });
  it('names both counts when outputs and weights disagree', async () => {
    await assert.rejects(
      runTraced((a, b, c, y) => [auxiliaryLoss([a!, b!, c!], [1, 1, 1, 1], y!, ce)], [...outs.map((z) => logitsInput(z, K)), labelInput(labels)]),
      /returned 2 auxiliary output\(s\) \(3 tensors in \[main, \.\.\.aux\]\) but auxWeights has 4 weight\(s\) \[1, 1, 1, 1\]/,
    );
    await assert.rejects(runTraced((a, y) => [auxiliaryLoss(a!, [0.4], y!, ce)], [logitsInput(outs[0]!, K), labelInput(labels)]), /returned 0 auxiliary output\(s\)/);
  });
});

describe('segmentationLoss', () => {
  async function valueAndGrad(spec: unknown, z: Float64Array, k: number, y: number[]): Promise<{ loss: number; grad: Float32Array }> {
    const f = segmentationLoss(spec);
    const [l, g] = (await runTraced((t, lab) => {
      const loss = f(t!, lab!);
      return [loss, grad(loss, [t!])[0]!];
    }, [logitsInput(z, k), labelInput(y)])) as HostTensor[];
    return { loss: l!.f32[0]!, grad: g!.f32 };
  }

  it("{ type: 'ce', classWeights, average: 'all' }: value and gradient", async () => {
    const z = makeLogits(K, 3);
    const o: CeRef = { classWeights: [0.5, 2, 1], average: 'all' };
    const got = await valueAndGrad({ type: 'ce', ignoreIndex: 255, ...o }, z, K, labels);
    assert.ok(Math.abs(got.loss - ceRef(z, labels, o)) < 1e-5, `${got.loss} vs ${ceRef(z, labels, o)}`);
    assertNear(got.grad, numericGrad((zz) => ceRef(zz, labels, o), z), 1e-5, '∂ce');
  });
  it("{ type: 'bce+dice', thresholded: true, smooth: 1e-5 } is FastSeg's portrait loss (the Dice part has no gradient)", async () => {
    const z = makeLogits(1, 4);
    const o = { bce: 0.8, dice: 0.2, thresholded: true, smooth: 1e-5 };
    const got = await valueAndGrad({ type: 'bce+dice', bceWeight: 0.8, diceWeight: 0.2, thresholded: true, smooth: 1e-5 }, z, 1, binaryLabels);
    assert.ok(Math.abs(got.loss - bceDiceRef(z, binaryLabels, o)) < 1e-5, `${got.loss} vs ${bceDiceRef(z, binaryLabels, o)}`);
    assertNear(got.grad, numericGrad((zz) => bceDiceRef(zz, binaryLabels, o), z), 1e-5, '∂bce+dice');
  });
  it("{ type: 'bce+dice' } defaults: 0.8·BCE + 0.2·soft Dice (smoothing 1)", async () => {
    const z = makeLogits(1, 5);
    const o = { bce: 0.8, dice: 0.2, thresholded: false, smooth: 1 };
    const got = await valueAndGrad({ type: 'bce+dice' }, z, 1, binaryLabels);
    assert.ok(Math.abs(got.loss - bceDiceRef(z, binaryLabels, o)) < 1e-5, `${got.loss} vs ${bceDiceRef(z, binaryLabels, o)}`);
    assertNear(got.grad, numericGrad((zz) => bceDiceRef(zz, binaryLabels, o), z), 1e-5, '∂bce+soft dice');
  });
  it("{ type: 'sum' } of ohem, lovasz, dice and ce with crfWeight equals the weighted direct calls", async () => {
    const spec = {
      type: 'sum',
      terms: [
        { weight: 0.5, loss: { type: 'ohem', thresh: 0.6, minKept: 3, classWeights: [1, 2, 0.5] } },
        { weight: 2, loss: { type: 'lovasz', classes: 'all' } },
        { weight: 0.3, loss: { type: 'dice', smooth: 0.5 } },
        { weight: 1, loss: { type: 'ce', crfWeight: 0.7 } },
      ],
      crfWeight: 0.25,
    };
    const f = segmentationLoss(spec);
    // Logits at half the label size: every term resizes them, the CRF terms included.
    const z = Float64Array.from({ length: N * K * 2 * 2 }, (_, i) => Math.fround(Math.cos(i * 0.9) * 2));
    const y = Array.from({ length: N * 4 * 4 }, (_, i) => (i % 6 === 1 ? 255 : (i * 3 + (i >> 3)) % K));
    const [a, b] = (await runTraced((t, lab) => {
      const up = t!.resize({ size: [4, 4] });
      const direct = ohemCrossEntropy(t!, lab!, { thresh: 0.6, minKept: 3, classWeights: [1, 2, 0.5] })
        .mul(0.5)
        .add(lovaszSoftmax(t!, lab!, { classes: 'all' }).mul(2))
        .add(multiclassDice(t!, lab!, { smooth: 0.5 }).mul(0.3))
        .add(crossEntropy(t!, lab!).add(crfLoss(up).mul(0.7)))
        .add(crfLoss(up).mul(0.25));
      return [f(t!, lab!), direct];
    }, [{ data: z, shape: [N, K, 2, 2] } as never, { ints: y, shape: [N, 4, 4] }])) as HostTensor[];
    assert.ok(Math.abs(a!.f32[0]! - b!.f32[0]!) < 1e-6, `${a!.f32[0]} vs ${b!.f32[0]}`);
    // The options matter here: the defaults would give another value.
    const [c] = (await runTraced((t, lab) => [ohemCrossEntropy(t!, lab!).mul(0.5).add(lovaszSoftmax(t!, lab!).mul(2))], [{ data: z, shape: [N, K, 2, 2] } as never, { ints: y, shape: [N, 4, 4] }])) as HostTensor[];
    assert.ok(Math.abs(c!.f32[0]! - b!.f32[0]!) > 1e-3, 'the spec options change the value');
  });
  it('rejects bad specs, naming the place, the value and what is accepted', () => {
    assert.throws(() => segmentationLoss('ce'), /loss must be an object with a 'type' \(one of ce, ohem, lovasz, dice, bce\+dice, sum\), got "ce"/);
    assert.throws(() => segmentationLoss({ type: 'focal' }), /loss.type must be one of ce, ohem, lovasz, dice, bce\+dice, sum, got "focal"/);
    assert.throws(() => segmentationLoss({ type: 'bce+dice', bceweight: 1 }), /loss has unknown key 'bceweight' for type 'bce\+dice'; valid keys: type, bceWeight, diceWeight, thresholded, smooth, ignoreIndex, crfWeight/);
    assert.throws(() => segmentationLoss({ type: 'ce', average: 'mean' }), /loss.average must be 'valid' or 'all', got "mean"/);
    assert.throws(() => segmentationLoss({ type: 'ohem', minKept: 0.5 }), /loss.minKept must be a positive integer, got 0.5/);
    assert.throws(() => segmentationLoss({ type: 'sum' }), /loss.terms is required for type 'sum'/);
    assert.throws(() => segmentationLoss({ type: 'sum', terms: [{ weight: 1, loss: { type: 'ce', classWeights: [1, -2] } }] }), /loss.terms\[0\].loss.classWeights must be a non-empty array of non-negative numbers/);
    assert.throws(() => segmentationLoss({ type: 'sum', terms: [{ weight: 1, loss: { type: 'ce' }, scale: 2 }] }), /loss.terms\[0\] has unknown key 'scale'; valid keys: weight, loss/);
    assert.throws(() => segmentationLoss({ type: 'bce+dice', bceWeight: 0, diceWeight: 0 }), /loss has no term with a non-zero weight/);
    assert.throws(() => segmentationLoss({ type: 'ce', crfWeight: -1 }), /loss.crfWeight must be a non-negative number, got -1/);
  });
});
