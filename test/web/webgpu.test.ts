// The WebGPU backend: createSegmenter(…, { backend: 'webgpu' }) in headless Chromium, on the
// software WebGPU adapter Chromium brings (SwiftShader; `--enable-unsafe-webgpu`, as Linux needs),
// against segkit's Segmenter in Node (onnxruntime-node). Every model family's tiny random-weight
// checkpoint (the cases of test/export/family-cases.ts) on the synthetic block image, then the
// shipped portrait model on its sample, probabilities included, and its float16 export through
// loadExportedSegmenter. (The shipped CamVid model is the same
// S2-FPN v1 graph, wider: 100 % agreement on samples/street.jpg, but about 3 minutes on the
// software adapter, so it is not run here.) The page counts the GPU command buffers submitted while it
// segments, so a session that quietly ran everything on the wasm provider fails.
// Skips with a message without chromium, or where Chromium offers no WebGPU adapter.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { nodeCodec } from '../../src/data/image-node.js';
import type { DecodedImage } from '../../src/data/image.js';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import { labelAgreement } from '../../src/export/evaluate-exports.js';
import { exportCheckpoint } from '../../src/export/export-model.js';
import { syntheticImages } from '../../src/export/segmenter-agreement.js';
import { Segmenter, type Segmentation } from '../../src/segmenter/segmenter.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { serializeCheckpoint, type Checkpoint } from '../../src/train/checkpoint-format.js';
import { buildLibrary } from '../../scripts/build-web.js';
import { REPO } from '../data/helpers.js';
import { FAMILY_CASES, familyLabel, familyModel } from '../export/family-cases.js';
import { chromiumPath, launchChromium, NO_CHROMIUM, pageErrors } from './chromium.js';
import { shippedModel } from './models.js';
import { startStaticServer, type StaticServer } from './server.js';

/**
 * Page-side helpers, plain JavaScript: count GPUQueue.submit calls, load a checkpoint URL with
 * backend 'webgpu', segment raw RGB (base64), return labels (and probabilities) as base64.
 */
const PAGE_HELPERS = `window.segkitTest = (() => {
  let lib, model, submits = 0;
  const submit = GPUQueue.prototype.submit;
  GPUQueue.prototype.submit = function (...a) { submits++; return submit.apply(this, a); };
  const fromB64 = (s) => { const b = atob(s), out = new Uint8Array(b.length); for (let i = 0; i < b.length; i++) out[i] = b.charCodeAt(i); return out; };
  const toB64 = (u) => { u = new Uint8Array(u.buffer, u.byteOffset, u.byteLength); let s = ''; for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode.apply(null, u.subarray(i, i + 0x8000)); return btoa(s); };
  return {
    async load(url, probabilities) {
      lib = lib || await import('/lib/segkit.js');
      model = await lib.createSegmenter(url, { backend: 'webgpu', threads: 1, probabilities });
      return { backend: model.backend, classes: model.classes };
    },
    async segment(rgbB64, width, height) {
      const before = submits;
      const r = await model.segment({ data: fromB64(rgbB64), width, height, channels: 3 });
      return { labels: toB64(r.labels), probabilities: r.probabilities ? toB64(r.probabilities) : null, width: r.width, height: r.height, submits: submits - before };
    },
    async loadExported(url) {
      lib = lib || await import('/lib/segkit.js');
      model = await lib.loadExportedSegmenter(url, { backend: 'webgpu', threads: 1 });
      return { backend: model.backend, classes: model.classes, weights: model.contract.weights };
    },
    async dispose() { await model.dispose(); model = undefined; },
  };
})()`;

interface PageSegmentation {
  labels: Uint8Array;
  probabilities?: Float32Array;
  submits: number;
}

const pct = (x: number): string => `${(x * 100).toFixed(3)} %`;

