// The browser build end to end in headless Chromium (Debian's chromium, driven by playwright-core):
// `npm run build:web` is run, its output served cross-origin isolated by a tiny static server.
// - The library bundle (dist/web/segkit.js): every kind of browser image reads as its pixels,
//   masks and effects draw the hand-worked pixels, and createSegmenter with its default wasm
//   location agrees with the Node Segmenter on the same model and pixels.
// - The webcam page, fed vtest.avi (pedestrians) as a fake camera: onnxruntime-web's person
//   probabilities agree with onnxruntime-node's on the frame the page read, the temporal smoothing
//   is the moving average, and the frame shown is the background blur of that frame.
// - The road page on a CamVid val image: labels agree ≥ 99.9 % with the Node Segmenter's.
// Skips with a message without chromium (CI installs it), ffmpeg/opencv-doc, or ../shared CamVid.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { nodeCodec } from '../../src/data/image-node.js';
import type { DecodedImage } from '../../src/data/image.js';
import { CAMVID_CLASSES } from '../../src/data/labels/camvid.js';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import { personPlane } from '../../src/cli/predict-output.js';
import { blurBackground, featherMask } from '../../src/segmenter/effects.js';
import { Segmenter } from '../../src/segmenter/segmenter.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import type { Checkpoint } from '../../src/train/checkpoint-format.js';
import { buildApp, buildLibrary } from '../../scripts/build-web.js';
import { chromiumPath, launchChromium, NO_CHROMIUM, pageErrors, waitForPage } from './chromium.js';
import { findVtest, hasFfmpeg, makeY4m, videoFrameRgb } from './fake-camera.js';
import { calibratedPersonCheckpoint, camvidTestCheckpoint, REPO, shippedModel, writeCheckpoint } from './models.js';
import { startStaticServer, type StaticServer } from './server.js';

const OUT = join(REPO, 'test/web/out');
const CAMVID = join(REPO, '../shared/datasets/camvid');
/** The fake camera: 2 s of vtest.avi at 320×240, 10 fps. */
const CAMERA = { seconds: 2, width: 320, height: 240, fps: 10 };
/** The input size [H, W] the test's own person model runs at (a shipped model brings its own). */
const PERSON_INPUT: [number, number] = [128, 160];

const vtest = findVtest();
const cameraSkip = !vtest ? 'vtest.avi not found (Debian opencv-doc: apt-get install opencv-doc); webcam test skipped' : !hasFfmpeg() ? 'ffmpeg not installed; webcam test skipped' : false;
const camvidSkip = existsSync(join(CAMVID, 'val.txt')) ? false : `CamVid not found at ${CAMVID}; road page test skipped`;

function bytes(b64: string): Uint8Array {
  return Uint8Array.from(Buffer.from(b64, 'base64'));
}
function floats(b64: string): Float32Array {
  return new Float32Array(bytes(b64).buffer);
}

async function nodeSegmenter(c: Checkpoint, o: { inputSize?: readonly [number, number]; probabilities?: boolean; refine?: boolean } = {}): Promise<Segmenter> {
  return Segmenter.fromCheckpoint(c, nodeCodec, nodeRuntime, { threads: 1, ...o });
}

