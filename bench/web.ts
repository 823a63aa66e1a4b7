/**
 * The webcam page under load: the web app, built afresh (dist/web-app), in headless
 * Chromium with vtest.avi as a fake 640×480 camera, person segmentation and background blur on
 * every frame, for N seconds. Every few seconds it samples the model's frame rate (frames / time in
 * segmentPeople), the end-to-end frame rate (frames shown / wall time, camera wait included), the
 * page's JS heap and ArrayBuffer stores after a forced GC (CDP), and the resident memory of the
 * renderer processes (the page, its model worker and their wasm memories); then prints the table,
 * the milliseconds per frame in each stage (camera wait, reading the frame, waiting for the model,
 * blur; and the model's own time, which in the worker overlaps the page's stages), and the memory
 * after warm-up, first vs last (a per-frame leak shows as steady growth; 300 seconds is the soak,
 * in which the renderer RSS levels off after about a minute).
 *
 *   npx tsx bench/web.ts [seconds=60] [--threads 2] [--backend wasm|webgpu] [--proc 480]
 *                        [--sample-every 5] [--warmup 10] [--model checkpoint.safetensors] [--size HxW]
 *                        [--camera-fps 30] [--cpu-profile out.cpuprofile] [--in-page]
 *                        [--refine on|off]
 *
 * `--refine on` runs the portrait model's guided-filter edge refinement, which the webcam app leaves
 * off unless asked (`?refine=1`); `off` is the app's default.
 *
 * `--in-page` runs the model on the page's main thread (the app's `worker=0`), one stage after the
 * other, instead of in its worker one frame ahead of the drawing.
 *
 * `--cpu-profile` records the page's main thread (V8's sampling profiler over CDP) from the end of the
 * warm-up to the end, for Chrome DevTools' Performance panel or any .cpuprofile reader.
 *
 * The model is models/portrait at its own input size when shipped; else --model; else the tests'
 * random-weight person SegFormer-B0 at 224×224, the portrait recipes' input size (a stand-in: its
 * speed is that of a B0, not of whatever is shipped). Needs Debian chromium, ffmpeg and opencv-doc.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from '../src/cli/command.js';
import type { DecodedImage } from '../src/data/image.js';
import { buildApp } from '../scripts/build-web.js';
import { launchChromium, NO_CHROMIUM, chromiumPath, pageErrors, waitForPage } from '../test/web/chromium.js';
import { findVtest, hasFfmpeg, makeY4m, videoFrameRgb } from '../test/web/fake-camera.js';
import { calibratedPersonCheckpoint, REPO, shippedModel, writeCheckpoint } from '../test/web/models.js';
import { startStaticServer } from '../test/web/server.js';

const MiB = 2 ** 20;
// A webcam's usual 30 fps: the page waits for each new camera frame, so the end-to-end rate cannot pass it.
const CAMERA = { seconds: 4, width: 640, height: 480, fps: 30 };
const STAND_IN_SIZE: [number, number] = [224, 224];
/** The webcam page's stages (segkitApp.stageMs), in the order a frame goes through them. */
const STAGES = ['wait', 'read', 'modelWait', 'effect', 'model'] as const;
type Stage = (typeof STAGES)[number];
const STAGE_NAMES: Record<Stage, string> = {
  wait: 'waiting for the camera',
  read: 'reading the frame',
  modelWait: 'waiting for the model',
  effect: 'background blur (drawBokehEffect)',
  model: 'model (segmentPeople)',
};

const { positional, options } = parseArgs(process.argv.slice(2), { options: ['threads', 'backend', 'proc', 'sample-every', 'warmup', 'model', 'size', 'camera-fps', 'cpu-profile', 'refine'], flags: ['in-page'] });
function num(name: string, raw: string | undefined, def: number): number {
  const v = raw === undefined ? def : Number(raw);
  if (!(Number.isFinite(v) && v > 0)) throw new Error(`${name} must be a positive number, got '${raw}'`);
  return v;
}
const seconds = num('seconds', positional[0], 60);
const threads = num('--threads', options.threads as string | undefined, 2);
const refine = options.refine as string | undefined;
if (refine !== undefined && refine !== 'on' && refine !== 'off') throw new Error(`--refine must be on or off, got '${refine}'`);
const backend = (options.backend as string | undefined) ?? 'wasm';
const proc = num('--proc', options.proc as string | undefined, 480);
const every = num('--sample-every', options['sample-every'] as string | undefined, seconds <= 20 ? 2 : 5);
CAMERA.fps = num('--camera-fps', options['camera-fps'] as string | undefined, CAMERA.fps);
const warmup = num('--warmup', options.warmup as string | undefined, Math.min(10, seconds / 4));

