/**
 * Blur-type transforms (albumentations): `Blur` (box filter, odd kernel from `blurLimit`),
 * `MotionBlur` (a random line kernel) and `Sharpen` (identity blended with a Laplacian-like kernel).
 * Borders reflect (reflect-101, as OpenCV).
 */
import type { Rng } from '../rng.js';
import { convolveU8 } from './resample.js';
import { range2, requireU8, type Transform } from './types.js';

export interface BlurOptions {
  /** Kernel size range [lo, hi] (odd sizes in it are drawn uniformly), or the max (from 3). Default [3, 7]. */
  blurLimit?: number | readonly [number, number];
}

export interface SharpenOptions {
  alpha?: readonly [number, number];
  lightness?: readonly [number, number];
}

function oddSizes(limit: number | readonly [number, number] | undefined, who: string): number[] {
  const [lo, hi] = typeof limit === 'number' ? [3, limit] : range2(limit ?? [3, 7], `${who}.blurLimit`);
  const sizes: number[] = [];
  for (let k = Math.max(3, lo); k <= hi; k++) if (k % 2 === 1) sizes.push(k);
  if (sizes.length === 0) throw new Error(`${who}: blurLimit ${JSON.stringify(limit)} contains no odd kernel size ≥ 3`);
  return sizes;
}

export function blur(opts: BlurOptions = {}): Transform {
  const sizes = oddSizes(opts.blurLimit, 'Blur');
  return function Blur(s, rng: Rng) {
    const src = requireU8(s, 'Blur');
    const k = rng.choice(sizes);
    const kernel = new Float64Array(k * k).fill(1 / (k * k));
    return { ...s, image: convolveU8(src, s.width, s.height, s.channels, kernel, k) };
  };
}

/** Draws a 1-pixel line from (x1, y1) to (x2, y2) into a k×k kernel (Bresenham, like cv2.line). */
function line(kernel: Float64Array, k: number, x1: number, y1: number, x2: number, y2: number): void {
  const dx = Math.abs(x2 - x1);
  const dy = -Math.abs(y2 - y1);
  const sx = x1 < x2 ? 1 : -1;
  const sy = y1 < y2 ? 1 : -1;
  let err = dx + dy;
  let x = x1;
  let y = y1;
  for (;;) {
    kernel[y * k + x] = 1;
    if (x === x2 && y === y2) break;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y += sy;
    }
  }
}

export function motionBlur(opts: BlurOptions = {}): Transform {
  const sizes = oddSizes(opts.blurLimit, 'MotionBlur');
  return function MotionBlur(s, rng: Rng) {
    const src = requireU8(s, 'MotionBlur');
    const k = rng.choice(sizes);
    const kernel = new Float64Array(k * k);
    const x1 = rng.int(0, k);
    const x2 = rng.int(0, k);
    let y1: number;
    let y2: number;
    if (x1 === x2) {
      // two distinct rows, so the line is never a single point
      y1 = rng.int(0, k);
      y2 = rng.int(0, k - 1);
      if (y2 >= y1) y2++;
    } else {
      y1 = rng.int(0, k);
      y2 = rng.int(0, k);
    }
    line(kernel, k, x1, y1, x2, y2);
    let sum = 0;
    for (const v of kernel) sum += v;
    for (let i = 0; i < kernel.length; i++) kernel[i]! /= sum;
    return { ...s, image: convolveU8(src, s.width, s.height, s.channels, kernel, k) };
  };
}

export function sharpen(opts: SharpenOptions = {}): Transform {
  const [aLo, aHi] = range2(opts.alpha ?? [0.2, 0.5], 'Sharpen.alpha');
  const [lLo, lHi] = range2(opts.lightness ?? [0.5, 1.0], 'Sharpen.lightness');
  return function Sharpen(s, rng: Rng) {
    const src = requireU8(s, 'Sharpen');
    const alpha = rng.uniform(aLo, aHi);
    const lightness = rng.uniform(lLo, lHi);
    const kernel = new Float64Array(9).fill(-alpha);
    kernel[4] = 1 - alpha + alpha * (8 + lightness);
    return { ...s, image: convolveU8(src, s.width, s.height, s.channels, kernel, 3) };
  };
}
