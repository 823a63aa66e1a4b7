// Exported .onnx files in the browser: every model family of test/export/families.test.ts (same
// configurations, seeds and synthetic block image), exported with float32 and float16 weights, is
// run in headless Chromium through the library bundle's loadExportedSegmenter (onnxruntime-web,
// wasm), and its labels are compared with segkit's Segmenter in Node on the same pixels: ≥ 99.9 %
// of pixels agree for float32, ≥ 99.5 % for float16. Then the shipped CamVid model's export on three
// CamVid val frames at their native 360×480 (≥ 99.9 %).
//
// The reference is the Node Segmenter (segkit's own graph on onnxruntime-node, with its own pre- and
// post-processing), not the exported file run in Node: the page must reproduce it from the file's
// metadata alone. Pixels reach the page as raw RGB (base64), so no image decoder is involved; the
// family images go in as decoded pixels, the CamVid frames as ImageData (readPixels' path). float32
// files are fetched by URL, float16 ones passed as bytes (both ways of loading).
// Skips with a message without chromium, and the CamVid case without the shipped model or ../shared CamVid.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { nodeCodec } from '../../src/data/image-node.js';
import type { DecodedImage } from '../../src/data/image.js';
import { createDataset } from '../../src/data/sources/registry.js';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import { labelAgreement } from '../../src/export/evaluate-exports.js';
import { spreadImages } from '../../src/export/export-data.js';
import { exportCheckpoint, exportModel } from '../../src/export/export-model.js';
import { syntheticImages } from '../../src/export/segmenter-agreement.js';
import { Segmenter } from '../../src/segmenter/segmenter.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import type { Checkpoint } from '../../src/train/checkpoint-format.js';
import { buildLibrary } from '../../scripts/build-web.js';
import { REPO, sharedDataset } from '../data/helpers.js';
import { FAMILY_CASES, familyLabel, familyModel } from '../export/family-cases.js';
import { chromiumPath, launchChromium, NO_CHROMIUM, pageErrors } from './chromium.js';
import { startStaticServer, type StaticServer } from './server.js';

const CAMVID_MODEL = join(REPO, 'models', 'camvid', 'model.safetensors');
const CAMVID_FRAMES = 3;
const camvidRoot = sharedDataset('camvid');
const camvidSkip = !existsSync(CAMVID_MODEL)
  ? `${CAMVID_MODEL} is not there (the shipped model is added by scripts/ship-model.ts); shipped CamVid export test skipped`
  : !camvidRoot
    ? '../shared/datasets/camvid is not there; shipped CamVid export test skipped'
    : false;

/**
 * Page-side helpers, plain JavaScript (no transpiled code reaches the page): load a model from a URL
 * (or from its fetched bytes), segment raw RGB given as base64 (as decoded pixels or as ImageData),
 * labels back as base64.
 */
const PAGE_HELPERS = `window.segkitTest = (() => {
  let lib, model;
  const fromB64 = (s) => { const b = atob(s), out = new Uint8Array(b.length); for (let i = 0; i < b.length; i++) out[i] = b.charCodeAt(i); return out; };
  const toB64 = (u) => { let s = ''; for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode.apply(null, u.subarray(i, i + 0x8000)); return btoa(s); };
  return {
    async load(url, asBytes) {
      lib = lib || await import('/lib/segkit.js');
      const src = asBytes ? await (await fetch(url)).arrayBuffer() : url;
      model = await lib.loadExportedSegmenter(src, { threads: 1 });
      return { weights: model.contract.weights, classes: model.classes, threads: model.threads, source: model.source };
    },
    async segment(rgbB64, width, height, asImageData) {
      const rgb = fromB64(rgbB64);
      let image = { data: rgb, width, height, channels: 3 };
      if (asImageData) {
        const rgba = new Uint8ClampedArray(width * height * 4);
        for (let p = 0; p < width * height; p++) { rgba.set(rgb.subarray(p * 3, p * 3 + 3), p * 4); rgba[p * 4 + 3] = 255; }
        image = new ImageData(rgba, width, height);
      }
      const r = await model.segment(image);
      return { labels: toB64(r.labels), width: r.width, height: r.height };
    },
    async dispose() { await model.dispose(); model = undefined; },
    async failures() {
      lib = lib || await import('/lib/segkit.js');
      const message = async (f) => { try { await f(); return 'no error'; } catch (e) { return e.message; } };
      return {
        missing: await message(() => lib.loadExportedSegmenter('/test/missing.onnx')),
        notOnnx: await message(() => lib.loadExportedSegmenter(new TextEncoder().encode('<!doctype html>'))),
        viaCreateSegmenter: await message(() => lib.createSegmenter('/test/model.onnx')),
      };
    },
  };
})()`;

