/** The app's URL parameters (all optional), so a page can be opened on another model or size. */
import type { WebBackend } from '../../src/browser.js';

const q = new URLSearchParams(location.search);

function size(name: string): [number, number] | undefined {
  const v = q.get(name);
  if (!v) return undefined;
  const m = /^(\d+)x(\d+)$/.exec(v);
  if (!m) throw new Error(`URL parameter ${name}=${v}: expected HEIGHTxWIDTH, e.g. 224x224`);
  return [Number(m[1]), Number(m[2])];
}

function num(name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`URL parameter ${name}=${v}: expected a number`);
  return n;
}

export const params = {
  /** A shipped model's name (served from models/) or a checkpoint URL. */
  model: q.get('model') ?? undefined,
  /** The model's input size HxW, overriding the checkpoint's. */
  inputSize: size('size'),
  backend: (q.get('backend') ?? 'wasm') as WebBackend,
  threads: num('threads'),
  /** Webcam: the longer side of the frames processed (default 480). */
  proc: num('proc'),
  /** Webcam: 'blur', a background name, or 'mask'. */
  effect: q.get('effect') ?? undefined,
  smoothing: num('smoothing'),
  /** Webcam: refine=1 turns on the model's guided-filter edge refinement (default off: see webcam.ts). */
  refine: q.get('refine') === null ? undefined : q.get('refine') !== '0',
  /** Road page: an image URL to segment on load. */
  image: q.get('image') ?? undefined,
  /** Webcam: run the model in a worker, one frame ahead of the drawing (default; worker=0: in the page). */
  worker: q.get('worker') !== '0',
  /** Keep the last frame's pixels for tests (window.segkitApp.capture()). */
  debug: q.get('debug') === '1',
};

/** The same page with one parameter changed (the backend switch reloads: threads are per page). */
export function withParam(name: string, value: string): string {
  const next = new URLSearchParams(location.search);
  next.set(name, value);
  return `${location.pathname}?${next}`;
}
