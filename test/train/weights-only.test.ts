// weightsOnly: the file a trained model ships as. Float16 values are checked against IEEE
// half precision directly (11 significant bits: a relative error of at most 2^-11 for normal
// values), not against the converter's own output.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.js';
import { weightsOnly, type Checkpoint } from '../../src/train/checkpoint-format.js';
import { tempDir } from '../data/helpers.js';

const meta: Checkpoint['meta'] = { format: 'segkit-checkpoint/1', iteration: 7, model: { name: 's2fpn', options: { numClasses: 2 } }, classes: ['background', 'person'], palette: [[0, 0, 0], [255, 255, 255]], best: { metric: 'mIoU', value: 0.5, iteration: 7 } };

test('weightsOnly: no optimizer state, float16 weights within half precision, integers and metadata kept', async () => {
  const w = new Float32Array([0, 1, -2.5, 1 / 3, 65504, 1e-3, -7.123456, 6.1e-5]);
  const ckpt: Checkpoint = {
    meta,
    model: { 'conv.weight': new HostTensor(w, [2, 4]), 'bn.num_batches_tracked': new HostTensor(new BigInt64Array([123n]), [], 'int64') },
    optimizer: { 'conv.weight.m': new HostTensor(new Float32Array(8), [2, 4]) },
  };
  const tmp = tempDir();
  const file = join(tmp.dir, 'model.safetensors');
  await saveCheckpoint(file, weightsOnly(ckpt, { storage: 'float16' }));
  const back = await loadCheckpoint(file);
  tmp.cleanup();
  assert.deepEqual(back.optimizer, {});
  assert.deepEqual(back.meta, meta);
  assert.equal(back.model['bn.num_batches_tracked']!.dtype, 'int64');
  assert.equal((back.model['bn.num_batches_tracked']!.data as BigInt64Array)[0], 123n);
  const got = back.model['conv.weight']!;
  assert.equal(got.dtype, 'float32'); // loading widens float16 back
  assert.deepEqual(got.shape, [2, 4]);
  for (let i = 0; i < w.length; i++) {
    const err = Math.abs(got.data[i] as number - w[i]!);
    assert.ok(err <= Math.abs(w[i]!) * 2 ** -11 + 2 ** -25, `${w[i]} came back as ${got.data[i]}`);
  }
  // Exactly representable halves come back exactly.
  assert.deepEqual([got.data[0], got.data[1], got.data[2], got.data[4]], [0, 1, -2.5, 65504]);
});

test('weightsOnly refuses a weight beyond float16 range, naming it', () => {
  const ckpt: Checkpoint = { meta, model: { 'head.bias': new HostTensor(new Float32Array([1, 70000]), [2]) }, optimizer: {} };
  assert.throws(() => weightsOnly(ckpt, { storage: 'float16' }), /head\.bias holds 70000, outside float16's range/);
  assert.equal(weightsOnly(ckpt, { storage: 'float32' }).model['head.bias']!.data[1], 70000); // float32 kept without fp16
});

test('weightsOnly int8: per-channel scales, every weight within half a step of its channel, 1-D tensors in float16', async () => {
  // Channel 0 spans ±1.27 (step 0.01), channel 1 is all zero, channel 2 spans ±254 (step 2).
  const w = new Float32Array([1.27, -0.5, 0.004, 0.0051, 0, 0, 0, 0, -254, 3, 1, 100.9]);
  const ckpt: Checkpoint = { meta, model: { 'conv.weight': new HostTensor(w, [3, 4, 1, 1]), 'conv.bias': new HostTensor(new Float32Array([0.1, 0.2, 0.3]), [3]) }, optimizer: {} };
  const tmp = tempDir();
  const file = join(tmp.dir, 'model.safetensors');
  const packed = weightsOnly(ckpt, { storage: 'int8' });
  assert.equal(packed.model['conv.weight']!.dtype, 'int8');
  assert.deepEqual(Array.from(packed.model['conv.weight']!.data as Int8Array), [127, -50, 0, 1, 0, 0, 0, 0, -127, 2, 1, 50]);
  await saveCheckpoint(file, packed);
  const back = await loadCheckpoint(file);
  tmp.cleanup();
  assert.deepEqual(Object.keys(back.model).sort(), ['conv.bias', 'conv.weight']);
  const got = back.model['conv.weight']!.data as Float32Array;
  const steps = [0.01, 0.01, 0.01, 0.01, 0, 0, 0, 0, 2, 2, 2, 2];
  for (let i = 0; i < w.length; i++) assert.ok(Math.abs(got[i]! - w[i]!) <= steps[i]! / 2 + 1e-6, `${w[i]} came back as ${got[i]}`);
  assert.ok(Math.abs((back.model['conv.bias']!.data[2] as number) - 0.3) <= 0.3 * 2 ** -11);
});