interface Loaded {
  weights: string;
  classes: string[];
  threads: number;
  source: string;
}

describe('exported .onnx files in headless Chromium (loadExportedSegmenter on onnxruntime-web) agree with the Node Segmenter', { skip: chromiumPath() ? false : NO_CHROMIUM }, () => {
  let dir: string;
  let server: StaticServer;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'segkit-web-exported-'));
    await buildLibrary();
    writeFileSync(join(dir, 'blank.html'), '<!doctype html><meta charset="utf-8"><title>segkit exported test</title>');
    server = await startStaticServer([
      { prefix: '/lib/', dir: join(REPO, 'dist/web') },
      { prefix: '/test/', dir },
    ]);
    browser = await launchChromium();
    // One page for every case: onnxruntime-web's wasm module starts once.
    page = await browser.newPage();
    errors = pageErrors(page);
    await page.goto(`${server.url}/test/blank.html`);
    await page.evaluate(PAGE_HELPERS);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Serves the bytes as /test/<name> and loads them in the page (by URL, or as fetched bytes). */
  async function loadInPage(name: string, bytes: Uint8Array, asBytes: boolean): Promise<Loaded> {
    writeFileSync(join(dir, name), bytes);
    return (await page.evaluate(`segkitTest.load(${JSON.stringify(`/test/${name}`)}, ${asBytes})`)) as Loaded;
  }

  /** The page's labels for raw RGB pixels. */
  async function pageLabels(img: DecodedImage, asImageData: boolean): Promise<Uint8Array> {
    const b64 = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength).toString('base64');
    const r = (await page.evaluate(`segkitTest.segment(${JSON.stringify(b64)}, ${img.width}, ${img.height}, ${asImageData})`)) as { labels: string; width: number; height: number };
    assert.deepEqual([r.width, r.height], [img.width, img.height], 'size of the page labels');
    return Uint8Array.from(Buffer.from(r.labels, 'base64'));
  }

  async function nodeLabels(ckpt: Checkpoint, images: DecodedImage[], source?: string): Promise<Uint8Array[]> {
    const segmenter = Segmenter.fromCheckpoint(ckpt, nodeCodec, nodeRuntime, { threads: 1 }, source);
    try {
      const out: Uint8Array[] = [];
      for (const img of images) out.push((await segmenter.segment(img)).labels);
      return out;
    } finally {
      await segmenter.dispose();
    }
  }

  const pct = (x: number): string => `${(x * 100).toFixed(3)} %`;

  FAMILY_CASES.forEach((c, i) => {
    test(`${familyLabel(c)}: float32 ≥ 99.9 %, float16 ≥ 99.5 %`, async (t) => {
      const { model, meta, checkpoint } = familyModel(c);
      const [img] = syntheticImages(1, c.size, c.size) as [DecodedImage];
      const [want] = (await nodeLabels(checkpoint, [img])) as [Uint8Array];
      // Labels covering one class would agree with almost anything.
      const counts = new Array<number>(meta.classes.length).fill(0);
      for (const v of want) counts[v]!++;
      assert.ok(counts.filter((n) => n >= 0.05 * want.length).length >= 2, `labels too uniform to test anything: class counts ${counts}`);

      const e = await exportModel(model, meta, { runtime: nodeRuntime, threads: 1, input: `1x3x${c.size}x${c.size}`, weights: 'float16' });
      const agreement: Record<string, number> = {};
      for (const [weights, bytes, asBytes] of [['float32', e.float32Bytes, false], ['float16', e.bytes, true]] as const) {
        const loaded = await loadInPage(`family${i}-${weights}.onnx`, bytes, asBytes);
        try {
          assert.deepEqual([loaded.weights, loaded.classes, loaded.threads], [weights, meta.classes, 1]);
          assert.equal(loaded.source, asBytes ? 'ONNX bytes' : `/test/family${i}-${weights}.onnx`);
          agreement[weights] = labelAgreement(await pageLabels(img, false), want);
        } finally {
          await page.evaluate('segkitTest.dispose()');
        }
      }
      t.diagnostic(`${familyLabel(c)}: browser vs Node Segmenter: float32 ${pct(agreement.float32!)}, float16 ${pct(agreement.float16!)}`);
      assert.ok(agreement.float32! >= 0.999, `float32 export in the browser: ${pct(agreement.float32!)} of pixels agree with the Node Segmenter (need ≥ 99.9 %)`);
      assert.ok(agreement.float16! >= 0.995, `float16 export in the browser: ${pct(agreement.float16!)} of pixels agree with the Node Segmenter (need ≥ 99.5 %)`);
    });
  });

  test(`shipped CamVid model, float32 export, on ${CAMVID_FRAMES} CamVid val frames at 360×480: ≥ 99.9 %`, { skip: camvidSkip }, async (t) => {
    const ckpt = await loadCheckpoint(CAMVID_MODEL);
    const ds = await createDataset('camvid', { root: camvidRoot!, split: 'val' });
    const frames: DecodedImage[] = [];
    for await (const img of spreadImages(ds, CAMVID_FRAMES)) frames.push(img);
    assert.deepEqual(frames.map((f) => [f.width, f.height]), frames.map(() => [480, 360]), 'CamVid val frames are 480×360');
    const want = await nodeLabels(ckpt, frames, CAMVID_MODEL);
    const e = await exportCheckpoint(ckpt, { runtime: nodeRuntime, threads: 1, source: CAMVID_MODEL });
    const loaded = await loadInPage('camvid.onnx', e.bytes, false);
    const perFrame: number[] = [];
    try {
      assert.deepEqual([loaded.weights, loaded.classes], ['float32', ckpt.meta.classes]);
      for (const [k, frame] of frames.entries()) perFrame.push(labelAgreement(await pageLabels(frame, true), want[k]!));
    } finally {
      await page.evaluate('segkitTest.dispose()');
    }
    const overall = perFrame.reduce((a, b) => a + b, 0) / perFrame.length;
    t.diagnostic(`camvid: input ${e.contract.input.shape.join('x')}, per-frame agreement ${perFrame.map(pct).join(', ')}; overall ${pct(overall)}`);
    assert.ok(overall >= 0.999, `shipped CamVid export in the browser: ${pct(overall)} of pixels agree with the Node Segmenter (need ≥ 99.9 %)`);
  });

  test('errors name the file and what was expected; createSegmenter points .onnx URLs to loadExportedSegmenter', async () => {
    const r = (await page.evaluate('segkitTest.failures()')) as Record<string, string>;
    assert.match(r.missing!, /^loadExportedSegmenter: cannot fetch \/test\/missing\.onnx: HTTP 404/);
    assert.match(r.notOnnx!, /^loadExportedSegmenter: cannot load ONNX bytes \(15 bytes\): /);
    assert.match(r.viaCreateSegmenter!, /\/test\/model\.onnx is an exported ONNX file; load it with loadExportedSegmenter/);
    // The only console errors: the 404 asked for above.
    assert.deepEqual(errors.filter((e) => !/404 \(Not Found\)/.test(e)), []);
  });
});
