// Float64 reference implementations of tensor ops, written straight from PyTorch / ONNX
// semantics with plain loops. Used by tests to check the ONNX-based engine, so it must stay
// independent of src/ and favour clarity over speed. Layout is NCHW throughout.

import { arr, clone, normAxis, numel, ravel, stridesOf, unravel, type Arr } from './ndarray.js';

type Pair = readonly [number, number];
/** 2-D pads in ONNX order: [top, left, bottom, right] = [h_begin, w_begin, h_end, w_end]. */
type Pads4 = readonly [number, number, number, number];
/** An index tensor: plain integers, e.g. { data: [0, 2], shape: [2] }. */
export interface IndexArr {
  data: ArrayLike<number>;
  shape: readonly number[];
}

function shapeStr(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

function fail(op: string, msg: string): never {
  throw new Error(`${op}: ${msg}`);
}

const asArr = (x: Arr | number): Arr => (typeof x === 'number' ? arr([], [x]) : x);

// =============================================================================================
// Broadcasting elementwise ops

/** NumPy broadcasting: align shapes on the right; each dim must be equal or 1. */
export function broadcastShapes(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i]!;
      if (d === 1) continue;
      if (out[o] === 1) out[o] = d;
      else if (out[o] !== d) fail('broadcast', `shapes ${shapes.map(shapeStr).join(', ')} are not compatible`);
    }
  }
  return out;
}

/** Offset into an array of `shape` for output multi-index `outIdx` (size-1 dims repeat). */
function broadcastOffset(outIdx: readonly number[], shape: readonly number[]): number {
  const st = stridesOf(shape);
  const lead = outIdx.length - shape.length;
  let off = 0;
  for (let i = 0; i < shape.length; i++) if (shape[i] !== 1) off += outIdx[lead + i]! * st[i]!;
  return off;
}

/** out[i] = f(x0[i], x1[i], ...) with broadcasting over all inputs. */
function zipN(xs: Arr[], f: (...v: number[]) => number): Arr {
  const shape = broadcastShapes(...xs.map((x) => x.shape));
  const out = arr(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape);
    out.data[i] = f(...xs.map((x) => x.data[broadcastOffset(idx, x.shape)]!));
  }
  return out;
}

const binary =
  (f: (a: number, b: number) => number) =>
  (a: Arr | number, b: Arr | number): Arr =>
    zipN([asArr(a), asArr(b)], f);

export const add = binary((a, b) => a + b);
export const sub = binary((a, b) => a - b);
export const mul = binary((a, b) => a * b);
export const div = binary((a, b) => a / b);
export const pow = binary((a, b) => Math.pow(a, b));
export const maximum = binary((a, b) => Math.max(a, b)); // NaN propagates, as in torch.maximum
export const minimum = binary((a, b) => Math.min(a, b));
export const equal = binary((a, b) => (a === b ? 1 : 0));
export const less = binary((a, b) => (a < b ? 1 : 0));
export const greater = binary((a, b) => (a > b ? 1 : 0));
export const lessEqual = binary((a, b) => (a <= b ? 1 : 0));
export const greaterEqual = binary((a, b) => (a >= b ? 1 : 0));

/** cond != 0 ? a : b, broadcasting over all three. */
export function where(cond: Arr, a: Arr | number, b: Arr | number): Arr {
  return zipN([cond, asArr(a), asArr(b)], (c, x, y) => (c !== 0 ? x : y));
}

// =============================================================================================
// Unary ops

/** out[i] = f(x[i]). */
export function map(x: Arr, f: (v: number) => number): Arr {
  const out = arr(x.shape);
  for (let i = 0; i < x.data.length; i++) out.data[i] = f(x.data[i]!);
  return out;
}

export const neg = (x: Arr): Arr => map(x, (v) => -v);
export const abs = (x: Arr): Arr => map(x, Math.abs);
export const exp = (x: Arr): Arr => map(x, Math.exp);
export const log = (x: Arr): Arr => map(x, Math.log);
export const sqrt = (x: Arr): Arr => map(x, Math.sqrt);
export const reciprocal = (x: Arr): Arr => map(x, (v) => 1 / v);
export const relu = (x: Arr): Arr => map(x, (v) => Math.max(v, 0)); // relu(NaN) = NaN
export const tanh = (x: Arr): Arr => map(x, Math.tanh);
export const sigmoid = (x: Arr): Arr => map(x, sigmoidScalar);
export const erf = (x: Arr): Arr => map(x, erfScalar);
/** Exact GELU (PyTorch approximate='none'): x * 0.5 * (1 + erf(x / sqrt 2)). */
export const gelu = (x: Arr): Arr => map(x, (v) => v * 0.5 * (1 + erfScalar(v / Math.SQRT2)));
/** SiLU / swish: x * sigmoid(x). */
export const silu = (x: Arr): Arr => map(x, (v) => v * sigmoidScalar(v));

/** Logistic function without overflow in exp for large |x|. */
export function sigmoidScalar(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * erf, correctly rounded but for rare ties. |x| < 3: the Maclaurin series
 * erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1)), summed in double-double arithmetic
 * (~32 digits) so the cancellation between its terms (at most ~3 digits for |x| < 3) is harmless.
 * 3 <= |x| < 6: erf = 1 - erfc, erfc from its continued fraction
 * erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))); erfc < 2.3e-5
 * there, so its few-ulp error is far below an ulp of the result. |x| >= 6: erfc < 2.2e-17, erf = 1.
 */
