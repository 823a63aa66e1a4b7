// The browser API's platform-neutral parts, in Node: person probabilities from a segmentation
// (binary and multi-class models, soft and hard), segmentPeople against the model's logits put
// through a float64 sigmoid, MaskSmoother's moving average against hand-worked values, binary and
// coloured masks byte for byte, ImageData pixels, model URLs, and createSegmenter's early errors.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { nodeCodec } from '../../src/data/image-node.js';
import type { DecodedImage } from '../../src/data/image.js';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import { resizeBilinearNCHW } from '../../src/inference/nchw.js';
import { createModel } from '../../src/models/index.js';
import { compileModule } from '../../src/nn/compile.js';
import { Segmenter, type Segmentation } from '../../src/segmenter/segmenter.js';
import { createSegmenter, modelUrl } from '../../src/web/create-segmenter.js';
import { toBinaryMask, toColoredMask } from '../../src/web/draw.js';
import { MaskSmoother, PersonStream, personClassIndex, personProbability, segmentPeople, type PersonSegmentation } from '../../src/web/person.js';
import { readPixels } from '../../src/web/pixels.js';
import { textureImage } from '../data/helpers.js';
import { personCheckpoint } from '../robustness/streaming.js';

const [W, H] = [40, 32];

function seg(p: Partial<Segmentation> & Pick<Segmentation, 'labels' | 'classes'>): Segmentation {
  return { width: 2, height: 2, palette: [], ...p };
}

describe('personProbability / personClassIndex', () => {
  test("binary models: P(class 1) is the person's, or its complement when 'person' is class 0", () => {
    const probabilities = new Float32Array([0.1, 0.9, 0.5, 0.25]);
    const close = (got: Float32Array, want: number[]) => assert.ok(got.length === want.length && want.every((v, i) => Math.abs(got[i]! - v) < 1e-7), `got ${Array.from(got)}, want ${want}`);
    close(personProbability(seg({ labels: new Uint8Array(4), classes: ['background', 'person'], probabilities })), [0.1, 0.9, 0.5, 0.25]);
    close(personProbability(seg({ labels: new Uint8Array(4), classes: ['Person', 'background'], probabilities })), [0.9, 0.1, 0.5, 0.75]);
  });

  test("multi-class models: the 'person' channel; without probabilities, the labels as 0/1", () => {
    const probabilities = new Float32Array([0.7, 0.2, 0.1, 0.0, /* person */ 0.3, 0.8, 0.9, 1.0]);
    const s = seg({ width: 2, height: 2, labels: new Uint8Array([0, 1, 1, 1]), classes: ['road', 'person'], probabilities });
    assert.deepEqual(Array.from(personProbability({ ...s, classes: ['road', 'person', 'car'], probabilities: new Float32Array([...probabilities, 0, 0, 0, 0]) })), Array.from(probabilities.subarray(4)));
    assert.deepEqual(Array.from(personProbability({ ...s, probabilities: undefined })), [0, 1, 1, 1]);
  });

  test('a model without a person class is named with its classes', () => {
    assert.equal(personClassIndex(['background', 'person']), 1);
    assert.throws(() => personClassIndex(['Sky', 'Road', 'Pedestrian']), /no 'person' class \(its classes: Sky, Road, Pedestrian\)/);
  });
});

describe('MaskSmoother', () => {
  test('the moving average, worked by hand (factor 0.25)', () => {
    const m = new MaskSmoother(0.25);
    assert.deepEqual(Array.from(m.update(new Float32Array([0, 1]), 2, 1)), [0, 1]);
    assert.deepEqual(Array.from(m.update(new Float32Array([1, 1]), 2, 1)), [0.75, 1]);
    assert.deepEqual(Array.from(m.update(new Float32Array([1, 0]), 2, 1)), [0.9375, 0.25]);
    assert.deepEqual(Array.from(m.previous!), [0.9375, 0.25]);
  });

  test('a new frame size restarts; reset forgets; dispose ends; bad factors are refused', () => {
    const m = new MaskSmoother(0.5);
    m.update(new Float32Array([1, 1]), 2, 1);
    assert.deepEqual(Array.from(m.update(new Float32Array([0, 0]), 1, 2)), [0, 0]);
    m.reset();
    assert.equal(m.previous, undefined);
    assert.deepEqual(Array.from(m.update(new Float32Array([0.5, 0]), 1, 2)), [0.5, 0]);
    m.dispose();
    assert.throws(() => m.update(new Float32Array(2), 1, 2), /disposed/);
    assert.throws(() => new MaskSmoother(1), /factor must be in \[0, 1\), got 1/);
    assert.throws(() => new MaskSmoother(0.5).update(new Float32Array(3), 2, 1), /3 values for 2×1/);
  });
});

