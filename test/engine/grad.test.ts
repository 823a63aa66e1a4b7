// Gradients (src/engine/autodiff.ts and each op's vjp) against central differences of the
// independent float64 reference (test/reference), on random inputs, with the awkward cases of
// ops.test.ts: stride 2 + padding (with rows the forward never reads), dilation, depth-wise groups,
// ceil mode, count_include_pad false, resize up/down in both modes and by scale, reflect padding,
// negative slice steps, broadcasting.
//
// Each case builds L = Σ_k sum(f_k(x…) · r_k) with fixed random r_k, asks grad() for ∂L/∂x_i of
// every float input in the same ONNX graph (run on onnxruntime-node), and compares with
// numericGrad (h = 1e-6) of the same L computed in float64 on the same float32-rounded inputs.
//
// Tolerance: max |engine − numeric| ≤ TOL · max(1, max |numeric|) per gradient, TOL = 1e-5.
// The numeric side is accurate to ~1e-9 here (float64 rounding |L|·1e-16/h, truncation h²·f'''),
// so what is left is the engine's float32 arithmetic: the worst seen in this file is 4.6e-7
// (GRAD_REPORT=1 prints it), 20× below TOL. A wrong VJP is off by O(1) of the scale. Checked by
// breaking VJPs one at a time (then restoring): 20 mutants — MatMul without a transpose (3
// variants), Conv's input gradient at stride 1 for a stride-2 conv, unflipped kernel, swapped
// begin/end pads or unswapped groups, its weight gradient with the wrong dilation or unstrided
// windows, Sqrt without ½, Resize without the clamp at 0, AvgPool always counting padding,
// LayerNorm without its x̂ term, Softmax without y, BatchNorm's var gradient ×2, Slice misplacing
// a negative step, reflect padding as edge, MaxPool scattering to the wrong index, max/ReduceMax
// not splitting ties — each fails at least one case, with errors 0.09–3 (or a shape error).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { grad } from '../../src/engine/autodiff.js';
import { defineOp } from '../../src/engine/op.js';
import { emitSimple } from '../../src/engine/onnx/emitter.js';
import { convWeightGrad, type ConvAttrs, type Pads4, type Pair } from '../../src/engine/ops/conv.js';
import { ScatterAdd } from '../../src/engine/ops/indexing.js';
import { interpolationMatrices, Resize, type ResizeAttrs } from '../../src/engine/ops/resize.js';
import { cat, where, type Tensor } from '../../src/engine/tensor.js';
import { arr, assertClose, relErr, type Arr } from '../reference/ndarray.js';
import * as R from '../reference/ops.js';
import { RESIZE_TARGETS, rnd, runTraced, toHost, values, type IntInput } from './harness.js';

const TOL = 1e-5;

type Input = Arr | IntInput;
type EngineFn = (...xs: Tensor[]) => Tensor | Tensor[];
type RefFn = (...xs: Arr[]) => Arr | Arr[];
const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);
const isInt = (x: Input): x is IntInput => 'ints' in x;
const asArr = (x: Input): Arr => (isInt(x) ? arr(x.shape, x.ints) : x);

function dot(a: Arr, b: Arr): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += a.data[i]! * b.data[i]!;
  return s;
}

let worst = { err: 0, what: '' };
after(() => {
  if (process.env.GRAD_REPORT) console.log(`worst gradient error ${worst.err.toExponential(2)} (${worst.what})`);
});

function compare(actual: ReturnType<typeof values>, expected: Arr, what: string): void {
  const err = relErr(actual.data, expected);
  if (err > worst.err) worst = { err, what };
  assertClose(actual, expected, TOL, what);
}

interface GradOptions {
  /** Inputs to differentiate (default: every float input). */
  wrt?: number[];
  /** More engine gradients to check: [input index, tensor] pairs, built from the inputs and the r_k. */
  extra?: (xs: Tensor[], rs: Tensor[]) => [number, Tensor][];
}