describe('browser build in headless Chromium', { skip: chromiumPath() ? false : NO_CHROMIUM }, () => {
  let dir: string;
  let server: StaticServer;
  let browser: Browser;
  let camvid: Checkpoint;
  let person: { checkpoint: Checkpoint; query: string; inputSize?: readonly [number, number] } | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'segkit-web-'));
    mkdirSync(OUT, { recursive: true });
    await buildLibrary();
    await buildApp();
    camvid = camvidTestCheckpoint();
    await writeCheckpoint(camvid, join(dir, 'camvid.safetensors'));
    writeFileSync(join(dir, 'blank.html'), '<!doctype html><meta charset="utf-8"><title>segkit test</title>');
    let y4m: string | undefined;
    if (!cameraSkip) {
      y4m = makeY4m(vtest!, dir, CAMERA);
      const portrait = shippedModel('portrait');
      if (portrait) {
        person = { checkpoint: await loadCheckpoint(portrait), query: '' };
      } else {
        const frame: DecodedImage = { data: videoFrameRgb(vtest!, 0, CAMERA.width, CAMERA.height, CAMERA.fps), width: CAMERA.width, height: CAMERA.height, channels: 3 };
        const checkpoint = await calibratedPersonCheckpoint(frame, PERSON_INPUT);
        await writeCheckpoint(checkpoint, join(dir, 'person.safetensors'));
        person = { checkpoint, query: `model=/test/person.safetensors&size=${PERSON_INPUT[0]}x${PERSON_INPUT[1]}&`, inputSize: PERSON_INPUT };
      }
    }
    server = await startStaticServer([
      { prefix: '/', dir: join(REPO, 'dist/web-app') },
      { prefix: '/lib/', dir: join(REPO, 'dist/web') },
      { prefix: '/test/', dir },
      ...(camvidSkip ? [] : [{ prefix: '/camvid/', dir: CAMVID }]),
    ]);
    browser = await launchChromium({ fakeVideo: y4m, webgpu: true });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function open(url: string): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1100, height: 640 } });
    const errors = pageErrors(page);
    await page.goto(`${server.url}${url}`);
    return { page, errors };
  }

  test('library bundle: browser images read as their pixels; masks and effects draw the expected pixels; models load with the default wasm location', async () => {
    const { page, errors } = await open('/test/blank.html');
    try {
      // Plain JavaScript in the page (no transpiled helpers): a 4×2 image, red left half, blue right half.
      const r = (await page.evaluate(`(async () => {
        const s = await import('/lib/segkit.js');
        const pixels = (c) => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
        const c = document.createElement('canvas');
        c.width = 4; c.height = 2;
        const ctx = c.getContext('2d');
        ctx.fillStyle = 'rgb(255, 0, 0)'; ctx.fillRect(0, 0, 2, 2);
        ctx.fillStyle = 'rgb(0, 0, 255)'; ctx.fillRect(2, 0, 2, 2);
        const img = new Image(); img.src = c.toDataURL('image/png'); await img.decode();
        const off = new OffscreenCanvas(4, 2); off.getContext('2d').drawImage(c, 0, 0);
        const read = {
          canvas: s.readPixels(c), bitmap: s.readPixels(await createImageBitmap(c)), offscreen: s.readPixels(off),
          image: s.readPixels(img), imageData: s.readPixels(ctx.getImageData(0, 0, 4, 2)),
        };
        const seg = { width: 4, height: 2, probability: new Float32Array([1, 1, 0, 0, 1, 0, 0, 1]), mask: new Uint8Array([1, 1, 0, 0, 1, 0, 0, 1]), threshold: 0.5 };
        const a = document.createElement('canvas'), b = document.createElement('canvas'), m = document.createElement('canvas');
        s.replaceBackground(a, c, seg, [0, 255, 0], { edgeBlurAmount: 0 });
        s.replaceBackground(b, c, seg, [0, 255, 0], { edgeBlurAmount: 0, flipHorizontal: true });
        s.drawMask(m, c, s.toBinaryMask(seg, { r: 0, g: 0, b: 0, a: 0 }, { r: 255, g: 255, b: 255, a: 255 }), 0.5, 0, false);
        // The model needs at least 29×29 pixels: the same two halves on 32×32.
        const big = new OffscreenCanvas(32, 32), bctx = big.getContext('2d');
        bctx.fillStyle = 'rgb(255, 0, 0)'; bctx.fillRect(0, 0, 16, 32);
        bctx.fillStyle = 'rgb(0, 0, 255)'; bctx.fillRect(16, 0, 16, 32);
        const model = await s.createSegmenter('/test/camvid.safetensors', { threads: 1, probabilities: true });
        const out = await model.segment(big);
        await model.dispose();
        let missing = '';
        try { await s.createSegmenter('nope'); } catch (e) { missing = e.message; }
        return {
          read: Object.fromEntries(Object.entries(read).map(([k, v]) => [k, [v.width, v.height, v.channels, ...v.data]])),
          replaced: pixels(a), flipped: pixels(b), masked: pixels(m),
          isImageData: s.toBinaryMask(seg) instanceof ImageData,
          seg: { width: out.width, height: out.height, classes: out.classes, probabilities: Array.from(out.probabilities) },
          threads: model.threads, missing,
        };
      })()`)) as {
        read: Record<string, number[]>;
        replaced: number[];
        flipped: number[];
        masked: number[];
        isImageData: boolean;
        seg: { width: number; height: number; classes: string[]; probabilities: number[] };
        threads: number;
        missing: string;
      };
      const [R, B] = [[255, 0, 0], [0, 0, 255]];
      const row = [...R, ...R, ...B, ...B];
      for (const [kind, got] of Object.entries(r.read)) assert.deepEqual(got, [4, 2, 3, ...row, ...row], `readPixels(${kind})`);
      // Matte 1 keeps the image, 0 shows the green background (no feathering); RGBA, opaque.
      const G = [0, 255, 0];
      const rgba = (px: number[][]) => px.flatMap((p) => [...p, 255]);
      assert.deepEqual(r.replaced, rgba([R, R, G, G, R, G, G, B]));
      assert.deepEqual(r.flipped, rgba([G, G, R, R, B, G, G, R]));
      // Half-opaque white over the background pixels, the person pixels untouched.
      const expectedMask = rgba([R, R, [128, 128, 255], [128, 128, 255], R, [255, 128, 128], [128, 128, 255], B]);
      assert.ok(r.masked.every((v, i) => Math.abs(v - expectedMask[i]!) <= 1), `drawMask: ${r.masked} vs ${expectedMask}`);
      assert.equal(r.isImageData, true);
      // onnxruntime-web in the page against onnxruntime-node on the same model and pixels.
      const ref = await nodeSegmenter(camvid, { probabilities: true });
      try {
        const halves = Uint8Array.from(Array.from({ length: 32 * 32 }, (_, p) => (p % 32 < 16 ? R : B)).flat());
        const want = (await ref.segment({ data: halves, width: 32, height: 32, channels: 3 })).probabilities!;
        assert.deepEqual([r.seg.width, r.seg.height, r.seg.classes], [32, 32, CAMVID_CLASSES.map((c) => c.name)]);
        const worst = Math.max(...want.map((v, i) => Math.abs(v - r.seg.probabilities[i]!)));
        assert.ok(worst < 1e-4, `browser and Node probabilities differ by ${worst}`);
      } finally {
        await ref.dispose();
      }
      assert.equal(r.threads, 1);
      assert.match(r.missing, /cannot fetch models\/nope\/model\.safetensors for model 'nope': HTTP 404/);
      assert.deepEqual(errors.filter((e) => !/404 \(Not Found\)/.test(e)), []);
    } finally {
      await page.close();
    }
  });

  // The model runs in the page's worker (the default) or, with worker=0, on the page itself.
  for (const [backend, worker] of [['wasm', true], ['wasm', false], ['webgpu', true]] as const) {
    const where = worker ? 'in a worker' : 'in the page';
    test(`webcam page on ${backend}, model ${where}: fake camera (vtest.avi) → person masks, smoothed, background blurred; browser and Node agree`, { skip: cameraSkip }, async (t) => {
      const { page, errors } = await open(`/index.html?${person!.query}proc=${CAMERA.width}&threads=2&effect=blur&smoothing=0.3&debug=1&backend=${backend}${worker ? '' : '&worker=0'}`);
      try {
        // WebGPU here is Chromium's software adapter (SwiftShader): slow, but the same code path as a GPU's.
        if (backend === 'webgpu' && !(await page.evaluate('navigator.gpu ? navigator.gpu.requestAdapter().then(Boolean) : false'))) return t.skip('this Chromium offers no WebGPU adapter');
        // Two frames are enough for smoothing (the second is averaged with the first) on the slow software GPU.
        const frames = backend === 'webgpu' ? 2 : 4;
        await waitForPage(page, `window.segkitApp.error || window.segkitApp.frames >= ${frames}`, `${frames} frames segmented`, 300_000, errors);
        const app = (await page.evaluate('({ error: segkitApp.error, stats: segkitApp.stats, personFrames: segkitApp.personFrames, capture: segkitApp.capture() })')) as {
          error: string;
          stats: { threads: number; backend: string; worker: boolean; crossOriginIsolated: boolean; frame: number[]; smoothing: number; modelFps: number; e2eFps: number };
          personFrames: number;
          capture: { width: number; height: number; input: string; prev: string | null; probability: string; output: string; effect: string; blur: number; edge: number; threshold: number };
        };
        await page.screenshot({ path: join(OUT, `webcam${backend === 'wasm' ? '' : `-${backend}`}${worker ? '' : '-in-page'}.png`) });
        assert.equal(app.error, '');
        assert.deepEqual([app.stats.crossOriginIsolated, app.stats.threads, app.stats.backend, app.stats.worker, app.stats.frame], [true, 2, backend, worker, [CAMERA.width, CAMERA.height]]);
        assert.ok(app.personFrames > 0, 'no frame had any person pixel');
        const c = app.capture;
        const n = c.width * c.height;
        const input: DecodedImage = { data: bytes(c.input), width: c.width, height: c.height, channels: 3 };
        const shown = floats(c.probability);
        // The model in Node on the very pixels the page read from the camera.
        // The webcam page runs without the guided filter unless asked (?refine=1).
        const ref = await nodeSegmenter(person!.checkpoint, { probabilities: true, inputSize: person!.inputSize, refine: false });
        let raw: Float32Array;
        try {
          // The person plane: a binary model has one, a multi-class model (the shipped portrait) one per class.
          const plane = personPlane(ref.model.numClasses, ref.classes)!;
          raw = (await ref.segment(input)).probabilities!.subarray(plane * n, (plane + 1) * n);
        } finally {
          await ref.dispose();
        }
        const prev = c.prev ? floats(c.prev) : undefined;
        const f = app.stats.smoothing;
        let worst = 0;
        let agree = 0;
        for (let i = 0; i < n; i++) {
          const want = prev ? f * prev[i]! + (1 - f) * raw[i]! : raw[i]!;
          worst = Math.max(worst, Math.abs(shown[i]! - want));
          if (shown[i]! > c.threshold === want > c.threshold) agree++;
        }
        t.diagnostic(`webcam (${backend}, ${where}): ${n} pixels, probabilities within ${worst.toExponential(2)} of Node's, masks agree on ${((100 * agree) / n).toFixed(3)} %; model ${app.stats.modelFps.toFixed(1)} FPS, end-to-end ${app.stats.e2eFps.toFixed(1)} FPS`);
        assert.equal(f, 0.3);
        assert.ok(prev, 'the captured frame was not averaged with a previous one');
        assert.ok(worst < 1e-3, `smoothed person probabilities differ from Node's by ${worst}`);
        assert.ok(agree / n >= 0.999, `masks agree on ${((100 * agree) / n).toFixed(2)} % of pixels`);
        let personPixels = 0;
        for (let i = 0; i < n; i++) personPixels += shown[i]! > c.threshold ? 1 : 0;
        assert.ok(personPixels > 0 && personPixels < n, `the captured frame has ${personPixels} of ${n} person pixels`);
        // The frame shown is the background blur of the frame read, with the page's matte.
        const expected = blurBackground(input, featherMask(shown, c.width, c.height, c.edge), c.blur);
        const output = bytes(c.output);
        let off = 0;
        for (let i = 0; i < output.length; i++) off = Math.max(off, Math.abs(output[i]! - expected.data[i]!));
        assert.equal(c.effect, 'blur');
        assert.ok(off <= 1, `the canvas differs from blurBackground by up to ${off} levels`);
        let changed = 0;
        let background = 0;
        for (let p = 0; p < n; p++) {
          if (shown[p]! > c.threshold) continue;
          background++;
          if (Math.max(...[0, 1, 2].map((k) => Math.abs(output[p * 3 + k]! - input.data[p * 3 + k]!))) > 2) changed++;
        }
        assert.ok(changed > 0.2 * background, `only ${changed} of ${background} background pixels changed`);
        assert.deepEqual(errors, []);
      } finally {
        await page.close();
      }
    });
  }

  test('road page: a CamVid val image → labels agree ≥ 99.9 % with the Node Segmenter; legend of the 11 classes', { skip: camvidSkip }, async (t) => {
    const shipped = shippedModel('camvid');
    const checkpoint = shipped ? await loadCheckpoint(shipped) : camvid;
    const image = join(CAMVID, readFileSync(join(CAMVID, 'val.txt'), 'utf8').trim().split('\n')[0]!.split(/\s+/)[0]!);
    const { page, errors } = await open(`/road.html?${shipped ? '' : 'model=/test/camvid.safetensors&'}threads=2`);
    try {
      await waitForPage(page, 'window.segkitApp.error || window.segkitApp.ready', 'model loaded', 180_000, errors);
      await page.setInputFiles('#file', image);
      await waitForPage(page, 'window.segkitApp.error || window.segkitApp.done >= 1', 'image segmented', 300_000, errors);
      const r = (await page.evaluate('({ error: segkitApp.error, last: segkitApp.last, legend: [...document.querySelectorAll("#legend li")].map((li) => [li.dataset.class, li.dataset.color]), canvas: [document.getElementById("overlay").width, document.getElementById("overlay").height] })')) as {
        error: string;
        last: { width: number; height: number; labels: string };
        legend: [string, string][];
        canvas: number[];
      };
      await page.screenshot({ path: join(OUT, 'road.png') });
      assert.equal(r.error, '');
      const ref = await nodeSegmenter(checkpoint);
      try {
        const want = await ref.segment(image);
        assert.deepEqual([r.last.width, r.last.height, r.canvas], [want.width, want.height, [want.width, want.height]]);
        const got = bytes(r.last.labels);
        let agree = 0;
        for (let i = 0; i < got.length; i++) agree += got[i] === want.labels[i] ? 1 : 0;
        t.diagnostic(`road: ${shipped ? 'models/camvid' : 'test CamVid model'} on ${image}: labels agree on ${((100 * agree) / got.length).toFixed(3)} % of ${got.length} pixels`);
        assert.ok(agree / got.length >= 0.999, `labels agree on ${((100 * agree) / got.length).toFixed(3)} % of pixels`);
        assert.deepEqual(r.legend, want.classes.map((name, k) => [name, want.palette[k]!.join(',')]));
      } finally {
        await ref.dispose();
      }
      assert.deepEqual(r.legend.map(([name]) => name), CAMVID_CLASSES.map((c) => c.name));
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
});
