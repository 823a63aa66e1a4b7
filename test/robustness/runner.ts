/**
 * Runs a fuzz target over seeded mutants of its seed inputs, judging each case with the oracle and
 * grouping failures by signature (one entry per root cause, keeping the first case that showed it,
 * minimised by truncation so it can be pasted into a regression test).
 */
import { choose, mutate, type Mutation } from './mutate.js';
import { DEFAULT_LIMITS, judge, type ErrorContract, type Failure, type OracleLimits } from './oracle.js';

/** A prepared target: its valid seed inputs and how to feed it one input. */
export interface Harness {
  seeds: Uint8Array[];
  /** Format-specific tokens for the mutator's token operator. */
  tokens?: Uint8Array[];
  contract: ErrorContract;
  /**
   * Feeds the parser one input (`caseSeed` may pick options, e.g. with or without CRC checks) and
   * returns what it produced. Throwing is judged by the oracle.
   */
  run(bytes: Uint8Array, caseSeed: number): unknown;
  /**
   * Optionally a structure-aware mutant of `base` to use instead of a byte mutant (undefined: use a
   * byte mutant), e.g. a mutated JSON header re-wrapped in a valid file, to reach the checks behind
   * the container format that byte mutants rarely get past.
   */
  derive?(base: Uint8Array, caseSeed: number): Mutation | undefined | Promise<Mutation | undefined>;
  close?(): void;
}

export interface FuzzTarget {
  name: string;
  /** One line: what is fuzzed. */
  about: string;
  prepare(): Promise<Harness>;
}

export interface FoundFailure extends Failure {
  caseSeed: number;
  ops: string[];
  /** The failing input, truncated as far as it still fails the same way. */
  input: Uint8Array;
}

export interface FuzzReport {
  target: string;
  cases: number;
  /** Distinct failures, by signature. */
  failures: Map<string, FoundFailure>;
  ms: number;
}

/** The seed of case `i` of a run started with `seed` (spread out so nearby runs do not overlap). */
export const caseSeedOf = (seed: number, i: number): number => (Math.imul(seed, 0x9e3779b1) + i) >>> 0;

/** The input of one case, exactly as the fuzzer built it (for replaying a reported seed). */
export async function caseInput(h: Harness, caseSeed: number): Promise<Mutation> {
  const base = h.seeds[choose(caseSeed, 1, h.seeds.length)]!;
  return (await h.derive?.(base, caseSeed)) ?? mutate(base, caseSeed, h.tokens);
}

/** Judges `bytes` (already the parser's input) with the harness and the oracle. */
export function check(h: Harness, bytes: Uint8Array, caseSeed: number, limits: OracleLimits = DEFAULT_LIMITS): Promise<Failure | null> {
  // The parser gets its own copy: some parse in place, and minimisation replays the same bytes.
  return judge(() => h.run(bytes.slice(), caseSeed), h.contract, limits);
}

/** Shortens a failing input from the end while it still fails with the same signature. */
export async function minimise(h: Harness, bytes: Uint8Array, caseSeed: number, signature: string, limits = DEFAULT_LIMITS): Promise<Uint8Array> {
  let cur = bytes;
  for (let step = Math.max(1, cur.length >> 1); step >= 1; ) {
    const shorter = cur.subarray(0, cur.length - step);
    const f = cur.length > step ? await check(h, shorter, caseSeed, limits) : null;
    if (f?.signature === signature) cur = shorter.slice();
    else step >>= 1;
  }
  return cur;
}

export interface RunOptions {
  seed: number;
  /** Stop after this many cases... */
  cases?: number;
  /** ...or after this long, whichever comes first. */
  ms?: number;
  limits?: OracleLimits;
}

export async function runTarget(target: FuzzTarget, opts: RunOptions): Promise<FuzzReport> {
  const h = await target.prepare();
  const failures = new Map<string, FoundFailure>();
  const t0 = performance.now();
  const maxCases = opts.cases ?? Infinity;
  const maxMs = opts.ms ?? Infinity;
  let i = 0;
  try {
    for (; i < maxCases && performance.now() - t0 < maxMs; i++) {
      const caseSeed = caseSeedOf(opts.seed, i);
      const { bytes, ops } = await caseInput(h, caseSeed);
      const f = await check(h, bytes, caseSeed, opts.limits);
      if (f && !failures.has(f.signature)) {
        const input = f.kind === 'bad-error' ? await minimise(h, bytes, caseSeed, f.signature, opts.limits) : bytes;
        failures.set(f.signature, { ...f, caseSeed, ops, input });
      }
    }
  } finally {
    h.close?.();
  }
  return { target: target.name, cases: i, failures, ms: performance.now() - t0 };
}

/** A failure as text: enough to replay it (seed) and to paste it as a regression (base64). */
export function describeFailure(target: string, f: FoundFailure): string {
  const b64 = Buffer.from(f.input).toString('base64');
  return `${target}: ${f.signature}\n  ${f.detail}\n  case seed ${f.caseSeed} (ops ${f.ops.join(', ')}); input ${f.input.length} bytes (base64): ${b64.length > 2000 ? `${b64.slice(0, 2000)}…` : b64}`;
}
