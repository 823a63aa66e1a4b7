/**
 * A data-loader worker thread: rebuilds the dataset and pipeline from their specs, then answers
 * `task` messages with processed samples (buffers transferred, not copied). Up to two tasks run at
 * once so one sample's decoding (on the libuv pool) overlaps the other's augmentation.
 */
import { parentPort } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { datasetFromSpec } from './sources/registry.js';
import type { SegDataset } from './sources/types.js';
import { failureOf, processSample, type FromWorker, type InitMessage, type ToWorker } from './loader-core.js';
import type { Seed } from './rng.js';
import { buildPipeline, type TransformSpec } from './transforms/registry.js';
import type { Transform } from './transforms/types.js';

const port = parentPort;
if (!port) throw new Error('loader-worker.ts must run in a worker thread (it is started by DataLoader)');

let state: { ds: SegDataset; pipeline: Transform; seed: Seed } | null = null;
const post = (m: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

async function init(m: InitMessage): Promise<void> {
  try {
    for (const s of m.setup) await import(/^[a-z][a-z0-9+.-]*:/i.test(s) ? s : pathToFileURL(s).href);
    const ds = await datasetFromSpec(m.dataset);
    const pipeline = buildPipeline(m.pipeline as TransformSpec[]);
    state = { ds, pipeline, seed: m.seed };
    post({ type: 'ready', length: ds.length });
  } catch (e) {
    post({ type: 'init-error', message: (e as Error).message + (m.setup.length ? '' : ' (custom datasets/transforms must be registered in a `setup` module)') });
  }
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'init') {
    void init(m);
    return;
  }
  if (!state) {
    post(failureOf(m.id, new Error('worker received a task before init')));
    return;
  }
  const { ds, pipeline, seed } = state;
  processSample(ds, pipeline, seed, m.epoch, m.index).then(
    (sample) => {
      // Transfer only buffers the arrays own entirely (a view into a larger buffer is copied first).
      if (sample.label.byteOffset !== 0 || sample.label.byteLength !== sample.label.buffer.byteLength) sample.label = sample.label.slice();
      post({ type: 'result', id: m.id, sample }, [sample.image.buffer as ArrayBuffer, sample.label.buffer as ArrayBuffer]);
    },
    (e) => post(failureOf(m.id, e)),
  );
});