export function erfScalar(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return -erfScalar(-x);
  if (x >= 6) return 1;
  if (x >= 3) return 1 - erfcContinuedFraction(x);
  let power: DD = [x, 0]; // x^(2n+1) / n!
  let sum: DD = [x, 0];
  for (let n = 1; n < 200; n++) {
    power = ddDiv(ddMul(ddMul(power, x), x), n);
    const term = ddDiv(power, 2 * n + 1);
    sum = ddAdd(sum, n % 2 === 1 ? [-term[0], -term[1]] : term);
    if (Math.abs(term[0]) < 1e-34 * Math.abs(sum[0])) break;
  }
  const r = ddMulDD(sum, TWO_OVER_SQRT_PI);
  return r[0] + r[1];
}

/** erfc(x) for x >= 3 via the continued fraction above, evaluated bottom-up from a fixed depth. */
function erfcContinuedFraction(x: number): number {
  let f = x;
  for (let k = 200; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

// Double-double arithmetic (a value is hi + lo with |lo| <= ulp(hi)/2), only what erfScalar needs.
type DD = [number, number];
/** 2/sqrt(pi) as a double-double. */
const TWO_OVER_SQRT_PI: DD = [1.1283791670955126, 1.533545961316588e-17];

/** s + e = a + b exactly. */
function twoSum(a: number, b: number): DD {
  const s = a + b;
  const bb = s - a;
  return [s, a - (s - bb) + (b - bb)];
}

/** p + e = a * b exactly (Dekker's product, no fma needed). */
function twoProd(a: number, b: number): DD {
  const p = a * b;
  const split = (v: number): DD => {
    const c = 134217729 * v; // 2^27 + 1
    const hi = c - (c - v);
    return [hi, v - hi];
  };
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

function renorm(hi: number, lo: number): DD {
  const s = hi + lo;
  return [s, lo - (s - hi)];
}

function ddAdd(a: DD, b: DD): DD {
  const [s, e] = twoSum(a[0], b[0]);
  return renorm(s, e + a[1] + b[1]);
}

function ddMul(a: DD, b: number): DD {
  const [p, e] = twoProd(a[0], b);
  return renorm(p, e + a[1] * b);
}

function ddMulDD(a: DD, b: DD): DD {
  const [p, e] = twoProd(a[0], b[0]);
  return renorm(p, e + a[0] * b[1] + a[1] * b[0]);
}

function ddDiv(a: DD, b: number): DD {
  const q1 = a[0] / b;
  const [p, e] = twoProd(q1, b);
  const q2 = (a[0] - p - e + a[1]) / b;
  return renorm(q1, q2);
}

/** Clamp into [min, max] (either bound optional). With min > max every value becomes max (ONNX/PyTorch). */
export function clip(x: Arr, min?: number, max?: number): Arr {
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  return map(x, (v) => Math.min(Math.max(v, lo), hi));
}

/** PReLU: x < 0 ? slope * x : x. slope has 1 element (shared) or C = x.shape[1] elements (per channel). */
export function prelu(x: Arr, slope: Arr): Arr {
  const n = slope.data.length;
  const out = arr(x.shape);
  if (n === 1) return map(x, (v) => (v < 0 ? slope.data[0]! * v : v));
  if (x.shape.length < 2 || x.shape[1] !== n) {
    fail('prelu', `slope has ${n} elements; needs 1 or x.shape[1] for x ${shapeStr(x.shape)}`);
  }
  const inner = numel(x.shape.slice(2));
  for (let i = 0; i < x.data.length; i++) {
    const c = Math.floor(i / inner) % n;
    const v = x.data[i]!;
    out.data[i] = v < 0 ? slope.data[c]! * v : v;
  }
  return out;
}

/** Dropout with an explicit keep-mask (1 = keep): x * mask / (1 - p). p = 1 gives zeros, as PyTorch. */
export function dropout(x: Arr, mask: Arr, p: number): Arr {
  if (p === 1) return mul(x, 0);
  return zipN([x, mask], (v, m) => (v * m) / (1 - p));
}

// =============================================================================================
// Matrix multiply

/** NumPy matmul: batch dims broadcast; a 1-D operand is promoted to a matrix and the added dim removed. */
export function matmul(a: Arr, b: Arr): Arr {
  if (a.shape.length === 0 || b.shape.length === 0) fail('matmul', 'scalars are not allowed');
  const aVec = a.shape.length === 1;
  const bVec = b.shape.length === 1;
  const A = aVec ? reshape(a, [1, a.shape[0]!]) : a;
  const B = bVec ? reshape(b, [b.shape[0]!, 1]) : b;
  const [m, k] = A.shape.slice(-2) as [number, number];
  const [k2, n] = B.shape.slice(-2) as [number, number];
  if (k !== k2) fail('matmul', `inner dims differ: ${shapeStr(a.shape)} @ ${shapeStr(b.shape)}`);
  const aBatch = A.shape.slice(0, -2);
  const bBatch = B.shape.slice(0, -2);
  const batch = broadcastShapes(aBatch, bBatch);
  const out = arr([...batch, m, n]);
  for (let bi = 0; bi < numel(batch); bi++) {
    const idx = unravel(bi, batch);
    const aOff = broadcastOffset(idx, aBatch) * m * k;
    const bOff = broadcastOffset(idx, bBatch) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += A.data[aOff + i * k + p]! * B.data[bOff + p * n + j]!;
        out.data[bi * m * n + i * n + j] = s;
      }
    }
  }
  let shape = out.shape;
  if (aVec) shape = [...shape.slice(0, -2), n];
  if (bVec) shape = shape.slice(0, -1);
  return reshape(out, shape);
}

// =============================================================================================
// Convolution

export interface Conv2dOptions {
  stride?: Pair;
  /** [top, left, bottom, right] (ONNX order), zero padding. */
  padding?: Pads4;
  dilation?: Pair;
  groups?: number;
}

/** 2-D cross-correlation (PyTorch conv2d). x [N,Cin,H,W], w [Cout, Cin/groups, kh, kw], bias [Cout]. */
export function conv2d(x: Arr, w: Arr, bias: Arr | null, opts: Conv2dOptions = {}): Arr {
  const [sh, sw] = opts.stride ?? [1, 1];
  const [pt, pl, pb, pr] = opts.padding ?? [0, 0, 0, 0];
  const [dh, dw] = opts.dilation ?? [1, 1];
  const groups = opts.groups ?? 1;
  const [N, Cin, H, W] = x.shape as [number, number, number, number];
  const [Cout, CinG, kh, kw] = w.shape as [number, number, number, number];
  if (x.shape.length !== 4 || w.shape.length !== 4) fail('conv2d', `x ${shapeStr(x.shape)}, w ${shapeStr(w.shape)} must be 4-D`);
  if (Cin !== CinG * groups || Cout % groups !== 0) {
    fail('conv2d', `channels: x ${shapeStr(x.shape)}, w ${shapeStr(w.shape)}, groups ${groups}`);
  }
  const OH = Math.floor((H + pt + pb - dh * (kh - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  if (OH <= 0 || OW <= 0) fail('conv2d', `empty output ${OH}x${OW}`);
  const CoutG = Cout / groups;
  const y = arr([N, Cout, OH, OW]);
  for (let n = 0; n < N; n++) {
    for (let co = 0; co < Cout; co++) {
      const g = Math.floor(co / CoutG);
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let s = bias ? bias.data[co]! : 0;
          for (let ci = 0; ci < CinG; ci++) {
            for (let i = 0; i < kh; i++) {
              const ih = oh * sh - pt + i * dh;
              if (ih < 0 || ih >= H) continue;
              for (let j = 0; j < kw; j++) {
                const iw = ow * sw - pl + j * dw;
                if (iw < 0 || iw >= W) continue;
                s += x.data[ravel([n, g * CinG + ci, ih, iw], x.shape)]! * w.data[ravel([co, ci, i, j], w.shape)]!;
              }
            }
          }
          y.data[ravel([n, co, oh, ow], y.shape)] = s;
        }
      }
    }
  }
  return y;
}

export interface ConvTranspose2dOptions extends Conv2dOptions {
  /** Extra rows/cols added at the bottom/right of the output. */
  outputPadding?: Pair;
}

/**
 * Transposed convolution (PyTorch conv_transpose2d; ONNX ConvTranspose for asymmetric pads):
 * each input pixel (ih, iw) scatters x * w into output (ih*sh - pt + i*dh, iw*sw - pl + j*dw).
 * x [N,Cin,H,W], w [Cin, Cout/groups, kh, kw]. Out H = (H-1)*sh - pt - pb + dh*(kh-1) + outputPadding + 1.
 */
export function convTranspose2d(x: Arr, w: Arr, bias: Arr | null, opts: ConvTranspose2dOptions = {}): Arr {
  const [sh, sw] = opts.stride ?? [1, 1];
  const [pt, pl, pb, pr] = opts.padding ?? [0, 0, 0, 0];
  const [oph, opw] = opts.outputPadding ?? [0, 0];
  const [dh, dw] = opts.dilation ?? [1, 1];
  const groups = opts.groups ?? 1;
  const [N, Cin, H, W] = x.shape as [number, number, number, number];
  const [wCin, CoutG, kh, kw] = w.shape as [number, number, number, number];
  if (x.shape.length !== 4 || w.shape.length !== 4) fail('convTranspose2d', `x ${shapeStr(x.shape)}, w ${shapeStr(w.shape)} must be 4-D`);
  if (wCin !== Cin || Cin % groups !== 0) {
    fail('convTranspose2d', `channels: x ${shapeStr(x.shape)}, w ${shapeStr(w.shape)}, groups ${groups}`);
  }
  const CinG = Cin / groups;
  const Cout = CoutG * groups;
  const OH = (H - 1) * sh - pt - pb + dh * (kh - 1) + oph + 1;
  const OW = (W - 1) * sw - pl - pr + dw * (kw - 1) + opw + 1;
  if (OH <= 0 || OW <= 0) fail('convTranspose2d', `empty output ${OH}x${OW}`);
  const y = arr([N, Cout, OH, OW]);
  for (let n = 0; n < N; n++) {
    for (let co = 0; co < Cout; co++) {
      const b = bias ? bias.data[co]! : 0;
      for (let p = 0; p < OH * OW; p++) y.data[ravel([n, co, 0, 0], y.shape) + p] = b;
    }
    for (let ci = 0; ci < Cin; ci++) {
      const g = Math.floor(ci / CinG);
      for (let ih = 0; ih < H; ih++) {
        for (let iw = 0; iw < W; iw++) {
          const v = x.data[ravel([n, ci, ih, iw], x.shape)]!;
          for (let oc = 0; oc < CoutG; oc++) {
            for (let i = 0; i < kh; i++) {
              const oh = ih * sh - pt + i * dh;
              if (oh < 0 || oh >= OH) continue;
              for (let j = 0; j < kw; j++) {
                const ow = iw * sw - pl + j * dw;
                if (ow < 0 || ow >= OW) continue;
                y.data[ravel([n, g * CoutG + oc, oh, ow], y.shape)] += v * w.data[ravel([ci, oc, i, j], w.shape)]!;
              }
            }
          }
        }
      }
    }
  }
  return y;
}

// =============================================================================================
// Pooling

/**
 * Pooled length along one axis, PyTorch's pooling_output_shape: floor or ceil of
 * (in + padBegin + padEnd - d*(k-1) - 1) / s, plus 1; in ceil mode the last window must start
 * inside the input or the begin padding, else it is dropped.
 */
export function poolOutSize(inSize: number, k: number, s: number, padBegin: number, padEnd: number, d: number, ceilMode: boolean): number {
  const span = inSize + padBegin + padEnd - d * (k - 1) - 1;
  let out = (ceilMode ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceilMode && (out - 1) * s >= inSize + padBegin) out--;
  return out;
}

export interface PoolOptions {
  kernel: Pair;
  /** Defaults to the kernel size, as in PyTorch. */
  stride?: Pair;
  /** [top, left, bottom, right] (ONNX order). */
  padding?: Pads4;
  ceilMode?: boolean;
}

export interface MaxPoolOptions extends PoolOptions {
  dilation?: Pair;
}

/** Max pool; padding counts as -inf. Also returns PyTorch-style argmax indices (flat into each H*W plane). */
export function maxPool2dWithIndices(x: Arr, opts: MaxPoolOptions): { y: Arr; indices: Arr } {
  const [kh, kw] = opts.kernel;
  const [sh, sw] = opts.stride ?? opts.kernel;
  const [pt, pl, pb, pr] = opts.padding ?? [0, 0, 0, 0];
  const [dh, dw] = opts.dilation ?? [1, 1];
  const ceil = opts.ceilMode ?? false;
  if (x.shape.length !== 4) fail('maxPool2d', `x ${shapeStr(x.shape)} must be 4-D`);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const OH = poolOutSize(H, kh, sh, pt, pb, dh, ceil);
  const OW = poolOutSize(W, kw, sw, pl, pr, dw, ceil);
  if (OH <= 0 || OW <= 0) fail('maxPool2d', `empty output ${OH}x${OW}`);
  const y = arr([N, C, OH, OW]);
  const indices = arr([N, C, OH, OW]);
  for (let nc = 0; nc < N * C; nc++) {
    const plane = nc * H * W;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let best = -Infinity;
        let bestIdx = -1;
        for (let i = 0; i < kh; i++) {
          const ih = oh * sh - pt + i * dh;
          if (ih < 0 || ih >= H) continue;
          for (let j = 0; j < kw; j++) {
            const iw = ow * sw - pl + j * dw;
            if (iw < 0 || iw >= W) continue;
            const v = x.data[plane + ih * W + iw]!;
            // First in-bounds element seeds the index; strict > keeps the first max; NaN wins (PyTorch).
            if (bestIdx < 0 || v > best || Number.isNaN(v)) {
              best = v;
              bestIdx = ih * W + iw;
            }
          }
        }
        const o = (nc * OH + oh) * OW + ow;
        y.data[o] = best;
        indices.data[o] = bestIdx;
      }
    }
  }
  return { y, indices };
}

