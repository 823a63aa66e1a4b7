/**
 * `segkit benchmark`: inference latency, throughput, parameters, MACs and sizes of a zoo model or a
 * training checkpoint at one input shape (mmseg's benchmark.py and get_flops.py in one).
 */
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { checkInputShape, parseInputShape, type InputShape } from '../../bench-model/input-shape.js';
import { benchmarkModel } from '../../bench-model/measure.js';
import { formatBenchmarkTable, type BenchmarkReport, type ModelDescription } from '../../bench-model/report.js';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { createModel, listModels, type SegmentationModel } from '../../models/index.js';
import { manualSeed } from '../../nn/init.js';
import { loadCheckpoint } from '../../train/checkpoint.js';
import { Progress } from '../progress.js';
import { parseArgs, UsageError, type Command } from '../command.js';

const DEFAULT_INPUT = '1x3x512x1024';
/** Fewer timed runs than this finish too fast for progress lines to help. */
const PROGRESS_MIN_ITERS = 20;

const modelNames = (): string => listModels().map((m) => m.name).join(', ');

function parseCount(options: Record<string, unknown>, name: string, fallback: number, min: number): number {
  const text = options[name];
  if (text === undefined) return fallback;
  const v = typeof text === 'string' && /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(Number.isSafeInteger(v) && v >= min)) throw new UsageError(`--${name} must be an integer ≥ ${min}, got '${String(text)}'`);
  return v;
}

