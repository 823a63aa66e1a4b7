/**
 * The data loader: decodes and augments samples on worker threads (or inline), prefetches, and
 * yields NCHW float32 image batches with HW uint8 label batches.
 *
 * Determinism: the sample order of an epoch depends on (seed, epoch), each sample's augmentation on
 * (seed, epoch, index), and batches are assembled in order — so the batches are bit-identical for
 * any worker count, including 0 (inline).
 *
 * ```ts
 * const ds = await createDataset('camvid', { root: '../shared/datasets/camvid', split: 'train' });
 * const loader = new DataLoader({ dataset: ds, pipeline: defaultTrainPipeline('camvid'), batchSize: 8, workers: 2, seed: 1 });
 * for await (const b of loader) {  // one epoch; the next `for await` is the next epoch
 *   b.images; // Float32Array [N, 3, H, W];  b.labels: Uint8Array [N, H, W]
 * }
 * await loader.close();
 * ```
 */
import { Worker } from 'node:worker_threads';
import { DataError, isDataError } from './errors.js';
import type { SegDataset } from './sources/types.js';
import {
  epochOrder,
  errorOf,
  processSample,
  type FromWorker,
  type InitMessage,
  type ProcessedSample,
  type TaskMessage,
} from './loader-core.js';
import type { Seed } from './rng.js';
import type { SampleMeta } from './sample.js';
import { buildPipeline, type TransformSpec } from './transforms/registry.js';
import type { Transform } from './transforms/types.js';

export interface DataLoaderOptions {
  dataset: SegDataset;
  /** Transform specs (required with workers), or a transform function (inline only). Default: none. */
  pipeline?: readonly TransformSpec[] | Transform;
  /** Default 1. */
  batchSize?: number;
  /** Shuffle each epoch (from the seed). Default true. */
  shuffle?: boolean;
  /** Default 0. */
  seed?: Seed;
  /** Drop the last, smaller batch of an epoch. Default false. */
  dropLast?: boolean;
  /** Worker threads; 0 = decode and augment on the calling thread. Default 0. */
  workers?: number;
  /** Batches prepared ahead of the one being consumed. Default 2. */
  prefetch?: number;
  /** Skip samples with bad data (missing, corrupt, size mismatch, bad label value), counting them. */
  skipInvalid?: boolean;
  /** Called for each skipped sample (default: console.warn). */
  onWarning?: (message: string, error: DataError) => void;
  /** Modules each worker imports first (paths or URLs), to register custom datasets or transforms. */
  setup?: readonly string[];
}

export interface Batch {
  epoch: number;
  /** Batch number within the epoch. */
  index: number;
  /** Samples in this batch (N). */
  size: number;
  /** N×C×H×W float32. */
  images: Float32Array;
  imageShape: [number, number, number, number];
  /** N×H×W train ids (ignore = the label set's ignore index). */
  labels: Uint8Array;
  labelShape: [number, number, number];
  /** Dataset indices of the samples. */
  indices: number[];
  ids: string[];
  metas: SampleMeta[];
}

/** Turns processed samples into one batch. All must share C×H×W. */
export function collate(samples: readonly ProcessedSample[], epoch: number, index: number): Batch {
  const first = samples[0];
  if (!first) throw new Error('collate: empty batch');
  const { channels: c, height: h, width: w } = first;
  for (const s of samples) {
    if (s.channels !== c || s.height !== h || s.width !== w) {
      throw new Error(
        `cannot batch samples of different sizes: ${first.meta.id ?? first.index} is ${c}×${h}×${w} but ${s.meta.id ?? s.index} is ` +
          `${s.channels}×${s.height}×${s.width} (C×H×W); end the pipeline with RandomCrop + Pad (or Resize) to a fixed size`,
      );
    }
  }
  const n = samples.length;
  const images = new Float32Array(n * c * h * w);
  const labels = new Uint8Array(n * h * w);
  samples.forEach((s, i) => {
    images.set(s.image, i * c * h * w);
    labels.set(s.label, i * h * w);
  });
  return {
    epoch,
    index,
    size: n,
    images,
    imageShape: [n, c, h, w],
    labels,
    labelShape: [n, h, w],
    indices: samples.map((s) => s.index),
    ids: samples.map((s) => s.meta.id ?? String(s.index)),
    metas: samples.map((s) => s.meta),
  };
}

/** Runs samples somewhere: inline or on a worker pool. */
interface SampleSource {
  run(index: number, epoch: number): Promise<ProcessedSample>;
  close(): Promise<void>;
}

class InlineSource implements SampleSource {
  constructor(
    private readonly ds: SegDataset,
    private readonly pipeline: Transform,
    private readonly seed: Seed,
  ) {}
  run(index: number, epoch: number): Promise<ProcessedSample> {
    return processSample(this.ds, this.pipeline, this.seed, epoch, index);
  }
  async close(): Promise<void> {}
}