export function maxPool2d(x: Arr, opts: MaxPoolOptions): Arr {
  return maxPool2dWithIndices(x, opts).y;
}

export interface AvgPoolOptions extends PoolOptions {
  /** Default true, as PyTorch. */
  countIncludePad?: boolean;
}

/**
 * Average pool with PyTorch's divisor: countIncludePad divides by the window clipped to the
 * padded input (so a ceil-mode window hanging past the end padding is not counted in full);
 * otherwise by the number of real input elements in the window.
 */
export function avgPool2d(x: Arr, opts: AvgPoolOptions): Arr {
  const [kh, kw] = opts.kernel;
  const [sh, sw] = opts.stride ?? opts.kernel;
  const [pt, pl, pb, pr] = opts.padding ?? [0, 0, 0, 0];
  const ceil = opts.ceilMode ?? false;
  const includePad = opts.countIncludePad ?? true;
  if (x.shape.length !== 4) fail('avgPool2d', `x ${shapeStr(x.shape)} must be 4-D`);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const OH = poolOutSize(H, kh, sh, pt, pb, 1, ceil);
  const OW = poolOutSize(W, kw, sw, pl, pr, 1, ceil);
  if (OH <= 0 || OW <= 0) fail('avgPool2d', `empty output ${OH}x${OW}`);
  const y = arr([N, C, OH, OW]);
  for (let nc = 0; nc < N * C; nc++) {
    const plane = nc * H * W;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        // Window clipped to the padded input [-pt, H + pb) x [-pl, W + pr) ...
        let h0 = oh * sh - pt;
        let w0 = ow * sw - pl;
        let h1 = Math.min(h0 + kh, H + pb);
        let w1 = Math.min(w0 + kw, W + pr);
        const padded = (h1 - h0) * (w1 - w0);
        // ... then to the real input.
        h0 = Math.max(h0, 0);
        w0 = Math.max(w0, 0);
        h1 = Math.min(h1, H);
        w1 = Math.min(w1, W);
        const o = (nc * OH + oh) * OW + ow;
        if (h0 >= h1 || w0 >= w1) {
          y.data[o] = 0;
          continue;
        }
        let s = 0;
        for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) s += x.data[plane + ih * W + iw]!;
        y.data[o] = s / (includePad ? padded : (h1 - h0) * (w1 - w0));
      }
    }
  }
  return y;
}