function parseModelOptions(text: string): Record<string, unknown> {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--options is not valid JSON (${(e as Error).message}): ${text}`);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new UsageError(`--options must be a JSON object, got ${text}`);
  return o as Record<string, unknown>;
}

function build(name: string, options: Record<string, unknown>): SegmentationModel {
  try {
    return createModel(name, options);
  } catch (e) {
    throw new UsageError((e as Error).message); // unknown names and options: the message lists the valid ones
  }
}

/** The model from a registry name and options, or from a checkpoint's metadata with its weights loaded. */
async function resolveModel(positional: string[], options: Record<string, unknown>): Promise<{ model: SegmentationModel; description: ModelDescription }> {
  if (positional.length > 1) throw new UsageError(`expected at most one model name, got ${positional.join(' ')}`);
  const name = positional[0];
  const ckptPath = options.checkpoint as string | undefined;
  manualSeed(0); // the same weights on every run: latency should not depend on which random values were drawn
  if (ckptPath === undefined) {
    if (name === undefined) throw new UsageError(`expected a model name or --checkpoint FILE; valid models: ${modelNames()}`);
    const modelOptions = options.options === undefined ? {} : parseModelOptions(options.options as string);
    return { model: build(name, modelOptions), description: { name, options: modelOptions, checkpoint: null, iteration: null } };
  }
  if (options.options !== undefined) throw new UsageError('--options cannot be combined with --checkpoint: the model is built with the options stored in the checkpoint');
  const c = await loadCheckpoint(ckptPath);
  const { name: ckptModel, options: ckptOptions } = c.meta.model;
  if (name !== undefined && name !== ckptModel) throw new UsageError(`${ckptPath} holds model '${ckptModel}', not '${name}' (omit the model name to use the checkpoint's)`);
  const model = build(ckptModel, ckptOptions ?? {});
  try {
    model.loadStateDict(c.model);
  } catch (e) {
    throw new Error(`${ckptPath}: its weights do not fit model '${ckptModel}' ${JSON.stringify(ckptOptions)}: ${(e as Error).message}`);
  }
  return { model, description: { name: ckptModel, options: ckptOptions ?? {}, checkpoint: ckptPath, iteration: c.meta.iteration } };
}

/** The input channels a registry model is built with: its `inChannels` option or the registry default. */
function inChannelsOf(d: ModelDescription): number | undefined {
  const v = d.options.inChannels ?? listModels().find((m) => m.name === d.name)?.options.inChannels?.default;
  return typeof v === 'number' ? v : undefined;
}

export const benchmarkCommand: Command = {
  name: 'benchmark',
  summary: 'measure inference latency and FPS, parameters, GMACs and sizes of a model at one input shape',
  usage: `Usage: segkit benchmark <model> [--options JSON] [--input NxCxHxW] [--warmup N] [--iters N]
                        [--threads N] [--json FILE]
       segkit benchmark [<model>] --checkpoint FILE [...]

Builds the model in eval mode, compiles its forward with the weights as graph constants, and runs it
on a fixed random input with onnxruntime-node: one first run (trace, ONNX write, session creation),
--warmup untimed runs, then --iters timed runs. Prints parameters, GMACs (the "GFLOPs" of papers and
mmseg's get_flops) and GFLOPs (2 per MAC), weight and ONNX sizes, session creation time, latency
median/mean/p90/min/max/std and FPS (batch / median latency), with the runtime and the machine.
p90 interpolates linearly between order statistics (numpy's default); std divides by n.

  <model>            a registered model: ${modelNames()}
  --options JSON     the model's options, e.g. '{"encoder":"mit-b0","numClasses":19}'
  --checkpoint FILE  a segkit training checkpoint: the model and its options come from the file and
                     its weights are loaded (<model> may be omitted; --options is not accepted)
  --input NxCxHxW    input shape (default ${DEFAULT_INPUT}); H and W must be multiples of the
                     model's input multiple
  --warmup N         untimed runs after the first (default 5)
  --iters N          timed runs (default 200)
  --threads N        onnxruntime intra-op threads (default: the ${availableParallelism()} available cores)
  --json FILE        also write the numbers as JSON (atomically)`,
  async run(args) {
    const { positional, options } = parseArgs(args, { options: ['options', 'checkpoint', 'input', 'warmup', 'iters', 'threads', 'json'] });
    let input: InputShape;
    try {
      input = parseInputShape((options.input as string | undefined) ?? DEFAULT_INPUT);
    } catch (e) {
      throw new UsageError(`--input: ${(e as Error).message}`);
    }
    const warmup = parseCount(options, 'warmup', 5, 0);
    const iters = parseCount(options, 'iters', 200, 1);
    const threads = parseCount(options, 'threads', availableParallelism(), 1);
    const jsonPath = options.json as string | undefined;
    // Fail before the measurement, not after it, when the JSON file cannot be written there.
    if (jsonPath !== undefined && !(await stat(dirname(resolve(jsonPath))).then((s) => s.isDirectory(), () => false))) {
      throw new UsageError(`--json ${jsonPath}: the directory ${dirname(resolve(jsonPath))} does not exist`);
    }

    const { model, description } = await resolveModel(positional, options);
    try {
      checkInputShape(input, { modelName: description.name, inputMultiple: model.inputMultiple, inChannels: inChannelsOf(description) });
    } catch (e) {
      throw new UsageError(`--input: ${(e as Error).message}`);
    }

    console.log(`benchmarking ${description.name} at ${input.join('x')}: ${warmup} warm-up and ${iters} timed run(s) on ${threads} thread(s)`);
    // Plain lines on stderr at every quarter, so logs stay greppable and stdout holds only the report.
    const progress = iters >= PROGRESS_MIN_ITERS ? new Progress({ label: 'iter', total: iters, isTTY: false, logEvery: Math.ceil(iters / 4), stream: { write: (s) => console.error(s.trimEnd()) } }) : null;
    const result = await benchmarkModel(model, { input, warmup, iters, threads, onProgress: progress ? () => progress.tick() : undefined });
    progress?.done();

    const report: BenchmarkReport = { model: description, ...result };
    console.log(formatBenchmarkTable(report));
    if (jsonPath !== undefined) {
      await writeFileAtomic(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
      console.log(`wrote ${jsonPath}`);
    }
    return 0;
  },
};