/** Checks grad() of L = Σ sum(f(x…)_k · r_k) against central differences of the reference. */
async function checkGrad(name: string, f: EngineFn, ref: RefFn, inputs: Input[], o: GradOptions = {}): Promise<void> {
  const wrt = o.wrt ?? inputs.flatMap((x, i) => (isInt(x) ? [] : [i]));
  const refArgs = inputs.map(asArr);
  const rs = list(ref(...refArgs)).map((y) => rnd(y.shape));
  const loss = (args: Arr[]) => list(ref(...args)).reduce((s, y, k) => s + dot(y, rs[k]!), 0);
  const checks: number[] = [];
  const got: any[] = await runTraced((...ts) => {
    const xs = ts.slice(0, inputs.length);
    const r = ts.slice(inputs.length);
    const ys = list(f(...xs));
    assert.equal(ys.length, r.length, `${name}: the engine and the reference give different numbers of outputs`);
    const L = ys.map((y, k) => y.mul(r[k]!).sum()).reduce((a, b) => a.add(b));
    const gs = grad(L, wrt.map((i) => xs[i]!));
    const out = gs.map((g, k) => {
      if (!g) throw new Error(`${name}: grad() gave no gradient for input ${wrt[k]}`);
      checks.push(wrt[k]!);
      return g;
    });
    for (const [i, t] of o.extra?.(xs, r) ?? []) {
      checks.push(i);
      out.push(t);
    }
    return out;
  }, [...inputs, ...rs]);
  const numeric = new Map<number, Arr>();
  checks.forEach((i, k) => {
    if (!numeric.has(i)) numeric.set(i, R.numericGrad((xi) => loss(refArgs.map((a, j) => (j === i ? xi : a))), refArgs[i]!));
    compare(values(got[k]), numeric.get(i)!, `${name}: ∂L/∂input${i}${k >= wrt.length ? ' (extra)' : ''}`);
  });
}

const pos = (shape: number[]) => R.add(R.abs(rnd(shape)), 0.5);
/** Values bounded away from 0 with random signs (divisors). */
const awayFromZero = (shape: number[]) => R.mul(pos(shape), R.sub(R.mul(R.greater(rnd(shape), 0), 2), 1));

describe('grad of elementwise ops', () => {
  const a = rnd([2, 3, 4, 5]);
  const b = rnd([3, 1, 5]);
  const binary = { add: R.add, sub: R.sub, mul: R.mul, maximum: R.maximum, minimum: R.minimum } as const;
  for (const [op, ref] of Object.entries(binary) as [keyof typeof binary, RefFn][]) {
    it(`${op} with broadcasting [2,3,4,5] ∘ [3,1,5]`, async () => {
      await checkGrad(op, (x, y) => x[op](y!), ref, [a, b]);
    });
  }
  it('maximum and minimum at ties split the gradient (central differences give ½ there too)', async () => {
    const tied = R.where(R.greater(rnd([2, 3, 4, 5]), 0), a, rnd([2, 3, 4, 5]));
    await checkGrad('maximum ties', (x, y) => x.maximum(y!), (x, y) => R.maximum(x!, y!), [a, tied]);
    await checkGrad('minimum ties', (x, y) => x.minimum(y!), (x, y) => R.minimum(x!, y!), [a, tied]);
  });
  it('div with broadcasting, both operands', async () => {
    await checkGrad('div', (x, y) => x.div(y!), (x, y) => R.div(x!, y!), [a, awayFromZero([3, 1, 5])]);
  });
  it('pow: base and exponent, broadcasting; integer power of a signed base', async () => {
    await checkGrad('pow', (x, y) => x.pow(y!), (x, y) => R.pow(x!, y!), [pos([2, 3, 4, 5]), b]);
    await checkGrad('pow 3', (x) => x.pow(3), (x) => R.pow(x!, 3), [a]);
  });
  it('scalar operands', async () => {
    await checkGrad('scalar', (x) => x.mul(2.5).add(-1).div(4).sub(0.25), (x) => R.sub(R.div(R.add(R.mul(x!, 2.5), -1), 4), 0.25), [a]);
  });
  const unary = ['neg', 'abs', 'exp', 'relu', 'sigmoid', 'tanh', 'erf', 'gelu', 'silu'] as const;
  for (const op of unary) {
    it(op, async () => {
      await checkGrad(op, (x) => x[op](), (x) => R[op](x!), [a]);
    });
  }
  for (const op of ['log', 'sqrt', 'reciprocal'] as const) {
    it(op, async () => {
      await checkGrad(op, (x) => x[op](), (x) => R[op](x!), [pos([2, 3, 4, 5])]);
    });
  }
  it('identity and a float → float cast', async () => {
    await checkGrad('identity', (x) => x.identity().cast('float32'), (x) => x!, [a]);
  });
  it('clip with both, lower and upper bounds', async () => {
    await checkGrad('clip', (x) => x.clip(-0.5, 0.7), (x) => R.clip(x!, -0.5, 0.7), [a]);
    await checkGrad('clip lo', (x) => x.clip(-0.5), (x) => R.clip(x!, -0.5), [a]);
    await checkGrad('clip hi', (x) => x.clip(undefined, 0.3), (x) => R.clip(x!, undefined, 0.3), [a]);
  });
  it('prelu shared and per-channel (input and slope)', async () => {
    await checkGrad('prelu shared', (x, s) => x.prelu(s!), (x, s) => R.prelu(x!, s!), [a, rnd([1])]);
    await checkGrad('prelu per-channel', (x, s) => x.prelu(s!), (x, s) => R.prelu(x!, s!), [a, rnd([3])]);
  });
  it('where(cond, a, b) with broadcasting; Tensor.where with a scalar', async () => {
    await checkGrad('where', (x, y) => where(x.gt(0), x, y!), (x, y) => R.where(R.greater(x!, 0), x!, y!), [a, b]);
    const cond = R.greater(rnd([4, 5]), 0);
    await checkGrad('Tensor.where', (x, c) => x.where(c!.gt(0.5), -3), (x) => R.where(cond, x!, -3), [a, cond], { wrt: [0] });
  });
  it('dropout with a given mask', async () => {
    const mask = R.greater(rnd([2, 3, 4, 5]), 0);
    await checkGrad('dropout', (x, m) => x.dropout(m!, 0.3), (x) => R.dropout(x!, mask, 0.3), [a, mask], { wrt: [0] });
  });
  it('a tensor used several times accumulates its gradient', async () => {
    await checkGrad('reuse', (x) => x.mul(x).add(x.sigmoid()).mul(x), (x) => R.mul(R.add(R.mul(x!, x!), R.sigmoid(x!)), x!), [a]);
  });
});

