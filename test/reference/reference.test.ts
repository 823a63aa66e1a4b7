// Self-tests of the float64 reference ops against small hand-computed values. Each expected value
// is written out by hand with a comment on how it was derived, so these tests check the reference
// against the PyTorch/ONNX conventions rather than against itself.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { arr, assertClose, at, fromFn, makeRng, maxAbsDiff, rand, randn, ravel, relErr, stridesOf, unravel, type Arr } from './ndarray.js';
import * as R from './ops.js';

/** Compare against a hand-written expectation (shape + flat values) to ~1 ulp-ish. */
function expectArr(actual: Arr, shape: number[], values: number[], tol = 1e-12, what = 'value'): void {
  assertClose(actual, arr(shape, values), tol, what);
}

const iota = (shape: number[], start = 0): Arr => fromFn(shape, (i) => i + start);

/** Sum over all elements of a * b (for adjoint identities). */
function dot(a: Arr, b: Arr): number {
  assert.deepEqual(a.shape, b.shape);
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += a.data[i]! * b.data[i]!;
  return s;
}

describe('ndarray helpers', () => {
  test('strides, ravel, unravel', () => {
    assert.deepEqual(stridesOf([2, 3, 4]), [12, 4, 1]);
    assert.equal(ravel([1, 2, 3], [2, 3, 4]), 12 + 8 + 3);
    assert.deepEqual(unravel(23, [2, 3, 4]), [1, 2, 3]);
    assert.equal(at(iota([2, 3]), 1, 2), 5);
    assert.throws(() => arr([2, 2], [1, 2, 3]), /needs 4 values/);
  });

  test('seeded rng is deterministic and roughly standard', () => {
    const a = randn([1000], makeRng(7));
    const b = randn([1000], makeRng(7));
    assert.equal(maxAbsDiff(a, b), 0);
    assert.notEqual(maxAbsDiff(a, randn([1000], makeRng(8))), 0);
    const n = randn([20000], makeRng(1));
    const mean = n.data.reduce((s, v) => s + v, 0) / n.data.length;
    const v = n.data.reduce((s, x) => s + (x - mean) ** 2, 0) / n.data.length;
    assert.ok(Math.abs(mean) < 0.03 && Math.abs(v - 1) < 0.05, `mean ${mean} var ${v}`);
    const u = rand([1000], makeRng(3), -2, 5);
    assert.ok(u.data.every((x) => x >= -2 && x < 5));
  });

  test('relErr and assertClose', () => {
    const e = arr([3], [10, -20, 0.5]);
    // max|a-e| = 0.5, scale = max(1, 20) = 20.
    assert.equal(relErr([10, -20.5, 0.5], e), 0.5 / 20);
    // Small values: scale is 1, so this is the absolute error.
    assert.equal(relErr([0.25], arr([1], [0.5])), 0.25);
    assert.equal(relErr([NaN], arr([1], [NaN])), 0);
    assert.equal(relErr([NaN], arr([1], [1])), Infinity);
    assertClose({ data: new Float32Array([10, -20, 0.5]), shape: [3] }, e, 1e-7, 'ok');
    assert.throws(() => assertClose({ data: [1, 2, 3], shape: [1, 3] }, e, 1, 'shapes'), /shapes: shape mismatch: actual \[1, 3\] vs expected \[3\]/);
    assert.throws(
      () => assertClose({ data: [1, 2, 3, 5], shape: [2, 2] }, arr([2, 2], [1, 2, 3, 4]), 1e-6, 'conv'),
      /conv: error 0\.25 > tol 0\.000001 .*first mismatch at \[1, 1\] actual 5 expected 4/,
    );
  });
});

