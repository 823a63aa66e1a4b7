/** Small helpers on static shapes (arrays of non-negative integers). */
export type Shape = readonly number[];

export const numel = (s: Shape): number => s.reduce((a, b) => a * b, 1);

export const fmt = (s: Shape): string => `[${s.join(', ')}]`;

export const sameShape = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/** Row-major strides of a shape. */
export function strides(s: Shape): number[] {
  const st = new Array<number>(s.length);
  let acc = 1;
  for (let i = s.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc *= s[i]!;
  }
  return st;
}

/** Normalises a possibly negative axis against a rank; throws with the op name when out of range. */
export function normAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new Error(`${op}: axis ${axis} is out of range for a tensor of rank ${rank} (valid: ${-rank}..${rank - 1})`);
  }
  return a;
}

/** NumPy broadcasting of two shapes, or null when they are incompatible. */
export function broadcastShapes(a: Shape, b: Shape): number[] | null {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out[i] = x === 1 ? y : x;
  }
  return out;
}
