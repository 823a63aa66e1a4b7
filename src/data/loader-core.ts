/**
 * What the loader's main thread and its workers share: the message protocol, the per-sample random
 * generator derivation, and `processSample` (decode → augment → CHW float32), the one function that
 * produces a sample, wherever it runs.
 */
import { DataError, type DataErrorKind } from './errors.js';
import type { DatasetSpec, SegDataset } from './sources/types.js';
import { Rng, type Seed } from './rng.js';
import type { SampleMeta } from './sample.js';
import type { Transform } from './transforms/types.js';

/** A sample ready for batching: image CHW float32, label HW uint8. */
export interface ProcessedSample {
  index: number;
  image: Float32Array;
  label: Uint8Array;
  channels: number;
  height: number;
  width: number;
  meta: SampleMeta;
}

/** The generator of sample `index` in `epoch`: a function of (seed, epoch, index) only. */
export function sampleRng(seed: Seed, epoch: number, index: number): Rng {
  return new Rng(seed).fork('augment').fork(epoch).fork(index);
}

/** The sample order of `epoch`: a function of (seed, epoch) only. */
export function epochOrder(seed: Seed, epoch: number, n: number, shuffle: boolean): number[] {
  if (!shuffle) return Array.from({ length: n }, (_, i) => i);
  return new Rng(seed).fork('shuffle').fork(epoch).permutation(n);
}

/** Loads sample `index`, runs the pipeline with its own generator and lays the image out CHW. */
export async function processSample(ds: SegDataset, pipeline: Transform, seed: Seed, epoch: number, index: number): Promise<ProcessedSample> {
  const raw = await ds.load(index);
  const s = pipeline(raw, sampleRng(seed, epoch, index));
  const { width: w, height: h, channels: c } = s;
  if (s.image.length !== w * h * c || s.label.length !== w * h) {
    throw new Error(`pipeline produced inconsistent sample ${s.meta.id ?? index}: image ${s.image.length} values, label ${s.label.length} for ${h}×${w}×${c}`);
  }
  const valid = ds.labels.validTrainIds;
  for (let i = 0; i < s.label.length; i++) {
    if (!valid[s.label[i]!]) {
      throw new Error(
        `pipeline produced label value ${s.label[i]} in sample ${s.meta.id ?? index} (${s.meta.labelPath ?? ''}); ` +
          `${ds.labels.name} allows 0–${ds.labels.numClasses - 1} and ${ds.labels.ignoreIndex} (check fill values of Pad/ShiftScaleRotate)`,
      );
    }
  }
  const image = new Float32Array(w * h * c);
  const src = s.image;
  const plane = w * h;
  if (c === 3) {
    for (let p = 0, q = 0; p < plane; p++, q += 3) {
      image[p] = src[q]!;
      image[plane + p] = src[q + 1]!;
      image[2 * plane + p] = src[q + 2]!;
    }
  } else {
    for (let p = 0; p < plane; p++) for (let k = 0; k < c; k++) image[k * plane + p] = src[p * c + k]!;
  }
  return { index, image, label: s.label, channels: c, height: h, width: w, meta: s.meta };
}

// ---- worker protocol ----

export interface InitMessage {
  type: 'init';
  dataset: DatasetSpec;
  pipeline: unknown[];
  seed: Seed;
  /** Module URLs imported before building (to register custom datasets/transforms). */
  setup: string[];
}
export interface TaskMessage {
  type: 'task';
  id: number;
  index: number;
  epoch: number;
}
export type ToWorker = InitMessage | TaskMessage;

export interface ReadyMessage {
  type: 'ready';
  length: number;
}
export interface InitErrorMessage {
  type: 'init-error';
  message: string;
}
export interface ResultMessage {
  type: 'result';
  id: number;
  sample: ProcessedSample;
}
export interface FailureMessage {
  type: 'failure';
  id: number;
  message: string;
  /** Set when the failure is bad data (a {@link DataError}), which `skipInvalid` may skip. */
  kind?: DataErrorKind;
  file?: string;
  stack?: string;
}
export type FromWorker = ReadyMessage | InitErrorMessage | ResultMessage | FailureMessage;

/** Serialises an error for the main thread. */
export function failureOf(id: number, e: unknown): FailureMessage {
  const err = e instanceof Error ? e : new Error(String(e));
  const msg: FailureMessage = { type: 'failure', id, message: err.message, stack: err.stack };
  if (err instanceof DataError) {
    msg.kind = err.kind;
    if (err.file !== undefined) msg.file = err.file;
  }
  return msg;
}

/** Rebuilds the error a worker reported (a DataError when it was one). */
export function errorOf(f: FailureMessage): Error {
  if (f.kind) return new DataError(f.message, f.kind, f.file);
  const e = new Error(f.message);
  if (f.stack) e.stack = `${f.message}\n    [in loader worker]\n${f.stack.split('\n').slice(1).join('\n')}`;
  return e;
}