describe('elementwise', () => {
  test('broadcasting add/sub/mul/div/pow', () => {
    const a = arr([2, 1], [1, 2]);
    const b = arr([3], [10, 20, 30]);
    // [2,1] with [3] -> [2,3]: row i is a[i] op b.
    expectArr(R.add(a, b), [2, 3], [11, 21, 31, 12, 22, 32]);
    expectArr(R.sub(a, b), [2, 3], [-9, -19, -29, -8, -18, -28]);
    expectArr(R.mul(a, b), [2, 3], [10, 20, 30, 20, 40, 60]);
    expectArr(R.div(b, a), [2, 3], [10, 20, 30, 5, 10, 15]);
    expectArr(R.pow(a, arr([3], [0, 1, 3])), [2, 3], [1, 1, 1, 1, 2, 8]);
    expectArr(R.add(arr([2, 1, 3], [0, 1, 2, 3, 4, 5]), arr([1, 2, 1], [100, 200])), [2, 2, 3], [100, 101, 102, 200, 201, 202, 103, 104, 105, 203, 204, 205]);
    assert.throws(() => R.add(arr([2]), arr([3])), /not compatible/);
  });

  test('maximum/minimum/comparisons/where', () => {
    const a = arr([4], [1, 5, 3, 3]);
    const b = arr([4], [2, 4, 3, NaN]);
    expectArr(R.maximum(a, b), [4], [2, 5, 3, NaN]);
    expectArr(R.minimum(a, b), [4], [1, 4, 3, NaN]);
    expectArr(R.equal(a, b), [4], [0, 0, 1, 0]);
    expectArr(R.less(a, b), [4], [1, 0, 0, 0]);
    expectArr(R.greater(a, b), [4], [0, 1, 0, 0]);
    expectArr(R.lessEqual(a, b), [4], [1, 0, 1, 0]);
    expectArr(R.greaterEqual(a, b), [4], [0, 1, 1, 0]);
    // cond [2,1] picks whole rows; a [3] broadcasts down, b is a scalar.
    expectArr(R.where(arr([2, 1], [1, 0]), arr([3], [7, 8, 9]), -1), [2, 3], [7, 8, 9, -1, -1, -1]);
  });

  test('unary ops', () => {
    const x = arr([4], [-2, -0.5, 0, 3]);
    expectArr(R.neg(x), [4], [2, 0.5, -0, -3]);
    expectArr(R.abs(x), [4], [2, 0.5, 0, 3]);
    expectArr(R.relu(x), [4], [0, 0, 0, 3]);
    expectArr(R.exp(arr([2], [0, 1])), [2], [1, Math.E]);
    expectArr(R.log(arr([2], [1, Math.E])), [2], [0, 1]);
    expectArr(R.sqrt(arr([2], [4, 2])), [2], [2, Math.SQRT2]);
    expectArr(R.reciprocal(arr([2], [4, -0.5])), [2], [0.25, -2]);
    // sigmoid(0) = 1/2; sigmoid(ln 3) = 1/(1 + 1/3) = 3/4; sigmoid(-ln 3) = 1/4; no overflow at +-1000.
    expectArr(R.sigmoid(arr([5], [0, Math.log(3), -Math.log(3), 1000, -1000])), [5], [0.5, 0.75, 0.25, 1, 0]);
    // tanh(ln 2) = (2 - 1/2)/(2 + 1/2) = 3/5.
    expectArr(R.tanh(arr([1], [Math.LN2])), [1], [0.6]);
    expectArr(R.clip(x, -1, 1), [4], [-1, -0.5, 0, 1]);
    expectArr(R.clip(x, undefined, 0.5), [4], [-2, -0.5, 0, 0.5]);
    expectArr(R.clip(x, 2, 1), [4], [1, 1, 1, 1]); // min > max: everything becomes max
  });

  test('erf to the last bit', () => {
    // Correctly rounded values of erf (50-digit evaluation rounded to double). NOTE: erf(-0.3) is
    // -0.32862675945912743 (= -0.3286267594591274 as a double); the -0.3286267594591112 sometimes
    // quoted is wrong in the 14th digit.
    const xs = [0, 0.1, 0.5, 1, 2, -0.3, 2.5, 3, 4, 6, -10];
    const ys = [0, 0.1124629160182849, 0.5204998778130465, 0.8427007929497149, 0.9953222650189527, -0.3286267594591274, 0.999593047982555, 0.9999779095030014, 0.9999999845827421, 1, -1];
    const got = R.erf(arr([xs.length], xs));
    xs.forEach((x, i) => assert.equal(got.data[i], ys[i], `erf(${x})`));
    // Tiny x: erf(x) ~ 2x/sqrt(pi).
    assert.equal(R.erfScalar(1e-10), (2 / Math.sqrt(Math.PI)) * 1e-10);
    assert.ok(Number.isNaN(R.erfScalar(NaN)));
  });

  test('gelu and silu', () => {
    // gelu(x) = x * Phi(x); Phi(1) = 0.8413447460685429; gelu(-x) = gelu(x) - x.
    expectArr(R.gelu(arr([3], [1, -1, 0])), [3], [0.8413447460685429, 0.8413447460685429 - 1, 0], 1e-16);
    // silu(1) = 1/(1 + e^-1) = 0.7310585786300049; silu(-1) = -1/(1 + e) = -0.2689414213699951.
    expectArr(R.silu(arr([2], [1, -1])), [2], [0.7310585786300049, -0.2689414213699951], 1e-16);
  });

  test('prelu shared and per channel, dropout', () => {
    const x = arr([1, 2, 1, 2], [-1, 2, -3, 4]); // channel 0: [-1, 2], channel 1: [-3, 4]
    expectArr(R.prelu(x, arr([1], [0.1])), [1, 2, 1, 2], [-0.1, 2, -0.3, 4]);
    expectArr(R.prelu(x, arr([2], [0.1, 0.5])), [1, 2, 1, 2], [-0.1, 2, -1.5, 4]);
    assert.throws(() => R.prelu(x, arr([3], [1, 2, 3])), /slope has 3/);
    // Kept values scale by 1/(1 - 0.75) = 4.
    expectArr(R.dropout(arr([4], [1, 2, 3, 4]), arr([4], [1, 0, 0, 1]), 0.75), [4], [4, 0, 0, 16]);
  });
});

