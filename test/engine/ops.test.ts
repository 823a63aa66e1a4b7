// Every engine op against the independent float64 reference (test/reference), on random inputs,
// including the awkward cases: odd sizes, stride 2 with padding, dilation 12–18, depth-wise
// groups, asymmetric strip pooling, resize with both align-corners modes up and down.
// Tolerance: max |engine − reference| / max(1, max |reference|) < 1e-5 (float32 arithmetic).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toOnnx } from '../../src/engine/compile.js';
import { cat, where, type Tensor } from '../../src/engine/tensor.js';
import { readOnnx } from '../../src/export/onnx-read.js';
import { assertClose, type Arr } from '../reference/ndarray.js';
import * as R from '../reference/ops.js';
import { RESIZE_TARGETS, rnd, runTraced, toHost, values } from './harness.js';

const TOL = 1e-5;

async function check(name: string, fn: Parameters<typeof runTraced>[0], inputs: Parameters<typeof runTraced>[1], expected: Arr) {
  const y = await runTraced(fn, inputs);
  assertClose(values(y), expected, TOL, name);
}

describe('elementwise ops match the float64 reference', () => {
  const a = rnd([2, 3, 4, 5]);
  const b = rnd([3, 1, 5]);
  const pos = R.add(R.abs(rnd([2, 3, 4, 5])), 0.1);
  const binary = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const;
  for (const op of binary) {
    it(`${op} with broadcasting [2,3,4,5] ∘ [3,1,5]`, async () => {
      await check(op, (x, y) => x[op](y), [a, b], R[op](a, b));
    });
  }
  it('pow with a positive base', async () => {
    await check('pow', (x, y) => x.pow(y), [pos, b], R.pow(pos, b));
  });
  it('scalar operands', async () => {
    await check('scalar', (x) => x.mul(2.5).add(-1).div(4).sub(0.25), [a], R.sub(R.div(R.add(R.mul(a, 2.5), -1), 4), 0.25));
  });
  const unary = ['neg', 'abs', 'exp', 'relu', 'sigmoid', 'tanh', 'erf', 'gelu', 'silu'] as const;
  for (const op of unary) {
    it(op, async () => {
      await check(op, (x) => x[op](), [a], R[op](a));
    });
  }
  for (const op of ['log', 'sqrt', 'reciprocal'] as const) {
    it(op, async () => {
      await check(op, (x) => x[op](), [pos], R[op](pos));
    });
  }
  it('clip with both, lower and upper bounds', async () => {
    await check('clip', (x) => x.clip(-0.5, 0.7), [a], R.clip(a, -0.5, 0.7));
    await check('clip lo', (x) => x.clip(-0.5), [a], R.clip(a, -0.5));
    await check('clip hi', (x) => x.clip(undefined, 0.3), [a], R.clip(a, undefined, 0.3));
  });
  it('prelu shared and per-channel', async () => {
    const s1 = rnd([1]);
    const s3 = rnd([3]);
    await check('prelu shared', (x, s) => x.prelu(s), [a, s1], R.prelu(a, s1));
    await check('prelu per-channel', (x, s) => x.prelu(s), [a, s3], R.prelu(a, s3));
  });
  it('prelu with one constant slope lowers to LeakyRelu, with the same values', async () => {
    const s1 = rnd([1]);
    const fn = (x: Tensor) => x.prelu(x.graph.constant(toHost(s1)));
    const ops = readOnnx(toOnnx(fn, [{ shape: a.shape }])).graph.nodes.map((n) => n.opType);
    assert.ok(ops.includes('LeakyRelu') && !ops.includes('PRelu'), `op types: ${ops.join(', ')}`);
    await check('prelu constant slope', fn, [a], R.prelu(a, s1));
    const s3 = rnd([3]); // one slope per channel stays PRelu
    const perChannel = (x: Tensor) => x.prelu(x.graph.constant(toHost(s3)));
    assert.ok(readOnnx(toOnnx(perChannel, [{ shape: a.shape }])).graph.nodes.some((n) => n.opType === 'PRelu'));
    await check('prelu constant per-channel', perChannel, [a], R.prelu(a, s3));
  });
  it('comparisons give booleans', async () => {
    for (const op of ['eq', 'lt', 'gt', 'le', 'ge'] as const) {
      const ref = { eq: R.equal, lt: R.less, gt: R.greater, le: R.lessEqual, ge: R.greaterEqual }[op];
      const c = R.maximum(a, 0); // ties with 0 exercise equality
      await check(op, (x) => x.maximum(0)[op](0).cast('float32'), [a], ref(c, 0));
    }
  });
  it('where(cond, a, b) with broadcasting', async () => {
    const cond = R.greater(rnd([4, 5]), 0);
    await check('where', (x, y) => where(x.gt(0), x, y), [a, b], R.where(R.greater(a, 0), a, b));
    await check('Tensor.where', (x, c) => x.where(c.gt(0.5), -3), [a, cond], R.where(cond, a, -3));
  });
  it('dropout with a given mask', async () => {
    const mask = R.greater(rnd([2, 3, 4, 5]), 0);
    await check('dropout', (x, m) => x.dropout(m, 0.3), [a, mask], R.dropout(a, mask, 0.3));
  });
});