const chromium = chromiumPath();
const vtest = findVtest();
if (!chromium) throw new Error(NO_CHROMIUM);
if (!vtest || !hasFfmpeg()) throw new Error('bench/web needs ffmpeg and vtest.avi (Debian opencv-doc)');
// Built on every run, as the app test does: the build copies models/ in, and a build left from
// before a model was re-shipped would measure the old model under the new one's name.
console.log('building the web app (npm run build:web)…');
await buildApp();

const dir = mkdtempSync(join(tmpdir(), 'segkit-bench-web-'));
try {
  const y4m = makeY4m(vtest, dir, CAMERA);
  // The model: shipped portrait, a given checkpoint, or the stand-in.
  let query = '';
  let modelName: string;
  const mounts = [{ prefix: '/', dir: join(REPO, 'dist/web-app') }];
  const size = options.size as string | undefined;
  if (options.model) {
    const file = options.model as string;
    mounts.push({ prefix: '/bench/', dir: dirname(file) });
    query = `model=/bench/${encodeURIComponent(basename(file))}&${size ? `size=${size}&` : ''}`;
    modelName = file;
  } else if (shippedModel('portrait') && !size) {
    modelName = 'models/portrait (shipped)';
  } else {
    const frame: DecodedImage = { data: videoFrameRgb(vtest, 0, 320, 240, CAMERA.fps), width: 320, height: 240, channels: 3 };
    await writeCheckpoint(await calibratedPersonCheckpoint(frame, STAND_IN_SIZE), join(dir, 'person.safetensors'));
    mounts.push({ prefix: '/bench/', dir });
    query = `model=/bench/person.safetensors&size=${size ?? STAND_IN_SIZE.join('x')}&`;
    modelName = 'stand-in: random person SegFormer-B0 (decoder 32)';
  }
  const server = await startStaticServer(mounts);
  const browser = await launchChromium({ fakeVideo: y4m, webgpu: backend === 'webgpu' });
  try {
    const page = await browser.newPage();
    const errors = pageErrors(page);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    // Renderer processes' resident memory: the page, its model worker and their wasm memories together.
    const browserCdp = await browser.newBrowserCDPSession();
    const rendererRss = async () => {
      const { processInfo } = (await browserCdp.send('SystemInfo.getProcessInfo')) as { processInfo: { id: number; type: string }[] };
      let bytes = 0;
      for (const p of processInfo.filter((q) => q.type === 'renderer')) {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.id}/status`, 'utf8'));
        if (m) bytes += Number(m[1]) * 1024;
      }
      return bytes;
    };
    await page.goto(`${server.url}/index.html?${query}threads=${threads}&backend=${backend}&proc=${proc}&effect=blur${options['in-page'] ? '&worker=0' : ''}${refine === undefined ? '' : `&refine=${refine === 'on' ? 1 : 0}`}`);
    await waitForPage(page, 'window.segkitApp.error || window.segkitApp.frames >= 2', 'first frames', 180_000, errors);
    const stats = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      // usedSize: JS objects; backingStorageSize: ArrayBuffer stores, the wasm memory (weights, activations) included.
      const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number; backingStorageSize?: number };
      const app = (await page.evaluate('({ frames: segkitApp.frames, stageMs: { ...segkitApp.stageMs }, error: segkitApp.error, stats: segkitApp.stats })')) as {
        frames: number;
        stageMs: Record<Stage, number>;
        error: string;
        stats: { threads: number; backend: string; worker: boolean; frame: number[]; inputSize: number[] | null; crossOriginIsolated: boolean };
      };
      if (app.error) throw new Error(`the page failed: ${app.error}`);
      return { t: performance.now(), heap: heap.usedSize, buffers: heap.backingStorageSize ?? NaN, rss: await rendererRss(), ...app };
    };
    const start = await stats();
    const profileFile = options['cpu-profile'] as string | undefined;
    let profiling = false;
    const rows: { t: number; frames: number; modelFps: number; e2eFps: number; heap: number; buffers: number; rss: number }[] = [];
    let prev = start;
    for (let k = 1; k * every <= seconds + 1e-9; k++) {
      await new Promise((r) => setTimeout(r, Math.max(0, start.t + k * every * 1000 - performance.now())));
      if (profileFile && !profiling && k * every >= warmup) {
        await cdp.send('Profiler.enable');
        await cdp.send('Profiler.start');
        profiling = true;
      }
      const s = await stats();
      const frames = s.frames - prev.frames;
      rows.push({ t: (s.t - start.t) / 1000, frames, modelFps: frames ? (1000 * frames) / (s.stageMs.model - prev.stageMs.model) : 0, e2eFps: (1000 * frames) / (s.t - prev.t), heap: s.heap, buffers: s.buffers, rss: s.rss });
      prev = s;
    }
    if (profiling) {
      const { profile } = (await cdp.send('Profiler.stop')) as { profile: unknown };
      writeFileSync(profileFile!, JSON.stringify(profile));
    }
    const info = start.stats;
    console.log(`\nsegkit web app, webcam page, ${seconds} s — ${modelName}`);
    console.log(`chromium ${chromium}, ${backend} ${info.worker ? 'in a worker, one frame ahead of the drawing' : 'in the page'}, threads ${info.threads}${info.crossOriginIsolated ? '' : ' (not isolated)'}; camera ${CAMERA.width}×${CAMERA.height} @ ${CAMERA.fps} fps, frames processed at ${info.frame.join('×')}, model input ${info.inputSize ? `${info.inputSize[1]}×${info.inputSize[0]}` : 'frame size'} (W×H); background blur`);
    console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores\n`);
    console.log('|   t (s) | frames | model FPS | end-to-end FPS | page JS heap (MiB) | page ArrayBuffers (MiB) | renderer RSS (MiB) |');
    console.log('|--------:|-------:|----------:|---------------:|-------------------:|------------------------:|-------------------:|');
    for (const r of rows) {
      console.log(`| ${r.t.toFixed(1).padStart(7)} | ${String(r.frames).padStart(6)} | ${r.modelFps.toFixed(1).padStart(9)} | ${r.e2eFps.toFixed(1).padStart(14)} | ${(r.heap / MiB).toFixed(2).padStart(18)} | ${(r.buffers / MiB).toFixed(1).padStart(23)} | ${(r.rss / MiB).toFixed(1).padStart(18)} |`);
    }
    const after = rows.filter((r) => r.t >= warmup);
    const total = rows.reduce((a, r) => a + r.frames, 0);
    const modelMs = prev.stageMs.model - start.stageMs.model;
    console.log(`\noverall: ${total} frames, model ${total ? ((1000 * total) / modelMs).toFixed(1) : '–'} FPS, end-to-end ${((1000 * total) / (prev.t - start.t)).toFixed(1)} FPS`);
    if (total) console.log(`per frame (ms): ${STAGES.map((k) => `${STAGE_NAMES[k]} ${((prev.stageMs[k] - start.stageMs[k]) / total).toFixed(1)}`).join(', ')}`);
    if (after.length >= 2) {
      const [a, b] = [after[0]!, after[after.length - 1]!];
      const change = (x: number, y: number) => `${y >= x ? '+' : ''}${((y - x) / 1024).toFixed(0)} KiB`;
      // The worker's heap is not collected before a sample: its garbage makes the RSS a sawtooth, so
      // the leak check compares the medians of the first and last thirds of the samples.
      const third = Math.max(1, Math.floor(after.length / 3));
      const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
      const [r0, r1] = [median(after.slice(0, third).map((r) => r.rss)), median(after.slice(-third).map((r) => r.rss))];
      console.log(`renderer RSS, median of the first → last third of the samples after the warm-up: ${(r0 / MiB).toFixed(1)} → ${(r1 / MiB).toFixed(1)} MiB (${change(r0, r1)})`);
      console.log(`after the ${warmup} s warm-up (GC of the page before each sample), first → last: page JS heap ${(a.heap / MiB).toFixed(2)} → ${(b.heap / MiB).toFixed(2)} MiB (${change(a.heap, b.heap)}); page ArrayBuffers ${(a.buffers / MiB).toFixed(1)} → ${(b.buffers / MiB).toFixed(1)} MiB (${change(a.buffers, b.buffers)}); renderer RSS ${(a.rss / MiB).toFixed(1)} → ${(b.rss / MiB).toFixed(1)} MiB (${change(a.rss, b.rss)}); ${a.t.toFixed(0)} s → ${b.t.toFixed(0)} s`);
    } else {
      console.log(`JS heap: fewer than two samples after the ${warmup} s warm-up; run longer`);
    }
    if (profiling) console.log(`CPU profile of the page after the warm-up: ${profileFile}`);
    if (errors.length) console.log(`page errors: ${errors.join(' | ')}`);
  } finally {
    await browser.close();
    await server.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
