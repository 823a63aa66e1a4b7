/**
 * IEEE float16 and bfloat16 conversions. Half values travel as their raw 16-bit patterns (numbers in
 * 0..0xFFFF, or Uint16Array), which is how segkit stores float16 tensors (see engine/dtype.ts).
 * Pure JS with no Node imports: used by the safetensors reader in the browser too.
 */

// One shared scratch word to reinterpret float32 <-> uint32 bits without allocating per call.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float16 bits -> value (exact: every half is representable as a float32/double). */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero and subnormals: mant units of 2^-24
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (0x400 + mant) * 2 ** (exp - 25); // implicit leading 1, bias 15, 10 fraction bits
}

/**
 * Value -> float16 bits, rounding to nearest with ties to even (IEEE default, what numpy and torch do).
 * The argument is a float32 value; a double is first rounded to float32 (Math.fround), so a double
 * lying just off a float16 halfway point can in rare cases round differently than a direct conversion.
 * Values at or above 65520 (halfway between 65504, the largest half, and 2^16) overflow to ±Infinity.
 */
export function f32ToF16(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return mant ? sign | 0x7e00 | (mant >>> 13) : sign | 0x7c00; // NaN stays a quiet NaN, Inf stays Inf
  const e = exp - 127 + 15; // exponent re-biased for half
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Result is subnormal (or zero): the value in units of 2^-24 is the full 24-bit significand >> (14 - e).
    if (e < -10) return sign; // below 2^-25, i.e. under half the smallest subnormal: rounds to (signed) zero
    mant |= 0x800000;
    const shift = 14 - e;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    let h = mant >>> shift;
    if (rem > half || (rem === half && h & 1)) h++; // may carry into 0x400: the smallest normal, still right
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff; // the 13 dropped fraction bits
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // a carry ripples into the exponent, up to Inf: correct
  return sign | h;
}

/** bfloat16 bits -> value: bfloat16 is the top half of a float32, so this is exact. */
export function bf16ToF32(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0]!;
}

/** Whole-array float16 -> float32. */
export function f16ArrayToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f16ToF32(src[i]!);
  return out;
}

/** Whole-array float32 -> float16 bits (round to nearest even). */
export function f32ArrayToF16(src: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32ToF16(src[i]!);
  return out;
}

/** Whole-array bfloat16 -> float32, by shifting the bits into place (keeps NaN payloads too). */
export function bf16ArrayToF32(src: Uint16Array): Float32Array {
  const bits = new Uint32Array(src.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
  return new Float32Array(bits.buffer);
}