describe('grad of matmul and linear', () => {
  it('batched matmul with broadcasting of batch dims', async () => {
    await checkGrad('matmul', (x, y) => x.matmul(y!), (x, y) => R.matmul(x!, y!), [rnd([2, 1, 7, 9]), rnd([3, 9, 5])]);
  });
  it('square matrices (a missing transpose keeps the shapes right)', async () => {
    await checkGrad('matmul square', (x, y) => x.matmul(y!), (x, y) => R.matmul(x!, y!), [rnd([3, 5, 5]), rnd([3, 5, 5])]);
    await checkGrad('matmul square 2-D', (x, y) => x.matmul(y!), (x, y) => R.matmul(x!, y!), [rnd([2, 5, 5]), rnd([5, 5])]);
  });
  it('3-D · 2-D (a shared weight) and 2-D · 3-D', async () => {
    await checkGrad('matmul 3·2', (x, y) => x.matmul(y!), (x, y) => R.matmul(x!, y!), [rnd([2, 5, 6]), rnd([6, 4])]);
    await checkGrad('matmul 2·3', (x, y) => x.matmul(y!), (x, y) => R.matmul(x!, y!), [rnd([5, 6]), rnd([2, 6, 4])]);
  });
  it('linear on a [B, T, C] input', async () => {
    const ref = (x: Arr, w: Arr, b: Arr) => R.add(R.matmul(x, R.transpose(w, [1, 0])), b);
    await checkGrad('linear', (t, w, b) => t.linear(w!, b!), (x, w, b) => ref(x!, w!, b!), [rnd([2, 4, 6]), rnd([3, 6]), rnd([3])]);
  });
});

type ConvOpts = { stride?: Pair; padding?: Pads4; dilation?: Pair; groups?: number };
const convAttrs = (o: ConvOpts): ConvAttrs => ({
  strides: o.stride ?? [1, 1],
  pads: o.padding ?? [0, 0, 0, 0],
  dilations: o.dilation ?? [1, 1],
  group: o.groups ?? 1,
});

