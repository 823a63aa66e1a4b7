/**
 * The page's side of the person worker (person-worker.ts): the model runs in a dedicated worker so
 * that the page stays responsive while it runs and can draw one frame while the model segments the
 * next. With cores to spare the frame time becomes the longer of the two instead of their sum; on
 * 2 cores, where the worker's onnxruntime threads and the page share them, bench/web measures the
 * end-to-end rate within run-to-run noise of the in-page path.
 */
import type { DecodedImage } from '../../src/data/image.js';
import type { WebBackend } from '../../src/browser.js';
import type { PersonModelInit, PersonResult } from './person-frames.js';

export type WorkerRequest = { type: 'init'; init: PersonModelInit } | { type: 'frame'; frame: DecodedImage };

export type WorkerReply =
  | { type: 'progress'; loaded: number; total?: number }
  | { type: 'ready'; classes: readonly string[]; threads: number; backend: WebBackend; inputSize?: readonly [number, number] }
  | ({ type: 'result' } & PersonResult)
  | { type: 'error'; message: string };

type Ready = Extract<WorkerReply, { type: 'ready' }>;

/** The model in a worker; one frame in flight at a time. */
export class PersonWorker {
  private pending?: { resolve(r: PersonResult): void; reject(e: Error): void };
  private failure?: Error;

  private constructor(
    private readonly worker: Worker,
    readonly info: Ready,
  ) {
    worker.onmessage = (e: MessageEvent<WorkerReply>) => this.answer(e.data);
    worker.onerror = (e) => this.fail(new Error(`the model worker failed: ${e.message}`));
  }

  /** Starts the worker and loads the model in it; `onProgress` reports the download. */
  static start(init: PersonModelInit, onProgress: (loaded: number, total?: number) => void): Promise<PersonWorker> {
    const worker = new Worker(new URL('./person-worker.ts', import.meta.url), { type: 'module', name: 'segkit model' });
    return new Promise((resolve, reject) => {
      worker.onerror = (e) => reject(new Error(`the model worker failed to start: ${e.message}`));
      worker.onmessage = (e: MessageEvent<WorkerReply>) => {
        const m = e.data;
        if (m.type === 'progress') onProgress(m.loaded, m.total);
        else if (m.type === 'ready') resolve(new PersonWorker(worker, m));
        else if (m.type === 'error') {
          worker.terminate();
          reject(new Error(m.message));
        }
      };
      worker.postMessage({ type: 'init', init } satisfies WorkerRequest);
    });
  }

  /** Sends a frame (its buffer is transferred, and comes back with the result). */
  segment(frame: DecodedImage): Promise<PersonResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending) return Promise.reject(new Error('PersonWorker.segment: a frame is already in flight'));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage({ type: 'frame', frame } satisfies WorkerRequest, [frame.data.buffer]);
    });
  }

  private answer(m: WorkerReply): void {
    if (m.type === 'result') {
      const p = this.pending;
      this.pending = undefined;
      p?.resolve(m);
    } else if (m.type === 'error') this.fail(new Error(m.message));
  }

  private fail(e: Error): void {
    this.failure = e;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(e);
  }

  dispose(): void {
    this.worker.terminate();
    this.fail(new Error('PersonWorker: disposed'));
  }
}