/** The worker file next to this module, keeping its extension (.ts from source, .js when compiled). */
function spawnWorker(): Worker {
  const here = import.meta.url;
  const ts = here.endsWith('.ts');
  const url = new URL(`./loader-worker${ts ? '.ts' : '.js'}`, here);
  if (!ts) return new Worker(url);
  // Running from TypeScript sources: Node 20 workers do not apply the main thread's module hooks to
  // their entry point, so bootstrap tsx inside the worker before importing the .ts file.
  let api: string;
  try {
    api = import.meta.resolve('tsx/esm/api');
  } catch {
    throw new Error('DataLoader workers from TypeScript sources need the `tsx` package (a dev dependency); build the package (npm run build) or install tsx');
  }
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(code, { eval: true });
}

interface Pending {
  resolve: (s: ProcessedSample) => void;
  reject: (e: Error) => void;
  task: TaskMessage;
}

class WorkerPool implements SampleSource {
  private readonly workers: { w: Worker; busy: Map<number, Pending> }[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private ready: Promise<void> | null = null;
  private broken: Error | null = null;
  private closed = false;
  private static readonly PER_WORKER = 2;

  constructor(
    private readonly n: number,
    private readonly init: InitMessage,
  ) {}

  private start(): Promise<void> {
    if (this.ready) return this.ready;
    this.ready = Promise.all(
      Array.from({ length: this.n }, (_, k) => {
        const w = spawnWorker();
        const slot = { w, busy: new Map<number, Pending>() };
        this.workers.push(slot);
        return new Promise<void>((resolve, reject) => {
          let started = false;
          w.on('message', (m: FromWorker) => {
            if (m.type === 'ready') {
              started = true;
              w.unref();
              resolve();
            } else if (m.type === 'init-error') {
              reject(new Error(`loader worker ${k} could not start: ${m.message}`));
            } else {
              const p = slot.busy.get(m.id);
              if (!p) return;
              slot.busy.delete(m.id);
              if (m.type === 'result') p.resolve(m.sample);
              else p.reject(errorOf(m));
              this.pump();
            }
          });
          const die = (e: Error): void => {
            if (this.closed) return;
            const err = new Error(`loader worker ${k} died: ${e.message}`);
            this.broken ??= err;
            if (!started) reject(err);
            for (const p of slot.busy.values()) p.reject(err);
            slot.busy.clear();
            for (const p of this.queue.splice(0)) p.reject(err);
          };
          w.on('error', die);
          w.on('exit', (code) => {
            if (!this.closed) die(new Error(`exited with code ${code}`));
          });
          w.postMessage(this.init);
        });
      }),
    ).then(
      () => undefined,
      async (e: Error) => {
        // A worker that cannot start makes the pool unusable: stop them all so none keeps Node alive.
        this.broken ??= e;
        this.closed = true;
        await Promise.all(this.workers.map((s) => s.w.terminate()));
        throw e;
      },
    );
    return this.ready;
  }

  /** Hands queued tasks to workers with free slots (least busy first). */
  private pump(): void {
    while (this.queue.length) {
      let best: (typeof this.workers)[number] | null = null;
      for (const s of this.workers) if (s.busy.size < WorkerPool.PER_WORKER && (!best || s.busy.size < best.busy.size)) best = s;
      if (!best) break;
      const p = this.queue.shift()!;
      best.busy.set(p.task.id, p);
      best.w.postMessage(p.task);
    }
    // Idle workers must not keep the process alive (a forgotten close() does not hang Node).
    for (const s of this.workers) {
      if (s.busy.size > 0) s.w.ref();
      else s.w.unref();
    }
  }

  async run(index: number, epoch: number): Promise<ProcessedSample> {
    if (this.closed) throw new Error('DataLoader is closed');
    await this.start();
    if (this.broken) throw this.broken;
    return new Promise<ProcessedSample>((resolve, reject) => {
      this.queue.push({ resolve, reject, task: { type: 'task', id: this.nextId++, index, epoch } });
      this.pump();
    });
  }

  /** Drops tasks not yet handed to a worker (an abandoned epoch). */
  cancelQueued(): void {
    for (const p of this.queue.splice(0)) p.reject(new Error('cancelled'));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new Error('DataLoader closed');
    for (const p of this.queue.splice(0)) p.reject(err);
    for (const s of this.workers) {
      for (const p of s.busy.values()) p.reject(err);
      s.busy.clear();
    }
    await Promise.all(this.workers.map((s) => s.w.terminate()));
  }
}

type Settled = { ok: true; value: ProcessedSample } | { ok: false; error: unknown; index: number };

export class DataLoader implements AsyncIterable<Batch> {
  readonly dataset: SegDataset;
  readonly batchSize: number;
  readonly workers: number;
  /** Batches per epoch (an upper bound when `skipInvalid` skips samples). */
  readonly length: number;
  /** Samples skipped so far (with `skipInvalid`). */
  skipped = 0;
  private readonly opts: DataLoaderOptions;
  private readonly source: SampleSource;
  private nextEpoch = 0;
  private iterating = false;
  private closed = false;

