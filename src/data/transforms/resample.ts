/**
 * Resampling kernels on typed arrays, deterministic and identical wherever they run (worker or
 * main thread). Images: bilinear with half-pixel centres (OpenCV INTER_LINEAR / PyTorch
 * align_corners=False). Labels: nearest neighbour, always — the source pixel that contains the
 * destination pixel's centre, so a label stays aligned with the bilinear image sample.
 */
import type { ImageArray } from '../sample.js';

interface Taps {
  i0: Int32Array;
  i1: Int32Array;
  w: Float64Array;
}

/** Source taps for a half-pixel-centre bilinear resize of one axis (OpenCV's border handling). */
function bilinearTaps(srcLen: number, dstLen: number, start: number, count: number): Taps {
  const scale = srcLen / dstLen;
  const i0 = new Int32Array(count);
  const i1 = new Int32Array(count);
  const w = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    let f = (start + k + 0.5) * scale - 0.5;
    let s = Math.floor(f);
    f -= s;
    if (s < 0) {
      s = 0;
      f = 0;
    }
    if (s >= srcLen - 1) {
      s = srcLen - 1;
      f = 0;
    }
    i0[k] = s;
    i1[k] = Math.min(s + 1, srcLen - 1);
    w[k] = f;
  }
  return { i0, i1, w };
}

/**
 * Bilinear resize of an HWC image from sw×sh to dw×dh. With `win`, only the window
 * [x, y, w, h] of the resized image is computed (identical to resizing fully, then cropping).
 * uint8 in → uint8 out, float32 in → float32 out.
 *
 * The uint8 path is OpenCV's: 11-bit fixed-point weights, horizontal pass into integer rows (each
 * source row computed once and reused by the output rows that need it), vertical pass, rounding.
 */
export function resizeBilinear<T extends ImageArray>(
  src: T,
  sw: number,
  sh: number,
  c: number,
  dw: number,
  dh: number,
  win?: { x: number; y: number; w: number; h: number },
): T {
  const wx = win ?? { x: 0, y: 0, w: dw, h: dh };
  const xs = bilinearTaps(sw, dw, wx.x, wx.w);
  const ys = bilinearTaps(sh, dh, wx.y, wx.h);
  if (src instanceof Float32Array) return resizeF32(src, sw, c, xs, ys, wx.w, wx.h) as T;
  return resizeU8(src as Uint8Array, sw, c, xs, ys, wx.w, wx.h) as T;
}

const COEF_BITS = 11;
const COEF_ONE = 1 << COEF_BITS;

function resizeU8(src: Uint8Array, sw: number, c: number, xs: Taps, ys: Taps, ow: number, oh: number): Uint8Array {
  const n = ow * c;
  // Per output pixel: offsets of its two source pixels and the integer weight of the second.
  const p0 = new Int32Array(ow);
  const p1 = new Int32Array(ow);
  const a1 = new Int32Array(ow);
  for (let x = 0; x < ow; x++) {
    p0[x] = xs.i0[x]! * c;
    p1[x] = xs.i1[x]! * c;
    a1[x] = Math.round(xs.w[x]! * COEF_ONE);
  }
  let rowA = new Int32Array(n);
  let rowB = new Int32Array(n);
  let srcA = -1;
  let srcB = -1;
  const hpass = (sy: number, row: Int32Array): void => {
    const base = sy * sw * c;
    if (c === 3) {
      for (let x = 0, o = 0; x < ow; x++, o += 3) {
        const i = base + p0[x]!;
        const j = base + p1[x]!;
        const w1 = a1[x]!;
        const r = src[i]!;
        const g = src[i + 1]!;
        const b = src[i + 2]!;
        row[o] = (r << COEF_BITS) + (src[j]! - r) * w1;
        row[o + 1] = (g << COEF_BITS) + (src[j + 1]! - g) * w1;
        row[o + 2] = (b << COEF_BITS) + (src[j + 2]! - b) * w1;
      }
    } else {
      for (let x = 0; x < ow; x++) {
        const i = base + p0[x]!;
        const j = base + p1[x]!;
        const w1 = a1[x]!;
        for (let ch = 0; ch < c; ch++) {
          const v = src[i + ch]!;
          row[x * c + ch] = (v << COEF_BITS) + (src[j + ch]! - v) * w1;
        }
      }
    }
  };
  const out = new Uint8Array(oh * n);
  const half = 1 << (2 * COEF_BITS - 1);
  for (let y = 0; y < oh; y++) {
    const y0 = ys.i0[y]!;
    const y1 = ys.i1[y]!;
    // Bring rows y0 and y1 into (rowA, rowB), reusing what is already there.
    if (srcA !== y0) {
      if (srcB === y0) {
        const t = rowA;
        rowA = rowB;
        rowB = t;
        srcA = y0;
        srcB = -1;
      } else {
        hpass(y0, rowA);
        srcA = y0;
      }
    }
    if (srcB !== y1) {
      if (y1 === y0) rowB.set(rowA);
      else hpass(y1, rowB);
      srcB = y1;
    }
    const b1 = Math.round(ys.w[y]! * COEF_ONE);
    const o = y * n;
    if (b1 === 0) {
      for (let i = 0; i < n; i++) out[o + i] = (rowA[i]! + (1 << (COEF_BITS - 1))) >> COEF_BITS;
    } else {
      const b0 = COEF_ONE - b1;
      for (let i = 0; i < n; i++) out[o + i] = (rowA[i]! * b0 + rowB[i]! * b1 + half) >> (2 * COEF_BITS);
    }
  }
  return out;
}