describe('grad of conv2d (input, weight, bias; both weight-gradient methods)', () => {
  const cases: { name: string; x: number[]; w: number[]; o: ConvOpts }[] = [
    { name: '3×3 pad 1, odd size, batch 2', x: [2, 3, 5, 7], w: [4, 3, 3, 3], o: { padding: [1, 1, 1, 1] } },
    { name: 'stride 2 with padding, odd size', x: [1, 4, 9, 11], w: [5, 4, 3, 3], o: { stride: [2, 2], padding: [1, 1, 1, 1] } },
    { name: 'stride 2, even size: last row/col never read', x: [2, 2, 8, 10], w: [3, 2, 3, 3], o: { stride: [2, 2], padding: [1, 1, 1, 1] } },
    { name: 'stride 2, 7×7, pad 3 (ResNet stem)', x: [1, 3, 12, 11], w: [4, 3, 7, 7], o: { stride: [2, 2], padding: [3, 3, 3, 3] } },
    { name: 'dilation 12', x: [1, 2, 15, 14], w: [2, 2, 3, 3], o: { padding: [12, 12, 12, 12], dilation: [12, 12] } },
    { name: 'dilation 2 with stride 2', x: [1, 2, 11, 10], w: [3, 2, 3, 3], o: { stride: [2, 2], padding: [2, 2, 2, 2], dilation: [2, 2] } },
    { name: 'depth-wise (groups = channels)', x: [2, 6, 8, 7], w: [6, 1, 3, 3], o: { padding: [1, 1, 1, 1], groups: 6 } },
    { name: 'depth-wise, stride 2', x: [1, 4, 9, 8], w: [4, 1, 3, 3], o: { stride: [2, 2], padding: [1, 1, 1, 1], groups: 4 } },
    { name: 'grouped, 2 groups', x: [1, 4, 6, 6], w: [6, 2, 3, 3], o: { padding: [1, 1, 1, 1], groups: 2 } },
    { name: '1×1', x: [2, 5, 4, 3], w: [7, 5, 1, 1], o: {} },
    { name: '1×1 with padding 1 (wider than the kernel)', x: [1, 2, 4, 5], w: [3, 2, 1, 1], o: { padding: [1, 1, 1, 1] } },
    { name: 'asymmetric padding and kernel, stride [1, 2]', x: [1, 3, 8, 10], w: [2, 3, 3, 5], o: { padding: [0, 2, 1, 1], stride: [1, 2] } },
    { name: 'asymmetric padding and kernel, stride 1', x: [1, 3, 7, 8], w: [2, 3, 3, 5], o: { padding: [0, 2, 2, 1] } },
    // The weight outweighs the maps: 'im2col' contracts over batch and positions together.
    { name: 'small maps, wide weight, batch 2 (batch-contracted im2col)', x: [2, 6, 3, 4], w: [8, 6, 3, 3], o: { padding: [1, 1, 1, 1] } },
    { name: 'small maps, wide weight, 2 groups, batch 3', x: [3, 8, 3, 2], w: [8, 4, 3, 3], o: { padding: [1, 1, 1, 1], groups: 2 } },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const extra = (xs: Tensor[], r: Tensor[]) =>
        (['im2col', 'patches', 'conv'] as const).map((m): [number, Tensor] => [1, convWeightGrad(xs[0]!, r[0]!, convAttrs(c.o), c.w, m)]);
      await checkGrad(c.name, (t, w, b) => t.conv2d(w!, { bias: b!, ...c.o }), (x, w, b) => R.conv2d(x!, w!, b!, c.o), [rnd(c.x), rnd(c.w, 0.3), rnd([c.w[0]!])], { extra });
    });
  }
  it("padding 'same' with dilation 2", async () => {
    const ref = (x: Arr, w: Arr) => R.conv2d(x, w, null, { padding: [2, 2, 2, 2], dilation: [2, 2] });
    await checkGrad('same', (t, w) => t.conv2d(w!, { padding: 'same', dilation: 2 }), (x, w) => ref(x!, w!), [rnd([1, 2, 6, 7]), rnd([3, 2, 3, 3])]);
  });
  it('convTranspose2d with stride, padding, output padding and groups', async () => {
    const o = { stride: [2, 2] as Pair, padding: [1, 1, 1, 1] as Pads4, outputPadding: [1, 0] as Pair, groups: 2 };
    await checkGrad('convT', (t, w, b) => t.convTranspose2d(w!, { ...o, bias: b! }), (x, w, b) => R.convTranspose2d(x!, w!, b!, o), [rnd([1, 4, 5, 6]), rnd([4, 3, 3, 3]), rnd([6])]);
  });
  it('convTranspose2d with dilation 2 and output padding ≥ stride', async () => {
    const o = { dilation: [2, 2] as Pair, padding: [1, 0, 1, 0] as Pads4, outputPadding: [1, 1] as Pair };
    await checkGrad('convT dilated', (t, w) => t.convTranspose2d(w!, o), (x, w) => R.convTranspose2d(x!, w!, null, o), [rnd([2, 2, 5, 4]), rnd([2, 3, 3, 3])]);
  });
});