describe('matmul', () => {
  test('2-D, batched with broadcasting, and vectors', () => {
    // [[1,2],[3,4]] @ [[5,6],[7,8]] = [[1*5+2*7, 1*6+2*8], [3*5+4*7, 3*6+4*8]] = [[19,22],[43,50]].
    const a = arr([2, 2], [1, 2, 3, 4]);
    const b = arr([2, 2], [5, 6, 7, 8]);
    expectArr(R.matmul(a, b), [2, 2], [19, 22, 43, 50]);
    // Batch [2] x no batch: second batch is 2*a -> [[38,44],[86,100]].
    const a2 = arr([2, 2, 2], [1, 2, 3, 4, 2, 4, 6, 8]);
    expectArr(R.matmul(a2, b), [2, 2, 2], [19, 22, 43, 50, 38, 44, 86, 100]);
    // Batch dims [2,1] and [3] broadcast to [2,3]; 1x1 matrices: out[i][j] = a[i]*b[j].
    const p = R.matmul(arr([2, 1, 1, 1], [1, 2]), arr([3, 1, 1], [10, 20, 30]));
    expectArr(p, [2, 3, 1, 1], [10, 20, 30, 20, 40, 60]);
    // Vector @ matrix drops the leading 1; matrix @ vector drops the trailing 1.
    expectArr(R.matmul(arr([2], [1, 1]), b), [2], [12, 14]);
    expectArr(R.matmul(a, arr([2], [1, 1])), [2], [3, 7]);
    assert.throws(() => R.matmul(arr([2, 3]), arr([2, 3])), /inner dims/);
  });
});

describe('conv2d', () => {
  // The 3x3 image 1..9:   1 2 3 / 4 5 6 / 7 8 9
  const img = iota([1, 1, 3, 3], 1);

  test('3x3 box filter with padding 1', () => {
    // Each output is the sum of the in-bounds 3x3 neighbourhood, e.g. corner 1+2+4+5 = 12,
    // top middle 1+2+3+4+5+6 = 21, centre 45.
    const y = R.conv2d(img, R.add(arr([1, 1, 3, 3]), 1), null, { padding: [1, 1, 1, 1] });
    expectArr(y, [1, 1, 3, 3], [12, 21, 16, 27, 45, 33, 24, 39, 28]);
  });

  test('asymmetric kernel is cross-correlation (not flipped), with bias', () => {
    // Sobel-x [[1,0,-1],[2,0,-2],[1,0,-1]]: (1 + 2*4 + 7) - (3 + 2*6 + 9) = 16 - 24 = -8; + bias 0.5.
    const w = arr([1, 1, 3, 3], [1, 0, -1, 2, 0, -2, 1, 0, -1]);
    expectArr(R.conv2d(img, w, arr([1], [0.5]), {}), [1, 1, 1, 1], [-7.5]);
  });

  test('dilation, stride, groups, asymmetric padding', () => {
    // 4x4 input 0..15, 2x2 ones kernel dilated by 2 taps (r,c),(r,c+2),(r+2,c),(r+2,c+2):
    // out[0][0] = 0+2+8+10 = 20, out[0][1] = 1+3+9+11 = 24, out[1][0] = 4+6+12+14 = 36, out[1][1] = 40.
    const x = iota([1, 1, 4, 4]);
    const ones22 = R.add(arr([1, 1, 2, 2]), 1);
    expectArr(R.conv2d(x, ones22, null, { dilation: [2, 2] }), [1, 1, 2, 2], [20, 24, 36, 40]);
    // Stride 2 with a 2x2 ones kernel: non-overlapping 2x2 block sums: 0+1+4+5 = 10, 2+3+6+7 = 18, 42, 50.
    expectArr(R.conv2d(x, ones22, null, { stride: [2, 2] }), [1, 1, 2, 2], [10, 18, 42, 50]);
    // groups = 2, 1x1 kernels [2] and [3]: each channel scaled by its own weight.
    const x2 = arr([1, 2, 1, 2], [1, 2, 3, 4]);
    expectArr(R.conv2d(x2, arr([2, 1, 1, 1], [2, 3]), null, { groups: 2 }), [1, 2, 1, 2], [2, 4, 9, 12]);
    // Pads [top=1, left=0, bottom=0, right=2] with a 1x1 identity kernel: a zero row above and two
    // zero columns right; out H = 3+1+0-1+1 = 4, W = 3+0+2 = 5.
    const y = R.conv2d(img, arr([1, 1, 1, 1], [1]), null, { padding: [1, 0, 0, 2] });
    expectArr(y, [1, 1, 4, 5], [0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 4, 5, 6, 0, 0, 7, 8, 9, 0, 0]);
  });
});

