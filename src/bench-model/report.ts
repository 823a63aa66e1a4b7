/** A benchmark result with the model it describes, and its printed form (`segkit benchmark`). */
import type { BenchmarkResult } from './measure.js';

/** Which model was benchmarked: registry name and options, and the checkpoint its weights came from. */
export interface ModelDescription {
  name: string;
  options: Record<string, unknown>;
  /** Path of the checkpoint whose weights were loaded; null for freshly initialised weights. */
  checkpoint: string | null;
  /** The checkpoint's training iteration; null without a checkpoint. */
  iteration: number | null;
}

/** What `segkit benchmark --json` writes. */
export interface BenchmarkReport extends BenchmarkResult {
  model: ModelDescription;
}

const ms = (v: number): string => `${v.toFixed(2)} ms`;
/** Four significant digits without exponent notation: 0.03512, 8.394, 283.1, 12345. */
const sig4 = (v: number): string => (Math.abs(v) >= 1000 ? v.toFixed(0) : v.toPrecision(4));

/** Rows of a two-column table, the keys padded to one width. */
export function formatKeyValueTable(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

/** The report as an aligned key/value table followed by mmseg's "Overall fps" line. */
export function formatBenchmarkTable(r: BenchmarkReport): string {
  const { complexity: c, size, timing: t, runtime, machine } = r;
  const l = t.latencyMs;
  const rows: [string, string][] = [
    ['model', `${r.model.name} ${JSON.stringify(r.model.options)}`],
    ['weights from', r.model.checkpoint === null ? 'random initialisation' : `${r.model.checkpoint} (iteration ${r.model.iteration})`],
    ['input', `${r.input.join('x')} (NxCxHxW)`],
    ['parameters', `${c.params.toLocaleString('en-US')} (${(c.params / 1e6).toFixed(2)} M)`],
    ['GMACs', `${sig4(c.gmacs)} (the "GFLOPs" of papers and mmseg get_flops)`],
    ['GFLOPs', `${sig4(c.gflops)} (2 per multiply-accumulate)`],
    ['weights size', `${size.weightsMiB.toFixed(2)} MiB (float32 parameters and buffers)`],
    ['ONNX size', `${size.onnxMiB.toFixed(2)} MiB`],
    ['backend', `${runtime.backend}${runtime.onnxruntime ? ` ${runtime.onnxruntime}` : ''}, ${runtime.threads} intra-op thread(s)`],
    ['machine', `${machine.cpu ?? 'unknown CPU'}, ${machine.cores} logical cores, Node ${machine.node}, ${machine.platform} ${machine.arch}`],
    ['session creation', ms(t.sessionMs)],
    ['first run', `${ms(t.firstRunMs)} (trace, ONNX write, session creation, one inference)`],
    ['runs', `${t.warmup} warm-up, ${t.iters} timed`],
    ['latency median', ms(l.median)],
    ['latency mean', ms(l.mean)],
    ['latency p90', ms(l.p90)],
    ['latency min', ms(l.min)],
    ['latency max', ms(l.max)],
    ['latency std', ms(l.std)],
  ];
  return `${formatKeyValueTable(rows)}\nOverall fps: ${t.fps.toFixed(2)} img / s (batch ${r.input[0]} / median latency)`;
}