describe('grad of pooling', () => {
  const x = rnd([2, 3, 9, 11]);
  const k3s2p1 = { kernel: [3, 3] as Pair, stride: [2, 2] as Pair, padding: [1, 1, 1, 1] as Pads4 };
  it('max pool 3×3 stride 2 pad 1 (ResNet)', async () => {
    await checkGrad('maxpool', (t) => t.maxPool2d(k3s2p1), (t) => R.maxPool2d(t!, k3s2p1), [x]);
  });
  it('max pool with ceil mode on odd sizes; with dilation 2', async () => {
    const ceil = { kernel: [2, 2] as Pair, stride: [2, 2] as Pair, ceilMode: true };
    await checkGrad('maxpool ceil', (t) => t.maxPool2d(ceil), (t) => R.maxPool2d(t!, ceil), [x]);
    const dil = { kernel: [3, 3] as Pair, stride: [1, 2] as Pair, padding: [1, 1, 1, 1] as Pads4, dilation: [2, 2] as Pair };
    await checkGrad('maxpool dilated', (t) => t.maxPool2d(dil), (t) => R.maxPool2d(t!, dil), [x]);
  });
  it('max pool with indices: the gradient flows through the values', async () => {
    await checkGrad('maxpool indices', (t) => t.maxPool2dWithIndices(k3s2p1)[0], (t) => R.maxPool2d(t!, k3s2p1), [x]);
  });
  it('ceil mode with a last window starting in the padding (PyTorch rule), max and average', async () => {
    const odd = rnd([1, 2, 5, 5]);
    const o = { kernel: [2, 2] as Pair, stride: [2, 2] as Pair, padding: [1, 1, 1, 1] as Pads4, ceilMode: true };
    await checkGrad('maxpool ceil edge', (t) => t.maxPool2d(o), (t) => R.maxPool2d(t!, o), [odd]);
    await checkGrad('avgpool ceil edge', (t) => t.avgPool2d(o), (t) => R.avgPool2d(t!, o), [odd]);
  });
  for (const countIncludePad of [true, false]) {
    for (const ceilMode of [false, true]) {
      it(`avg pool 3×3 stride 2 pad 1, count_include_pad ${countIncludePad}, ceil ${ceilMode}`, async () => {
        const o = { ...k3s2p1, countIncludePad, ceilMode };
        await checkGrad('avgpool', (t) => t.avgPool2d(o), (t) => R.avgPool2d(t!, o), [x]);
      });
    }
  }
  it('avg pool: overlapping 3×3 stride 1, and a 2×2 tiling that leaves a row and a column out', async () => {
    const o = { kernel: [3, 3] as Pair, stride: [1, 1] as Pair, padding: [1, 1, 1, 1] as Pads4, countIncludePad: false };
    await checkGrad('avgpool s1', (t) => t.avgPool2d(o), (t) => R.avgPool2d(t!, o), [x]);
    await checkGrad('avgpool 2×2', (t) => t.avgPool2d({ kernel: [2, 2] }), (t) => R.avgPool2d(t!, { kernel: [2, 2] }), [x]);
  });
  for (const size of [[1, 1], [3, 3], [5, 4], [4, 11], [2, 7]] as Pair[]) {
    it(`adaptive avg pool 9×11 → ${size.join('×')}`, async () => {
      await checkGrad('adaptive', (t) => t.adaptiveAvgPool2d(size), (t) => R.adaptiveAvgPool2d(t!, size), [rnd([1, 2, 9, 11])]);
    });
  }
});

describe('grad of resize', () => {
  const x = rnd([1, 2, 5, 7]);
  const targets = [...RESIZE_TARGETS, ['one axis only', { size: [5, 12] }] as (typeof RESIZE_TARGETS)[number]];
  for (const [name, target] of targets) {
    for (const alignCorners of [false, true]) {
      it(`bilinear ${name}, alignCorners=${alignCorners}`, async () => {
        await checkGrad(name, (t) => t.resize({ ...target, mode: 'bilinear', alignCorners }), (t) => R.resize2d(t!, target, 'bilinear', alignCorners), [x]);
      });
    }
    it(`nearest ${name}`, async () => {
      await checkGrad(name, (t) => t.resize({ ...target, mode: 'nearest' }), (t) => R.resize2d(t!, target, 'nearest'), [x]);
    });
  }
  it("the host interpolation matrices reproduce onnxruntime's Resize forward", async () => {
    // (in, out) pairs, including 14 → 4 and 20 → 12, where onnxruntime's float32 arithmetic puts a
    // nearest source index one below the exact floor(o·in/out) (so below PyTorch's, too).
    const pairs: Pair[] = [[5, 11], [7, 16], [5, 3], [14, 4], [10, 6], [20, 12], [6, 9], [3, 1], [1, 4], [13, 7], [4, 4], [9, 6]];
    const scales = [2, 0.5, 1.7, 0.3, 3.25, 1.1];
    const cases: { a: ResizeAttrs; h: number; w: number }[] = [];
    for (const mode of ['linear', 'nearest'] as const) {
      for (const alignCorners of mode === 'linear' ? [false, true] : [false]) {
        pairs.forEach(([h, oh], i) => {
          const [w, ow] = pairs[(i + 1) % pairs.length]!;
          cases.push({ a: { mode, alignCorners, size: [oh, ow], scale: null }, h, w });
        });
        for (const s of scales) cases.push({ a: { mode, alignCorners, size: [Math.floor(9 * s), Math.floor(8 * s)], scale: [s, s] }, h: 9, w: 8 });
      }
    }
    for (const { a, h, w } of cases) {
      const [y, viaMatrices] = await runTraced((t) => {
        const [rh, rw] = interpolationMatrices([h, w], a);
        let m = t;
        if (rw) m = m.matmul(t.graph.constant(rw).transpose(0, 1));
        if (rh) m = t.graph.constant(rh).matmul(m);
        return [t.graph.apply(Resize, [t], a)[0]!, m];
      }, [rnd([1, 2, h, w])]);
      const expected = { data: Float64Array.from(values(y).data), shape: y.shape };
      assertClose(values(viaMatrices), expected, 1e-6, `${a.mode} ${a.alignCorners} ${h}×${w} → ${a.size} scale ${a.scale}`);
    }
  });
});