describe('convTranspose2d', () => {
  const x = arr([1, 1, 2, 2], [1, 2, 3, 4]);
  const ones22 = R.add(arr([1, 1, 2, 2]), 1);

  test('hand cases', () => {
    // Stride 2, 2x2 ones: each input pixel becomes a 2x2 block.
    expectArr(R.convTranspose2d(x, ones22, null, { stride: [2, 2] }), [1, 1, 4, 4], [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    // Stride 1: overlapping blocks add: [[1,1+2,2],[1+3,1+2+3+4,2+4],[3,3+4,4]].
    expectArr(R.convTranspose2d(x, ones22, null, {}), [1, 1, 3, 3], [1, 3, 2, 4, 10, 6, 3, 7, 4]);
    // Padding 1 crops one row/col from every side of that 3x3: [10]; bias adds 0.5.
    expectArr(R.convTranspose2d(x, ones22, arr([1], [0.5]), { padding: [1, 1, 1, 1] }), [1, 1, 1, 1], [10.5]);
    // Output padding adds a (zero) row/col at the bottom/right: (2-1)*2 + 1 + 1 + 1 = 5.
    const y = R.convTranspose2d(x, ones22, null, { stride: [2, 2], outputPadding: [1, 1] });
    expectArr(y, [1, 1, 5, 5], [1, 1, 2, 2, 0, 1, 1, 2, 2, 0, 3, 3, 4, 4, 0, 3, 3, 4, 4, 0, 0, 0, 0, 0, 0]);
    // w is [Cin, Cout/groups, kh, kw]: one input channel to two output channels with weights 1 and -2.
    const y2 = R.convTranspose2d(arr([1, 1, 1, 1], [3]), arr([1, 2, 1, 1], [1, -2]), null, {});
    expectArr(y2, [1, 2, 1, 1], [3, -6]);
  });

  test('is the adjoint of conv2d: <conv(x), y> = <x, convT(y)>', () => {
    const rng = makeRng(11);
    const cases = [
      { groups: 1, stride: [1, 1], padding: [0, 0, 0, 0], dilation: [1, 1], H: 5, W: 6 },
      { groups: 2, stride: [2, 3], padding: [1, 0, 2, 1], dilation: [1, 2], H: 7, W: 8 },
      { groups: 3, stride: [2, 2], padding: [1, 1, 1, 1], dilation: [2, 1], H: 6, W: 5 },
    ] as const;
    for (const c of cases) {
      const [kh, kw] = [3, 2];
      const cin = 2 * c.groups;
      const cout = 3 * c.groups;
      const x = randn([2, cin, c.H, c.W], rng);
      const w = randn([cout, cin / c.groups, kh, kw], rng);
      const y = R.conv2d(x, w, null, c);
      const yBar = randn(y.shape, rng);
      // convT with the same weights (read as [Cin_T = cout, Cout_T/groups = cin/groups]) maps back;
      // outputPadding restores the rows/cols the forward conv's floor dropped.
      const [pt, pl, pb, pr] = c.padding;
      const outputPadding: [number, number] = [
        (c.H + pt + pb - c.dilation[0] * (kh - 1) - 1) % c.stride[0],
        (c.W + pl + pr - c.dilation[1] * (kw - 1) - 1) % c.stride[1],
      ];
      const xBar = R.convTranspose2d(yBar, w, null, { ...c, outputPadding });
      assert.deepEqual(xBar.shape, x.shape);
      const lhs = dot(y, yBar);
      const rhs = dot(x, xBar);
      assert.ok(Math.abs(lhs - rhs) < 1e-10 * Math.max(1, Math.abs(lhs)), `${lhs} vs ${rhs}`);
    }
  });
});

describe('pooling', () => {
  // 5x5 plane whose values equal their flat index 0..24, so max-pool values double as indices.
  const x55 = iota([1, 1, 5, 5]);

  test('output size rule', () => {
    // floor((5-2)/2)+1 = 2; ceil -> ceil(1.5)+1 = 3 (last window starts at 4 < 5, kept).
    assert.equal(R.poolOutSize(5, 2, 2, 0, 0, 1, false), 2);
    assert.equal(R.poolOutSize(5, 2, 2, 0, 0, 1, true), 3);
    // H=2, k=3, s=3, pad 1: ceil((2+2-3)/3)+1 = 2, but window 1 would start at 3-1 = 2 = H, i.e.
    // entirely in the end padding, so PyTorch drops it: 1.
    assert.equal(R.poolOutSize(2, 3, 3, 1, 1, 1, true), 1);
    // Dilation: effective kernel 1+2*(3-1) = 5 on 7 -> floor(2/1)+1 = 3.
    assert.equal(R.poolOutSize(7, 3, 1, 0, 0, 2, false), 3);
  });

  test('max pool floor and ceil mode, with indices', () => {
    expectArr(R.maxPool2d(x55, { kernel: [2, 2], stride: [2, 2] }), [1, 1, 2, 2], [6, 8, 16, 18]);
    // Ceil mode: rows/cols windows {0,1},{2,3},{4}; max is the bottom-right in-bounds element.
    const { y, indices } = R.maxPool2dWithIndices(x55, { kernel: [2, 2], stride: [2, 2], ceilMode: true });
    expectArr(y, [1, 1, 3, 3], [6, 8, 9, 16, 18, 19, 21, 23, 24]);
    expectArr(indices, [1, 1, 3, 3], [6, 8, 9, 16, 18, 19, 21, 23, 24]);
  });

  test('max pool padding is -inf, ties keep the first, indices are per plane', () => {
    // All-negative input: zero padding would win, -inf padding does not. 3x3, k 3, s 1, pad 1.
    const neg = R.neg(iota([1, 1, 3, 3], 1)); // -1 .. -9
    // Each output is the largest (least negative) in-bounds neighbour: the top-left-most one.
    expectArr(R.maxPool2d(neg, { kernel: [3, 3], stride: [1, 1], padding: [1, 1, 1, 1] }), [1, 1, 3, 3], [-1, -1, -2, -1, -1, -2, -4, -4, -5]);
    // Ties: all equal -> index of the first element of each window. Second channel: same indices.
    const flat = arr([1, 2, 2, 2], [5, 5, 5, 5, 7, 7, 7, 7]);
    const r = R.maxPool2dWithIndices(flat, { kernel: [2, 2], stride: [1, 1], padding: [0, 0, 1, 1] });
    // Windows start at (0,0),(0,1),(1,0),(1,1): first in-bounds element index 0, 1, 2, 3.
    expectArr(r.indices, [1, 2, 2, 2], [0, 1, 2, 3, 0, 1, 2, 3]);
    expectArr(r.y, [1, 2, 2, 2], [5, 5, 5, 5, 7, 7, 7, 7]);
    // Dilation 2 on 0..24 with k 2: taps (r,c),(r,c+2),(r+2,c),(r+2,c+2); max at (r+2,c+2).
    expectArr(R.maxPool2d(x55, { kernel: [2, 2], stride: [1, 1], dilation: [2, 2] }), [1, 1, 3, 3], [12, 13, 14, 17, 18, 19, 22, 23, 24]);
  });

  test('avg pool divisors: countIncludePad and ceil mode', () => {
    // H = W = 4, k 3, s 2, pad 1, ceil: out = ceil((4+2-3)/2)+1 = 3 (last start 3 < 4+1, kept).
    // Row windows: {-1,0,1}, {1,2,3}, {3,4,5}. Padded input spans rows -1..4, so window 2 is
    // clipped to {3,4}: padded-size 2, of which 1 real row. Per axis: real = [2,3,1], padded = [3,3,2].
    const ones = R.add(arr([1, 1, 4, 4]), 1);
    const opts = { kernel: [3, 3], stride: [2, 2], padding: [1, 1, 1, 1], ceilMode: true } as const;
    // With countIncludePad: value = (real_i*real_j)/(padded_i*padded_j).
    expectArr(R.avgPool2d(ones, { ...opts, countIncludePad: true }), [1, 1, 3, 3], [4 / 9, 6 / 9, 2 / 6, 6 / 9, 1, 3 / 6, 2 / 6, 3 / 6, 1 / 4]);
    // Without: the mean of real elements of a ones input is 1.
    expectArr(R.avgPool2d(ones, { ...opts, countIncludePad: false }), [1, 1, 3, 3], new Array(9).fill(1));
    // Values 0..15: out[0][0] covers {0,1,4,5} -> sum 10; out[2][2] covers {15} only.
    const v = iota([1, 1, 4, 4]);
    const inc = R.avgPool2d(v, { ...opts, countIncludePad: true });
    const exc = R.avgPool2d(v, { ...opts, countIncludePad: false });
    assert.equal(at(inc, 0, 0, 0, 0), 10 / 9);
    assert.equal(at(exc, 0, 0, 0, 0), 10 / 4);
    assert.equal(at(inc, 0, 0, 2, 2), 15 / 4);
    assert.equal(at(exc, 0, 0, 2, 2), 15);
    // Defaults: stride = kernel, count_include_pad = true, floor mode.
    expectArr(R.avgPool2d(v, { kernel: [2, 2] }), [1, 1, 2, 2], [2.5, 4.5, 10.5, 12.5]);
  });

  test('adaptive avg pool 5 -> 3', () => {
    // Windows [floor(i*5/3), ceil((i+1)*5/3)): [0,2), [1,4), [3,5) -> {0,1}, {1,2,3}, {3,4}.
    expectArr(R.adaptiveAvgPool2d(arr([1, 1, 1, 5], [1, 2, 3, 4, 5]), [1, 3]), [1, 1, 1, 3], [1.5, 3, 4.5]);
    // 2-D on 0..24 (value = 5r + c): mean = 5*mean(rows) + mean(cols); row/col means [0.5, 2, 3.5].
    const m = [0.5, 2, 3.5];
    expectArr(R.adaptiveAvgPool2d(x55, [3, 3]), [1, 1, 3, 3], m.flatMap((r) => m.map((c) => 5 * r + c)));
    // Output 1x1 = global mean = 12.
    expectArr(R.adaptiveAvgPool2d(x55, [1, 1]), [1, 1, 1, 1], [12]);
  });
});

describe('resize2d', () => {
  // [[1, 2], [3, 4]]; bilinear is separable: value = 1 + colCoord + 2 * rowCoord (exact, linear).
  const x = arr([1, 1, 2, 2], [1, 2, 3, 4]);

  test('bilinear 2x2 -> 4x4, align_corners=false (PyTorch default)', () => {
    // src = (d + 0.5)/2 - 0.5 = [-0.25 -> 0, 0.25, 0.75, 1.25 -> index 1 clamped (x1 = x0 = 1)],
    // i.e. effective coordinates [0, 0.25, 0.75, 1]. Matches torch's well-known
    // [[1, 1.25, 1.75, 2], [1.5, 1.75, 2.25, 2.5], [2.5, 2.75, 3.25, 3.5], [3, 3.25, 3.75, 4]].
    const expected = [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4];
    expectArr(R.resize2d(x, { size: [4, 4] }, 'bilinear', false), [1, 1, 4, 4], expected);
    expectArr(R.resize2d(x, { scale: [2, 2] }, 'bilinear', false), [1, 1, 4, 4], expected);
  });

  test('bilinear 2x2 -> 4x4, align_corners=true', () => {
    // src = d * (2-1)/(4-1) = [0, 1/3, 2/3, 1]: value = 1 + c/3 + 2r/3.
    const expected: number[] = [];
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) expected.push(1 + c / 3 + (2 * r) / 3);
    assert.deepEqual(expected.slice(0, 4), [1, 1 + 1 / 3, 1 + 2 / 3, 2]);
    expectArr(R.resize2d(x, { size: [4, 4] }, 'bilinear', true), [1, 1, 4, 4], expected);
    // Output size 1 with align corners takes source 0.
    expectArr(R.resize2d(x, { size: [1, 1] }, 'bilinear', true), [1, 1, 1, 1], [1]);
  });

  test('nearest (legacy) and scale vs size', () => {
    // floor(d / 2) = [0, 0, 1, 1].
    expectArr(R.resize2d(x, { scale: [2, 2] }, 'nearest', false), [1, 1, 4, 4], [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    // 3 -> 2: floor(d * 3/2) = [0, 1] (legacy nearest, not nearest-exact which would give [0, 2]).
    expectArr(R.resize2d(arr([1, 1, 1, 3], [10, 20, 30]), { size: [1, 2] }, 'nearest', false), [1, 1, 1, 2], [10, 20]);
    // 1x5 row [0..4] with scale 0.5: out W = floor(2.5) = 2. The given scale is used for coordinates:
    // src = (d + 0.5)/0.5 - 0.5 = [0.5, 2.5]; asking for size 2 instead uses 2/5: src = [0.75, 3.25].
    const row = iota([1, 1, 1, 5]);
    expectArr(R.resize2d(row, { scale: [1, 0.5] }, 'bilinear', false), [1, 1, 1, 2], [0.5, 2.5]);
    expectArr(R.resize2d(row, { size: [1, 2] }, 'bilinear', false), [1, 1, 1, 2], [0.75, 3.25]);
    // Nearest with scale 0.5: floor(d / 0.5) = [0, 2].
    expectArr(R.resize2d(row, { scale: [1, 0.5] }, 'nearest', false), [1, 1, 1, 2], [0, 2]);
  });
});

describe('softmax and normalisation', () => {
  test('softmax / logSoftmax of [1, 2, 3]', () => {
    // e^k / (e + e^2 + e^3); log-sum-exp = 3 + log(1 + e^-1 + e^-2) = 3.40760596444438.
    const x = arr([3], [1, 2, 3]);
    expectArr(R.softmax(x, 0), [3], [0.09003057317038046, 0.24472847105479767, 0.6652409557748219], 1e-15);
    expectArr(R.logSoftmax(x, -1), [3], [-2.40760596444438, -1.40760596444438, -0.40760596444438], 1e-14);
    // Shift invariance / no overflow: [1001, 1002, 1003] gives the same.
    expectArr(R.softmax(arr([3], [1001, 1002, 1003]), 0), [3], [0.09003057317038046, 0.24472847105479767, 0.6652409557748219], 1e-15);
    // Axis 0 of [[0, 0], [ln 3, 0]]: column 0 -> [1/4, 3/4], column 1 -> [1/2, 1/2].
    expectArr(R.softmax(arr([2, 2], [0, 0, Math.log(3), 0]), 0), [2, 2], [0.25, 0.5, 0.75, 0.5]);
  });

  test('layer norm of [1, 2, 3, 4] over the last axis', () => {
    // mean 2.5, biased variance (2.25 + 0.25 + 0.25 + 2.25)/4 = 1.25; (x - 2.5)/sqrt(1.25).
    const x = arr([2, 4], [1, 2, 3, 4, 2, 2, 2, 2]);
    const s = Math.sqrt(1.25);
    expectArr(R.layerNorm(arr([4], [1, 2, 3, 4]), null, null, 0), [4], [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s]);
    // With eps and affine: y = (x - 2.5)/sqrt(1.25 + eps) * w + b. The second row is constant:
    // variance 0, x - mean = 0, so only the bias remains.
    const e = Math.sqrt(1.25 + 1e-5);
    const w = arr([4], [1, 2, 3, 4]);
    const b = arr([4], [0, 0, 0, 10]);
    expectArr(R.layerNorm(x, w, b, 1e-5), [2, 4], [-1.5 / e, -1 / e, 1.5 / e, 6 / e + 10, 0, 0, 0, 10]);
  });

  test('batch norm inference and training', () => {
    // x [2, 2, 1, 2]: channel 0 holds 1, 2 (n=0) and 3, 4 (n=1); channel 1 holds 10 everywhere.
    const x = arr([2, 2, 1, 2], [1, 2, 10, 10, 3, 4, 10, 10]);
    const t = R.batchNormTraining(x, arr([2], [2, 1]), arr([2], [0, -1]), 0);
    // Channel 0: mean 2.5, biased var 1.25, unbiased 5/3. Channel 1: mean 10, var 0.
    expectArr(t.mean, [2], [2.5, 10]);
    expectArr(t.varBiased, [2], [1.25, 0]);
    expectArr(t.varUnbiased, [2], [5 / 3, 0]);
    const s = Math.sqrt(1.25);
    // y = 2*(x - 2.5)/sqrt(1.25) for channel 0; channel 1: 0/0 with eps 0 -> NaN, so use eps below.
    assert.ok(Number.isNaN(t.y.data[2]!));
    assert.equal(t.y.data[0], (2 * -1.5) / s);
    const t2 = R.batchNormTraining(x, null, null, 1e-5);
    const e = Math.sqrt(1.25 + 1e-5);
    expectArr(t2.y, [2, 2, 1, 2], [-1.5 / e, -0.5 / e, 0, 0, 0.5 / e, 1.5 / e, 0, 0]);
    // Inference: (x - rm)/sqrt(rv + eps)*w + b with rm = [1, 10], rv = [4, 1], w = [1, 3], b = [0, 1], eps 0.
    const y = R.batchNormInference(x, arr([2], [1, 10]), arr([2], [4, 1]), arr([2], [1, 3]), arr([2], [0, 1]), 0);
    expectArr(y, [2, 2, 1, 2], [0, 0.5, 1, 1, 1, 1.5, 1, 1]);
  });
});

describe('shape ops', () => {
  const x23 = iota([2, 3]); // [[0,1,2],[3,4,5]]

  test('transpose and reshape', () => {
    expectArr(R.transpose(x23), [3, 2], [0, 3, 1, 4, 2, 5]);
    // [2,3,4] -> perm [2,0,1] -> [4,2,3]; out[k][i][j] = x[i][j][k] = 12i + 4j + k.
    const x = iota([2, 3, 4]);
    const t = R.transpose(x, [2, 0, 1]);
    assert.deepEqual(t.shape, [4, 2, 3]);
    assert.equal(at(t, 3, 1, 2), 12 + 8 + 3);
    expectArr(R.reshape(x23, [3, -1]), [3, 2], [0, 1, 2, 3, 4, 5]);
    assert.throws(() => R.reshape(x23, [4, -1]), /cannot reshape/);
  });

  test('concat and split', () => {
    const a = arr([2, 1], [9, 8]);
    expectArr(R.concat([x23, a], 1), [2, 4], [0, 1, 2, 9, 3, 4, 5, 8]);
    expectArr(R.concat([x23, x23], 0), [4, 3], [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
    const [p, q] = R.split(x23, -1, [1, 2]);
    expectArr(p!, [2, 1], [0, 3]);
    expectArr(q!, [2, 2], [1, 2, 4, 5]);
  });

  test('slice: ONNX semantics', () => {
    const v = iota([10]); // 0..9
    expectArr(R.slice(v, [2], [1e9]), [8], [2, 3, 4, 5, 6, 7, 8, 9]); // end clamped to 10
    expectArr(R.slice(v, [-3], [-1]), [2], [7, 8]); // -3 -> 7, -1 -> 9
    expectArr(R.slice(v, [8], [1], [0], [-3]), [3], [8, 5, 2]); // ceil((1-8)/-3) = 3 elements
    // start -1 -> 9; end -11 -> -1 after adding 10, clamped to -1 = "through index 0": full reverse.
    expectArr(R.slice(v, [-1], [-11], [0], [-1]), [10], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    // Very negative end (INT64_MIN-like) with negative step also means through index 0; start 100 clamps to 9.
    expectArr(R.slice(v, [100], [-1e18], [0], [-4]), [3], [9, 5, 1]);
    expectArr(R.slice(v, [5], [2]), [0], []); // empty
    // Axis -1 of [[0,1,2],[3,4,5]] with step 2: columns 0 and 2.
    expectArr(R.slice(x23, [0], [3], [-1], [2]), [2, 2], [0, 2, 3, 5]);
  });

  test('pad: ONNX pads order and modes', () => {
    const v = arr([3], [1, 2, 3]);
    expectArr(R.pad(v, [2, 2], 'reflect'), [7], [3, 2, 1, 2, 3, 2, 1]);
    expectArr(R.pad(v, [2, 2], 'edge'), [7], [1, 1, 1, 2, 3, 3, 3]);
    expectArr(R.pad(v, [1, 0], 'constant', 9), [4], [9, 1, 2, 3]);
    expectArr(R.pad(v, [-1, 1], 'constant', 0), [3], [2, 3, 0]); // negative pad crops
    // [[1,2],[3,4]], pads [h_begin=0, w_begin=1, h_end=0, w_end=1]: zero columns on both sides.
    expectArr(R.pad(arr([2, 2], [1, 2, 3, 4]), [0, 1, 0, 1]), [2, 4], [0, 1, 2, 0, 0, 3, 4, 0]);
    // pads [1, 0, 0, 0]: one zero row on top only.
    expectArr(R.pad(arr([2, 2], [1, 2, 3, 4]), [1, 0, 0, 0]), [3, 2], [0, 0, 1, 2, 3, 4]);
    // Reflect in 2-D: rows mirrored about row 0 -> row 1 comes first.
    expectArr(R.pad(arr([2, 2], [1, 2, 3, 4]), [1, 0, 0, 1], 'reflect'), [3, 3], [3, 4, 3, 1, 2, 1, 3, 4, 3]);
  });
});

describe('reductions and indexing', () => {
  const x = iota([2, 3]); // [[0,1,2],[3,4,5]]

  test('reduceSum / reduceMean / reduceMax', () => {
    expectArr(R.reduceSum(x, [1]), [2], [3, 12]);
    expectArr(R.reduceSum(x, [0], true), [1, 3], [3, 5, 7]);
    expectArr(R.reduceSum(x), [], [15]); // no axes = all axes
    expectArr(R.reduceMean(x, [-1], true), [2, 1], [1, 4]);
    expectArr(R.reduceMean(x, [0, 1]), [], [2.5]);
    expectArr(R.reduceMax(arr([2, 2], [1, -5, NaN, 0]), [1]), [2], [1, NaN]);
    // [2,3,2] reduced over axes 0 and 2: out[j] = sum_i,k (6i + 2j + k) = 4*2j + (0+1+6+7) = 4j*2 + 14.
    expectArr(R.reduceSum(iota([2, 3, 2]), [0, 2]), [3], [14, 22, 30]);
  });

  test('argmax takes the first maximum', () => {
    const a = arr([2, 4], [1, 7, 7, 0, 3, 3, 3, 3]);
    expectArr(R.argmax(a, 1), [2], [1, 0]);
    expectArr(R.argmax(a, -1, true), [2, 1], [1, 0]);
    expectArr(R.argmax(a, 0), [4], [1, 0, 0, 1]); // column 2: 7 vs 3 -> 0; column 3: 0 vs 3 -> 1
  });

  test('gather (ONNX)', () => {
    // axis 0 with indices [[1, -2]] (shape [1,2]): rows 1 and 0 -> shape [1, 2, 3].
    expectArr(R.gather(x, { data: [1, -2], shape: [1, 2] }, 0), [1, 2, 3], [3, 4, 5, 0, 1, 2]);
    // axis 1 with indices [2, 0]: columns 2 and 0 -> shape [2, 2].
    expectArr(R.gather(x, { data: new Float64Array([2, 0]), shape: [2] }, 1), [2, 2], [2, 0, 5, 3]);
    // scalar index removes the axis: shape [3].
    expectArr(R.gather(x, { data: [-1], shape: [] }, 0), [3], [3, 4, 5]);
    assert.throws(() => R.gather(x, { data: [3], shape: [1] }, 1), /out of range/);
  });

  test('oneHot', () => {
    // Index 255 (an "ignore" label) and -1 are outside [0, 3): all-zero rows.
    expectArr(R.oneHot({ data: [0, 2, 255, -1], shape: [2, 2] }, 3), [2, 2, 3], [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  });
});

describe('numericGrad', () => {
  test('matches analytic gradients', () => {
    // f(x) = sum x^2 + sin(x0 * x1): df/dx0 = 2x0 + x1 cos(x0 x1), df/dx1 = 2x1 + x0 cos(x0 x1), df/dx2 = 2x2.
    const x = arr([3], [0.3, -1.2, 2]);
    const f = (v: Arr): number => v.data.reduce((s, t) => s + t * t, 0) + Math.sin(v.data[0]! * v.data[1]!);
    const c = Math.cos(0.3 * -1.2);
    expectArr(R.numericGrad(f, x), [3], [0.6 - 1.2 * c, -2.4 + 0.3 * c, 4], 1e-8);
    assert.deepEqual([...x.data], [0.3, -1.2, 2]); // input untouched
  });

  test('gradient of a reference op: d/dx sum(softmax(x) * t) ', () => {
    // For s = softmax(x): d(sum s*t)/dx_i = s_i (t_i - sum_j s_j t_j).
    const x = randn([5], makeRng(5));
    const t = randn([5], makeRng(6));
    const s = R.softmax(x, 0);
    const st = dot(s, t);
    const analytic = R.mul(s, R.sub(t, st));
    const numeric = R.numericGrad((v) => dot(R.softmax(v, 0), t), x);
    assertClose(numeric, analytic, 1e-8, 'softmax grad');
  });
});
