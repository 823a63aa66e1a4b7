/// <reference lib="webworker" />
/**
 * The webcam page's model worker (see person-client.ts): it owns the segmenter and the temporal
 * smoother, and answers each frame with its person probabilities and mask.
 */
import { createSegmenter, PersonStream } from '../../src/browser.js';
import type { DecodedImage } from '../../src/data/image.js';
import type { PersonWorkerInit, WorkerReply, WorkerRequest } from './person-client.js';

const scope = self as unknown as DedicatedWorkerGlobalScope;
let people: PersonStream | undefined;

function reply(m: WorkerReply, transfer: Transferable[] = []): void {
  scope.postMessage(m, transfer);
}

async function init(o: PersonWorkerInit): Promise<void> {
  const segmenter = await createSegmenter(o.model, {
    backend: o.backend,
    threads: o.threads,
    wasmPaths: o.wasmPaths,
    modelBaseUrl: o.modelBaseUrl,
    probabilities: true,
    inputSize: o.inputSize,
    onProgress: (loaded, total) => reply({ type: 'progress', loaded, total }),
  });
  people = new PersonStream(segmenter, { threshold: o.threshold, smoothing: o.smoothing });
  reply({ type: 'ready', classes: segmenter.classes, threads: segmenter.threads, backend: segmenter.backend, inputSize: segmenter.inputSize });
}

async function segment(frame: DecodedImage): Promise<void> {
  if (!people) throw new Error('the model worker got a frame before its model was loaded');
  const prev = people.smoother.previous;
  const t0 = performance.now();
  const seg = await people.segment(frame);
  const modelMs = performance.now() - t0;
  // The probabilities are copied, not transferred: the smoother keeps them as its previous map.
  reply({ type: 'result', frame, seg, prev, modelMs }, [frame.data.buffer, seg.mask.buffer]);
}

scope.onmessage = (e: MessageEvent<WorkerRequest>) => {
  const m = e.data;
  const work = m.type === 'init' ? init(m.init) : segment(m.frame);
  work.catch((err: unknown) => reply({ type: 'error', message: (err as Error).message ?? String(err) }));
};
