// TopK and CumSum (src/engine/ops/sort.ts) on onnxruntime-node against float64 loops written here
// from their definitions (a stable sort along one axis; running sums), and their gradients against
// central differences of those loops (inputs with distinct values: TopK is differentiable away
// from ties). Ties are checked separately: ONNX puts the lower index first.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grad } from '../../src/engine/autodiff.js';
import type { HostTensor } from '../../src/engine/host-tensor.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { arr, assertClose, relErr, stridesOf, type Arr } from '../reference/ndarray.js';
import { numericGrad } from '../reference/ops.js';
import { rnd, runTraced, values } from './harness.js';

const TOL = 1e-5;

/** The lines along `axis` of a row-major shape: for each, the flat offsets of its elements. */
function lines(shape: readonly number[], axis: number): number[][] {
  const stride = stridesOf(shape)[axis]!;
  const n = shape[axis]!;
  const out: number[][] = [];
  const total = shape.reduce((a, b) => a * b, 1);
  for (let flat = 0; flat < total; flat++) {
    if (Math.floor(flat / stride) % n !== 0) continue; // not the first element of its line
    out.push(Array.from({ length: n }, (_, j) => flat + j * stride));
  }
  return out;
}

/** TopK from the definition: per line, a stable sort of (value, index), the first k. */
function refTopK(x: Arr, k: number, axis: number, largest: boolean): { values: Arr; indices: Arr } {
  const shape = x.shape.map((d, i) => (i === axis ? k : d));
  const vals = arr(shape);
  const idx = arr(shape);
  const inLines = lines(x.shape, axis);
  const outLines = lines(shape, axis);
  inLines.forEach((line, l) => {
    const order = line.map((off, j) => ({ v: x.data[off]!, j }));
    order.sort((a, b) => (largest ? b.v - a.v : a.v - b.v) || a.j - b.j);
    outLines[l]!.forEach((off, r) => {
      vals.data[off] = order[r]!.v;
      idx.data[off] = order[r]!.j;
    });
  });
  return { values: vals, indices: idx };
}

function refCumSum(x: Arr, axis: number, reverse: boolean): Arr {
  const y = arr(x.shape);
  for (const line of lines(x.shape, axis)) {
    const seq = reverse ? [...line].reverse() : line;
    let s = 0;
    for (const off of seq) {
      s += x.data[off]!;
      y.data[off] = s;
    }
  }
  return y;
}

const dot = (a: Arr, b: Arr) => a.data.reduce((s, v, i) => s + v * b.data[i]!, 0);

/** ∂/∂x of Σ f(x)·r, engine vs central differences of the float64 reference. */
async function checkGrad(what: string, f: (t: Tensor) => Tensor, ref: (x: Arr) => Arr, x: Arr): Promise<void> {
  const r = rnd(ref(x).shape);
  const [g] = (await runTraced((t, rt) => grad(f(t!).mul(rt!).sum(), [t!]) as Tensor[], [x, r])) as HostTensor[];
  const want = numericGrad((xi) => dot(ref(xi), r), x);
  if (process.env.GRAD_REPORT) console.log(`${what}: max |engine − numeric| = ${relErr(g!.f32, want).toExponential(2)}`);
  assertClose(values(g!), want, TOL, what);
}

describe('TopK', () => {
  const x = rnd([2, 3, 5]);
  const cases: [number, number, boolean][] = [
    [2, 2, true],
    [5, -1, false],
    [1, 0, true],
    [3, 1, false],
  ];
  for (const [k, axis, largest] of cases) {
    const a = axis < 0 ? axis + 3 : axis;
    it(`k=${k} along axis ${axis}, ${largest ? 'largest' : 'smallest'}: values, indices and the gradient`, async () => {
      const [v, i] = (await runTraced((t) => t!.topk(k, axis, { largest }), [x])) as HostTensor[];
      const want = refTopK(x, k, a, largest);
      assertClose(values(v!), want.values, 0, 'values');
      assert.deepEqual(values(i!).data, Array.from(want.indices.data), 'indices');
      await checkGrad('∂ topk values', (t) => t.topk(k, axis, { largest })[0], (xi) => refTopK(xi, k, a, largest).values, x);
    });
  }
  it('ties keep input order (lower index first), in both directions', async () => {
    const t = arr([1, 7], [3, 1, 3, 2, 1, 3, 2]);
    const [vl, il] = (await runTraced((u) => u!.topk(7, 1), [t])) as HostTensor[];
    assert.deepEqual(values(vl!).data, [3, 3, 3, 2, 2, 1, 1]);
    assert.deepEqual(values(il!).data, [0, 2, 5, 3, 6, 1, 4]);
    const [vs, is] = (await runTraced((u) => u!.topk(7, 1, { largest: false }), [t])) as HostTensor[];
    assert.deepEqual(values(vs!).data, [1, 1, 2, 2, 3, 3, 3]);
    assert.deepEqual(values(is!).data, [1, 4, 3, 6, 0, 2, 5]);
  });
  it('rejects k outside [1, axis size]', async () => {
    await assert.rejects(runTraced((t) => [t!.topk(6, 2)[0]], [x]), /TopK: k must be an integer in \[1, 5\] \(the size of axis 2\), got 6/);
    await assert.rejects(runTraced((t) => [t!.topk(0, 2)[0]], [x]), /got 0/);
  });
});

describe('CumSum', () => {
  const x = rnd([2, 3, 4]);
  for (const axis of [0, 1, 2]) {
    for (const reverse of [false, true]) {
      it(`axis ${axis}${reverse ? ', reverse' : ''}: value and gradient`, async () => {
        const [y] = (await runTraced((t) => [t!.cumsum(axis, { reverse })], [x])) as HostTensor[];
        assertClose(values(y!), refCumSum(x, axis, reverse), TOL, 'cumsum');
        await checkGrad('∂ cumsum', (t) => t.cumsum(axis, { reverse }), (xi) => refCumSum(xi, axis, reverse), x);
      });
    }
  }
  it('int64 input (counting), negative axis', async () => {
    const [y] = (await runTraced((t) => [t!.cumsum(-1)], [{ ints: [1, 0, 1, 1, 0, 0, 1, 1], shape: [2, 4] }])) as HostTensor[];
    assert.equal(y!.dtype, 'int64');
    assert.deepEqual(values(y!).data, [1, 1, 2, 3, 0, 0, 1, 2]);
  });
  it('rejects bool input', async () => {
    await assert.rejects(runTraced((t) => [t!.cumsum(0)], [{ ints: [1, 0], shape: [2], dtype: 'bool' }]), /CumSum: needs a float32, int32 or int64 tensor, got bool/);
  });
});
