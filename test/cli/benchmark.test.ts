// `segkit benchmark`: latency statistics against hand-computed values, input-shape parsing and
// checks, benchmarkModel on a tiny model whose parameters, MACs and weight bytes are counted by hand
// (and whose runtime is instrumented to check what is run and what is timed), and the command on a
// small SegFormer (parameter count from the architecture's definition, MACs from an independent
// trace, the JSON file, the printed table, progress lines) with its error cases.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { checkInputShape, parseInputShape } from '../../src/bench-model/input-shape.js';
import { benchmarkModel } from '../../src/bench-model/measure.js';
import { latencyStats, percentile } from '../../src/bench-model/stats.js';
import { UsageError } from '../../src/cli/command.js';
import { benchmarkCommand } from '../../src/cli/commands/benchmark.js';
import { trace } from '../../src/engine/compile.js';
import { countMacs } from '../../src/engine/flops.js';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import type { Runtime, SessionOptions } from '../../src/engine/runtime/runtime.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { createModel } from '../../src/models/index.js';
import { SegmentationModel } from '../../src/models/segmentation-model.js';
import { BatchNorm2d, Conv2d } from '../../src/nn/index.js';
import { manualSeed } from '../../src/nn/init.js';
import { saveCheckpoint } from '../../src/train/checkpoint.js';

const near = (got: number, want: number, what: string) => assert.ok(Math.abs(got - want) <= 1e-12 * Math.max(1, Math.abs(want)), `${what}: got ${got}, want ${want}`);

