/**
 * The fuzzing oracle: what a parser may do with any input. It may parse it, or throw an
 * "acceptable error": an Error (of the parser's own kind, not an engine TypeError/RangeError from a
 * missed check) with a non-empty message naming the source it was given, and no engine error or
 * non-Error hidden in its cause chain (pth.ts wraps unexpected errors as "unexpected TypeError ...").
 * Either way it must finish within a time bound and without growing memory absurdly (a mutated length
 * field must be checked before it is allocated).
 */

/** Error classes the JS engine throws by itself: a parser that lets one escape missed a check. */
const ENGINE_ERRORS = [TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError];

export interface OracleLimits {
  /** Longest a single case may take. */
  maxMs: number;
  /** Most the process's memory (RSS or ArrayBuffers) may grow over its level before the case. */
  maxGrowthBytes: number;
}

export const DEFAULT_LIMITS: OracleLimits = { maxMs: 2000, maxGrowthBytes: 256 * 2 ** 20 };

/** How a parser under test reports a bad input: the source name to expect and the error class. */
export interface ErrorContract {
  /** The name the parser was given; its errors must mention it (undefined: the parser takes none). */
  source?: string;
  /** When set, errors must be instances of this class (e.g. PngFormatError). */
  errorClass?: abstract new (...args: never[]) => Error;
}

export interface Failure {
  kind: 'bad-error' | 'slow' | 'memory';
  /** Groups failures with one root cause: the kind, error class and the throwing code location. */
  signature: string;
  detail: string;
}

/** The first stack frame inside the repository (node_modules and node internals skipped). */
function throwSite(e: unknown): string {
  const stack = e instanceof Error ? (e.stack ?? '') : '';
  for (const line of stack.split('\n').slice(1)) {
    const m = /(?:src|test)\/[\w/.-]+:\d+/.exec(line);
    if (m && !line.includes('node_modules')) return m[0];
  }
  return 'unknown site';
}

/** Why `e` is not an acceptable error under the contract, or null when it is. */
export function errorProblem(e: unknown, contract: ErrorContract): Failure | null {
  const bad = (what: string, culprit: unknown): Failure => ({
    kind: 'bad-error',
    signature: `bad-error ${what} at ${throwSite(culprit)}`,
    detail: `${what}: ${culprit instanceof Error ? `${culprit.name}: ${culprit.message}` : String(culprit)}`,
  });
  if (!(e instanceof Error)) return bad(`threw a non-Error (${typeof e})`, e);
  const seen = new Set<unknown>();
  for (let c: unknown = e; c !== undefined && !seen.has(c); c = c instanceof Error ? c.cause : undefined) {
    seen.add(c);
    if (!(c instanceof Error)) return bad(`non-Error cause (${typeof c})`, e);
    const engine = ENGINE_ERRORS.find((k) => c instanceof k);
    if (engine) return bad(`engine ${engine.name}${c === e ? '' : ' (as a cause)'}`, c);
  }
  if (contract.errorClass && !(e instanceof contract.errorClass)) return bad(`${(e as Error).constructor.name} instead of ${contract.errorClass.name}`, e);
  if (!e.message.trim()) return bad('empty message', e);
  if (contract.source !== undefined && !e.message.includes(contract.source)) return bad('message does not name the source', e);
  return null;
}

const memoryLevel = () => {
  const m = process.memoryUsage();
  return Math.max(m.rss, m.arrayBuffers);
};

/**
 * Runs one case and judges it. `run` returns what the parser produced: it is kept alive until memory
 * is measured, so a huge allocation the result retains is seen.
 */
export async function judge(run: () => unknown, contract: ErrorContract, limits: OracleLimits = DEFAULT_LIMITS): Promise<Failure | null> {
  const before = memoryLevel();
  const t0 = performance.now();
  const held: { result?: unknown } = {};
  let problem: Failure | null = null;
  try {
    held.result = await run();
  } catch (e) {
    problem = errorProblem(e, contract);
  }
  const ms = performance.now() - t0;
  const growth = memoryLevel() - before;
  held.result = undefined;
  if (problem) return problem;
  if (ms > limits.maxMs) return { kind: 'slow', signature: 'slow', detail: `took ${ms.toFixed(0)} ms (limit ${limits.maxMs})` };
  if (growth > limits.maxGrowthBytes) {
    return { kind: 'memory', signature: 'memory', detail: `memory grew by ${(growth / 2 ** 20).toFixed(0)} MiB (limit ${(limits.maxGrowthBytes / 2 ** 20).toFixed(0)})` };
  }
  return null;
}