describe('segmentPeople', () => {
  const img: DecodedImage = { data: textureImage(W, H, 4), width: W, height: H, channels: 3 };
  const c = personCheckpoint();
  let segmenter: Segmenter;
  let want: Float64Array;
  before(async () => {
    segmenter = Segmenter.fromCheckpoint(c, nodeCodec, nodeRuntime, { threads: 1, probabilities: true });
    // The reference: the model's one-channel logits, upsampled to the image, through a float64 sigmoid.
    const { options } = c.meta.model;
    const model = createModel('segformer', options);
    model.loadStateDict(c.model);
    model.eval();
    const { mean, std } = model.normalization;
    const x = new Float32Array(3 * W * H);
    for (let ch = 0; ch < 3; ch++) for (let p = 0; p < W * H; p++) x[ch * W * H + p] = (img.data[p * 3 + ch]! / 255 - mean[ch]!) / std[ch]!;
    const f = compileModule(model, { runtime: nodeRuntime, threads: 1 });
    try {
      const logits = resizeBilinearNCHW((await f.run(new HostTensor(x, [1, 3, H, W]))) as HostTensor, H, W);
      want = Float64Array.from(logits.f32, (z) => 1 / (1 + Math.exp(-z)));
    } finally {
      await f.dispose();
    }
  });
  after(() => segmenter.dispose());

  test('probabilities are the sigmoid of the logits; the mask is probability > threshold', async () => {
    const s = await segmentPeople(segmenter, img, { threshold: 0.5 });
    assert.deepEqual([s.width, s.height, s.probability.length, s.threshold], [W, H, W * H, 0.5]);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(s.probability[i]! - want[i]!));
    assert.ok(worst < 1e-5, `person probabilities differ from the sigmoid of the logits by ${worst}`);
    const t = 0.5;
    assert.deepEqual(Array.from(s.mask), Array.from(want, (p) => (p > t ? 1 : 0)));
    // The same pixels as ImageData (RGBA) give the same answer.
    const rgba = new Uint8ClampedArray(W * H * 4).fill(255);
    for (let p = 0; p < W * H; p++) rgba.set(img.data.subarray(p * 3, p * 3 + 3), p * 4);
    assert.deepEqual((await segmentPeople(segmenter, { data: rgba, width: W, height: H }, { threshold: 0.5 })).probability, s.probability);
  });

  test('PersonStream averages frames (factor 0.5) and refuses use after dispose', async () => {
    const stream = new PersonStream(segmenter, { smoothing: 0.5 });
    const dark: DecodedImage = { data: img.data.map((v) => v >> 2), width: W, height: H, channels: 3 };
    const a = await segmentPeople(segmenter, img);
    const b = await segmentPeople(segmenter, dark);
    await stream.segment(img);
    const s = await stream.segment(dark);
    for (let i = 0; i < W * H; i++) assert.ok(Math.abs(s.probability[i]! - (a.probability[i]! + b.probability[i]!) / 2) < 1e-6, `pixel ${i}`);
    stream.dispose();
    await assert.rejects(stream.segment(img), /disposed/);
  });

  test("errors: no 'person' class, threshold out of range", async () => {
    const road = { classes: ['Sky', 'Road'], segment: async () => assert.fail('the model must not run') };
    await assert.rejects(segmentPeople(road, img), /no 'person' class \(its classes: Sky, Road\)/);
    await assert.rejects(segmentPeople(segmenter, img, { threshold: 1.5 }), /threshold must be in \[0, 1\), got 1.5/);
    assert.throws(() => new PersonStream(road), /no 'person' class/);
  });
});