describe('latency statistics (linear-interpolation percentiles, population std)', () => {
  test('odd count: [5, 1, 3]', () => {
    const s = latencyStats([5, 1, 3]);
    assert.equal(s.median, 3);
    assert.equal(s.mean, 3);
    near(s.p90, 4.6, 'p90'); // rank 0.9·2 = 1.8 → 3 + 0.8·(5 − 3)
    assert.equal(s.min, 1);
    assert.equal(s.max, 5);
    near(s.std, Math.sqrt(8 / 3), 'std'); // deviations −2, 0, 2
  });

  test('even count: [4, 1, 3, 2]', () => {
    const s = latencyStats([4, 1, 3, 2]);
    assert.equal(s.median, 2.5); // mean of the two middle values
    assert.equal(s.mean, 2.5);
    near(s.p90, 3.7, 'p90'); // rank 0.9·3 = 2.7 → 3 + 0.7·(4 − 3)
    assert.equal(s.min, 1);
    assert.equal(s.max, 4);
    near(s.std, Math.sqrt(1.25), 'std'); // (2.25 + 0.25 + 0.25 + 2.25) / 4
  });

  test('1..10: p90 = 9.1 (nearest-rank would give 9); one sample; percentile ends', () => {
    const s = latencyStats([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    near(s.p90, 9.1, 'p90');
    assert.equal(s.median, 5.5);
    near(s.std, Math.sqrt(8.25), 'std'); // population variance of 1..n is (n² − 1)/12
    assert.deepEqual(latencyStats([7]), { median: 7, mean: 7, p90: 7, min: 7, max: 7, std: 0 });
    assert.equal(percentile([1, 2, 4], 0), 1);
    assert.equal(percentile([1, 2, 4], 100), 4);
    assert.equal(percentile([1, 2, 4], 75), 3); // rank 1.5
  });

  test('bad samples are errors', () => {
    assert.throws(() => latencyStats([]), /no samples/);
    assert.throws(() => latencyStats([1, NaN]), /sample 1 is not a finite number \(NaN\)/);
    assert.throws(() => percentile([1], 101), /p must be in \[0, 100\], got 101/);
  });
});

describe('input shape', () => {
  test('parses NxCxHxW', () => {
    assert.deepEqual(parseInputShape('1x3x512x1024'), [1, 3, 512, 1024]);
    assert.deepEqual(parseInputShape('2×3×64×96'), [2, 3, 64, 96]);
  });

  test('bad text names the value and the format', () => {
    assert.throws(() => parseInputShape('3x512x1024'), /input shape '3x512x1024': expected NxCxHxW, four positive integers joined by 'x' \(e\.g\. 1x3x512x1024\); got 3 part/);
    assert.throws(() => parseInputShape('1x3x0x64'), /input shape '1x3x0x64': H is '0'/);
    assert.throws(() => parseInputShape('1x3x64.5x64'), /H is '64\.5'/);
    assert.throws(() => parseInputShape('1x3x-4x64'), /H is '-4'/);
  });

  test('H and W must be multiples of the model\'s input multiple: the error gives the nearest valid size', () => {
    checkInputShape([1, 3, 96, 208], { modelName: 'm', inputMultiple: 16, inChannels: 3 });
    assert.throws(() => checkInputShape([1, 3, 100, 200], { modelName: 'm', inputMultiple: 16 }), /input shape 1x3x100x200: m needs height and width that are multiples of 16, got 100×200; nearest valid size: 1x3x96x208/);
    assert.throws(() => checkInputShape([2, 3, 5, 32], { modelName: 'm', inputMultiple: 16 }), /nearest valid size: 2x3x16x32/);
    assert.throws(() => checkInputShape([1, 4, 32, 32], { modelName: 'm', inputMultiple: 1, inChannels: 3 }), /m takes 3 input channel\(s\), got C = 4 \(use 1x3x32x32\)/);
  });
});

/** conv 3→4 (3×3) → BN → ReLU → conv 4→2 (1×1): parameters and MACs countable by hand. */
class TinySeg extends SegmentationModel {
  readonly numClasses = 2;
  override readonly inputMultiple = 4;
  readonly conv = this.module('conv', new Conv2d(3, 4, 3, { padding: 1 }));
  readonly bn = this.module('bn', new BatchNorm2d(4));
  readonly cls = this.module('cls', new Conv2d(4, 2, 1));
  forward(x: Tensor): Tensor {
    this.checkInputSize(x, 'TinySeg');
    return this.cls.forward(this.bn.forward(this.conv.forward(x)).relu());
  }
}

/** Busy-waits: a lower bound on elapsed time that timers cannot undercut. */
function spin(ms: number): void {
  const t0 = performance.now();
  while (performance.now() - t0 < ms);
}

describe('benchmarkModel', () => {
  test('a tiny model: hand-counted parameters, MACs and weight bytes; every run made and only the timed ones timed', async () => {
    manualSeed(0);
    const model = new TinySeg();
    // onnxruntime, instrumented: session creation takes ≥ 5 ms more, each run ≥ 3 ms more, and the
    // time spent inside each is recorded as a lower bound for what the benchmark reports.
    let sessionOptions: SessionOptions | undefined;
    const created: number[] = [];
    const ran: number[] = [];
    const runtime: Runtime = {
      name: 'instrumented',
      async createSession(bytes, options) {
        const t0 = performance.now();
        sessionOptions = options;
        const s = await nodeRuntime.createSession(bytes, options);
        spin(5);
        created.push(performance.now() - t0);
        return {
          inputNames: s.inputNames,
          outputNames: s.outputNames,
          async run(feeds, pre) {
            const t1 = performance.now();
            spin(3);
            const out = await s.run(feeds, pre);
            ran.push(performance.now() - t1);
            return out;
          },
          release: () => s.release(),
        };
      },
    };
    const progress: string[] = [];
    const r = await benchmarkModel(model, { input: [2, 3, 8, 12], warmup: 2, iters: 8, threads: 1, runtime, onProgress: (d, t) => progress.push(`${d}/${t}`) });

    assert.equal(model.training, false, 'benchmarked in eval mode');
    assert.equal(r.complexity.params, 3 * 4 * 9 + 4 + (4 + 4) + 4 * 2 + 2); // conv, BN affine, classifier = 130
    const macs = 2 * 8 * 12 * (4 * 3 * 9 + 2 * 4); // per output pixel: 4 outputs × 27 products, then 2 × 4
    assert.equal(r.complexity.macs, macs);
    assert.deepEqual(r.complexity.macsByOp, { Conv: macs });
    near(r.complexity.gmacs, macs / 1e9, 'gmacs');
    near(r.complexity.gflops, (2 * macs) / 1e9, 'gflops');
    // 130 float32 parameters, running mean and var (float32), num_batches_tracked (int64)
    near(r.size.weightsMiB, (130 * 4 + 8 * 4 + 8) / 2 ** 20, 'weightsMiB');
    assert.ok(r.size.onnxMiB * 2 ** 20 > 130 * 4, 'the ONNX file holds the weights');

    assert.equal(created.length, 1, 'one session');
    assert.equal(sessionOptions?.threads, 1);
    assert.equal(ran.length, 1 + 2 + 8, 'first run, warm-up, timed');
    assert.deepEqual(progress, ['1/8', '2/8', '3/8', '4/8', '5/8', '6/8', '7/8', '8/8']);
    const t = r.timing;
    assert.equal(t.warmup, 2);
    assert.equal(t.iters, 8);
    // Each reported time covers what it names (lower bounds); on a loaded machine the overhead
    // around it is only bounded loosely.
    assert.ok(t.sessionMs >= created[0]! && t.sessionMs < created[0]! + 50, `session creation ${t.sessionMs} ms, inside ${created[0]} ms`);
    assert.ok(t.firstRunMs >= created[0]! + ran[0]!, `first run ${t.firstRunMs} ms includes the session and a run`);
    const timed = ran.slice(3);
    assert.ok(t.latencyMs.min >= Math.min(...timed) && t.latencyMs.max >= Math.max(...timed), `latency ${JSON.stringify(t.latencyMs)} covers the timed runs ${timed}`);
    // Each sample is one run (the median is robust to the odd preemption between the two clocks).
    const innerMedian = [...timed].sort((a, b) => a - b).slice(3, 5).reduce((a, v) => a + v / 2, 0);
    assert.ok(t.latencyMs.median < innerMedian + 2, `median ${t.latencyMs.median} ms, runs' own median ${innerMedian} ms`);
    near(t.fps, 2 / (t.latencyMs.median / 1000), 'fps = batch / median');
    assert.ok(t.latencyMs.min <= t.latencyMs.median && t.latencyMs.median <= t.latencyMs.p90 && t.latencyMs.p90 <= t.latencyMs.max);
    assert.deepEqual(r.runtime, { backend: 'instrumented', threads: 1, onnxruntime: null });
    assert.deepEqual(r.input, [2, 3, 8, 12]);
  });

  test('bad sizes and counts are errors', async () => {
    const model = new TinySeg();
    await assert.rejects(benchmarkModel(model, { input: [1, 3, 10, 12] }), /TinySeg needs height and width that are multiples of 4, got 10×12; nearest valid size: 1x3x12x12/);
    await assert.rejects(benchmarkModel(model, { input: [1, 3, 8, 8], iters: 0 }), /iters must be an integer ≥ 1, got 0/);
    await assert.rejects(benchmarkModel(model, { input: [1, 3, 8, 8], warmup: 1.5 }), /warmup must be an integer ≥ 0, got 1\.5/);
  });
});

/** Parameters of SegFormer with a MiT-B0 encoder (HF config) and an All-MLP head of width `hidden`, from the architecture's definition. */
function segformerB0Params(hidden: number, classes: number): number {
  const widths = [32, 64, 160, 256];
  const srRatios = [8, 4, 2, 1];
  const patch = [7, 3, 3, 3];
  let n = 0;
  let cin = 3;
  widths.forEach((c, i) => {
    const sr = srRatios[i]!;
    n += cin * c * patch[i]! ** 2 + c + 2 * c; // overlapping patch embedding conv + LayerNorm
    const attention = 3 * (c * c + c) + c * c + c + (sr > 1 ? c * c * sr * sr + c + 2 * c : 0); // q, k, v, proj; reduction conv + LN
    const mixFfn = c * 4 * c + 4 * c + 4 * c * 9 + 4 * c + 4 * c * c + c; // fc1, 3×3 depth-wise conv, fc2
    n += 2 * (2 * c + attention + 2 * c + mixFfn) + 2 * c; // two blocks (two LNs each), stage LN
    cin = c;
  });
  const head = widths.reduce((a, c) => a + (c + 1) * hidden, 0) + 4 * hidden * hidden + 2 * hidden + hidden * classes + classes; // linear_c, fuse (no bias) + BN, classifier
  return n + head;
}

describe('segkit benchmark', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'segkit-benchmark-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs the command with console output captured (stdout and stderr lines). */
  async function bench(t: TestContext, ...args: string[]): Promise<{ out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    t.mock.method(console, 'log', (...a: unknown[]) => out.push(a.join(' ')));
    t.mock.method(console, 'error', (...a: unknown[]) => err.push(a.join(' ')));
    try {
      await benchmarkCommand.run(args);
    } finally {
      t.mock.restoreAll();
    }
    return { out: out.join('\n'), err: err.join('\n') };
  }

  const SMALL = { decoderHiddenSize: 32, numClasses: 3 };

  test('a small SegFormer: table, progress lines and JSON with every field; parameters and MACs checked independently', async (t) => {
    const json = join(dir, 'sub.json');
    const { out, err } = await bench(t, 'segformer', '--options', JSON.stringify(SMALL), '--input', '1x3x64x64', '--warmup', '1', '--iters', '20', '--threads', '1', '--json', json);
    const r = JSON.parse(await readFile(json, 'utf8'));

    assert.deepEqual(r.model, { name: 'segformer', options: SMALL, checkpoint: null, iteration: null });
    assert.deepEqual(r.input, [1, 3, 64, 64]);
    assert.equal(r.complexity.params, 3_340_163);
    assert.equal(r.complexity.params, segformerB0Params(32, 3));
    const model = createModel('segformer', SMALL).eval();
    const macs = countMacs(trace((x) => model.forward(x!) as Tensor, [{ shape: [1, 3, 64, 64] }]).graph);
    assert.equal(r.complexity.macs, macs.total);
    assert.deepEqual(r.complexity.macsByOp, macs.byOp);
    near(r.complexity.gflops, (2 * macs.total) / 1e9, 'gflops');
    near(r.size.weightsMiB, Object.values(model.stateDict()).reduce((a, v) => a + v.data.byteLength, 0) / 2 ** 20, 'weightsMiB');
    assert.ok(r.size.onnxMiB > r.size.weightsMiB * 0.99, 'the ONNX file holds the float32 weights');
    for (const k of ['sessionMs', 'firstRunMs', 'fps']) assert.ok(r.timing[k] > 0, k);
    for (const k of ['median', 'mean', 'p90', 'min', 'max', 'std']) assert.ok(Number.isFinite(r.timing.latencyMs[k]) && r.timing.latencyMs[k] >= 0, `latencyMs.${k}`);
    assert.equal(r.timing.warmup, 1);
    assert.equal(r.timing.iters, 20);
    assert.deepEqual(r.runtime, { backend: 'onnxruntime-node', threads: 1, onnxruntime: JSON.parse(await readFile(new URL('../../node_modules/onnxruntime-node/package.json', import.meta.url), 'utf8')).version });
    assert.deepEqual(Object.keys(r.machine).sort(), ['arch', 'cores', 'cpu', 'node', 'platform']);
    assert.equal(r.machine.node, process.version);

    // The table: aligned keys, the same numbers, mmseg's closing line.
    const lines = out.split('\n');
    assert.match(out, /^parameters {8}3,340,163 \(3\.34 M\)$/m);
    assert.match(out, new RegExp(`^latency median {4}${r.timing.latencyMs.median.toFixed(2)} ms$`, 'm'));
    assert.match(out, /^backend {11}onnxruntime-node \d+\.\d+\.\d+, 1 intra-op thread\(s\)$/m);
    assert.equal(lines.at(-2), `Overall fps: ${r.timing.fps.toFixed(2)} img / s (batch 1 / median latency)`);
    assert.equal(lines.at(-1), `wrote ${json}`);
    const table = lines.slice(lines.findIndex((l) => l.startsWith('model ')), -2);
    assert.equal(table.length, 19);
    for (const l of table) assert.match(l, /^\S[^]{15} {2}\S/, 'keys padded to the longest (16), values from column 18');
    // Progress: a plain line at each quarter of the timed runs.
    assert.deepEqual(err.split('\n').map((l) => l.replace(/\].*/, ']')), ['[iter 5/20]', '[iter 10/20]', '[iter 15/20]', '[iter 20/20]']);
  });

  test('--checkpoint: the model and options come from the file, its weights are loaded', async (t) => {
    const path = join(dir, 'iter_7.safetensors');
    manualSeed(1);
    const trained = createModel('segformer', SMALL);
    const meta = { format: 'segkit-checkpoint/1' as const, iteration: 7, model: { name: 'segformer', options: SMALL }, classes: ['a', 'b', 'c'] };
    await saveCheckpoint(path, { meta, model: trained.stateDict(), optimizer: {} });
    const json = join(dir, 'ckpt.json');
    const { out } = await bench(t, '--checkpoint', path, '--input', '1x3x32x32', '--warmup', '0', '--iters', '1', '--json', json);
    const r = JSON.parse(await readFile(json, 'utf8'));
    assert.deepEqual(r.model, { name: 'segformer', options: SMALL, checkpoint: path, iteration: 7 });
    assert.equal(r.complexity.params, 3_340_163);
    assert.match(out, new RegExp(`^weights from {6}${path.replace(/[.\\]/g, '\\$&')} \\(iteration 7\\)$`, 'm'));

    // Weights of another shape: loading them fails, naming the file.
    const bad = join(dir, 'bad.safetensors');
    await saveCheckpoint(bad, { meta, model: createModel('segformer', { ...SMALL, numClasses: 4 }).stateDict(), optimizer: {} });
    await assert.rejects(bench(t, '--checkpoint', bad, '--input', '1x3x32x32'), /bad\.safetensors: its weights do not fit model 'segformer' .*shape\/dtype mismatches:\n  decode_head\.classifier\.weight: checkpoint \[4, 32, 1, 1\]/);
    await assert.rejects(bench(t, 'setr', '--checkpoint', path), (e: Error) => e instanceof UsageError && /holds model 'segformer', not 'setr'/.test(e.message));
    await assert.rejects(bench(t, '--checkpoint', path, '--options', '{}'), (e: Error) => e instanceof UsageError && /--options cannot be combined with --checkpoint/.test(e.message));
  });

  test('errors name the value and what is valid', async (t) => {
    const usage = (args: string[], re: RegExp) => assert.rejects(bench(t, ...args), (e: Error) => e instanceof UsageError && re.test(e.message), `${args.join(' ')} should fail with ${re}`);
    await usage(['segfromer'], /unknown model 'segfromer'; valid models: .*segformer.*s2fpn/);
    await usage([], /expected a model name or --checkpoint FILE; valid models: .*segformer/);
    await usage(['segformer', 'setr'], /expected at most one model name, got segformer setr/);
    await usage(['segformer', '--options', '{"numClasses":3,"encoder":"mit-b9"}', '--input', '1x3x32x32'], /option 'encoder' must be one of mit-b0/);
    await usage(['segformer', '--options', '{nope'], /--options is not valid JSON/);
    await usage(['segformer', '--input', '1x3x64'], /--input: input shape '1x3x64': expected NxCxHxW/);
    await usage(['segformer', '--input', '1x3xAx64'], /--input: input shape '1x3xAx64': H is 'A'/);
    await usage(['segformer', '--options', '{"numClasses":3}', '--input', '1x1x64x64'], /--input: input shape 1x1x64x64: segformer takes 3 input channel\(s\), got C = 1 \(use 1x3x64x64\)/);
    await usage(['sernet-former', '--options', '{"numClasses":2}', '--input', '1x3x100x200'], /--input: input shape 1x3x100x200: sernet-former needs height and width that are multiples of 16, got 100×200; nearest valid size: 1x3x96x208/);
    await usage(['segformer', '--iters', '0'], /--iters must be an integer ≥ 1, got '0'/);
    await usage(['segformer', '--warmup', '-1'], /--warmup must be an integer ≥ 0, got '-1'/);
    await usage(['segformer', '--threads', 'many'], /--threads must be an integer ≥ 1, got 'many'/);
    await usage(['segformer', '--json', join(dir, 'no', 'such', 'dir', 'x.json')], /--json .*x\.json: the directory .*dir does not exist/);
    await usage(['segformer', '--iter', '3'], /unknown option '--iter'; valid options: .*--iters/);
    await assert.rejects(bench(t, '--checkpoint', join(dir, 'missing.safetensors')), /missing\.safetensors: cannot read safetensors file: ENOENT/);
  });
});