describe('matmul and linear', () => {
  it('batched matmul with broadcasting of batch dims', async () => {
    const a = rnd([2, 1, 7, 9]);
    const b = rnd([3, 9, 5]);
    await check('matmul', (x, y) => x.matmul(y), [a, b], R.matmul(a, b));
  });
  it('linear uses PyTorch weight layout [out, in]', async () => {
    const x = rnd([4, 6]);
    const w = rnd([3, 6]);
    const bias = rnd([3]);
    await check('linear', (t, ww, bb) => t.linear(ww, bb), [x, w, bias], R.add(R.matmul(x, R.transpose(w, [1, 0])), bias));
  });
});

describe('conv2d', () => {
  const cases: { name: string; x: number[]; w: number[]; o: { stride?: [number, number]; padding?: [number, number, number, number]; dilation?: [number, number]; groups?: number } }[] = [
    { name: '3×3 pad 1, odd size', x: [2, 3, 7, 9], w: [4, 3, 3, 3], o: { padding: [1, 1, 1, 1] } },
    { name: 'stride 2 with padding, odd size', x: [1, 4, 9, 11], w: [6, 4, 3, 3], o: { stride: [2, 2], padding: [1, 1, 1, 1] } },
    { name: 'stride 2, 7×7, pad 3 (ResNet stem)', x: [1, 3, 17, 15], w: [8, 3, 7, 7], o: { stride: [2, 2], padding: [3, 3, 3, 3] } },
    { name: 'dilation 12', x: [1, 4, 29, 31], w: [4, 4, 3, 3], o: { padding: [12, 12, 12, 12], dilation: [12, 12] } },
    { name: 'dilation 16', x: [1, 2, 35, 33], w: [3, 2, 3, 3], o: { padding: [16, 16, 16, 16], dilation: [16, 16] } },
    { name: 'dilation 18', x: [1, 2, 37, 40], w: [2, 2, 3, 3], o: { padding: [18, 18, 18, 18], dilation: [18, 18] } },
    { name: 'depth-wise (groups = channels)', x: [2, 6, 8, 7], w: [6, 1, 3, 3], o: { padding: [1, 1, 1, 1], groups: 6 } },
    { name: 'grouped, 2 groups', x: [1, 4, 6, 6], w: [6, 2, 3, 3], o: { padding: [1, 1, 1, 1], groups: 2 } },
    { name: '1×1', x: [2, 5, 4, 3], w: [7, 5, 1, 1], o: {} },
    { name: 'asymmetric padding and kernel', x: [1, 3, 8, 10], w: [2, 3, 3, 5], o: { padding: [0, 2, 1, 1], stride: [1, 2] } },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const x = rnd(c.x);
      const w = rnd(c.w, 0.3);
      const b = rnd([c.w[0]!]);
      await check(c.name, (t, ww, bb) => t.conv2d(ww, { bias: bb, ...c.o }), [x, w, b], R.conv2d(x, w, b, c.o));
    });
  }
  it("padding 'same'", async () => {
    const x = rnd([1, 2, 6, 7]);
    const w = rnd([3, 2, 3, 3]);
    await check('same', (t, ww) => t.conv2d(ww, { padding: 'same', dilation: 2 }), [x, w], R.conv2d(x, w, null, { padding: [2, 2, 2, 2], dilation: [2, 2] }));
  });
  it('convTranspose2d with stride, padding, output padding and groups', async () => {
    const x = rnd([1, 4, 5, 6]);
    const w = rnd([4, 3, 3, 3]);
    const o = { stride: [2, 2] as [number, number], padding: [1, 1, 1, 1] as [number, number, number, number], outputPadding: [1, 0] as [number, number], groups: 2 };
    await check('convT', (t, ww) => t.convTranspose2d(ww, o), [x, w], R.convTranspose2d(x, w, null, o));
  });
});

