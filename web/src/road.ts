/**
 * Road-scene page: an image (picked, dropped, or ?image=URL) → the CamVid model → its classes
 * drawn in their palette colours over the image, with a legend of the classes and their shares.
 */
import { createSegmenter, drawMask, toColoredMask, type Segmentation, type WebSegmenter } from '../../src/browser.js';
import { base64 } from './fps.js';
import { $, loadingText, showStatus } from './page.js';
import { params } from './params.js';

const canvas = $<HTMLCanvasElement>('overlay');
const opacity = $<HTMLInputElement>('opacity');

let shown: { bitmap: ImageBitmap; mask: ImageData } | undefined;
let busy: Promise<void> = Promise.resolve();

/** State the tests read (window.segkitApp). */
const app = {
  ready: false,
  error: '',
  /** Images segmented so far. */
  done: 0,
  last: null as null | { name: string; width: number; height: number; labels: string; ms: number },
};
(window as unknown as { segkitApp: typeof app }).segkitApp = app;

function status(text: string, error = false): void {
  showStatus(app, text, error);
}

function legend(segmenter: WebSegmenter, s?: Segmentation): void {
  const counts = new Array<number>(segmenter.classes.length).fill(0);
  if (s) for (let i = 0; i < s.labels.length; i++) counts[s.labels[i]!]!++;
  const items = segmenter.classes.map((name, k) => {
    const li = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    const [r, g, b] = segmenter.palette[k]!;
    swatch.style.background = `rgb(${r}, ${g}, ${b})`;
    const label = document.createElement('span');
    label.textContent = name;
    const share = document.createElement('span');
    share.className = 'share';
    share.textContent = s ? `${((100 * counts[k]!) / s.labels.length).toFixed(1)} %` : '';
    li.dataset.class = name;
    li.dataset.color = `${r},${g},${b}`;
    li.append(swatch, label, share);
    return li;
  });
  $('legend').replaceChildren(...items);
}

function redraw(): void {
  if (shown) drawMask(canvas, shown.bitmap, shown.mask, Number(opacity.value) / 100);
}

async function segmentBlob(segmenter: WebSegmenter, blob: Blob, name: string): Promise<void> {
  status(`segmenting ${name}…`);
  // Pixels as stored, as segkit's Node decoder reads them (no colour management).
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const t0 = performance.now();
  const s = await segmenter.segment(bitmap);
  const ms = performance.now() - t0;
  shown?.bitmap.close();
  shown = { bitmap, mask: toColoredMask(s) };
  redraw();
  legend(segmenter, s);
  $('size').textContent = `${s.width}×${s.height}`;
  $('ms').textContent = `${ms.toFixed(0)} ms`;
  app.last = { name, width: s.width, height: s.height, labels: base64(s.labels), ms };
  app.done++;
  status(`${name}: done`);
}

function enqueue(segmenter: WebSegmenter, blob: Blob, name: string): void {
  busy = busy.then(() => segmentBlob(segmenter, blob, name)).catch((e: unknown) => status(`error: ${(e as Error).message}`, true));
}

async function main(): Promise<void> {
  const model = params.model ?? 'camvid';
  status(`loading model ${model}…`);
  const segmenter = await createSegmenter(model, {
    backend: params.backend,
    threads: params.threads,
    wasmPaths: 'ort/',
    modelBaseUrl: 'models/',
    inputSize: params.inputSize,
    onProgress: (loaded, total) => status(loadingText(model, loaded, total)),
  });
  $('backend-used').textContent = segmenter.backend;
  $('threads').textContent = String(segmenter.threads);
  legend(segmenter);
  opacity.oninput = redraw;
  const file = $<HTMLInputElement>('file');
  file.onchange = () => {
    const f = file.files?.[0];
    if (f) enqueue(segmenter, f, f.name);
  };
  const drop = $('drop');
  drop.ondragover = (e) => {
    e.preventDefault();
    drop.classList.add('over');
  };
  drop.ondragleave = () => drop.classList.remove('over');
  drop.ondrop = (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer?.files[0];
    if (f) enqueue(segmenter, f, f.name);
  };
  app.ready = true;
  status(`model ${model} ready: pick or drop an image`);
  if (params.image) {
    const res = await fetch(params.image);
    if (!res.ok) throw new Error(`cannot fetch image ${params.image}: HTTP ${res.status}`);
    enqueue(segmenter, await res.blob(), params.image);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  status(`error: ${(e as Error).message ?? e}`, true);
});
