/**
 * Colour-space conversions on uint8 RGB with OpenCV's 8-bit conventions: HSV with H in [0, 180),
 * S and V in [0, 255]; CIE L*a*b* (D65, sRGB) with L scaled to [0, 255].
 */

// 255/v and 30/diff, tabulated (the divisions dominate otherwise).
const SDIV = Float64Array.from({ length: 256 }, (_, v) => (v > 0 ? 255 / v : 0));
const HDIV = Float64Array.from({ length: 256 }, (_, d) => (d > 0 ? 30 / d : 0));

/** RGB → HSV (OpenCV 8-bit: H 0..179, S/V 0..255), interleaved 3 channels. */
export function rgbToHsv(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length);
  for (let i = 0; i < rgb.length; i += 3) {
    const r = rgb[i]!;
    const g = rgb[i + 1]!;
    const b = rgb[i + 2]!;
    const v = r > g ? (r > b ? r : b) : g > b ? g : b;
    const mn = r < g ? (r < b ? r : b) : g < b ? g : b;
    const diff = v - mn;
    let h = 0;
    let s = 0;
    if (diff > 0) {
      s = Math.floor(diff * SDIV[v]! + 0.5);
      const hr = v === r ? g - b : v === g ? b - r + 2 * diff : r - g + 4 * diff;
      h = Math.round(hr * HDIV[diff]!);
      if (h < 0) h += 180;
      else if (h >= 180) h -= 180;
    }
    out[i] = h;
    out[i + 1] = s;
    out[i + 2] = v;
  }
  return out;
}

/** HSV (OpenCV 8-bit) → RGB. */
export function hsvToRgb(hsv: Uint8Array): Uint8Array {
  const out = new Uint8Array(hsv.length);
  for (let i = 0; i < hsv.length; i += 3) {
    const v = hsv[i + 2]!;
    const sat = hsv[i + 1]!;
    if (sat === 0) {
      out[i] = out[i + 1] = out[i + 2] = v;
      continue;
    }
    const s = sat / 255;
    let h = hsv[i]! / 30; // 180 units → 6 sectors
    if (h >= 6) h -= 6;
    const sector = h | 0;
    const f = h - sector;
    // +0.5 then truncation = rounding (all values are ≥ 0)
    const t0 = v + 0.5;
    const t1 = v * (1 - s) + 0.5;
    const t2 = v * (1 - s * f) + 0.5;
    const t3 = v * (1 - s * (1 - f)) + 0.5;
    let r: number, g: number, b: number;
    switch (sector) {
      case 0: r = t0; g = t3; b = t1; break;
      case 1: r = t2; g = t0; b = t1; break;
      case 2: r = t1; g = t0; b = t3; break;
      case 3: r = t1; g = t2; b = t0; break;
      case 4: r = t3; g = t1; b = t0; break;
      default: r = t0; g = t1; b = t2; break;
    }
    out[i] = r;
    out[i + 1] = g;
    out[i + 2] = b;
  }
  return out;
}

const SRGB_TO_LINEAR = (() => {
  const t = new Float64Array(256);
  for (let i = 0; i < 256; i++) {
    const c = i / 255;
    t[i] = c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  }
  return t;
})();

const XN = 0.950456;
const ZN = 1.088754;
const labF = (t: number): number => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
const labFInv = (f: number): number => {
  const t = f * f * f;
  return t > 0.008856 ? t : (f - 16 / 116) / 7.787;
};
const linearToSrgb8 = (c: number): number => {
  const v = c <= 0.0031308 ? 12.92 * c : 1.055 * Math.pow(c, 1 / 2.4) - 0.055;
  const r = Math.round(v * 255);
  return r < 0 ? 0 : r > 255 ? 255 : r;
};

/**
 * RGB → L*a*b*: L as uint8 (L·255/100, OpenCV's 8-bit scaling) and a*, b* as floats, one value per
 * pixel each.
 */
export function rgbToLab(rgb: Uint8Array): { L: Uint8Array; a: Float32Array; b: Float32Array } {
  const n = rgb.length / 3;
  const L = new Uint8Array(n);
  const A = new Float32Array(n);
  const B = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    const r = SRGB_TO_LINEAR[rgb[p * 3]!]!;
    const g = SRGB_TO_LINEAR[rgb[p * 3 + 1]!]!;
    const bl = SRGB_TO_LINEAR[rgb[p * 3 + 2]!]!;
    const x = (0.412453 * r + 0.35758 * g + 0.180423 * bl) / XN;
    const y = 0.212671 * r + 0.71516 * g + 0.072169 * bl;
    const z = (0.019334 * r + 0.119193 * g + 0.950227 * bl) / ZN;
    const fx = labF(x);
    const fy = labF(y);
    const fz = labF(z);
    const l = y > 0.008856 ? 116 * fy - 16 : 903.3 * y;
    L[p] = Math.min(255, Math.max(0, Math.round((l * 255) / 100)));
    A[p] = 500 * (fx - fy);
    B[p] = 200 * (fy - fz);
  }
  return { L, a: A, b: B };
}

/** L*a*b* (L uint8-scaled; a* and b* float) → RGB uint8. */
export function labToRgb(L: Uint8Array, A: Float32Array, B: Float32Array): Uint8Array {
  const n = L.length;
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    const l = (L[p]! * 100) / 255;
    const fy = (l + 16) / 116;
    const fx = fy + A[p]! / 500;
    const fz = fy - B[p]! / 200;
    const y = l > 7.9996 ? fy * fy * fy : l / 903.3;
    const x = labFInv(fx) * XN;
    const z = labFInv(fz) * ZN;
    const r = 3.240479 * x - 1.53715 * y - 0.498535 * z;
    const g = -0.969256 * x + 1.875991 * y + 0.041556 * z;
    const b = 0.055648 * x - 0.204043 * y + 1.057311 * z;
    out[p * 3] = linearToSrgb8(r);
    out[p * 3 + 1] = linearToSrgb8(g);
    out[p * 3 + 2] = linearToSrgb8(b);
  }
  return out;
}