function resizeF32(src: Float32Array, sw: number, c: number, xs: Taps, ys: Taps, ow: number, oh: number): Float32Array {
  const out = new Float32Array(ow * oh * c);
  for (let y = 0; y < oh; y++) {
    const r0 = ys.i0[y]! * sw * c;
    const r1 = ys.i1[y]! * sw * c;
    const fy = ys.w[y]!;
    const gy = 1 - fy;
    for (let x = 0; x < ow; x++) {
      const a = xs.i0[x]! * c;
      const b = xs.i1[x]! * c;
      const fx = xs.w[x]!;
      const gx = 1 - fx;
      const o = (y * ow + x) * c;
      for (let ch = 0; ch < c; ch++) {
        const top = src[r0 + a + ch]! * gx + src[r0 + b + ch]! * fx;
        const bot = src[r1 + a + ch]! * gx + src[r1 + b + ch]! * fx;
        out[o + ch] = top * gy + bot * fy;
      }
    }
  }
  return out;
}

/**
 * Source index of each destination pixel for a nearest-neighbour resize of one axis: the source
 * pixel containing the destination pixel's centre.
 */
export function nearestIndex(srcLen: number, dstLen: number, start = 0, count = dstLen): Int32Array {
  const out = new Int32Array(count);
  const scale = srcLen / dstLen;
  for (let k = 0; k < count; k++) out[k] = Math.min(Math.floor((start + k + 0.5) * scale), srcLen - 1);
  return out;
}

/** Nearest-neighbour resize of a 1-channel map (labels). Optional output window as above. */
export function resizeNearest(
  src: Uint8Array,
  sw: number,
  sh: number,
  dw: number,
  dh: number,
  win?: { x: number; y: number; w: number; h: number },
): Uint8Array {
  const wx = win ?? { x: 0, y: 0, w: dw, h: dh };
  const xi = nearestIndex(sw, dw, wx.x, wx.w);
  const yi = nearestIndex(sh, dh, wx.y, wx.h);
  const out = new Uint8Array(wx.w * wx.h);
  for (let y = 0; y < wx.h; y++) {
    const r = yi[y]! * sw;
    const o = y * wx.w;
    for (let x = 0; x < wx.w; x++) out[o + x] = src[r + xi[x]!]!;
  }
  return out;
}

/** A 2×3 affine matrix [a, b, c, d, e, f]: x' = a·x + b·y + c, y' = d·x + e·y + f. */
export type Affine = [number, number, number, number, number, number];