describe('masks as ImageData', () => {
  const person: PersonSegmentation = { width: 2, height: 2, probability: new Float32Array([0.9, 0.2, 0.6, 0.4]), mask: new Uint8Array([1, 0, 1, 0]), threshold: 0.5 };

  test('toBinaryMask: foreground colour on the person, background colour elsewhere; re-thresholded on request', () => {
    const m = toBinaryMask(person, { r: 1, g: 2, b: 3, a: 4 }, { r: 10, g: 20, b: 30, a: 40 });
    assert.deepEqual([m.width, m.height], [2, 2]);
    assert.deepEqual(Array.from(m.data), [1, 2, 3, 4, 10, 20, 30, 40, 1, 2, 3, 4, 10, 20, 30, 40]);
    const d = toBinaryMask(person, undefined, undefined, { threshold: 0.7 });
    assert.deepEqual(Array.from(d.data), [0, 0, 0, 0, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255]);
    assert.throws(() => toBinaryMask(person, { r: 0, g: 0, b: 0, a: 300 }), /foreground.a must be an integer 0–255, got 300/);
  });

  test('toColoredMask: palette colours, labels outside the palette transparent', () => {
    const m = toColoredMask({ labels: new Uint8Array([0, 1, 255]), width: 3, height: 1, palette: [[10, 20, 30], [40, 50, 60]] }, { alpha: 200 });
    assert.deepEqual(Array.from(m.data), [10, 20, 30, 200, 40, 50, 60, 200, 0, 0, 0, 0]);
  });

  test('readPixels: ImageData RGBA → RGB (alpha dropped), resized on request', () => {
    const data = new Uint8ClampedArray([1, 2, 3, 99, 4, 5, 6, 0]);
    const p = readPixels({ data, width: 2, height: 1 });
    assert.deepEqual([p.width, p.height, p.channels, Array.from(p.data)], [2, 1, 3, [1, 2, 3, 4, 5, 6]]);
    const q = readPixels({ data: new Uint8ClampedArray(16).fill(7), width: 2, height: 2 }, 4, 3);
    assert.deepEqual([q.width, q.height, q.data.length, q.data[0]], [4, 3, 36, 7]);
    assert.throws(() => readPixels(new Map() as never), /cannot read pixels from a Map/);
  });
});

describe('createSegmenter (browser) before the model runs', () => {
  test('shipped names map to <modelBaseUrl>/<name>/model.safetensors; URLs pass through', () => {
    assert.equal(modelUrl('camvid'), 'models/camvid/model.safetensors');
    assert.equal(modelUrl('portrait', 'https://example.org/m'), 'https://example.org/m/portrait/model.safetensors');
    assert.equal(modelUrl('/ckpt/run.safetensors'), '/ckpt/run.safetensors');
    assert.throws(() => modelUrl(''), /got an empty string/);
  });

  test('a missing model names its URL and the HTTP status; WebGPU without navigator.gpu is refused', async () => {
    const server = createServer((_, res) => res.writeHead(404, 'Not Found').end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/m`;
    try {
      await assert.rejects(createSegmenter('camvid', { modelBaseUrl: base }), (e: Error) => {
        assert.match(e.message, new RegExp(`cannot fetch ${base}/camvid/model.safetensors for model 'camvid': HTTP 404 Not Found`));
        assert.match(e.message, /set modelBaseUrl, or pass a checkpoint URL/);
        return true;
      });
    } finally {
      server.close();
    }
    await assert.rejects(createSegmenter('camvid', { backend: 'webgpu' }), /navigator\.gpu is undefined; .*\); use backend: 'wasm'/);
    await assert.rejects(createSegmenter('camvid', { backend: 'webgl' as never }), /backend must be 'wasm' or 'webgpu', got "webgl"/);
  });
});
