// --dynamic batch: the file declares a symbolic 'batch' dim and, run on a batch of three different
// images, gives each image the output a static batch-1 export gives it (a separate trace). Shape
// operands that are multiples of the batch are rebuilt from the input (checked on a module whose
// reshape targets hold 2·N). A graph that bakes the batch into a float constant is refused with a
// message naming the tensor and the way out; dynamic height/width are refused with the reason.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DecodedImage } from '../../src/data/image.js';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { DynamicBatchError, makeBatchDynamic } from '../../src/export/dynamic-batch.js';
import { exportCheckpoint } from '../../src/export/export-model.js';
import { prepareInput } from '../../src/export/exported-segmenter.js';
import { encodeOnnx } from '../../src/export/onnx-encode.js';
import { readOnnx } from '../../src/export/onnx-read.js';
import { parseDynamic } from '../../src/export/options.js';
import { pruneDeadNodes } from '../../src/export/prune.js';
import { syntheticImages } from '../../src/export/segmenter-agreement.js';
import { Conv2d, Module, exportModuleOnnx, manualSeed } from '../../src/nn/index.js';
import { TINY, runOnnx, tinyCheckpoint, maxRelative } from './helpers.js';

const S = TINY.size;

function stack(ts: HostTensor[]): HostTensor {
  const d = new Float32Array(ts.reduce((a, t) => a + t.size, 0));
  let o = 0;
  for (const t of ts) {
    d.set(t.f32, o);
    o += t.size;
  }
  return new HostTensor(d, [ts.length, ...ts[0]!.shape.slice(1)]);
}

/** Splits channels into two half-batches and back: its reshape targets are [2N, …] and [N, …]. */
class BatchFold extends Module {
  conv = this.module('conv', new Conv2d(4, 4, 3, { padding: 1 }));
  forward(x: Tensor): Tensor {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const halves = this.conv.forward(x).reshape([n * 2, c / 2, h, w]).relu();
    return halves.reshape([n, c, h * w]).softmax(2);
  }
}

/** Adds a float constant of batch size: nothing can make that symbolic. */
class BakedBatch extends Module {
  forward(x: Tensor): Tensor {
    return x.add(x.graph.constant(new HostTensor(new Float32Array(x.shape[0]!).fill(1), [x.shape[0]!, 1, 1, 1])));
  }
}

describe('--dynamic batch', () => {
  test('a symbolic batch of three images gives each the static export’s output', async () => {
    const ckpt = tinyCheckpoint();
    const dyn = await exportCheckpoint(ckpt, { runtime: nodeRuntime, threads: 1, input: `1x3x${S}x${S}`, dynamicBatch: true });
    const fixed = await exportCheckpoint(ckpt, { runtime: nodeRuntime, threads: 1, input: `1x3x${S}x${S}` });
    const m = readOnnx(dyn.bytes);
    assert.deepEqual(m.graph.inputs[0]!.dims, ['batch', 3, S, S]);
    assert.deepEqual(m.graph.outputs[0]!.dims, ['batch', 4, S, S]);
    assert.ok(dyn.report.dynamicBatch!.rebuiltShapes > 0, 'SegFormer reshapes tokens: some shape operands depend on the batch');
    const images = syntheticImages(3, S, S) as DecodedImage[];
    const xs = images.map((img) => prepareInput(fixed.contract, img).input);
    const batch = (await runOnnx(dyn.bytes, { pixel_values: stack(xs) })).logits!;
    assert.deepEqual(batch.shape, [3, 4, S, S]);
    const per = 4 * S * S;
    for (let i = 0; i < 3; i++) {
      const want = (await runOnnx(fixed.bytes, { pixel_values: xs[i]! })).logits!.f32;
      const d = maxRelative(batch.f32.subarray(i * per, (i + 1) * per), want);
      assert.ok(d <= 1e-5, `image ${i}: relative difference ${d}`);
    }
  });

  test('uint8 input and labels head take a symbolic batch too', async () => {
    const dyn = await exportCheckpoint(tinyCheckpoint(), { runtime: nodeRuntime, threads: 1, input: `1x3x${S}x${S}`, dynamicBatch: true, uint8: true, head: 'labels' });
    assert.deepEqual(dyn.contract.input.shape, ['batch', S, S, 3]);
    assert.deepEqual(dyn.contract.output.shape, ['batch', S, S]);
    const [a, b] = syntheticImages(2, S, S) as DecodedImage[];
    const both = new Uint8Array([...a!.data, ...b!.data]);
    const out = (await runOnnx(dyn.bytes, { image: new HostTensor(both, [2, S, S, 3], 'uint8') })).labels!;
    const one = (await runOnnx(dyn.bytes, { image: new HostTensor(b!.data, [1, S, S, 3], 'uint8') })).labels!;
    assert.deepEqual(Array.from((out.data as Uint8Array).subarray(S * S)), Array.from(one.data as Uint8Array));
  });

  test('shape operands that are multiples of the batch are rebuilt (2·N)', async () => {
    manualSeed(4);
    const net = new BatchFold().eval();
    const [a, b] = [1, 2].map((n) => readOnnx(exportModuleOnnx(net, [{ shape: [n, 4, 5, 6] }])));
    const { model, rebuiltShapes } = makeBatchDynamic(a!, b!, 1, 2);
    pruneDeadNodes(model);
    assert.equal(rebuiltShapes, 2);
    const x3 = new HostTensor(Float32Array.from({ length: 3 * 4 * 30 }, (_, i) => Math.sin(i)), [3, 4, 5, 6]);
    const got = (await runOnnx(encodeOnnx(model), { input: x3 })).output!;
    const want = (await runOnnx(exportModuleOnnx(net, [{ shape: [3, 4, 5, 6] }]), { input: x3 })).output!;
    assert.deepEqual(got.shape, [3, 4, 30]);
    assert.ok(maxRelative(got.f32, want.f32) <= 1e-6);
  });

  test('a batch baked into a float constant is refused, naming it and the way out', () => {
    const net = new BakedBatch().eval();
    const [a, b] = [1, 2].map((n) => readOnnx(exportModuleOnnx(net, [{ shape: [n, 2, 3, 3] }])));
    assert.throws(() => makeBatchDynamic(a!, b!, 1, 2), (e: Error) => e instanceof DynamicBatchError && /bakes the batch size into .*input 1 of Add node.*a float constant of dims \[1,1,1,1\] at batch 1, \[2,1,1,1\] at batch 2.*export one file per batch size/.test(e.message));
  });

  test('dynamic height/width are refused with the reason; unknown dims list the valid one', () => {
    assert.deepEqual(parseDynamic('batch'), { batch: true });
    assert.throws(() => parseDynamic('height'), /dynamic height is not supported: segkit traces static shapes.*Export one file per input size/);
    assert.throws(() => parseDynamic('batch,hw'), /height\/width is not supported/);
    assert.throws(() => parseDynamic('time'), /unknown dynamic dim 'time'; valid: 'batch'/);
  });
});