/** Inverse of an affine map. */
export function invertAffine(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (Math.abs(det) < 1e-12) throw new Error('affine matrix is singular');
  const ia = e / det;
  const ib = -b / det;
  const id = -d / det;
  const ie = a / det;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

/**
 * OpenCV-style `warpAffine` with a constant border: `m` maps source → destination (pixel centres at
 * integer coordinates, as cv2). Image bilinear (taps outside the source take `border`), label nearest
 * (outside → `labelBorder`). Output has the source size.
 */
export function warpAffine<T extends ImageArray>(
  img: T,
  label: Uint8Array,
  w: number,
  h: number,
  c: number,
  m: Affine,
  border: number,
  labelBorder: number,
): { image: T; label: Uint8Array } {
  const [a, b, cc, d, e, f] = invertAffine(m);
  const out = (img instanceof Float32Array ? new Float32Array(w * h * c) : new Uint8Array(w * h * c)) as T;
  const isU8 = !(img instanceof Float32Array);
  const lab = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const sx = a * x + b * y + cc;
      const sy = d * x + e * y + f;
      const o = y * w + x;
      // label: nearest
      const nx = Math.floor(sx + 0.5);
      const ny = Math.floor(sy + 0.5);
      lab[o] = nx >= 0 && nx < w && ny >= 0 && ny < h ? label[ny * w + nx]! : labelBorder;
      // image: bilinear with per-tap border
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) {
        for (let ch = 0; ch < c; ch++) out[o * c + ch] = border;
        continue;
      }
      const in00 = x0 >= 0 && y0 >= 0;
      const in10 = x0 + 1 < w && y0 >= 0;
      const in01 = x0 >= 0 && y0 + 1 < h;
      const in11 = x0 + 1 < w && y0 + 1 < h;
      const p00 = (y0 * w + x0) * c;
      const p10 = p00 + c;
      const p01 = p00 + w * c;
      const p11 = p01 + c;
      for (let ch = 0; ch < c; ch++) {
        const v00 = in00 ? img[p00 + ch]! : border;
        const v10 = in10 ? img[p10 + ch]! : border;
        const v01 = in01 ? img[p01 + ch]! : border;
        const v11 = in11 ? img[p11 + ch]! : border;
        const v = (v00 * (1 - fx) + v10 * fx) * (1 - fy) + (v01 * (1 - fx) + v11 * fx) * fy;
        out[o * c + ch] = isU8 ? Math.min(255, Math.max(0, Math.floor(v + 0.5))) : v;
      }
    }
  }
  return { image: out, label: lab };
}

/** 2-D convolution of a uint8 HWC image with a k×k kernel, reflect-101 border (cv2.filter2D). */
function clampRound(a: number): number {
  const v = Math.round(a);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

export function convolveU8(src: Uint8Array, w: number, h: number, c: number, kernel: Float64Array, k: number): Uint8Array {
  const r = k >> 1;
  const out = new Uint8Array(src.length);
  const reflect = (i: number, n: number): number => {
    if (n === 1) return 0;
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
    return i;
  };
  const xi = new Int32Array(w + 2 * r);
  for (let x = -r; x < w + r; x++) xi[x + r] = reflect(x, w);
  const yi = new Int32Array(h + 2 * r);
  for (let y = -r; y < h + r; y++) yi[y + r] = reflect(y, h);
  // The non-zero taps in kernel order (the sums keep that order), as row offsets and column offsets.
  const tapY: number[] = [];
  const tapX: number[] = [];
  const tapV: number[] = [];
  for (let ky = 0; ky < k; ky++) {
    for (let kx = 0; kx < k; kx++) {
      const kv = kernel[ky * k + kx]!;
      if (kv === 0) continue;
      tapY.push(ky);
      tapX.push(kx);
      tapV.push(kv);
    }
  }
  const n = tapV.length;
  const rows = new Int32Array(n);
  const acc = new Float64Array(c);
  for (let y = 0; y < h; y++) {
    for (let t = 0; t < n; t++) rows[t] = yi[y + tapY[t]!]! * w;
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * c;
      if (c === 3) {
        // RGB, the common case, with the accumulators in registers.
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        for (let t = 0; t < n; t++) {
          const kv = tapV[t]!;
          const p = (rows[t]! + xi[x + tapX[t]!]!) * 3;
          a0 += kv * src[p]!;
          a1 += kv * src[p + 1]!;
          a2 += kv * src[p + 2]!;
        }
        out[o] = clampRound(a0);
        out[o + 1] = clampRound(a1);
        out[o + 2] = clampRound(a2);
        continue;
      }
      acc.fill(0);
      for (let t = 0; t < n; t++) {
        const kv = tapV[t]!;
        const p = (rows[t]! + xi[x + tapX[t]!]!) * c;
        for (let ch = 0; ch < c; ch++) acc[ch] += kv * src[p + ch]!;
      }
      for (let ch = 0; ch < c; ch++) out[o + ch] = clampRound(acc[ch]!);
    }
  }
  return out;
}
