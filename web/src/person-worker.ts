/// <reference lib="webworker" />
/**
 * The webcam page's model worker (see person-client.ts): it owns the segmenter and the temporal
 * smoother, and answers each frame with its person probabilities and mask.
 */
import type { PersonStream } from '../../src/browser.js';
import type { DecodedImage } from '../../src/data/image.js';
import type { WorkerReply, WorkerRequest } from './person-client.js';
import { createPersonStream, segmentFrame, type PersonModelInit } from './person-frames.js';

const scope = self as unknown as DedicatedWorkerGlobalScope;
let people: PersonStream | undefined;

function reply(m: WorkerReply, transfer: Transferable[] = []): void {
  scope.postMessage(m, transfer);
}

async function init(o: PersonModelInit): Promise<void> {
  const created = await createPersonStream(o, (loaded, total) => reply({ type: 'progress', loaded, total }));
  people = created.people;
  const { classes, threads, backend, inputSize } = created.segmenter;
  reply({ type: 'ready', classes, threads, backend, inputSize });
}

async function segment(frame: DecodedImage): Promise<void> {
  if (!people) throw new Error('the model worker got a frame before its model was loaded');
  const r = await segmentFrame(people, frame);
  // Pixels and mask are transferred back; the probabilities are copied: the smoother keeps them as its previous map.
  reply({ type: 'result', ...r }, [frame.data.buffer, r.seg.mask.buffer]);
}

scope.onmessage = (e: MessageEvent<WorkerRequest>) => {
  const m = e.data;
  const work = m.type === 'init' ? init(m.init) : segment(m.frame);
  work.catch((err: unknown) => reply({ type: 'error', message: (err as Error).message ?? String(err) }));
};
