/**
 * Webcam page: camera frames → person segmentation → background blur or replacement, with the
 * model's own frame rate beside the end-to-end one. Runs on segkit's browser API only.
 */
import {
  createSegmenter,
  drawBokehEffect,
  drawMask,
  PersonStream,
  readPixels,
  replaceBackground,
  toBinaryMask,
  type PersonSegmentation,
  type WebSegmenter,
} from '../../src/browser.js';
import { background, BACKGROUND_NAMES } from './backgrounds.js';
import { base64, RateMeter } from './fps.js';
import { params, withParam } from './params.js';

type Pixels = ReturnType<typeof readPixels>;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const video = $<HTMLVideoElement>('video');
const output = $<HTMLCanvasElement>('output');
const effectSelect = $<HTMLSelectElement>('effect');
const backendSelect = $<HTMLSelectElement>('backend');
const blurInput = $<HTMLInputElement>('blur');
const edgeInput = $<HTMLInputElement>('edge');

/** The longer side of the frames processed: the camera's frame is scaled down to it. */
const PROC = params.proc ?? 480;
const THRESHOLD = 0.5;

interface Capture {
  input: Pixels;
  /** The previous frame's smoothed probabilities (what this frame was averaged with). */
  prev?: Float32Array;
  seg: PersonSegmentation;
  effect: string;
  blur: number;
  edge: number;
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
   * Milliseconds per stage, summed over all frames but the first, for benchmarks: waiting for the
   * next camera frame (requestVideoFrameCallback answers at the page's next rendering step), reading
   * it into pixels, the model (segmentPeople), and the effect (drawing included).
   */
  stageMs: { wait: 0, read: 0, model: 0, effect: 0 },
  stats: { modelFps: 0, e2eFps: 0, threads: 0, backend: '', crossOriginIsolated: false, frame: [0, 0], inputSize: null as null | readonly [number, number], smoothing: 0 },
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
      input: base64(last.input.data),
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
  const el = $('status');
  el.textContent = text;
  el.className = error ? 'error' : '';
  if (error) app.error = text;
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

async function run(people: PersonStream): Promise<void> {
  const [vw, vh] = [video.videoWidth, video.videoHeight];
  const scale = Math.min(1, PROC / Math.max(vw, vh));
  const [pw, ph] = [Math.round(vw * scale), Math.round(vh * scale)];
  app.stats.frame = [pw, ph];
  const size = app.stats.inputSize;
  $('sizes').textContent = `${pw}×${ph} / ${size ? `${size[1]}×${size[0]}` : 'same'}`;
  let previousEnd = performance.now();
  for (;;) {
    await nextVideoFrame();
    const start = performance.now();
    const frame = readPixels(video, pw, ph);
    const prev = people.smoother.previous;
    const t0 = performance.now();
    const seg = await people.segment(frame);
    const t1 = performance.now();
    const effect = effectSelect.value;
    const [blur, edge] = [Number(blurInput.value), Number(edgeInput.value)];
    drawEffect(frame, seg, effect, blur, edge);
    const end = performance.now();
    // The first frame also traces the model and starts its session: not a frame rate.
    if (app.frames > 0) {
      modelMeter.add(end, t1 - t0);
      frameMeter.add(end, end - start);
      const ms = app.stageMs;
      ms.wait += start - previousEnd;
      ms.read += t0 - start;
      ms.model += t1 - t0;
      ms.effect += end - t1;
    }
    previousEnd = end;
    app.frames++;
    if (params.debug) last = { input: frame, prev, seg, effect, blur, edge };
    showStats(seg);
  }
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
  let segmenter: WebSegmenter;
  try {
    segmenter = await createSegmenter(model, {
      backend: params.backend,
      threads: params.threads,
      wasmPaths: 'ort/',
      modelBaseUrl: 'models/',
      probabilities: true,
      inputSize: params.inputSize,
      onProgress: (loaded, total) => status(`loading model ${model}… ${(loaded / 2 ** 20).toFixed(1)}${total ? ` / ${(total / 2 ** 20).toFixed(1)}` : ''} MiB`),
    });
  } catch (e) {
    const hint = params.model ? '' : ' — no person model is served: build with models/portrait/model.safetensors present, or open this page with ?model=<checkpoint URL>';
    throw new Error(`${(e as Error).message}${hint}`);
  }
  const people = new PersonStream(segmenter, { threshold: THRESHOLD, smoothing: params.smoothing ?? 0.5 });
  app.stats = { ...app.stats, threads: segmenter.threads, backend: segmenter.backend, crossOriginIsolated, inputSize: segmenter.inputSize ?? null, smoothing: people.smoother.factor };
  $('backend-used').textContent = segmenter.backend;
  $('threads').textContent = `${segmenter.threads}${crossOriginIsolated ? '' : ' (page not cross-origin isolated)'}`;
  status(`running ${model} (${segmenter.classes.join(' / ')})`);
  app.ready = true;
  await run(people);
}

main().catch((e: unknown) => {
  console.error(e);
  status(`error: ${(e as Error).message ?? e}`, true);
});