describe("createSegmenter with backend 'webgpu' in headless Chromium agrees with the Node Segmenter", { skip: chromiumPath() ? false : NO_CHROMIUM }, () => {
  let dir: string;
  let server: StaticServer;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let noAdapter: string | false = false;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'segkit-webgpu-'));
    await buildLibrary();
    writeFileSync(join(dir, 'blank.html'), '<!doctype html><meta charset="utf-8"><title>segkit WebGPU test</title>');
    server = await startStaticServer([
      { prefix: '/lib/', dir: join(REPO, 'dist/web') },
      { prefix: '/models/', dir: join(REPO, 'models') },
      { prefix: '/test/', dir },
    ]);
    browser = await launchChromium({ webgpu: true });
    page = await browser.newPage();
    errors = pageErrors(page);
    await page.goto(`${server.url}/test/blank.html`);
    const adapter = (await page.evaluate('navigator.gpu ? navigator.gpu.requestAdapter().then((a) => (a ? a.info?.architecture || "unnamed" : null)) : null')) as string | null;
    if (!adapter) noAdapter = 'this Chromium offers no WebGPU adapter (navigator.gpu.requestAdapter() gave none with --enable-unsafe-webgpu); WebGPU tests skipped';
    else await page.evaluate(PAGE_HELPERS);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function pageSegment(img: DecodedImage): Promise<PageSegmentation> {
    const b64 = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength).toString('base64');
    const r = (await page.evaluate(`segkitTest.segment(${JSON.stringify(b64)}, ${img.width}, ${img.height})`)) as { labels: string; probabilities: string | null; width: number; height: number; submits: number };
    assert.deepEqual([r.width, r.height], [img.width, img.height], 'size of the page labels');
    const labels = Uint8Array.from(Buffer.from(r.labels, 'base64'));
    const probabilities = r.probabilities ? new Float32Array(Uint8Array.from(Buffer.from(r.probabilities, 'base64')).buffer) : undefined;
    return { labels, probabilities, submits: r.submits };
  }

  async function nodeSegment(ckpt: Checkpoint, img: DecodedImage, probabilities: boolean, source?: string): Promise<Segmentation> {
    const s = Segmenter.fromCheckpoint(ckpt, nodeCodec, nodeRuntime, { threads: 1, probabilities }, source);
    try {
      return await s.segment(img);
    } finally {
      await s.dispose();
    }
  }

  /** Loads the URL in the page with backend 'webgpu' (a checkpoint, or an exported .onnx), segments `img`, disposes. */
  async function onWebGpu(url: string, img: DecodedImage, probabilities: boolean): Promise<PageSegmentation> {
    const load = url.endsWith('.onnx') ? `segkitTest.loadExported(${JSON.stringify(url)})` : `segkitTest.load(${JSON.stringify(url)}, ${probabilities})`;
    const loaded = (await page.evaluate(load)) as { backend: string };
    try {
      assert.equal(loaded.backend, 'webgpu');
      const r = await pageSegment(img);
      assert.ok(r.submits > 0, `no GPU command buffer was submitted while segmenting: the model ran on the wasm provider only (page errors: ${errors.join(' | ') || 'none'})`);
      // The browser's own request for /favicon.ico is the one 404 allowed.
      assert.deepEqual(server.missing.filter((m) => m !== '/favicon.ico'), [], 'requests answered 404');
      assert.deepEqual(errors.filter((e) => !/404 \(Not Found\)/.test(e)), [], 'console errors in the page');
      return r;
    } finally {
      await page.evaluate('segkitTest.dispose()');
    }
  }

  FAMILY_CASES.forEach((c, i) => {
    test(`${familyLabel(c)}: ≥ 99.9 % of labels agree`, async (t) => {
      if (noAdapter) return t.skip(noAdapter);
      const { meta, checkpoint } = familyModel(c);
      const [img] = syntheticImages(1, c.size, c.size) as [DecodedImage];
      const want = (await nodeSegment(checkpoint, img, false)).labels;
      // Labels covering one class would agree with almost anything.
      const counts = new Array<number>(meta.classes.length).fill(0);
      for (const v of want) counts[v]!++;
      assert.ok(counts.filter((n) => n >= 0.05 * want.length).length >= 2, `labels too uniform to test anything: class counts ${counts}`);
      writeFileSync(join(dir, `family${i}.safetensors`), serializeCheckpoint(checkpoint));
      const got = await onWebGpu(`/test/family${i}.safetensors`, img, false);
      const agreement = labelAgreement(got.labels, want);
      t.diagnostic(`${familyLabel(c)}: WebGPU vs Node ${pct(agreement)} (${got.submits} GPU submits)`);
      assert.ok(agreement >= 0.999, `WebGPU: ${pct(agreement)} of pixels agree with the Node Segmenter (need ≥ 99.9 %)`);
    });
  });

  for (const [name, sample, withProbabilities] of [['portrait', 'portrait.jpg', true]] as const) {
    const path = shippedModel(name);
    test(`shipped ${name} model on samples/${sample}: ≥ 99.9 % of labels agree${withProbabilities ? ', probabilities within 1e-3' : ''}`, { skip: path ? false : `models/${name}/model.safetensors is not there; skipped` }, async (t) => {
      if (noAdapter) return t.skip(noAdapter);
      const img = await nodeCodec.decodeImage(join(REPO, 'samples', sample));
      const want = await nodeSegment(await loadCheckpoint(path!), img, withProbabilities, path);
      const got = await onWebGpu(`/models/${name}/model.safetensors`, img, withProbabilities);
      const agreement = labelAgreement(got.labels, want.labels);
      let maxDiff = 0;
      if (withProbabilities) {
        assert.equal(got.probabilities?.length, want.probabilities!.length, 'number of probabilities');
        for (let k = 0; k < want.probabilities!.length; k++) maxDiff = Math.max(maxDiff, Math.abs(got.probabilities![k]! - want.probabilities![k]!));
      }
      t.diagnostic(`${name}: WebGPU vs Node ${pct(agreement)} of ${img.width}×${img.height} labels${withProbabilities ? `, max |Δp| ${maxDiff.toExponential(2)}` : ''} (${got.submits} GPU submits)`);
      assert.ok(agreement >= 0.999, `WebGPU: ${pct(agreement)} of pixels agree with the Node Segmenter (need ≥ 99.9 %)`);
      if (withProbabilities) assert.ok(maxDiff <= 1e-3, `WebGPU probabilities differ from Node's by up to ${maxDiff}`);
    });
  }

  const portrait = shippedModel('portrait');
  test('the shipped portrait model exported with float16 weights, through loadExportedSegmenter, guided filter included: ≥ 99.5 % of labels agree', { skip: portrait ? false : 'models/portrait/model.safetensors is not there; skipped' }, async (t) => {
    if (noAdapter) return t.skip(noAdapter);
    const ckpt = await loadCheckpoint(portrait!);
    const img = await nodeCodec.decodeImage(join(REPO, 'samples', 'portrait.jpg'));
    // The export keeps the checkpoint's guided filter (its 'refine' metadata), run after the model on
    // WebGPU as the Node Segmenter runs it by default.
    const want = await nodeSegment(ckpt, img, false, portrait);
    const e = await exportCheckpoint(ckpt, { runtime: nodeRuntime, threads: 1, source: portrait!, weights: 'float16' });
    writeFileSync(join(dir, 'portrait-fp16.onnx'), e.bytes);
    const got = await onWebGpu('/test/portrait-fp16.onnx', img, false);
    const agreement = labelAgreement(got.labels, want.labels);
    t.diagnostic(`portrait float16 export: WebGPU vs Node Segmenter ${pct(agreement)} (${got.submits} GPU submits)`);
    assert.ok(agreement >= 0.995, `WebGPU: ${pct(agreement)} of pixels agree with the Node Segmenter (need ≥ 99.5 %)`);
  });
});
