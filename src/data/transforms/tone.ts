/**
 * Tone transforms (albumentations): `RandomBrightnessContrast`, `RandomGamma`, `HueSaturationValue`.
 * All are per-value LUTs (HSV for the last), truncated to uint8 as albumentations does.
 */
import { hsvToRgb, rgbToHsv } from './color.js';
import { applyLut, clipTrunc, range2, requireU8, type Transform } from './types.js';

export interface RandomBrightnessContrastOptions {
  /** Brightness shift as a fraction of 255 (or of the image mean), default ±0.2. */
  brightnessLimit?: number | readonly [number, number];
  /** Contrast factor 1 + U(limit), default ±0.2. */
  contrastLimit?: number | readonly [number, number];
  /** Brightness relative to 255 (true, default) or to the image mean. */
  brightnessByMax?: boolean;
}

export interface RandomGammaOptions {
  /** Gamma ×100 range, default [80, 120]. */
  gammaLimit?: number | readonly [number, number];
}

export interface HueSaturationValueOptions {
  hueShiftLimit?: number | readonly [number, number];
  satShiftLimit?: number | readonly [number, number];
  valShiftLimit?: number | readonly [number, number];
}

export function randomBrightnessContrast(opts: RandomBrightnessContrastOptions = {}): Transform {
  const br = range2(opts.brightnessLimit ?? 0.2, 'RandomBrightnessContrast.brightnessLimit');
  const co = range2(opts.contrastLimit ?? 0.2, 'RandomBrightnessContrast.contrastLimit');
  const byMax = opts.brightnessByMax ?? true;
  return function RandomBrightnessContrast(s, rng) {
    const src = requireU8(s, 'RandomBrightnessContrast');
    const alpha = 1 + rng.uniform(co[0], co[1]);
    const beta = rng.uniform(br[0], br[1]);
    let ref = 255;
    if (!byMax) {
      // albumentations: beta · alpha · mean(image) when not relative to the maximum
      let sum = 0;
      for (let i = 0; i < src.length; i++) sum += src[i]!;
      ref = (alpha * sum) / src.length;
    }
    const lut = new Uint8Array(256);
    for (let i = 0; i < 256; i++) lut[i] = clipTrunc(i * alpha + beta * ref);
    return { ...s, image: applyLut(src, lut) };
  };
}

export function randomGamma(opts: RandomGammaOptions = {}): Transform {
  const g = typeof opts.gammaLimit === 'number' ? ([100 - opts.gammaLimit, 100 + opts.gammaLimit] as const) : (opts.gammaLimit ?? ([80, 120] as const));
  const [lo, hi] = range2(g, 'RandomGamma.gammaLimit');
  if (lo <= 0) throw new Error(`RandomGamma: gammaLimit must be > 0, got ${JSON.stringify(g)}`);
  return function RandomGamma(s, rng) {
    const src = requireU8(s, 'RandomGamma');
    const gamma = rng.uniform(lo, hi) / 100;
    const lut = new Uint8Array(256);
    for (let i = 0; i < 256; i++) lut[i] = clipTrunc(Math.pow(i / 255, gamma) * 255);
    return { ...s, image: applyLut(src, lut) };
  };
}

export function hueSaturationValue(opts: HueSaturationValueOptions = {}): Transform {
  const hr = range2(opts.hueShiftLimit ?? 20, 'HueSaturationValue.hueShiftLimit');
  const sr = range2(opts.satShiftLimit ?? 30, 'HueSaturationValue.satShiftLimit');
  const vr = range2(opts.valShiftLimit ?? 20, 'HueSaturationValue.valShiftLimit');
  return function HueSaturationValue(s, rng) {
    const src = requireU8(s, 'HueSaturationValue');
    const dh = rng.uniform(hr[0], hr[1]);
    const ds = rng.uniform(sr[0], sr[1]);
    const dv = rng.uniform(vr[0], vr[1]);
    const hsv = rgbToHsv(src);
    const lh = new Uint8Array(256);
    const ls = new Uint8Array(256);
    const lv = new Uint8Array(256);
    for (let i = 0; i < 256; i++) {
      const hv = i + dh; // numpy: np.mod(lut + shift, 180).astype(uint8) — floor-mod, then truncate
      lh[i] = Math.trunc(hv - 180 * Math.floor(hv / 180));
      ls[i] = clipTrunc(i + ds);
      lv[i] = clipTrunc(i + dv);
    }
    for (let i = 0; i < hsv.length; i += 3) {
      hsv[i] = lh[hsv[i]!]!;
      hsv[i + 1] = ls[hsv[i + 1]!]!;
      hsv[i + 2] = lv[hsv[i + 2]!]!;
    }
    return { ...s, image: hsvToRgb(hsv) };
  };
}
