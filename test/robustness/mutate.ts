/**
 * A seeded mutator for fuzzing byte parsers: the same (input, seed) always gives the same output,
 * so any failing case can be replayed from its seed alone. Each call applies one to a few of the
 * operators below, which between them cover what corrupt files look like in practice: flipped bits,
 * lost or extra bytes, repeated or spliced blocks, length fields set to boundary values, and
 * truncation.
 */

/** A small, fast, well-mixed 32-bit PRNG (mulberry32); quality is ample for choosing mutations. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** A uniform integer in [0, n); 0 when n <= 0. */
  below(n: number): number {
    return n <= 0 ? 0 : Math.floor((this.u32() / 2 ** 32) * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)]!;
  }
}

/**
 * An independent choice in [0, n) derived from a case seed: `salt` keeps the choices a case makes
 * (which seed input, which mode) uncorrelated with each other and with the mutation itself.
 */
export const choose = (seed: number, salt: number, n: number): number => new Rng((seed ^ Math.imul(salt, 0x85ebca6b)) >>> 0).below(n);

/**
 * Values that break length and offset arithmetic: zero, one, sign and width boundaries, and sizes
 * beyond any real file (each is written in the field width chosen, truncated to it).
 */
export const BOUNDARY_VALUES: readonly bigint[] = [
  0n, 1n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn,
  2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n,
];

type Op = (b: Uint8Array, r: Rng, tokens: readonly Uint8Array[]) => Uint8Array;

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/**
 * Where to damage: headers and trailers (ZIP end records, length prefixes, IHDR) hold the fields
 * parsers trust most, so a third of positions fall in the first 64 bytes and a third in the last 64.
 */
const position = (r: Rng, n: number): number => {
  const k = r.below(3);
  if (k === 0) return r.below(Math.min(n, 64));
  if (k === 1) return n - 1 - r.below(Math.min(n, 64));
  return r.below(n);
};

/** A chunk length biased to small (most real damage is local) but sometimes large. */
const chunkLen = (r: Rng, max: number): number => Math.min(max, r.below(4) === 0 ? 1 + r.below(Math.max(1, max)) : 1 + r.below(16));

/** The mutation operators by name (the names show up in failure reports). */
export const OPERATORS: Readonly<Record<string, Op>> = {
  bitFlip(b, r) {
    if (b.length === 0) return b;
    const out = b.slice();
    const flips = 1 + r.below(4);
    for (let i = 0; i < flips; i++) out[position(r, out.length)]! ^= 1 << r.below(8);
    return out;
  },
  byteSet(b, r) {
    if (b.length === 0) return b;
    const out = b.slice();
    out[position(r, out.length)] = r.pick([0, 0xff, 0x7f, 0x80, r.below(256)]);
    return out;
  },
  insertBytes(b, r) {
    const at = r.below(b.length + 1);
    const n = 1 + r.below(r.below(4) === 0 ? 256 : 8);
    const ins = new Uint8Array(n);
    const fill = r.below(3);
    for (let i = 0; i < n; i++) ins[i] = fill === 0 ? 0 : fill === 1 ? r.below(256) : b[r.below(b.length)] ?? 0;
    return concat(b.subarray(0, at), ins, b.subarray(at));
  },
  deleteBytes(b, r) {
    if (b.length === 0) return b;
    const at = position(r, b.length);
    const n = chunkLen(r, b.length - at);
    return concat(b.subarray(0, at), b.subarray(at + n));
  },
  duplicateChunk(b, r) {
    if (b.length === 0) return b;
    const from = r.below(b.length);
    const n = chunkLen(r, b.length - from);
    const to = r.below(b.length + 1);
    return concat(b.subarray(0, to), b.subarray(from, from + n), b.subarray(to));
  },
  /** Copies a chunk of the input over another place (same length: offsets stay valid, content lies). */
  spliceChunk(b, r) {
    if (b.length < 2) return b;
    const from = r.below(b.length);
    const n = chunkLen(r, b.length - from);
    const to = r.below(b.length - n + 1);
    const out = b.slice();
    out.set(b.subarray(from, from + n), to);
    return out;
  },
  /** Overwrites a 1/2/4/8-byte field, little- or big-endian, with a boundary value. */
  boundaryInt(b, r) {
    const width = r.pick([1, 2, 4, 8]);
    if (b.length < width) return b;
    const at = Math.min(position(r, b.length), b.length - width);
    const v = BigInt.asUintN(width * 8, r.pick(BOUNDARY_VALUES) + BigInt(r.below(3) - 1)); // also ±1 around each
    const out = b.slice();
    const little = r.below(2) === 0;
    for (let i = 0; i < width; i++) {
      const byte = Number((v >> BigInt(8 * i)) & 0xffn);
      out[little ? at + i : at + width - 1 - i] = byte;
    }
    return out;
  },
  /** Replaces a short run with a format-specific token (JSON keywords, opcodes, chunk names...). */
  token(b, r, tokens) {
    if (tokens.length === 0) return OPERATORS.byteSet!(b, r, tokens);
    const t = r.pick(tokens);
    const at = r.below(b.length + 1);
    const over = r.below(2) === 0 ? 0 : Math.min(b.length - at, r.below(t.length + 4));
    return concat(b.subarray(0, at), t, b.subarray(at + over));
  },
  truncate(b, r) {
    if (b.length === 0) return b;
    // Half the time cut near the end (a partly written file), else anywhere.
    const keep = r.below(2) === 0 ? Math.max(0, b.length - 1 - r.below(Math.min(b.length, 64))) : r.below(b.length);
    return b.slice(0, keep);
  },
};