describe('grad of normalisation and softmax', () => {
  const x = rnd([2, 5, 4, 3], 2);
  for (const axis of [1, -1]) {
    it(`softmax and logSoftmax on axis ${axis}`, async () => {
      await checkGrad('softmax', (t) => t.softmax(axis), (t) => R.softmax(t!, axis), [x]);
      await checkGrad('logSoftmax', (t) => t.logSoftmax(axis), (t) => R.logSoftmax(t!, axis), [x]);
    });
  }
  it('layer norm over the last axis: input, weight and bias; and without affine', async () => {
    const t3 = rnd([2, 7, 6], 3);
    await checkGrad('layerNorm', (t, w, b) => t.layerNorm(w!, b!, 1e-6), (t, w, b) => R.layerNorm(t!, w!, b!, 1e-6), [t3, rnd([6]), rnd([6])]);
    await checkGrad('layerNorm plain', (t) => t.layerNorm(null, null), (t) => R.layerNorm(t!, null, null, 1e-5), [rnd([5, 4])]);
  });
  it('batch norm, inference form: input, weight, bias, running mean and var', async () => {
    const ref = (t: Arr, m: Arr, v: Arr, w: Arr, b: Arr) => R.batchNormInference(t, m, v, w, b, 1e-5);
    await checkGrad(
      'bn',
      (t, m, v, w, b) => t.batchNorm({ runningMean: m!, runningVar: v!, weight: w!, bias: b! }),
      (t, m, v, w, b) => ref(t!, m!, v!, w!, b!),
      [x, rnd([5]), pos([5]), rnd([5]), rnd([5])],
    );
  });
  it('batch norm, training form: output only (the usual case), rank 4 and rank 2', async () => {
    for (const input of [x, rnd([6, 5])]) {
      await checkGrad('bn train out', (t, w, b) => t.batchNormTrain(w!, b!).out, (t, w, b) => R.batchNormTraining(t!, w!, b!, 1e-5).y, [input, rnd([5]), rnd([5])]);
    }
  });
  it('batch norm, training form: output and batch statistics', async () => {
    await checkGrad(
      'bn train',
      (t, w, b) => {
        const r = t.batchNormTrain(w!, b!);
        return [r.out, r.mean, r.var, r.varUnbiased];
      },
      (t, w, b) => {
        const r = R.batchNormTraining(t!, w!, b!, 1e-5);
        return [r.y, r.mean, r.varBiased, r.varUnbiased];
      },
      [x, rnd([5]), rnd([5])],
    );
  });
});

