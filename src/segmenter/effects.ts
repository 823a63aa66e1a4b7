/**
 * Person/background effects (background blur, background replacement, mattes) as pure functions on
 * typed arrays, shared by `segkit predict` and the browser demo: no Node or DOM imports.
 *
 * Conventions:
 * - images are RGB uint8 HWC ({@link DecodedImage} with 3 channels);
 * - a matte (alpha) is a `Float32Array` of width × height values in [0, 1], row-major, 1 = person
 *   (foreground). Float rather than uint8 because mattes are filtered (feathering, temporal
 *   smoothing) before use, and repeated 8-bit rounding would band the soft edges;
 *   {@link matteToBytes} gives the 0..255 form for saving.
 */
import type { DecodedImage } from '../data/image.js';
import type { RGB } from '../data/labels/types.js';
import { resizeBilinear } from '../data/transforms/resample.js';

/** Box-blur passes that {@link blurImage} and {@link featherMask} apply: three boxes are close to a Gaussian (central limit), at O(1) cost per pixel each. */
export const BLUR_PASSES = 3;

function checkRgb(img: DecodedImage, who: string): void {
  const { width: w, height: h, channels, data } = img;
  if (!(Number.isInteger(w) && w > 0 && Number.isInteger(h) && h > 0)) throw new Error(`${who}: image is ${w}×${h}; expected positive integer sizes`);
  if (channels !== 3 || data.length !== w * h * 3) throw new Error(`${who}: expected an RGB image of ${w}×${h}×3 = ${w * h * 3} bytes, got ${channels} channels and ${data.length} bytes`);
}

function checkMatte(alpha: Float32Array, w: number, h: number, who: string): void {
  if (!(alpha instanceof Float32Array) || alpha.length !== w * h) {
    throw new Error(`${who}: expected a Float32Array matte of ${w}×${h} = ${w * h} values, got ${alpha instanceof Float32Array ? alpha.length : (alpha as object)?.constructor?.name ?? typeof alpha}`);
  }
}

function checkRadius(radius: number, who: string): void {
  if (!(Number.isInteger(radius) && radius >= 0)) throw new Error(`${who}: radius must be a non-negative integer (pixels), got ${radius}`);
}

/** Options of {@link alphaMatte}. */
export interface MatteOptions {
  /** Probability at and below which a pixel is fully background (default 0). */
  low?: number;
  /** Probability at and above which a pixel is fully person (default 1). */
  high?: number;
}

/**
 * A matte from per-pixel person probabilities: a linear ramp from `low` (alpha 0) to `high`
 * (alpha 1), clamped. The defaults keep the probability as the alpha; a narrower ramp (e.g.
 * 0.3–0.7) firms up an uncertain model's edges without making them hard.
 */
export function alphaMatte(prob: Float32Array, w: number, h: number, o: MatteOptions = {}): Float32Array {
  checkMatte(prob, w, h, 'alphaMatte');
  const low = o.low ?? 0;
  const high = o.high ?? 1;
  if (!(low >= 0 && high <= 1 && low < high)) throw new Error(`alphaMatte: need 0 ≤ low < high ≤ 1, got low ${low}, high ${high}`);
  const out = new Float32Array(prob.length);
  const scale = 1 / (high - low);
  for (let i = 0; i < prob.length; i++) {
    const p = prob[i]!;
    if (!(p >= 0 && p <= 1)) throw new Error(`alphaMatte: probability ${p} at (x=${i % w}, y=${Math.floor(i / w)}) is not in [0, 1]`);
    out[i] = Math.min(1, Math.max(0, (p - low) * scale));
  }
  return out;
}

/** A matte as uint8 0..255 (rounded), e.g. to save as a 1-channel PNG. */
export function matteToBytes(alpha: Float32Array): Uint8Array {
  const out = new Uint8Array(alpha.length);
  for (let i = 0; i < alpha.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, alpha[i]!)) * 255);
  return out;
}

/** `alpha·fg + (1 − alpha)·bg` per pixel, rounded (fg and bg RGB of the same size). */
export function compositeOver(fg: DecodedImage, bg: DecodedImage, alpha: Float32Array): DecodedImage {
  checkRgb(fg, 'compositeOver');
  checkRgb(bg, 'compositeOver');
  if (fg.width !== bg.width || fg.height !== bg.height) throw new Error(`compositeOver: foreground is ${fg.width}×${fg.height} but background is ${bg.width}×${bg.height}`);
  checkMatte(alpha, fg.width, fg.height, 'compositeOver');
  const data = new Uint8Array(fg.data.length);
  for (let p = 0; p < alpha.length; p++) {
    const a = alpha[p]!;
    for (let c = p * 3; c < p * 3 + 3; c++) data[c] = Math.round(a * fg.data[c]! + (1 - a) * bg.data[c]!);
  }
  return { data, width: fg.width, height: fg.height, channels: 3 };
}