const NAMES = Object.keys(OPERATORS);

export interface Mutation {
  bytes: Uint8Array;
  /** The operators applied, in order. */
  ops: string[];
}

/**
 * Derives a mutant of `input` from `seed`: 1 to 4 operators (mostly one, so that most mutants stay
 * close enough to valid to get past the first checks). `tokens` feeds the token operator.
 */
export function mutate(input: Uint8Array, seed: number, tokens: readonly Uint8Array[] = []): Mutation {
  const r = new Rng(seed);
  const count = r.below(3) === 0 ? 2 + r.below(3) : 1;
  let bytes = input;
  const ops: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = r.pick(NAMES);
    bytes = OPERATORS[name]!(bytes, r, tokens);
    ops.push(name);
  }
  // Never hand back the caller's array: targets may mutate in place (the PNG unfilter does).
  return { bytes: bytes === input ? input.slice() : bytes, ops };
}

/** JSON values that break code expecting a particular shape (types, signs, sizes, emptiness). */
const JSON_VALUES: readonly unknown[] = [
  null, false, true, 0, -1, 0.5, 2 ** 32, 2 ** 53 + 2, 1e308, -1e308, '', 'x', '__proto__', [], [0], [0, 0], [-1, 1], [2 ** 40, 2 ** 40], {}, { a: null }, [[]],
];

/**
 * A structural mutant of a JSON value, for formats whose header is JSON: replaces a random node
 * (the root included) by an odd value, deletes or duplicates an entry, or swaps two siblings.
 * The input is not modified.
 */
export function mutateJson(value: unknown, seed: number): unknown {
  const r = new Rng(seed);
  const root = structuredClone(value);
  // Every (container, key) slot, plus a pseudo-slot for the root.
  const slots: [Record<string, unknown>, string][] = [];
  const holder = { root } as Record<string, unknown>;
  const walk = (parent: Record<string, unknown>, key: string) => {
    slots.push([parent, key]);
    const v = parent[key];
    if (typeof v === 'object' && v !== null) for (const k of Object.keys(v)) walk(v as Record<string, unknown>, k);
  };
  walk(holder, 'root');
  const count = 1 + r.below(3);
  for (let i = 0; i < count; i++) {
    const [parent, key] = r.pick(slots);
    const op = r.below(4);
    if (op === 0 || parent === holder) parent[key] = structuredClone(r.pick(JSON_VALUES));
    else if (op === 1) {
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
    } else if (op === 2) {
      if (Array.isArray(parent)) parent.push(structuredClone(parent[key]));
      else parent[`${key}_`] = structuredClone(parent[key]);
    } else {
      const keys = Object.keys(parent);
      const other = r.pick(keys);
      [parent[key], parent[other]] = [parent[other], parent[key]];
    }
  }
  return holder.root;
}

/** A fixed-width integer field of a format (e.g. a PNG IHDR width: offset 16, 4 bytes, big-endian). */
export interface Field {
  at: number;
  width: 1 | 2 | 4 | 8;
  littleEndian: boolean;
}

/**
 * Sets 1 to 3 of the given fields to a boundary value or a small integer (0..16; enum-like fields
 * such as bit depths live there), leaving the rest of the input intact: the combinations of header
 * values that byte-level mutation almost never produces together.
 */
export function mutateFields(input: Uint8Array, fields: readonly Field[], seed: number): Uint8Array {
  const r = new Rng(seed);
  const out = input.slice();
  const view = new DataView(out.buffer);
  const count = 1 + r.below(3);
  for (let i = 0; i < count && fields.length; i++) {
    const f = r.pick(fields);
    if (f.at + f.width > out.length) continue;
    const v = BigInt.asUintN(f.width * 8, r.below(2) === 0 ? BigInt(r.below(17)) : r.pick(BOUNDARY_VALUES));
    if (f.width === 1) view.setUint8(f.at, Number(v));
    else if (f.width === 2) view.setUint16(f.at, Number(v), f.littleEndian);
    else if (f.width === 4) view.setUint32(f.at, Number(v), f.littleEndian);
    else view.setBigUint64(f.at, v, f.littleEndian);
  }
  return out;
}
