/**
 * The fast colour guided filter (He, Sun and Tang 2010; He and Sun 2015) in float64, written from
 * the definitions: clipped windows, a per-window 3×3 solve by Gaussian elimination, coefficients
 * averaged and resized with the float64 bilinear reference. The tests' reference for
 * src/inference/guided-filter.ts.
 */
import { arr, type Arr } from './ndarray.js';
import { resize2d } from './ops.js';

/** Mean of each channel over the clipped (2r+1)² window. */
function boxRef(x: Arr, r: number): Arr {
  const [, C, H, W] = x.shape as [number, number, number, number];
  const y = arr([1, C, H, W]);
  for (let c = 0; c < C; c++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++) {
        let s = 0;
        let n = 0;
        for (let u = Math.max(0, i - r); u <= Math.min(H - 1, i + r); u++)
          for (let v = Math.max(0, j - r); v <= Math.min(W - 1, j + r); v++) {
            s += x.data[(c * H + u) * W + v]!;
            n++;
          }
        y.data[(c * H + i) * W + j] = s / n;
      }
  return y;
}

/** Solves the 3×3 system m·a = rhs by Gaussian elimination with partial pivoting. */
function solve3(m: number[][], rhs: number[]): number[] {
  const a = m.map((row, i) => [...row, rhs[i]!]);
  for (let c = 0; c < 3; c++) {
    const p = [c, c + 1, c + 2].filter((i) => i < 3).reduce((b, i) => (Math.abs(a[i]![c]!) > Math.abs(a[b]![c]!) ? i : b), c);
    [a[c], a[p]] = [a[p]!, a[c]!];
    for (let i = c + 1; i < 3; i++) {
      const f = a[i]![c]! / a[c]![c]!;
      for (let k = c; k < 4; k++) a[i]![k]! -= f * a[c]![k]!;
    }
  }
  const x = [0, 0, 0];
  for (let i = 2; i >= 0; i--) x[i] = (a[i]![3]! - [0, 1, 2].filter((k) => k > i).reduce((s, k) => s + a[i]![k]! * x[k]!, 0)) / a[i]![i]!;
  return x;
}

/** The fast colour guided filter in float64: coefficients at p's size, applied to the full guide. */
export function guidedRef(guide: Arr, p: Arr, r: number, eps: number): Arr {
  const [, , h, w] = p.shape as [number, number, number, number];
  const [, , H, W] = guide.shape as [number, number, number, number];
  const I = resize2d(guide, { size: [h, w] }, 'bilinear');
  const n = h * w;
  const px = (t: Arr, c: number, q: number) => t.data[c * n + q]!;
  const prod = (f: (q: number) => number) => Float64Array.from({ length: n }, (_, q) => f(q));
  const chans: Float64Array[] = [0, 1, 2].map((c) => prod((q) => px(I, c, q)));
  const stack = [...chans, prod((q) => p.data[q]!), ...chans.map((ic) => prod((q) => ic[q]! * p.data[q]!))];
  for (let a = 0; a < 3; a++) for (let b = a; b < 3; b++) stack.push(prod((q) => chans[a]![q]! * chans[b]![q]!));
  const m = boxRef({ data: Float64Array.from(stack.flatMap((s) => [...s])), shape: [1, stack.length, h, w] }, r);
  const at = (c: number, q: number) => m.data[c * n + q]!;
  const pair = [[7, 8, 9], [8, 10, 11], [9, 11, 12]];
  const coef = arr([1, 4, h, w]);
  for (let q = 0; q < n; q++) {
    const mu = [0, 1, 2].map((c) => at(c, q));
    const mp = at(3, q);
    const sigma = [0, 1, 2].map((a) => [0, 1, 2].map((b) => at(pair[a]![b]!, q) - mu[a]! * mu[b]! + (a === b ? eps : 0)));
    const a = solve3(sigma, [0, 1, 2].map((c) => at(4 + c, q) - mu[c]! * mp));
    a.forEach((v, c) => (coef.data[c * n + q] = v));
    coef.data[3 * n + q] = mp - a.reduce((s, v, c) => s + v * mu[c]!, 0);
  }
  const up = resize2d(boxRef(coef, r), { size: [H, W] }, 'bilinear');
  const N = H * W;
  const out = arr([1, 1, H, W]);
  for (let q = 0; q < N; q++) {
    const v = [0, 1, 2].reduce((s, c) => s + up.data[c * N + q]! * guide.data[c * N + q]!, up.data[3 * N + q]!);
    out.data[q] = Math.min(1, Math.max(0, v));
  }
  return out;
}

