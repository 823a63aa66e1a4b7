/**
 * A small, fast, seeded random generator (xoshiro128**) with deterministic sub-streams.
 *
 * `fork(key)` derives an independent generator from this generator's *identity* (its seed and the
 * chain of keys that led to it), never from how many numbers it has already produced. The data
 * loader derives each sample's generator as `root.fork('aug').fork(epoch).fork(index)`, so a sample's
 * augmentation depends only on (seed, epoch, index): the same whatever the worker count or the order
 * in which workers finish.
 */

/** murmur3's 32-bit finaliser: a good avalanche mix of one word. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hashes a fork key (integer, float or string) to two 32-bit words. */
function keyWords(key: number | string): [number, number] {
  if (typeof key === 'number') {
    if (Number.isInteger(key) && Math.abs(key) <= Number.MAX_SAFE_INTEGER) {
      const lo = key >>> 0;
      const hi = Math.floor(key / 4294967296) >>> 0;
      return [lo, hi ^ 0x5bd1e995];
    }
    const f = new Float64Array([key]);
    const u = new Uint32Array(f.buffer);
    return [u[0]! ^ 0x27d4eb2f, u[1]! ^ 0x165667b1];
  }
  // FNV-1a, twice with different offsets, over UTF-16 code units.
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x9e3779b9;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return [fmix32(a), fmix32(b ^ 0xa5a5a5a5)];
}

export type Seed = number | string;

/** Seeded generator. Not cryptographic; meant for augmentation, shuffling and initialisation. */
export class Rng {
  /** Identity words: the seed and fork chain, hashed. Never changes. */
  private readonly id: Uint32Array;
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | null = null;

  constructor(seed: Seed = 0) {
    const [a, b] = keyWords(seed);
    this.id = Rng.mixId(new Uint32Array([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344]), a, b);
    this.s0 = this.s1 = this.s2 = this.s3 = 0;
    this.reset();
  }

  private static mixId(parent: Uint32Array, a: number, b: number): Uint32Array {
    const out = new Uint32Array(4);
    out[0] = fmix32(parent[0]! ^ fmix32(a + 0x9e3779b9));
    out[1] = fmix32(parent[1]! ^ fmix32(b + 0x7f4a7c15) ^ out[0]!);
    out[2] = fmix32(parent[2]! ^ fmix32((a ^ b) + 0xf39cc060) ^ out[1]!);
    out[3] = fmix32(parent[3]! ^ fmix32(a + Math.imul(b, 0x2545f491)) ^ out[2]!);
    if ((out[0]! | out[1]! | out[2]! | out[3]!) === 0) out[0] = 1;
    return out;
  }

  /** Restarts the stream from its beginning (the identity is unchanged). */
  reset(): this {
    this.s0 = this.id[0]!;
    this.s1 = this.id[1]!;
    this.s2 = this.id[2]!;
    this.s3 = this.id[3]!;
    this.spareNormal = null;
    for (let i = 0; i < 4; i++) this.nextU32();
    return this;
  }

  /**
   * An independent generator for `key`, derived from this generator's identity only: `fork(k)`
   * returns the same stream however many numbers this generator has produced.
   */
  fork(key: number | string): Rng {
    const child = Object.create(Rng.prototype) as Rng;
    const [a, b] = keyWords(key);
    (child as unknown as { id: Uint32Array }).id = Rng.mixId(this.id, a, b);
    child.spareNormal = null;
    child.reset();
    return child;
  }

  /** A uniform unsigned 32-bit integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits (like numpy's `random_sample`). */
  random(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.random();
  }

  /** Uniform integer in [lo, hi) (numpy's `randint(lo, hi)`: the upper end is excluded). */
  int(lo: number, hi: number): number {
    const n = hi - lo;
    if (!(n >= 1) || !Number.isInteger(n)) throw new RangeError(`Rng.int: empty or non-integer range [${lo}, ${hi})`);
    if (n <= 0x100000000) {
      // Lemire-style rejection for an unbiased draw.
      const limit = 0x100000000 - (0x100000000 % n);
      let x = this.nextU32();
      while (x >= limit) x = this.nextU32();
      return lo + (x % n);
    }
    return lo + Math.floor(this.random() * n);
  }

  /** True with probability `p`. */
  bool(p = 0.5): boolean {
    return this.random() < p;
  }

  /** A standard normal draw (Box–Muller; the second value of each pair is kept for the next call). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + std * z;
    }
    let u = this.random();
    while (u <= 0) u = this.random();
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** One element, uniformly, or with the given (unnormalised, non-negative) weights. */
  choice<T>(items: readonly T[], weights?: readonly number[]): T {
    if (items.length === 0) throw new RangeError('Rng.choice: no items');
    if (!weights) return items[this.int(0, items.length)]!;
    return items[this.weightedIndex(weights)]!;
  }

  /** An index drawn with probability proportional to `weights[i]`. */
  weightedIndex(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) {
      if (!(w >= 0)) throw new RangeError(`Rng.weightedIndex: weights must be non-negative, got ${w}`);
      total += w;
    }
    if (total <= 0) throw new RangeError('Rng.weightedIndex: weights sum to 0');
    let r = this.random() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]!;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }

  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
    return a;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  /** Fills `out` with N(mean, std²) draws. */
  fillNormal(out: Float32Array | Float64Array, mean = 0, std = 1): void {
    for (let i = 0; i < out.length; i++) out[i] = this.normal(mean, std);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