describe('pooling', () => {
  const x = rnd([2, 3, 9, 11]);
  it('max pool 3×3 stride 2 pad 1 (ResNet)', async () => {
    const o = { kernel: [3, 3] as [number, number], stride: [2, 2] as [number, number], padding: [1, 1, 1, 1] as [number, number, number, number] };
    await check('maxpool', (t) => t.maxPool2d(o), [x], R.maxPool2d(x, o));
  });
  it('max pool with ceil mode on odd sizes', async () => {
    const o = { kernel: [2, 2] as [number, number], stride: [2, 2] as [number, number], ceilMode: true };
    await check('maxpool ceil', (t) => t.maxPool2d(o), [x], R.maxPool2d(x, o));
  });
  it('ceil mode drops a last window that would start in the right padding (PyTorch rule)', async () => {
    const odd = rnd([1, 2, 5, 5]);
    const o = { kernel: [2, 2] as [number, number], stride: [2, 2] as [number, number], padding: [1, 1, 1, 1] as [number, number, number, number], ceilMode: true };
    await check('maxpool ceil edge', (t) => t.maxPool2d(o), [odd], R.maxPool2d(odd, o));
    await check('avgpool ceil edge', (t) => t.avgPool2d(o), [odd], R.avgPool2d(odd, o));
  });
  it('max pool indices are flat over the whole input (ONNX)', async () => {
    const o = { kernel: [3, 3] as [number, number], stride: [2, 2] as [number, number], padding: [1, 1, 1, 1] as [number, number, number, number] };
    const [, idx] = await runTraced((t) => t.maxPool2dWithIndices(o), [x]);
    const ref = R.maxPool2dWithIndices(x, o).indices;
    // Reference indices are per [H, W] plane (PyTorch); ONNX adds the plane offset.
    const plane = 9 * 11;
    const expected = { data: ref.data.map((v, i) => v + Math.floor(i / (ref.shape[2]! * ref.shape[3]!)) * plane), shape: ref.shape };
    assertClose(values(idx), expected, 0, 'maxpool indices');
  });
  it('avg pool, count_include_pad true and false, ceil mode', async () => {
    for (const countIncludePad of [true, false]) {
      for (const ceilMode of [false, true]) {
        const o = { kernel: [3, 3] as [number, number], stride: [2, 2] as [number, number], padding: [1, 1, 1, 1] as [number, number, number, number], countIncludePad, ceilMode };
        await check(`avgpool ${countIncludePad} ${ceilMode}`, (t) => t.avgPool2d(o), [x], R.avgPool2d(x, o));
      }
    }
  });
  const adaptive: [number, number][] = [[1, 1], [3, 3], [5, 4], [1, 11], [9, 1], [4, 11], [2, 7], [9, 11], [7, 7]];
  for (const size of adaptive) {
    it(`adaptive avg pool 9×11 → ${size.join('×')}`, async () => {
      await check(`adaptive ${size}`, (t) => t.adaptiveAvgPool2d(size), [x], R.adaptiveAvgPool2d(x, size));
    });
  }
});

