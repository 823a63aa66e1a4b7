/**
 * Webcam page: camera frames → person segmentation → background blur or replacement, with the
 * model's own frame rate beside the end-to-end one. Runs on segkit's browser API only. The model
 * runs in a worker (person-worker.ts; `?worker=0` runs it in the page), one frame ahead of the
 * drawing: while the page draws frame k − 1, the worker segments frame k.
 */
import {
  drawBokehEffect,
  drawMask,
  readPixels,
  replaceBackground,
  toBinaryMask,
  type PersonSegmentation,
} from '../../src/browser.js';
import { background, BACKGROUND_NAMES } from './backgrounds.js';
import { base64, RateMeter } from './fps.js';
import { $, loadingText, showStatus } from './page.js';
import { params, withParam } from './params.js';
import { PersonWorker } from './person-client.js';
import { createPersonStream, segmentFrame, type PersonModelInit, type PersonResult } from './person-frames.js';

type Pixels = ReturnType<typeof readPixels>;

const video = $<HTMLVideoElement>('video');
const output = $<HTMLCanvasElement>('output');
const effectSelect = $<HTMLSelectElement>('effect');
const backendSelect = $<HTMLSelectElement>('backend');
const blurInput = $<HTMLInputElement>('blur');
const edgeInput = $<HTMLInputElement>('edge');

/** The longer side of the frames processed: the camera's frame is scaled down to it. */
const PROC = params.proc ?? 480;
const THRESHOLD = 0.5;

interface Capture extends PersonResult {
  effect: string;
  blur: number;
  edge: number;
}

/** Where the model runs: a worker, or the page itself. */
interface FrameModel {
  segment(frame: Pixels): Promise<PersonResult>;
  readonly inWorker: boolean;
  readonly threads: number;
  readonly backend: string;
  readonly classes: readonly string[];
  readonly inputSize?: readonly [number, number];
}

const modelMeter = new RateMeter();
const frameMeter = new RateMeter();
let last: Capture | undefined;

/** State the tests and the benchmark read (window.segkitApp). */
const app = {
  ready: false,
  error: '' as string,
  frames: 0,
  /** Frames in which some pixel was a person. */
  personFrames: 0,
  /**
   * Milliseconds per stage, summed over all frames drawn but the first, for benchmarks: on the page,
   * waiting for the next camera frame (requestVideoFrameCallback answers at the page's next
   * rendering step), reading it into pixels, waiting for the model (in a worker: its answer for the
   * frame before; in the page: the model itself), and the effect (drawing included); `model` is the
   * model's own time (segmentPeople; in a worker it overlaps the page's stages).
   */
  stageMs: { wait: 0, read: 0, modelWait: 0, effect: 0, model: 0 },
  stats: { modelFps: 0, e2eFps: 0, threads: 0, backend: '', worker: true, crossOriginIsolated: false, frame: [0, 0], inputSize: null as null | readonly [number, number], smoothing: 0 },
  /** The last frame's input, probabilities and output (with ?debug=1), base64. */
  capture() {
    if (!last) return null;
    const { width: w, height: h } = last.seg;
    const shown = output.getContext('2d')!.getImageData(0, 0, w, h).data;
    const rgb = new Uint8Array(w * h * 3);
    for (let p = 0; p < w * h; p++) rgb.set(shown.subarray(p * 4, p * 4 + 3), p * 3);
    return {
      width: w,
      height: h,
      input: base64(last.frame.data),
      prev: last.prev ? base64(last.prev) : null,
      probability: base64(last.seg.probability),
      output: base64(rgb),
      effect: last.effect,
      blur: last.blur,
      edge: last.edge,
      threshold: last.seg.threshold,
    };
  },
};
(window as unknown as { segkitApp: typeof app }).segkitApp = app;

function status(text: string, error = false): void {
  showStatus(app, text, error);
}

function nextVideoFrame(): Promise<void> {
  return new Promise((resolve) => {
    if ('requestVideoFrameCallback' in video) video.requestVideoFrameCallback(() => resolve());
    else requestAnimationFrame(() => resolve());
  });
}

function drawEffect(frame: Pixels, seg: PersonSegmentation, effect: string, blur: number, edge: number): void {
  if (effect === 'blur') drawBokehEffect(output, frame, seg, { backgroundBlurAmount: blur, edgeBlurAmount: edge });
  else if (effect === 'mask') drawMask(output, frame, toBinaryMask(seg, { r: 0, g: 0, b: 0, a: 0 }, { r: 30, g: 90, b: 230, a: 255 }), 0.6, edge);
  else replaceBackground(output, frame, seg, background(effect), { edgeBlurAmount: edge });
}

function showStats(seg: PersonSegmentation): void {
  let person = 0;
  for (let i = 0; i < seg.mask.length; i++) person += seg.mask[i]!;
  if (person > 0) app.personFrames++;
  app.stats.modelFps = modelMeter.rate;
  app.stats.e2eFps = frameMeter.throughput;
  $('model-fps').textContent = app.stats.modelFps.toFixed(1);
  $('e2e-fps').textContent = app.stats.e2eFps.toFixed(1);
  $('frames').textContent = String(app.frames);
  $('person').textContent = `${((100 * person) / seg.mask.length).toFixed(1)} %`;
}