/** Adaptive average pool: output cell i averages input [floor(i*H/oh), ceil((i+1)*H/oh)). */
export function adaptiveAvgPool2d(x: Arr, outSize: Pair): Arr {
  const [OH, OW] = outSize;
  if (x.shape.length !== 4) fail('adaptiveAvgPool2d', `x ${shapeStr(x.shape)} must be 4-D`);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const y = arr([N, C, OH, OW]);
  for (let nc = 0; nc < N * C; nc++) {
    const plane = nc * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = Math.floor((oh * H) / OH);
      const h1 = Math.ceil(((oh + 1) * H) / OH);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = Math.floor((ow * W) / OW);
        const w1 = Math.ceil(((ow + 1) * W) / OW);
        let s = 0;
        for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) s += x.data[plane + ih * W + iw]!;
        y.data[(nc * OH + oh) * OW + ow] = s / ((h1 - h0) * (w1 - w0));
      }
    }
  }
  return y;
}

// =============================================================================================
// Resize

export type ResizeTarget = { size: Pair } | { scale: Pair };

/**
 * Source coordinate of output index `dst` along one axis (PyTorch upsample_*):
 * - alignCorners: dst * (in-1)/(out-1), 0 when out == 1 (a given scale is ignored);
 * - otherwise half-pixel: (dst + 0.5)/scale - 0.5, where scale is the given scale factor if one was
 *   given, else out/in; bilinear clamps negative source coordinates to 0.
 */