describe('resize', () => {
  const x = rnd([1, 2, 5, 7]);
  const targets = RESIZE_TARGETS;
  for (const [name, target] of targets) {
    for (const alignCorners of [false, true]) {
      it(`bilinear ${name}, alignCorners=${alignCorners}`, async () => {
        await check(name, (t) => t.resize({ ...target, mode: 'bilinear', alignCorners }), [x], R.resize2d(x, target, 'bilinear', alignCorners));
      });
    }
    it(`nearest ${name}`, async () => {
      await check(name, (t) => t.resize({ ...target, mode: 'nearest' }), [x], R.resize2d(x, target, 'nearest'));
    });
  }
});

describe('normalisation and softmax', () => {
  const x = rnd([2, 5, 4, 3], 2);
  for (const axis of [1, -1]) {
    it(`softmax and logSoftmax on axis ${axis}`, async () => {
      await check('softmax', (t) => t.softmax(axis), [x], R.softmax(x, axis));
      await check('logSoftmax', (t) => t.logSoftmax(axis), [x], R.logSoftmax(x, axis));
    });
  }
  it('layer norm over the last axis, with and without affine', async () => {
    const t3 = rnd([2, 7, 6], 3);
    const w = rnd([6]);
    const b = rnd([6]);
    await check('layerNorm', (t, ww, bb) => t.layerNorm(ww, bb, 1e-6), [t3, w, b], R.layerNorm(t3, w, b, 1e-6));
    await check('layerNorm plain', (t) => t.layerNorm(null, null), [t3], R.layerNorm(t3, null, null, 1e-5));
  });
  it('batch norm, inference form', async () => {
    const [m, v, w, b] = [rnd([5]), R.add(R.abs(rnd([5])), 0.5), rnd([5]), rnd([5])];
    await check('bn', (t, mm, vv, ww, bb) => t.batchNorm({ runningMean: mm, runningVar: vv, weight: ww, bias: bb }), [x, m, v, w, b], R.batchNormInference(x, m, v, w, b, 1e-5));
  });
  it('batch norm, training form: output and batch statistics', async () => {
    const [w, b] = [rnd([5]), rnd([5])];
    const ref = R.batchNormTraining(x, w, b, 1e-5);
    const out = await runTraced((t, ww, bb) => {
      const r = t.batchNormTrain(ww, bb);
      return [r.out, r.mean, r.var, r.varUnbiased];
    }, [x, w, b]);
    assertClose(values(out[0]), ref.y, TOL, 'bn train y');
    assertClose(values(out[1]), ref.mean, TOL, 'bn train mean');
    assertClose(values(out[2]), ref.varBiased, TOL, 'bn train var');
    assertClose(values(out[3]), ref.varUnbiased, TOL, 'bn train unbiased var');
  });
});