describe('grad of layout ops', () => {
  const x = rnd([2, 3, 4, 5]);
  it('reshape with -1, flatten, unsqueeze, squeeze', async () => {
    await checkGrad('reshape', (t) => t.reshape([6, -1]).flatten().unsqueeze(1).squeeze(1).sigmoid(), (t) => R.reshape(R.sigmoid(t!), [120]), [x]);
  });
  it('permute and transpose', async () => {
    await checkGrad('permute', (t) => t.permute([0, 2, 3, 1]).transpose(1, 3), (t) => R.transpose(t!, [0, 1, 3, 2]), [x]);
  });
  it('expand', async () => {
    await checkGrad('expand', (t) => t.expand([2, 3, 4, 5]), (t) => R.add(R.mul(x, 0), t!), [rnd([3, 1, 5])]);
  });
  it('concat, with a tensor used twice', async () => {
    await checkGrad('cat', (t, u) => cat([t, u!, t], 1), (t, u) => R.concat([t!, u!, t!], 1), [x, rnd([2, 2, 4, 5])]);
  });
  it('split and chunk: all parts, and some parts unused', async () => {
    await checkGrad('split', (t) => t.split([1, 2, 2], 3), (t) => R.split(t!, 3, [1, 2, 2]), [x]);
    await checkGrad('split part', (t) => t.split([1, 2, 2], 3)[1]!, (t) => R.split(t!, 3, [1, 2, 2])[1]!, [x]);
    await checkGrad('chunk', (t) => t.chunk(2, 1), (t) => R.split(t!, 1, [2, 1]), [x]);
  });
  it('slice: negative indices, negative steps, steps > 1', async () => {
    const cases: [number[], number[], number[], number[]][] = [
      [[1], [-1], [3], [1]],
      [[3, 0], [0, 4], [2, 3], [-1, 2]],
      [[0], [Number.MAX_SAFE_INTEGER], [2], [3]],
      [[-1], [-Number.MAX_SAFE_INTEGER], [3], [-2]],
      [[1, 2, -2], [3, -100, 0], [0, 1, 3], [1, -1, -3]],
      [[1], [4], [3], [2]],
      [[3], [0], [3], [-1]],
    ];
    for (const [starts, ends, axes, steps] of cases) {
      await checkGrad(`slice ${starts} ${ends} ${axes} ${steps}`, (t) => t.sliceND(starts, ends, axes, steps), (t) => R.slice(t!, starts, ends, axes, steps), [x]);
    }
  });
  it('pad: constant with value, reflect, replicate, and a negative (cropping) pad', async () => {
    await checkGrad('pad const', (t) => t.pad([1, 2, 0, 3], { value: 1.5 }), (t) => R.pad(t!, [0, 0, 0, 1, 0, 0, 3, 2], 'constant', 1.5), [x]);
    await checkGrad('pad reflect', (t) => t.pad([2, 1, 1, 3], { mode: 'reflect' }), (t) => R.pad(t!, [0, 0, 1, 2, 0, 0, 3, 1], 'reflect'), [x]);
    await checkGrad('pad replicate', (t) => t.pad([3, 0, 2, 2], { mode: 'replicate' }), (t) => R.pad(t!, [0, 0, 2, 3, 0, 0, 2, 0], 'edge'), [x]);
    await checkGrad('pad crop', (t) => t.pad([-1, 2, 0, -2]), (t) => R.pad(t!, [0, 0, 0, -1, 0, 0, -2, 2]), [x]);
  });
});

/** torch.gather / ONNX GatherElements in float64 (the reference has no such op). */
function refGatherElements(x: Arr, idx: { data: number[]; shape: number[] }, axis: number): Arr {
  const out = arr(idx.shape);
  const st = (s: number[]) => s.map((_, i) => s.slice(i + 1).reduce((a, b) => a * b, 1));
  const [sx, si] = [st(x.shape), st(idx.shape)];
  for (let k = 0; k < out.data.length; k++) {
    const pos = si.map((s, d) => Math.floor(k / s) % idx.shape[d]!);
    pos[axis] = (idx.data[k]! + x.shape[axis]!) % x.shape[axis]!; // negative indices count from the end
    out.data[k] = x.data[pos.reduce((a, p, d) => a + p * sx[d]!, 0)]!;
  }
  return out;
}