function bilinearSrc(dst: number, inSize: number, outSize: number, scale: number | null, alignCorners: boolean): number {
  if (alignCorners) return outSize > 1 ? (dst * (inSize - 1)) / (outSize - 1) : 0;
  const src = scale !== null ? (dst + 0.5) / scale - 0.5 : ((dst + 0.5) * inSize) / outSize - 0.5;
  return Math.max(src, 0);
}

/** PyTorch legacy 'nearest' (not 'nearest-exact'): floor(dst / scale), capped at in-1. */
function nearestSrc(dst: number, inSize: number, outSize: number, scale: number | null): number {
  const src = scale !== null ? Math.floor(dst / scale) : Math.floor((dst * inSize) / outSize);
  return Math.min(src, inSize - 1);
}

/** Bilinear or nearest resize of the last two axes of [N, C, H, W]. Output size from a scale is floor(H * s). */
export function resize2d(x: Arr, target: ResizeTarget, mode: 'bilinear' | 'nearest', alignCorners = false): Arr {
  if (x.shape.length !== 4) fail('resize2d', `x ${shapeStr(x.shape)} must be 4-D`);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const scales: [number | null, number | null] = 'scale' in target ? [target.scale[0], target.scale[1]] : [null, null];
  const [OH, OW] = 'size' in target ? target.size : [Math.floor(H * target.scale[0]), Math.floor(W * target.scale[1])];
  if (OH <= 0 || OW <= 0) fail('resize2d', `empty output ${OH}x${OW}`);
  const y = arr([N, C, OH, OW]);
  for (let nc = 0; nc < N * C; nc++) {
    const plane = nc * H * W;
    const px = (h: number, w: number): number => x.data[plane + h * W + w]!;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let v: number;
        if (mode === 'nearest') {
          v = px(nearestSrc(oh, H, OH, scales[0]), nearestSrc(ow, W, OW, scales[1]));
        } else {
          const sy = bilinearSrc(oh, H, OH, scales[0], alignCorners);
          const sx = bilinearSrc(ow, W, OW, scales[1], alignCorners);
          const y0 = Math.min(Math.floor(sy), H - 1);
          const x0 = Math.min(Math.floor(sx), W - 1);
          const y1 = Math.min(y0 + 1, H - 1);
          const x1 = Math.min(x0 + 1, W - 1);
          const ly = sy - y0;
          const lx = sx - x0;
          v =
            (1 - ly) * ((1 - lx) * px(y0, x0) + lx * px(y0, x1)) + //
            ly * ((1 - lx) * px(y1, x0) + lx * px(y1, x1));
        }
        y.data[(nc * OH + oh) * OW + ow] = v;
      }
    }
  }
  return y;
}

// =============================================================================================
// Softmax and normalisation

