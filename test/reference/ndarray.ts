// A tiny float64 n-d array for the reference implementation (test/reference/ops.ts).
// Deliberately independent of src/: nothing here imports the engine it is used to check.
// Layout is always dense row-major (C order); an Arr is just data + shape.

export interface Arr {
  data: Float64Array;
  shape: number[];
}

/** Number of elements of a shape (1 for a scalar shape []). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides: strides[i] = product of shape[i+1:]. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Flat offset of a multi-index (no bounds check beyond the final length check in at()). */
export function ravel(idx: readonly number[], shape: readonly number[]): number {
  const st = stridesOf(shape);
  let off = 0;
  for (let i = 0; i < idx.length; i++) off += idx[i]! * st[i]!;
  return off;
}

/** Multi-index of a flat offset. */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    idx[i] = flat % d;
    flat = Math.floor(flat / d);
  }
  return idx;
}

/** Normalises a possibly negative axis into [0, rank). */
export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new Error(`axis ${axis} out of range for rank ${rank}`);
  return a;
}

function checkShape(shape: readonly number[]): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`bad shape [${shape.join(', ')}]`);
  }
}

/** A new array of the given shape: zeros, or a copy of `data` (whose length must match). */
export function arr(shape: readonly number[], data?: ArrayLike<number>): Arr {
  checkShape(shape);
  const n = numel(shape);
  if (data === undefined) return { data: new Float64Array(n), shape: [...shape] };
  if (data.length !== n) throw new Error(`arr: shape [${shape.join(', ')}] needs ${n} values, got ${data.length}`);
  return { data: Float64Array.from(data), shape: [...shape] };
}

/** A scalar (rank-0) array. */
export function scalar(v: number): Arr {
  return arr([], [v]);
}

/** An array filled with one value. */
export function full(shape: readonly number[], v: number): Arr {
  const a = arr(shape);
  a.data.fill(v);
  return a;
}

/** Array with data[i] = f(i) for each flat index i. */
export function fromFn(shape: readonly number[], f: (i: number) => number): Arr {
  const a = arr(shape);
  for (let i = 0; i < a.data.length; i++) a.data[i] = f(i);
  return a;
}

/** Deep copy. */
export function clone(a: Arr): Arr {
  return arr(a.shape, a.data);
}

/** Element at a multi-index. */
export function at(a: Arr, ...idx: number[]): number {
  if (idx.length !== a.shape.length) throw new Error(`at: ${idx.length} indices for rank ${a.shape.length}`);
  for (let i = 0; i < idx.length; i++) {
    if (idx[i]! < 0 || idx[i]! >= a.shape[i]!) throw new Error(`at: index [${idx.join(', ')}] out of bounds for [${a.shape.join(', ')}]`);
  }
  return a.data[ravel(idx, a.shape)]!;
}

// ---------------------------------------------------------------------------------------------
// Seeded random numbers

export interface Rng {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal. */
  normal(): number;
}

/** Deterministic RNG: mulberry32 for uniforms, Box-Muller (both outputs used) for normals. */
export function makeRng(seed: number): Rng {
  let state = seed >>> 0;
  let spare: number | null = null;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (): number => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u1 = 1 - uniform(); // in (0, 1]: log(u1) is finite
    const u2 = uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  };
  return { uniform, normal };
}

/** Standard-normal samples (times `std`). */
export function randn(shape: readonly number[], rng: Rng, std = 1): Arr {
  return fromFn(shape, () => std * rng.normal());
}

/** Uniform samples in [lo, hi). */
export function rand(shape: readonly number[], rng: Rng, lo = 0, hi = 1): Arr {
  return fromFn(shape, () => lo + (hi - lo) * rng.uniform());
}

// ---------------------------------------------------------------------------------------------
// Comparison

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** |a - e| treating equal infinities as 0 and any NaN mismatch as Infinity (NaN vs NaN is 0). */
function absDiff(a: number, e: number): number {
  if (Number.isNaN(a) || Number.isNaN(e)) return Number.isNaN(a) && Number.isNaN(e) ? 0 : Infinity;
  if (a === e) return 0; // also covers equal infinities
  return Math.abs(a - e);
}

/** Largest elementwise |a - b| (shapes must match). */
export function maxAbsDiff(a: Arr, b: Arr): number {
  if (!sameShape(a.shape, b.shape)) throw new Error(`maxAbsDiff: shapes [${a.shape.join(', ')}] vs [${b.shape.join(', ')}]`);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, absDiff(a.data[i]!, b.data[i]!));
  return m;
}

/** Scale used by relErr: max(1, max |e|) over the finite expected values. */
function errScale(expected: Arr): number {
  let s = 1;
  for (const v of expected.data) if (Number.isFinite(v)) s = Math.max(s, Math.abs(v));
  return s;
}

/** max|a - e| / max(1, max|e|): absolute error for small values, relative to the largest value otherwise. */
export function relErr(actual: ArrayLike<number>, expected: Arr): number {
  if (actual.length !== expected.data.length) {
    throw new Error(`relErr: ${actual.length} values vs ${expected.data.length} expected`);
  }
  let m = 0;
  for (let i = 0; i < actual.length; i++) m = Math.max(m, absDiff(Number(actual[i]), expected.data[i]!));
  return m / errScale(expected);
}

function fmtShape(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

/**
 * Throws unless `actual` has `expected`'s shape and relErr(actual, expected) <= tol. The message
 * names `what`, the shapes, the error, the first mismatching element (index, actual, expected)
 * and the worst one.
 */
export function assertClose(
  actual: { data: ArrayLike<number>; shape: readonly number[] },
  expected: Arr,
  tol: number,
  what: string,
): void {
  if (!sameShape(actual.shape, expected.shape)) {
    throw new Error(`${what}: shape mismatch: actual ${fmtShape(actual.shape)} vs expected ${fmtShape(expected.shape)}`);
  }
  if (actual.data.length !== expected.data.length) {
    throw new Error(`${what}: actual has ${actual.data.length} values for shape ${fmtShape(actual.shape)}, expected ${expected.data.length}`);
  }
  const scale = errScale(expected);
  let first = -1;
  let worst = -1;
  let worstDiff = -1;
  for (let i = 0; i < expected.data.length; i++) {
    const d = absDiff(Number(actual.data[i]), expected.data[i]!);
    if (first < 0 && !(d / scale <= tol)) first = i;
    if (d > worstDiff) {
      worstDiff = d;
      worst = i;
    }
  }
  if (first < 0) return;
  const show = (i: number): string =>
    `[${unravel(i, expected.shape).join(', ')}] actual ${Number(actual.data[i])} expected ${expected.data[i]}`;
  throw new Error(
    `${what}: error ${worstDiff / scale} > tol ${tol} (shape ${fmtShape(expected.shape)}, scale ${scale}); ` +
      `first mismatch at ${show(first)}; worst at ${show(worst)}`,
  );
}
