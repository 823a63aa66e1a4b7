// The export graph's two ends. --uint8: the graph fed raw NHWC RGB bytes gives the float graph's
// logits (fed the image normalised on the host) and the same labels; the same bytes in a transposed
// layout do not, so a wrong transpose inside the graph would fail this. Heads: 'labels' is the
// argmax of 'logits' and 'probs' their softmax, both computed here on the host with segkit's
// independent inference/scores code; a one-channel binary model gets sigmoid and logit > 0; labels
// are uint8 up to 256 classes and int64 beyond.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DecodedImage } from '../../src/data/image.js';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import { exportCheckpoint } from '../../src/export/export-model.js';
import { prepareInput } from '../../src/export/exported-segmenter.js';
import { syntheticImages } from '../../src/export/segmenter-agreement.js';
import { argmaxChannels, sigmoid, softmaxChannels } from '../../src/inference/scores.js';
import { TINY, agreement, exportedLabels, maxRelative, runOnnx, tinyCheckpoint } from './helpers.js';

const S = TINY.size;
const input = `1x3x${S}x${S}`;
const [image] = syntheticImages(1, S, S) as [DecodedImage];
const nhwc = (img: DecodedImage) => new HostTensor(img.data, [1, img.height, img.width, 3], 'uint8');

describe('--uint8 input', () => {
  test('raw RGB bytes in the uint8 graph give the float graph’s logits and labels', async () => {
    const ckpt = tinyCheckpoint();
    const float = await exportCheckpoint(ckpt, { runtime: nodeRuntime, threads: 1, input });
    const bytes = await exportCheckpoint(ckpt, { runtime: nodeRuntime, threads: 1, input, uint8: true });
    assert.deepEqual(bytes.contract.input, { name: 'image', shape: [1, S, S, 3], dtype: 'uint8', layout: 'NHWC' });
    const want = (await runOnnx(float.bytes, { pixel_values: prepareInput(float.contract, image).input })).logits!;
    const got = (await runOnnx(bytes.bytes, { image: nhwc(image) })).logits!;
    assert.ok(maxRelative(got.f32, want.f32) <= 1e-5, `uint8 vs float logits: relative difference ${maxRelative(got.f32, want.f32)}`);
    const labels = await exportedLabels(bytes.bytes, image);
    assert.equal(agreement(labels, await exportedLabels(float.bytes, image)), 1);
    // The same pixels in a transposed layout (what a wrong transpose in the graph would read) give other labels.
    const t = new Uint8Array(S * S * 3);
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) for (let c = 0; c < 3; c++) t[(x * S + y) * 3 + c] = image.data[(y * S + x) * 3 + c]!;
    const wrongLabels = argmaxChannels((await runOnnx(bytes.bytes, { image: nhwc({ ...image, data: t }) })).logits!);
    assert.ok(agreement(wrongLabels, labels) < 0.9, 'a transposed image gives different labels (the comparison can fail)');
  });
});

describe('heads', () => {
  test("'labels' is the argmax and 'probs' the softmax of 'logits'", async () => {
    const ckpt = tinyCheckpoint();
    const x = { pixel_values: prepareInput((await exportCheckpoint(ckpt, { runtime: nodeRuntime, threads: 1, input })).contract, image).input };
    const run = async (head: 'logits' | 'probs' | 'labels') => {
      const e = await exportCheckpoint(ckpt, { runtime: nodeRuntime, threads: 1, input, head });
      return { e, out: (await runOnnx(e.bytes, x))[head]! };
    };
    const logits = (await run('logits')).out;
    assert.deepEqual(logits.shape, [1, 4, S, S]);
    const probs = await run('probs');
    assert.deepEqual([probs.out.shape, probs.e.contract.output.name], [[1, 4, S, S], 'probs']);
    assert.ok(maxRelative(probs.out.f32, softmaxChannels(logits).f32) <= 1e-5);
    const labels = await run('labels');
    assert.deepEqual([labels.out.shape, labels.out.dtype, labels.e.contract.output.dtype], [[1, S, S], 'uint8', 'uint8']);
    const host = argmaxChannels(logits);
    assert.ok(new Set(host).size > 1, 'several classes appear');
    assert.deepEqual(Array.from(labels.out.data as Uint8Array), Array.from(host));
  });

  test('a one-channel binary model: probs = sigmoid, labels = logit > 0', async () => {
    const ckpt = tinyCheckpoint({ numClasses: 1 });
    const logitsExport = await exportCheckpoint(ckpt, { runtime: nodeRuntime, threads: 1, input });
    const x = { pixel_values: prepareInput(logitsExport.contract, image).input };
    const logits = (await runOnnx(logitsExport.bytes, x)).logits!;
    const probs = (await runOnnx((await exportCheckpoint(ckpt, { runtime: nodeRuntime, threads: 1, input, head: 'probs' })).bytes, x)).probs!;
    assert.ok(maxRelative(probs.f32, sigmoid(logits).f32) <= 1e-5);
    const labels = (await runOnnx((await exportCheckpoint(ckpt, { runtime: nodeRuntime, threads: 1, input, head: 'labels' })).bytes, x)).labels!;
    assert.deepEqual([labels.shape, labels.dtype], [[1, S, S], 'uint8']);
    const want = Array.from(logits.f32, (v) => (v > 0 ? 1 : 0));
    assert.ok(new Set(want).size === 2, 'both classes appear');
    assert.deepEqual(Array.from(labels.data as Uint8Array), want);
  });

  test('more than 256 classes: labels are int64', async () => {
    const classes = Array.from({ length: 300 }, (_, i) => `c${i}`);
    const ckpt = tinyCheckpoint({ numClasses: 300, classes });
    const e = await exportCheckpoint(ckpt, { runtime: nodeRuntime, threads: 1, input, head: 'labels' });
    assert.equal(e.contract.output.dtype, 'int64');
    const x = { pixel_values: prepareInput(e.contract, image).input };
    const logits = (await runOnnx((await exportCheckpoint(ckpt, { runtime: nodeRuntime, threads: 1, input })).bytes, x)).logits!;
    const labels = (await runOnnx(e.bytes, x)).labels!;
    assert.equal(labels.dtype, 'int64');
    assert.deepEqual(Array.from(labels.data as BigInt64Array, Number), Array.from(argmaxChannels(logits)));
  });
});