/**
 * One box-filter pass along one axis, in place through `tmp`: each of `lines` lines of `len`
 * samples (`step` apart, lines `lineStep` apart, `c` interleaved channels) becomes the mean of the
 * 2r+1 samples around it, indices clamped to the line (edge pixels repeat). A running sum makes it
 * O(1) per sample whatever the radius.
 */
function boxPass(src: Float32Array, dst: Float32Array, lines: number, len: number, step: number, lineStep: number, c: number, r: number): void {
  const last = len - 1;
  const norm = 1 / (2 * r + 1);
  for (let l = 0; l < lines; l++) {
    for (let ch = 0; ch < c; ch++) {
      const base = l * lineStep + ch;
      let sum = src[base]! * (r + 1);
      for (let i = 1; i <= r; i++) sum += src[base + Math.min(i, last) * step]!;
      for (let i = 0; i < len; i++) {
        dst[base + i * step] = sum * norm;
        sum += src[base + Math.min(i + r + 1, last) * step]! - src[base + Math.max(i - r, 0) * step]!;
      }
    }
  }
}

/**
 * {@link BLUR_PASSES} separable box blurs (horizontal then vertical) of an HWC float image, edges
 * clamped, in place: callers pass a buffer of their own (a copy where the input must be kept).
 */
function boxBlur(a: Float32Array, w: number, h: number, c: number, r: number): Float32Array {
  if (r === 0) return a;
  const tmp = new Float32Array(a.length);
  for (let pass = 0; pass < BLUR_PASSES; pass++) {
    boxPass(a, tmp, h, w, c, w * c, c, r);
    boxPass(tmp, a, w, h, w * c, c, c, r);
  }
  return a;
}

/**
 * Blurs an RGB image: {@link BLUR_PASSES} separable box blurs of window 2·radius + 1, edges
 * clamped — close to a Gaussian of σ ≈ radius for the cost of a box blur. Radius 0 copies.
 */
export function blurImage(img: DecodedImage, radius: number): DecodedImage {
  checkRgb(img, 'blurImage');
  checkRadius(radius, 'blurImage');
  const f = boxBlur(Float32Array.from(img.data), img.width, img.height, 3, radius);
  const data = new Uint8Array(f.length);
  for (let i = 0; i < f.length; i++) data[i] = Math.round(f[i]!);
  return { data, width: img.width, height: img.height, channels: 3 };
}

/** Softens a matte's edges with the same blur as {@link blurImage} (interior and far background stay 1 and 0). */
export function featherMask(alpha: Float32Array, w: number, h: number, radius: number): Float32Array {
  checkMatte(alpha, w, h, 'featherMask');
  checkRadius(radius, 'featherMask');
  return boxBlur(Float32Array.from(alpha), w, h, 1, radius);
}

/**
 * Temporal smoothing of video mattes, an exponential moving average: `factor·prev + (1 − factor)·next`.
 * `factor` 0 keeps `next`; larger values steady flickering edges at the cost of lag on motion.
 * Without `prev` (the first frame) the result is a copy of `next`.
 */
export function smoothMasks(prev: Float32Array | undefined, next: Float32Array, factor: number): Float32Array {
  if (!(factor >= 0 && factor < 1)) throw new Error(`smoothMasks: factor must be in [0, 1), got ${factor}`);
  if (!prev) return Float32Array.from(next);
  if (prev.length !== next.length) throw new Error(`smoothMasks: masks differ in size (${prev.length} and ${next.length} values); did the video size change?`);
  const out = new Float32Array(next.length);
  for (let i = 0; i < next.length; i++) out[i] = factor * prev[i]! + (1 - factor) * next[i]!;
  return out;
}

/**
 * A background image scaled to cover w×h (aspect ratio kept, bilinear) and centre-cropped to it,
 * as CSS `object-fit: cover` does.
 */
export function fitBackground(bg: DecodedImage, w: number, h: number): DecodedImage {
  checkRgb(bg, 'fitBackground');
  if (!(Number.isInteger(w) && w > 0 && Number.isInteger(h) && h > 0)) throw new Error(`fitBackground: target size ${w}×${h} must be positive integers`);
  const s = Math.max(w / bg.width, h / bg.height);
  const dw = Math.max(w, Math.round(bg.width * s));
  const dh = Math.max(h, Math.round(bg.height * s));
  const win = { x: (dw - w) >> 1, y: (dh - h) >> 1, w, h };
  return { data: resizeBilinear(bg.data, bg.width, bg.height, 3, dw, dh, win), width: w, height: h, channels: 3 };
}

/**
 * Replaces the background: the person (alpha) over `bg`, a solid colour or an image of the same
 * size (use {@link fitBackground} for one of another size).
 */
