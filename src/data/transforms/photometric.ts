/**
 * `PhotoMetricDistortion` with mmseg's semantics and draw order. Each step applies with probability
 * 0.5; contrast goes either second or last (a coin decides):
 *   1. brightness: + U(−delta, delta)            (delta 32)
 *   2. contrast (mode 1): × U(lo, hi)            (0.5–1.5)
 *   3. saturation: S × U(lo, hi) in HSV           (0.5–1.5)
 *   4. hue: H + randint(−delta, delta) mod 180    (delta 18; upper end excluded, as numpy's randint)
 *   5. contrast (mode 0)
 * After each step values are clipped to [0, 255] and truncated to uint8, as mmseg's `convert`.
 */
import type { Rng } from '../rng.js';
import type { Sample } from '../sample.js';
import { hsvToRgb, rgbToHsv } from './color.js';
import { applyLut, clipTrunc, requireU8, type Transform } from './types.js';

export interface PhotoMetricDistortionOptions {
  brightnessDelta?: number;
  contrastRange?: readonly [number, number];
  saturationRange?: readonly [number, number];
  hueDelta?: number;
}

function affineLut(alpha: number, beta: number): Uint8Array {
  const lut = new Uint8Array(256);
  for (let i = 0; i < 256; i++) lut[i] = clipTrunc(Math.fround(Math.fround(i * alpha) + beta));
  return lut;
}

export function photoMetricDistortion(opts: PhotoMetricDistortionOptions = {}): Transform {
  const bd = opts.brightnessDelta ?? 32;
  const [cLo, cHi] = opts.contrastRange ?? [0.5, 1.5];
  const [sLo, sHi] = opts.saturationRange ?? [0.5, 1.5];
  const hd = opts.hueDelta ?? 18;
  if (!(bd >= 0 && cLo <= cHi && sLo <= sHi && hd >= 0)) throw new Error(`PhotoMetricDistortion: invalid options ${JSON.stringify(opts)}`);

  const contrast = (rng: Rng): Uint8Array | null => (rng.int(0, 2) ? affineLut(rng.uniform(cLo, cHi), 0) : null);

  return function PhotoMetricDistortion(s: Sample, rng: Rng): Sample {
    let img = requireU8(s, 'PhotoMetricDistortion');
    // 1. brightness, then (mode 1) contrast: consecutive per-value maps, composed into one LUT
    // (exact: each step maps uint8 to uint8).
    let lut: Uint8Array | null = rng.int(0, 2) ? affineLut(1, rng.uniform(-bd, bd)) : null;
    const mode = rng.int(0, 2);
    if (mode === 1) {
      const c = contrast(rng);
      if (c) lut = lut ? lut.map((v) => c[v]!) : c;
    }
    if (lut) img = applyLut(img, lut);
    // 3. saturation
    if (rng.int(0, 2)) {
      const alpha = rng.uniform(sLo, sHi);
      const hsv = rgbToHsv(img);
      for (let i = 1; i < hsv.length; i += 3) hsv[i] = clipTrunc(Math.fround(hsv[i]! * alpha));
      img = hsvToRgb(hsv);
    }
    // 4. hue
    if (rng.int(0, 2)) {
      const delta = hd > 0 ? rng.int(-hd, hd) : 0;
      const hsv = rgbToHsv(img);
      for (let i = 0; i < hsv.length; i += 3) hsv[i] = (((hsv[i]! + delta) % 180) + 180) % 180;
      img = hsvToRgb(hsv);
    }
    // mode 0: contrast last
    if (mode === 0) {
      const c = contrast(rng);
      if (c) img = applyLut(img, c);
    }
    return img === s.image ? s : { ...s, image: img };
  };
}
