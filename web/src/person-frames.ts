/**
 * The webcam page's model, wherever it runs (the page or person-worker.ts): the person stream it is
 * built from, and one frame's answer.
 */
import type { DecodedImage } from '../../src/data/image.js';
import { createSegmenter, PersonStream, type PersonSegmentation, type WebBackend, type WebSegmenter } from '../../src/browser.js';

/** What loading the model takes (URLs absolute: a worker resolves relative ones against its own script). */
export interface PersonModelInit {
  model: string;
  modelBaseUrl: string;
  wasmPaths: string;
  backend: WebBackend;
  threads?: number;
  inputSize?: readonly [number, number];
  threshold: number;
  smoothing: number;
  /** The guided-filter edge refinement (default: the model's own). */
  refine?: boolean;
}

/** A frame's answer: its pixels, its people, and the model's time. */
export interface PersonResult {
  frame: DecodedImage;
  seg: PersonSegmentation;
  /** The smoothed map this frame was averaged with (for the tests' capture). */
  prev?: Float32Array;
  /** Milliseconds in segmentPeople. */
  modelMs: number;
}

/** The segmenter (with probabilities, for soft mattes) and the smoothed stream of people over it. */
export async function createPersonStream(o: PersonModelInit, onProgress: (loaded: number, total?: number) => void): Promise<{ segmenter: WebSegmenter; people: PersonStream }> {
  const segmenter = await createSegmenter(o.model, {
    backend: o.backend,
    threads: o.threads,
    wasmPaths: o.wasmPaths,
    modelBaseUrl: o.modelBaseUrl,
    probabilities: true,
    inputSize: o.inputSize,
    refine: o.refine,
    onProgress,
  });
  return { segmenter, people: new PersonStream(segmenter, { threshold: o.threshold, smoothing: o.smoothing }) };
}

/** Segments one frame, timed, with the smoothed map it is averaged with. */
export async function segmentFrame(people: PersonStream, frame: DecodedImage): Promise<PersonResult> {
  const prev = people.smoother.previous;
  const t0 = performance.now();
  const seg = await people.segment(frame);
  return { frame, seg, prev, modelMs: performance.now() - t0 };
}