async function run(model: FrameModel): Promise<void> {
  const [vw, vh] = [video.videoWidth, video.videoHeight];
  const scale = Math.min(1, PROC / Math.max(vw, vh));
  const [pw, ph] = [Math.round(vw * scale), Math.round(vh * scale)];
  app.stats.frame = [pw, ph];
  const size = app.stats.inputSize;
  $('sizes').textContent = `${pw}×${ph} / ${size ? `${size[1]}×${size[0]}` : 'same'}`;
  let inFlight: Promise<PersonResult> | undefined;
  let previousEnd = performance.now();
  for (;;) {
    await nextVideoFrame();
    const start = performance.now();
    const frame = readPixels(video, pw, ph);
    const t0 = performance.now();
    let done: PersonResult | undefined;
    if (model.inWorker) {
      // The frame before's answer, then this frame goes to the worker while the page draws that one.
      done = inFlight && (await inFlight);
      inFlight = model.segment(frame);
    } else done = await model.segment(frame);
    const t1 = performance.now();
    if (!done) {
      previousEnd = performance.now();
      continue;
    }
    const effect = effectSelect.value;
    const [blur, edge] = [Number(blurInput.value), Number(edgeInput.value)];
    drawEffect(done.frame, done.seg, effect, blur, edge);
    const end = performance.now();
    // The first frame also traces the model and starts its session: not a frame rate.
    if (app.frames > 0) {
      modelMeter.add(end, done.modelMs);
      frameMeter.add(end, end - start);
      const ms = app.stageMs;
      ms.wait += start - previousEnd;
      ms.read += t0 - start;
      ms.modelWait += t1 - t0;
      ms.effect += end - t1;
      ms.model += done.modelMs;
    }
    previousEnd = end;
    app.frames++;
    if (params.debug) last = { ...done, effect, blur, edge };
    showStats(done.seg);
  }
}

/** The model in the page: segmentPeople between the page's own stages. */
async function pageModel(init: PersonModelInit, onProgress: (loaded: number, total?: number) => void): Promise<FrameModel> {
  const { segmenter, people } = await createPersonStream(init, onProgress);
  const { threads, backend, classes, inputSize } = segmenter;
  return { inWorker: false, threads, backend, classes, inputSize, segment: (frame) => segmentFrame(people, frame) };
}

/** The model in a worker (person-worker.ts). */
async function workerModel(init: PersonModelInit, onProgress: (loaded: number, total?: number) => void): Promise<FrameModel> {
  const w = await PersonWorker.start(init, onProgress);
  return { ...w.info, inWorker: true, segment: (frame) => w.segment(frame) };
}

async function main(): Promise<void> {
  if (params.effect) {
    if (params.effect !== 'blur' && params.effect !== 'mask' && !BACKGROUND_NAMES.includes(params.effect)) throw new Error(`effect=${params.effect}: expected blur, mask or one of ${BACKGROUND_NAMES.join(', ')}`);
    effectSelect.value = params.effect;
  }
  const webgpu = !!(navigator as { gpu?: unknown }).gpu;
  (backendSelect.querySelector('option[value=webgpu]') as HTMLOptionElement).disabled = !webgpu;
  backendSelect.value = params.backend;
  backendSelect.onchange = () => (location.href = withParam('backend', backendSelect.value));

  status('opening the camera…');
  const camera = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
  video.srcObject = camera;
  await video.play();

  const model = params.model ?? 'portrait';
  status(`loading model ${model}…`);
  // Absolute URLs: the worker would resolve relative ones against its own script.
  const here = document.baseURI;
  const init: PersonModelInit = {
    model: /^[a-z0-9-]+$/.test(model) ? model : new URL(model, here).href,
    modelBaseUrl: new URL('models/', here).href,
    wasmPaths: new URL('ort/', here).href,
    backend: params.backend,
    threads: params.threads,
    inputSize: params.inputSize,
    threshold: THRESHOLD,
    smoothing: params.smoothing ?? 0.5,
    // The guided filter costs the portrait model about a sixth of its frame rate in wasm (bench/web:
    // 9.8 against 11.7 FPS end to end on 2 cores); a live video wants the frames, so it is opt-in here.
    refine: params.refine ?? false,
  };
  const onProgress = (loaded: number, total?: number) => status(loadingText(model, loaded, total));
  let frameModel: FrameModel;
  try {
    frameModel = await (params.worker ? workerModel : pageModel)(init, onProgress);
  } catch (e) {
    const hint = params.model ? '' : ' — no person model is served: build with models/portrait/model.safetensors present, or open this page with ?model=<checkpoint URL>';
    throw new Error(`${(e as Error).message}${hint}`);
  }
  const m = frameModel;
  app.stats = { ...app.stats, threads: m.threads, backend: m.backend, worker: params.worker, crossOriginIsolated, inputSize: m.inputSize ?? null, smoothing: init.smoothing };
  $('backend-used').textContent = `${m.backend}${params.worker ? ' (in a worker)' : ''}`;
  $('threads').textContent = `${m.threads}${crossOriginIsolated ? '' : ' (page not cross-origin isolated)'}`;
  status(`running ${model} (${m.classes.join(' / ')})`);
  app.ready = true;
  await run(m);
}

main().catch((e: unknown) => {
  console.error(e);
  status(`error: ${(e as Error).message ?? e}`, true);
});