describe('layout ops', () => {
  const x = rnd([2, 3, 4, 5]);
  it('reshape with -1, flatten, unsqueeze, squeeze', async () => {
    await check('reshape', (t) => t.reshape([6, -1]), [x], R.reshape(x, [6, 20]));
    await check('flatten', (t) => t.flatten(1), [x], R.reshape(x, [2, 60]));
    await check('unsqueeze/squeeze', (t) => t.unsqueeze(2).squeeze(2), [x], x);
  });
  it('permute and transpose', async () => {
    await check('permute', (t) => t.permute([0, 2, 3, 1]), [x], R.transpose(x, [0, 2, 3, 1]));
    await check('transpose', (t) => t.transpose(1, 3), [x], R.transpose(x, [0, 3, 2, 1]));
  });
  it('concat and split', async () => {
    const y = rnd([2, 2, 4, 5]);
    await check('cat', (t, u) => cat([t, u, t], 1), [x, y], R.concat([x, y, x], 1));
    const parts = await runTraced((t) => t.split([1, 2, 2], 3), [x]);
    R.split(x, 3, [1, 2, 2]).forEach((p, i) => assertClose(values(parts[i]), p, 0, `split part ${i}`));
    const chunks = await runTraced((t) => t.chunk(2, 1), [x]);
    R.split(x, 1, [2, 1]).forEach((p, i) => assertClose(values(chunks[i]), p, 0, `chunk ${i}`));
  });
  it('slice with negative indices and steps', async () => {
    await check('slice', (t) => t.slice(3, 1, -1), [x], R.slice(x, [1], [-1], [3]));
    await check('slice step', (t) => t.sliceND([3, 0], [0, 4], [2, 3], [-1, 2]), [x], R.slice(x, [3, 0], [0, 4], [2, 3], [-1, 2]));
  });
  it('pad: constant with value, reflect, replicate (PyTorch pair order)', async () => {
    // F.pad order [left, right, top, bottom] → ONNX order [0,0,top,left, 0,0,bottom,right].
    await check('pad const', (t) => t.pad([1, 2, 0, 3], { value: 1.5 }), [x], R.pad(x, [0, 0, 0, 1, 0, 0, 3, 2], 'constant', 1.5));
    await check('pad reflect', (t) => t.pad([2, 1, 1, 3], { mode: 'reflect' }), [x], R.pad(x, [0, 0, 1, 2, 0, 0, 3, 1], 'reflect'));
    await check('pad replicate', (t) => t.pad([3, 0, 2, 2], { mode: 'replicate' }), [x], R.pad(x, [0, 0, 2, 3, 0, 0, 2, 0], 'edge'));
  });
  it('expand', async () => {
    const y = rnd([3, 1, 5]);
    await check('expand', (t) => t.expand([2, 3, 4, 5]), [y], R.add(R.mul(x, 0), y));
  });
});

describe('reductions and indexing', () => {
  const x = rnd([2, 3, 4, 5]);
  for (const [axes, keep] of [[[1], false], [[0, 2], true], [[3], true], [undefined, false]] as [number[] | undefined, boolean][]) {
    it(`sum/mean/max over ${axes ?? 'all'} keepdim=${keep}`, async () => {
      await check('sum', (t) => t.sum(axes, keep), [x], R.reduceSum(x, axes, keep));
      await check('mean', (t) => t.mean(axes, keep), [x], R.reduceMean(x, axes, keep));
      await check('max', (t) => t.max(axes, keep), [x], R.reduceMax(x, axes, keep));
    });
  }
  it('argmax along channels and the last axis', async () => {
    const a1 = await runTraced((t) => t.argmax(1), [x]);
    assertClose(values(a1), R.argmax(x, 1), 0, 'argmax 1');
    const a2 = await runTraced((t) => t.argmax(-1, true), [x]);
    assertClose(values(a2), R.argmax(x, 3, true), 0, 'argmax -1');
  });
  it('gather with int64 and int32 indices, negative indices', async () => {
    const idx = { ints: [2, 0, -1, 1, 1, 3], shape: [2, 3] };
    await check('gather', (t, i) => t.gather(i, 2), [x, idx], R.gather(x, { data: idx.ints, shape: idx.shape }, 2));
    await check('gather i32', (t, i) => t.gather(i, 0), [x, { ...idx, ints: [1, 0, 1, 1, 0, 0], dtype: 'int32' }], R.gather(x, { data: [1, 0, 1, 1, 0, 0], shape: [2, 3] }, 0));
  });
  it('oneHot: ignore labels (255, −100) give zero rows', async () => {
    const labels = { ints: [0, 3, 255, 1, -100, 2], shape: [2, 3] };
    await check('oneHot', (t) => t.oneHot(4), [labels], R.oneHot({ data: labels.ints, shape: labels.shape }, 4));
  });
  it('cast float → int64 → float truncates toward zero', async () => {
    const y = R.map(x, (v) => Math.trunc(v * 3));
    await check('cast', (t) => t.mul(3).cast('int64').cast('float32'), [x], y);
  });
});