describe('grad of reductions and indexing', () => {
  const x = rnd([2, 3, 4, 5]);
  for (const [axes, keep] of [[[1], false], [[0, 2], true], [[3], true], [undefined, false]] as [number[] | undefined, boolean][]) {
    it(`sum/mean/max over ${axes ?? 'all'} keepdim=${keep}`, async () => {
      await checkGrad('sum', (t) => t.sum(axes, keep), (t) => R.reduceSum(t!, axes, keep), [x]);
      await checkGrad('mean', (t) => t.mean(axes, keep), (t) => R.reduceMean(t!, axes, keep), [x]);
      await checkGrad('max', (t) => t.max(axes, keep), (t) => R.reduceMax(t!, axes, keep), [x]);
    });
  }
  it('max splits the gradient equally among ties (as torch.amax)', async () => {
    const [g] = await runTraced((t) => grad(t.max(1).mul(t.graph.constant(toHost(arr([2], [2, -4])))).sum(), [t]) as Tensor[], [arr([2, 3], [1, 3, 3, 2, 0, 2])]);
    assertClose(values(g), arr([2, 3], [0, 1, 1, -2, 0, -2]), 0, 'max ties');
  });
  it('gather: int64 with negative and repeated indices, int32', async () => {
    const idx = { ints: [2, 0, -1, 1, 2, 2], shape: [2, 3] };
    await checkGrad('gather', (t, i) => t.gather(i!, 2), (t) => R.gather(t!, { data: idx.ints, shape: idx.shape }, 2), [x, idx]);
    const i32 = { ints: [1, 0, 1, 1], shape: [4], dtype: 'int32' as const };
    await checkGrad('gather i32', (t, i) => t.gather(i!, 0), (t) => R.gather(t!, { data: i32.ints, shape: i32.shape }, 0), [x, i32]);
  });
  it('gatherElements (torch.gather) and the ScatterAdd it differentiates to', async () => {
    const idx = { ints: Array.from({ length: 2 * 2 * 4 * 5 }, (_, i) => (i * 7) % 3), shape: [2, 2, 4, 5] };
    await checkGrad('gatherElements', (t, i) => t.gatherElements(i!, 1), (t) => refGatherElements(t!, { data: idx.ints, shape: idx.shape }, 1), [x, idx]);
    // ScatterAdd(idx, u) is the adjoint of GatherElements(·, idx): ⟨scatter(u), r⟩ = ⟨u, gather(r)⟩.
    const u = rnd(idx.shape);
    const [gu] = await runTraced((t, i, r) => {
      const s = t.graph.apply(ScatterAdd, [i!, t], { axis: 1, shape: [2, 3, 4, 5] })[0]!;
      return grad(s.mul(r!).sum(), [t]) as Tensor[];
    }, [u, idx, x]);
    compare(values(gu), refGatherElements(x, { data: idx.ints, shape: idx.shape }, 1), 'scatterAdd');
  });
  it('gatherElements with one index per position (a loss picking classes): negative indices, int32', async () => {
    const idx = { ints: Array.from({ length: 2 * 4 * 5 }, (_, i) => ((i * 5) % 6) - 3), shape: [2, 1, 4, 5] };
    await checkGrad('pick', (t, i) => t.gatherElements(i!, 1), (t) => refGatherElements(t!, { data: idx.ints, shape: idx.shape }, 1), [x, idx]);
    const i32 = { ...idx, dtype: 'int32' as const };
    await checkGrad('pick i32', (t, i) => t.gatherElements(i!, 1), (t) => refGatherElements(t!, { data: i32.ints, shape: i32.shape }, 1), [x, i32]);
  });
});

describe('grad() itself', () => {
  const x = rnd([3, 4]);
  it('returns null for inputs the loss does not depend on, also through integer ops', async () => {
    await runTraced((t, u) => {
      const [gt, gu] = grad(t.exp().sum(), [t, u!]);
      assert.ok(gt);
      assert.equal(gu, null);
      // Through a cast to int64 and back the loss is piecewise constant: no gradient.
      const [gc] = grad(t.mul(3).cast('int64').cast('float32').sum(), [t]);
      assert.equal(gc, null);
      // argmax → oneHot carries none either; the other path does.
      const [gh] = grad(t.argmax(1).oneHot(4).mul(t).sum(), [t]);
      return [gt!, gh!];
    }, [x, x]);
  });
  it('fails with an error naming an op without a vjp on the path', async () => {
    const Floor = defineOp<{}>({ name: 'Floor', infer: ([t]) => [{ shape: [...t!.shape], dtype: t!.dtype }], onnx: (n, e) => emitSimple(e, 'Floor', n) });
    await runTraced((t) => {
      const y = t.graph.apply(Floor, [t.mul(2)], {})[0]!;
      assert.throws(() => grad(y.add(t).sum(), [t]), /Floor.*not differentiable/);
      return t;
    }, [x]);
  });
  it('needs a scalar loss or a seed; a seed gives the vector-Jacobian product', async () => {
    const r = rnd([3, 4]);
    const [g] = await runTraced((t, s) => {
      assert.throws(() => grad(t.tanh(), [t]), /scalar/);
      return grad(t.tanh(), [t], s!) as Tensor[];
    }, [x, r]);
    compare(values(g), R.mul(r, R.sub(1, R.mul(R.tanh(x), R.tanh(x)))), 'seeded tanh');
  });
  it('gradients with respect to an intermediate tensor', async () => {
    const [gh] = await runTraced((t) => {
      const h = t.exp();
      return grad(h.mul(h).sum(), [h]) as Tensor[];
    }, [x]);
    compare(values(gh), R.mul(R.exp(x), 2), 'intermediate');
  });
  it('the gradient graph is itself differentiable (second derivative of Σ x³)', async () => {
    const r = rnd([3, 4]);
    const [g2] = await runTraced((t, s) => {
      const [g1] = grad(t.pow(3).sum(), [t]);
      return grad(g1!.mul(s!).sum(), [t]) as Tensor[];
    }, [x, r]);
    compare(values(g2), R.mul(R.mul(x, 6), r), 'second order');
  });
});