export function replaceBackground(img: DecodedImage, alpha: Float32Array, bg: DecodedImage | RGB): DecodedImage {
  checkRgb(img, 'replaceBackground');
  if (!('data' in bg)) {
    if (!(bg.length === 3 && bg.every((v) => Number.isInteger(v) && v >= 0 && v <= 255))) throw new Error(`replaceBackground: colour must be three integers 0–255, got ${JSON.stringify(bg)}`);
    const data = new Uint8Array(img.data.length);
    for (let i = 0; i < data.length; i += 3) data.set(bg, i);
    bg = { data, width: img.width, height: img.height, channels: 3 };
  }
  return compositeOver(img, bg, alpha);
}

/** Below this much background weight in a pixel's blur window, the blurred background there is undefined. */
const MIN_BACKGROUND_WEIGHT = 1e-3;

/**
 * The factor by which {@link blurBackground} reduces the resolution for a blur radius: ⌊radius / 4⌋
 * (at least 1), so the blur at the reduced size keeps a radius of 4 or more. Radii below 8 run at
 * full resolution.
 */
export function backgroundBlurReduction(radius: number): number {
  return Math.max(1, Math.floor(radius / 4));
}

/** Options of {@link blurBackground}. */
export interface BlurBackgroundOptions {
  /** Blur at full resolution whatever the radius (slower; see {@link blurBackground}). Default false. */
  exact?: boolean;
}

/**
 * Blurs the background and keeps the person sharp, compositing with the soft matte. The blurred
 * background is a normalised convolution: blur(image·(1 − alpha)) / blur(1 − alpha), so the
 * person's colours do not bleed into the background as a halo around them. Where the window holds
 * almost no background (deep inside the person, alpha ≈ 1) the image itself stands in.
 *
 * Large radii are blurred at reduced resolution, as video-call apps do: both terms are averaged
 * over f×f blocks (f = {@link backgroundBlurReduction}), blurred with radius round(radius / f), and
 * brought back by bilinear interpolation before the division; the person and the matte stay at full
 * resolution. A blur that wide keeps almost nothing the reduced grid cannot hold, and the cost
 * of the blur falls by about f² (the app's default radius 8 at 480×360: 2×2 blocks, the whole
 * function 2× faster in Node, 1.5× in Chromium).
 * `exact` blurs at full resolution.
 */
export function blurBackground(img: DecodedImage, alpha: Float32Array, radius: number, o: BlurBackgroundOptions = {}): DecodedImage {
  checkRgb(img, 'blurBackground');
  checkMatte(alpha, img.width, img.height, 'blurBackground');
  checkRadius(radius, 'blurBackground');
  const { width: w, height: h, data: src } = img;
  const f = o.exact ? 1 : backgroundBlurReduction(radius);
  // Numerator (3 channels) and denominator interleaved as 4 channels, one blur for both.
  const [lw, lh] = [Math.ceil(w / f), Math.ceil(h / f)];
  const terms = new Float32Array(lw * lh * 4);
  for (let y = 0; y < h; y++) {
    const row = Math.floor(y / f) * lw;
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const b = 1 - alpha[p]!;
      const q = (row + Math.floor(x / f)) * 4;
      terms[q] += src[p * 3]! * b;
      terms[q + 1] += src[p * 3 + 1]! * b;
      terms[q + 2] += src[p * 3 + 2]! * b;
      terms[q + 3] += b;
    }
  }
  if (f > 1) {
    // Block sums → means (blocks at the right and bottom edges may hold fewer pixels).
    for (let by = 0; by < lh; by++) {
      const rows = Math.min(f, h - by * f);
      for (let bx = 0; bx < lw; bx++) {
        const inv = 1 / (rows * Math.min(f, w - bx * f));
        for (let k = (by * lw + bx) * 4, e = k + 4; k < e; k++) terms[k]! *= inv;
      }
    }
  }
  let blurred = boxBlur(terms, lw, lh, 4, Math.round(radius / f));
  // Block centres sit at f·j + (f − 1)/2: a half-pixel-centre resize to lw·f × lh·f, cropped to w×h.
  if (f > 1) blurred = resizeBilinear(blurred, lw, lh, 4, lw * f, lh * f, { x: 0, y: 0, w, h });
  const data = new Uint8Array(w * h * 3);
  for (let p = 0; p < w * h; p++) {
    const a = alpha[p]!;
    const d = blurred[p * 4 + 3]!;
    for (let c = 0; c < 3; c++) {
      const v = src[p * 3 + c]!;
      const back = d > MIN_BACKGROUND_WEIGHT ? blurred[p * 4 + c]! / d : v;
      data[p * 3 + c] = Math.round(a * v + (1 - a) * back);
    }
  }
  return { data, width: w, height: h, channels: 3 };
}