/** Flat offsets of every 1-D lane of `shape` along `axis`. */
function lanes(shape: readonly number[], axis: number): number[][] {
  const st = stridesOf(shape);
  const len = shape[axis]!;
  const outer = numel(shape.slice(0, axis));
  const inner = numel(shape.slice(axis + 1));
  const result: number[][] = [];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * len * inner + i;
      result.push(Array.from({ length: len }, (_, k) => base + k * st[axis]!));
    }
  }
  return result;
}

function laneMax(x: Arr, lane: readonly number[]): number {
  return lane.reduce((m, i) => Math.max(m, x.data[i]!), -Infinity);
}

/** Softmax along `axis`, shifted by the lane max for stability. */
export function softmax(x: Arr, axis: number): Arr {
  const out = arr(x.shape);
  for (const lane of lanes(x.shape, normAxis(axis, x.shape.length))) {
    const m = laneMax(x, lane);
    const e = lane.map((i) => Math.exp(x.data[i]! - m));
    const s = e.reduce((a, b) => a + b, 0);
    lane.forEach((i, k) => (out.data[i] = e[k]! / s));
  }
  return out;
}

/** log(softmax) = x - max - log(sum(exp(x - max))). */
export function logSoftmax(x: Arr, axis: number): Arr {
  const out = arr(x.shape);
  for (const lane of lanes(x.shape, normAxis(axis, x.shape.length))) {
    const m = laneMax(x, lane);
    const lse = Math.log(lane.reduce((a, i) => a + Math.exp(x.data[i]! - m), 0));
    for (const i of lane) out.data[i] = x.data[i]! - m - lse;
  }
  return out;
}

/** Layer norm over the LAST axis with biased variance; weight/bias have that axis's length. */
export function layerNorm(x: Arr, weight: Arr | null, bias: Arr | null, eps: number): Arr {
  const out = arr(x.shape);
  const axis = x.shape.length - 1;
  for (const lane of lanes(x.shape, axis)) {
    const n = lane.length;
    const mean = lane.reduce((a, i) => a + x.data[i]!, 0) / n;
    const variance = lane.reduce((a, i) => a + (x.data[i]! - mean) ** 2, 0) / n;
    const inv = 1 / Math.sqrt(variance + eps);
    lane.forEach((i, k) => {
      const w = weight ? weight.data[k]! : 1;
      const b = bias ? bias.data[k]! : 0;
      out.data[i] = (x.data[i]! - mean) * inv * w + b;
    });
  }
  return out;
}

/** Channel of flat offset i for a tensor of shape [N, C, ...]. */
function channelOf(i: number, shape: readonly number[]): number {
  return Math.floor(i / numel(shape.slice(2))) % shape[1]!;
}

/** Batch norm (eval): (x - runningMean[c]) / sqrt(runningVar[c] + eps) * weight[c] + bias[c], c on axis 1. */
export function batchNormInference(x: Arr, runningMean: Arr, runningVar: Arr, weight: Arr | null, bias: Arr | null, eps: number): Arr {
  if (x.shape.length < 2) fail('batchNormInference', `x ${shapeStr(x.shape)} needs a channel axis`);
  return fromIndex(x, (i, v) => {
    const c = channelOf(i, x.shape);
    const w = weight ? weight.data[c]! : 1;
    const b = bias ? bias.data[c]! : 0;
    return ((v - runningMean.data[c]!) / Math.sqrt(runningVar.data[c]! + eps)) * w + b;
  });
}

/**
 * Batch norm (train): statistics per channel over all other axes (N, H, W). Normalises with the
 * biased variance; varUnbiased (divisor count - 1) is what PyTorch puts into running_var.
 */
export function batchNormTraining(
  x: Arr,
  weight: Arr | null,
  bias: Arr | null,
  eps: number,
): { y: Arr; mean: Arr; varBiased: Arr; varUnbiased: Arr } {
  if (x.shape.length < 2) fail('batchNormTraining', `x ${shapeStr(x.shape)} needs a channel axis`);
  const C = x.shape[1]!;
  const count = x.data.length / C;
  const mean = arr([C]);
  const sq = arr([C]);
  for (let i = 0; i < x.data.length; i++) mean.data[channelOf(i, x.shape)] += x.data[i]! / count;
  for (let i = 0; i < x.data.length; i++) {
    const c = channelOf(i, x.shape);
    sq.data[c] += (x.data[i]! - mean.data[c]!) ** 2;
  }
  const varBiased = map(sq, (s) => s / count);
  const varUnbiased = map(sq, (s) => s / (count - 1));
  const y = batchNormInference(x, mean, varBiased, weight, bias, eps);
  return { y, mean, varBiased, varUnbiased };
}

function fromIndex(x: Arr, f: (i: number, v: number) => number): Arr {
  const out = arr(x.shape);
  for (let i = 0; i < x.data.length; i++) out.data[i] = f(i, x.data[i]!);
  return out;
}

// =============================================================================================
// Shape ops

/** Permute axes: out.shape[i] = x.shape[perm[i]]. Default perm reverses the axes. */
export function transpose(x: Arr, perm?: readonly number[]): Arr {
  const r = x.shape.length;
  const p = perm ?? Array.from({ length: r }, (_, i) => r - 1 - i);
  if (p.length !== r || [...p].sort((a, b) => a - b).some((v, i) => v !== i)) {
    fail('transpose', `bad perm [${p.join(', ')}] for ${shapeStr(x.shape)}`);
  }
  const shape = p.map((a) => x.shape[a]!);
  const out = arr(shape);
  for (let i = 0; i < out.data.length; i++) {
    const oi = unravel(i, shape);
    const xi = new Array<number>(r);
    p.forEach((a, k) => (xi[a] = oi[k]!));
    out.data[i] = x.data[ravel(xi, x.shape)]!;
  }
  return out;
}

