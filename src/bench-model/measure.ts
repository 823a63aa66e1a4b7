/**
 * Inference benchmark of one model at one input shape (mmseg's tools/analysis_tools/benchmark.py and
 * get_flops.py in one): latency statistics and throughput of the compiled eval-mode forward, beside
 * the model's parameters, multiply-accumulates and sizes, and the runtime and machine they came from.
 */
import { availableParallelism } from 'node:os';
import { trace } from '../engine/compile.js';
import { countMacs } from '../engine/flops.js';
import { HostTensor } from '../engine/host-tensor.js';
import { nodeRuntime } from '../engine/runtime/node.js';
import type { Runtime, Session } from '../engine/runtime/runtime.js';
import { Rng } from '../data/rng.js';
import type { SegmentationModel } from '../models/segmentation-model.js';
import { compileModule, exportModuleOnnx } from '../nn/compile.js';
import { checkInputShape, type InputShape } from './input-shape.js';
import { machineInfo, onnxruntimeNodeVersion, type MachineInfo } from './machine.js';
import { latencyStats, type LatencyStats } from './stats.js';

/** Options of {@link benchmarkModel}. */
export interface BenchmarkOptions {
  /** Input shape N×C×H×W; H and W must be multiples of the model's `inputMultiple`. */
  input: InputShape;
  /** Untimed runs after the first (session-creating) run. Default 5. */
  warmup?: number;
  /** Timed runs. Default 200. */
  iters?: number;
  /** onnxruntime intra-op threads. Default: `os.availableParallelism()`. */
  threads?: number;
  /** Default {@link nodeRuntime} (onnxruntime-node on the CPU). */
  runtime?: Runtime;
  /** Seed of the fixed standard-normal input. Default 0. */
  seed?: number;
  /** Called after each timed run, outside the timed interval. */
  onProgress?: (done: number, total: number) => void;
}

/** What {@link benchmarkModel} measures. */
export interface BenchmarkResult {
  input: InputShape;
  complexity: {
    /** Trainable scalars (`model.numParameters()`). */
    params: number;
    /** Multiply-accumulates of one forward of the whole batch (convolutions and matrix products; {@link countMacs}). */
    macs: number;
    /** MACs by ONNX op. */
    macsByOp: Record<string, number>;
    /** macs / 1e9: what SegFormer, SETR and mmseg's get_flops report as "GFLOPs". */
    gmacs: number;
    /** 2 × macs / 1e9: a multiply and an add per MAC. */
    gflops: number;
  };
  size: {
    /** Bytes of every parameter and buffer as held (float32 weights, running statistics), in MiB. */
    weightsMiB: number;
    /** The exported ONNX file (graph and weights), in MiB. */
    onnxMiB: number;
  };
  timing: {
    /** onnxruntime session creation (graph optimisation and kernel setup), ms. */
    sessionMs: number;
    /** The first call: trace, ONNX write, session creation and one inference, ms (the cold start). */
    firstRunMs: number;
    warmup: number;
    iters: number;
    /** Wall time of one forward of the batch, over the timed runs. */
    latencyMs: LatencyStats;
    /** Images per second: batch size / median latency. */
    fps: number;
  };
  runtime: {
    backend: string;
    /** Intra-op threads the session was created with. */
    threads: number;
    /** onnxruntime-node's version when that is the backend and its package.json is readable, else null. */
    onnxruntime: string | null;
  };
  machine: MachineInfo;
}

const MIB = 2 ** 20;

function checkCount(name: string, v: number, min: number): void {
  if (!(Number.isSafeInteger(v) && v >= min)) throw new Error(`benchmarkModel: ${name} must be an integer ≥ ${min}, got ${v}`);
}

/**
 * Benchmarks the model's inference in eval mode (the model is switched to eval), with its weights
 * baked into the graph as constants, on a fixed random input: one session-creating run, `warmup`
 * untimed runs, then `iters` timed runs. Parameters, MACs (from a trace at the input shape) and
 * sizes are measured alongside.
 */
export async function benchmarkModel(model: SegmentationModel, o: BenchmarkOptions): Promise<BenchmarkResult> {
  const { input, warmup = 5, iters = 200, threads = availableParallelism(), runtime = nodeRuntime, seed = 0 } = o;
  checkInputShape(input, { modelName: model.constructor.name, inputMultiple: model.inputMultiple });
  checkCount('warmup', warmup, 0);
  checkCount('iters', iters, 1);
  checkCount('threads', threads, 1);
  model.eval();

  const { graph } = trace((x) => model.forward(x!) as never, [{ shape: input }]);
  const { total: macs, byOp: macsByOp } = countMacs(graph);
  const onnxBytes = exportModuleOnnx(model, [{ shape: input }]).byteLength;
  const weightBytes = model.namedState().reduce((a, [, p]) => a + p.value.data.byteLength, 0);

  // The compiled function creates its session inside its first run: time that creation alone by
  // wrapping the runtime.
  const sessionMs: number[] = [];
  const timedRuntime: Runtime = {
    name: runtime.name,
    async createSession(bytes, options): Promise<Session> {
      const t0 = performance.now();
      const s = await runtime.createSession(bytes, options);
      sessionMs.push(performance.now() - t0);
      return s;
    },
  };
  const x = HostTensor.zeros(input);
  new Rng(seed).fillNormal(x.f32);
  const f = compileModule(model, { runtime: timedRuntime, threads });
  const samples: number[] = [];
  let firstRunMs: number;
  try {
    let t0 = performance.now();
    await f.run(x);
    firstRunMs = performance.now() - t0;
    for (let i = 0; i < warmup; i++) await f.run(x);
    for (let i = 0; i < iters; i++) {
      t0 = performance.now();
      await f.run(x);
      samples.push(performance.now() - t0);
      o.onProgress?.(i + 1, iters);
    }
  } finally {
    await f.dispose();
  }
  // One input shape, one mode: a second session would mean the runs were not all the same graph.
  if (sessionMs.length !== 1) throw new Error(`internal error: ${sessionMs.length} sessions were created for one input shape`);

  const latencyMs = latencyStats(samples);
  return {
    input: [...input] as InputShape,
    complexity: { params: model.numParameters(), macs, macsByOp, gmacs: macs / 1e9, gflops: (2 * macs) / 1e9 },
    size: { weightsMiB: weightBytes / MIB, onnxMiB: onnxBytes / MIB },
    timing: { sessionMs: sessionMs[0]!, firstRunMs, warmup, iters, latencyMs, fps: input[0] / (latencyMs.median / 1000) },
    runtime: { backend: runtime.name, threads, onnxruntime: runtime.name === 'onnxruntime-node' ? await onnxruntimeNodeVersion() : null },
    machine: machineInfo(),
  };
}