  constructor(opts: DataLoaderOptions) {
    this.opts = opts;
    this.dataset = opts.dataset;
    this.batchSize = opts.batchSize ?? 1;
    this.workers = opts.workers ?? 0;
    if (!(Number.isInteger(this.batchSize) && this.batchSize >= 1)) throw new Error(`DataLoader: batchSize must be a positive integer, got ${opts.batchSize}`);
    if (!(Number.isInteger(this.workers) && this.workers >= 0)) throw new Error(`DataLoader: workers must be an integer ≥ 0, got ${opts.workers}`);
    const prefetch = opts.prefetch ?? 2;
    if (!(Number.isInteger(prefetch) && prefetch >= 1)) throw new Error(`DataLoader: prefetch must be an integer ≥ 1, got ${opts.prefetch}`);
    const n = this.dataset.length;
    this.length = opts.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
    const seed = opts.seed ?? 0;
    const pipeline = opts.pipeline ?? [];
    if (this.workers === 0) {
      this.source = new InlineSource(this.dataset, typeof pipeline === 'function' ? pipeline : buildPipeline(pipeline), seed);
    } else {
      if (typeof pipeline === 'function') {
        throw new Error('DataLoader: a pipeline function cannot be sent to worker threads; pass transform specs (TransformSpec[]) or use workers: 0');
      }
      buildPipeline(pipeline); // validate here, with a useful stack, before any worker starts
      const init: InitMessage = { type: 'init', dataset: this.dataset.spec, pipeline: JSON.parse(JSON.stringify(pipeline)) as unknown[], seed, setup: [...(opts.setup ?? [])] };
      this.source = new WorkerPool(this.workers, init);
    }
  }

  /** Iterates the next epoch (0, 1, 2, ... on successive `for await` loops). */
  [Symbol.asyncIterator](): AsyncGenerator<Batch> {
    return this.epoch(this.nextEpoch++);
  }

  /**
   * Iterates epoch `e` (its order and augmentation depend only on the seed and `e`), starting at
   * batch `from` without decoding the batches before it (resuming a run mid-epoch). With
   * `skipInvalid`, batches are counted in samples of the epoch order, so a resume after skipped
   * samples starts where those samples would have put it.
   */
  async *epoch(e: number, from = 0): AsyncGenerator<Batch> {
    if (this.closed) throw new Error('DataLoader is closed');
    if (this.iterating) throw new Error('DataLoader: an epoch is already being iterated; finish it (or break out) first');
    this.iterating = true;
    const { shuffle = true, dropLast = false, skipInvalid = false, prefetch = 2, seed = 0 } = this.opts;
    const order = epochOrder(seed, e, this.dataset.length, shuffle);
    const window = Math.max(prefetch * this.batchSize, this.workers * 2);
    const pending: Promise<Settled>[] = [];
    if (!(Number.isInteger(from) && from >= 0)) throw new Error(`DataLoader.epoch: from must be an integer ≥ 0, got ${from}`);
    let next = Math.min(from * this.batchSize, order.length);
    const fill = (): void => {
      while (next < order.length && pending.length < window) {
        const index = order[next++]!;
        pending.push(
          this.source.run(index, e).then(
            (value): Settled => ({ ok: true, value }),
            (error: unknown): Settled => ({ ok: false, error, index }),
          ),
        );
      }
    };
    let batch: ProcessedSample[] = [];
    let batchIndex = from;
    try {
      fill();
      while (pending.length) {
        const r = await pending.shift()!;
        fill();
        if (r.ok) {
          batch.push(r.value);
        } else if (skipInvalid && isDataError(r.error)) {
          this.skipped++;
          const warn = this.opts.onWarning ?? ((m: string) => console.warn(m));
          warn(`skipping sample ${r.index} of ${this.dataset.name} ${this.dataset.split} (${this.skipped} skipped so far): ${r.error.message}`, r.error);
        } else {
          throw r.error;
        }
        if (batch.length === this.batchSize) {
          yield collate(batch, e, batchIndex++);
          batch = [];
        }
      }
      if (batch.length > 0 && !dropLast) yield collate(batch, e, batchIndex++);
    } finally {
      if (this.source instanceof WorkerPool) this.source.cancelQueued();
      // Let in-flight work settle quietly (results of an abandoned epoch are dropped).
      void Promise.allSettled(pending);
      this.iterating = false;
    }
  }

  /** Stops the workers. Pending iterations fail with 'DataLoader closed'. */
  async close(): Promise<void> {
    this.closed = true;
    await this.source.close();
  }
}