/** Same data, new shape; at most one dim may be -1 (inferred). */
export function reshape(x: Arr, shape: readonly number[]): Arr {
  const known = shape.filter((d) => d !== -1);
  const n = x.data.length;
  const s = [...shape];
  const infer = shape.indexOf(-1);
  if (shape.filter((d) => d === -1).length > 1) fail('reshape', `more than one -1 in ${shapeStr(shape)}`);
  if (infer >= 0) s[infer] = n / numel(known);
  if (numel(s) !== n || !s.every((d) => Number.isInteger(d) && d >= 0)) {
    fail('reshape', `cannot reshape ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
  }
  return arr(s, x.data);
}

/** Concatenate along `axis`; other dims must match. */
export function concat(xs: readonly Arr[], axis: number): Arr {
  if (xs.length === 0) fail('concat', 'no inputs');
  const r = xs[0]!.shape.length;
  const a = normAxis(axis, r);
  for (const x of xs) {
    if (x.shape.length !== r || x.shape.some((d, i) => i !== a && d !== xs[0]!.shape[i])) {
      fail('concat', `shapes ${xs.map((t) => shapeStr(t.shape)).join(', ')} differ off axis ${a}`);
    }
  }
  const shape = [...xs[0]!.shape];
  shape[a] = xs.reduce((s, x) => s + x.shape[a]!, 0);
  const out = arr(shape);
  let offset = 0;
  for (const x of xs) {
    for (let i = 0; i < x.data.length; i++) {
      const idx = unravel(i, x.shape);
      idx[a] += offset;
      out.data[ravel(idx, shape)] = x.data[i]!;
    }
    offset += x.shape[a]!;
  }
  return out;
}

/** Split along `axis` into pieces of the given sizes (which must sum to the dim). */
export function split(x: Arr, axis: number, sizes: readonly number[]): Arr[] {
  const a = normAxis(axis, x.shape.length);
  if (sizes.reduce((s, v) => s + v, 0) !== x.shape[a]) fail('split', `sizes [${sizes.join(', ')}] do not sum to ${x.shape[a]}`);
  const outs: Arr[] = [];
  let start = 0;
  for (const size of sizes) {
    outs.push(slice(x, [start], [start + size], [a]));
    start += size;
  }
  return outs;
}

/**
 * ONNX Slice. Negative starts/ends count from the end. Then, for step > 0, start and end are
 * clamped to [0, dim]; for step < 0, start to [0, dim-1] and end to [-1, dim-1] (so end = -1
 * after clamping means "through index 0"). Length = max(0, ceil((end - start) / step)).
 */
export function slice(x: Arr, starts: readonly number[], ends: readonly number[], axes?: readonly number[], steps?: readonly number[]): Arr {
  const r = x.shape.length;
  const ax = (axes ?? starts.map((_, i) => i)).map((a) => normAxis(a, r));
  const begin = new Array<number>(r).fill(0);
  const step = new Array<number>(r).fill(1);
  const shape = [...x.shape];
  ax.forEach((a, k) => {
    const dim = x.shape[a]!;
    const st = steps?.[k] ?? 1;
    if (st === 0) fail('slice', 'step 0');
    let s = starts[k]!;
    let e = ends[k]!;
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    if (st > 0) {
      s = Math.min(Math.max(s, 0), dim);
      e = Math.min(Math.max(e, 0), dim);
    } else {
      s = Math.min(Math.max(s, 0), dim - 1);
      e = Math.min(Math.max(e, -1), dim - 1);
    }
    begin[a] = s;
    step[a] = st;
    shape[a] = Math.max(0, Math.ceil((e - s) / st));
  });
  const out = arr(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape).map((o, d) => begin[d]! + o * step[d]!);
    out.data[i] = x.data[ravel(idx, x.shape)]!;
  }
  return out;
}

/**
 * Pad in ONNX order: pads = [x1_begin, x2_begin, ..., x1_end, x2_end, ...] (all axes begins, then
 * all ends; NOT PyTorch F.pad's last-axis-first pairs). Negative pads crop. 'reflect' mirrors
 * without repeating the edge (numpy 'reflect'); 'edge' repeats the edge value.
 */
export function pad(x: Arr, pads: readonly number[], mode: 'constant' | 'reflect' | 'edge' = 'constant', value = 0): Arr {
  const r = x.shape.length;
  if (pads.length !== 2 * r) fail('pad', `pads [${pads.join(', ')}] must have ${2 * r} entries for ${shapeStr(x.shape)}`);
  const shape = x.shape.map((d, i) => d + pads[i]! + pads[r + i]!);
  if (shape.some((d) => d < 0)) fail('pad', `negative output shape ${shapeStr(shape)}`);
  const out = arr(shape);
  for (let o = 0; o < out.data.length; o++) {
    const idx = unravel(o, shape);
    let inside = true;
    for (let d = 0; d < r; d++) {
      const dim = x.shape[d]!;
      let i = idx[d]! - pads[d]!;
      if (i < 0 || i >= dim) {
        if (mode === 'constant' || dim === 0) inside = false;
        else if (mode === 'edge') i = Math.min(Math.max(i, 0), dim - 1);
        else i = reflectIndex(i, dim);
      }
      idx[d] = i;
    }
    out.data[o] = inside ? x.data[ravel(idx, x.shape)]! : value;
  }
  return out;
}

/** Mirror an out-of-range index into [0, dim) without repeating the edge: ... 2 1 [0 1 2 3] 2 1 0 1 ... */
function reflectIndex(i: number, dim: number): number {
  if (dim === 1) return 0;
  const period = 2 * (dim - 1);
  let j = ((i % period) + period) % period;
  if (j >= dim) j = period - j;
  return j;
}

// =============================================================================================
// Reductions and indexing

/** Reduced shape: reduced axes become 1 (keepdims) or are dropped. `axes` empty/undefined = all. */
function reduceGeneric(
  x: Arr,
  axes: readonly number[] | undefined,
  keepdims: boolean,
  init: number,
  step: (acc: number, v: number) => number,
  finish: (acc: number, count: number) => number,
): Arr {
  const r = x.shape.length;
  const ax = new Set((axes && axes.length > 0 ? axes : x.shape.map((_, i) => i)).map((a) => normAxis(a, r)));
  const keptShape = x.shape.map((d, i) => (ax.has(i) ? 1 : d));
  const acc = arr(keptShape);
  acc.data.fill(init);
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape).map((v, d) => (ax.has(d) ? 0 : v));
    const o = ravel(idx, keptShape);
    acc.data[o] = step(acc.data[o]!, x.data[i]!);
  }
  const count = x.data.length / Math.max(1, acc.data.length);
  const out = map(acc, (v) => finish(v, count));
  return keepdims ? out : reshape(out, x.shape.filter((_, i) => !ax.has(i)));
}

export function reduceSum(x: Arr, axes?: readonly number[], keepdims = false): Arr {
  return reduceGeneric(x, axes, keepdims, 0, (a, v) => a + v, (a) => a);
}

export function reduceMean(x: Arr, axes?: readonly number[], keepdims = false): Arr {
  return reduceGeneric(x, axes, keepdims, 0, (a, v) => a + v, (a, n) => a / n);
}

/** Max with NaN propagating. */
export function reduceMax(x: Arr, axes?: readonly number[], keepdims = false): Arr {
  return reduceGeneric(x, axes, keepdims, -Infinity, (a, v) => (Number.isNaN(a) || Number.isNaN(v) ? NaN : Math.max(a, v)), (a) => a);
}

/** Index of the max along `axis`, first occurrence on ties (a NaN counts as the max, as in PyTorch). */
export function argmax(x: Arr, axis: number, keepdims = false): Arr {
  const a = normAxis(axis, x.shape.length);
  const keptShape = x.shape.map((d, i) => (i === a ? 1 : d));
  const out = arr(keptShape);
  lanes(x.shape, a).forEach((lane, li) => {
    let best = 0;
    for (let k = 1; k < lane.length; k++) {
      const v = x.data[lane[k]!]!;
      const b = x.data[lane[best]!]!;
      if (!Number.isNaN(b) && (v > b || Number.isNaN(v))) best = k;
    }
    out.data[li] = best;
  });
  return keepdims ? out : reshape(out, x.shape.filter((_, i) => i !== a));
}

/** ONNX Gather: out.shape = x.shape[:axis] + indices.shape + x.shape[axis+1:]; negative indices count from the end. */
export function gather(x: Arr, indices: IndexArr, axis: number): Arr {
  const a = normAxis(axis, x.shape.length);
  const dim = x.shape[a]!;
  const shape = [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
  const out = arr(shape);
  const qr = indices.shape.length;
  for (let o = 0; o < out.data.length; o++) {
    const idx = unravel(o, shape);
    const q = idx.slice(a, a + qr);
    let k = indices.data[ravel(q, indices.shape)]!;
    if (k < 0) k += dim;
    if (!Number.isInteger(k) || k < 0 || k >= dim) fail('gather', `index ${k} out of range for dim ${dim}`);
    out.data[o] = x.data[ravel([...idx.slice(0, a), k, ...idx.slice(a + qr)], x.shape)]!;
  }
  return out;
}

/** Float one-hot along a new last axis; indices outside [0, depth) give all-zero rows. */
export function oneHot(indices: IndexArr, depth: number): Arr {
  const out = arr([...indices.shape, depth]);
  for (let i = 0; i < indices.data.length; i++) {
    const k = indices.data[i]!;
    if (Number.isInteger(k) && k >= 0 && k < depth) out.data[i * depth + k] = 1;
  }
  return out;
}

// =============================================================================================
// Finite differences

/** Gradient of a scalar function by central differences: (f(x + eps e_i) - f(x - eps e_i)) / (2 eps). */
export function numericGrad(f: (x: Arr) => number, x: Arr, eps = 1e-6): Arr {
  const g = arr(x.shape);
  const xp = clone(x);
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i]!;
    xp.data[i] = v + eps;
    const fp = f(xp);
    xp.data[i] = v - eps;
    const fm = f(xp);
    xp.data[i] = v;
    g.data[i] = (fp - fm) / (2 * eps);
  }
  return g;
}
