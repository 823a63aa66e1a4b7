// Two lowerings exist so that onnxruntime keeps a run of convolutions in its blocked NCHWc layout
// (ops/resize.ts: a Resize by scales has three inputs; ops/elementwise.ts: a one-slope PReLU whose
// input is read elsewhere becomes a depth-wise 1×1 conv + LeakyRelu). Each test reads the graph
// onnxruntime actually runs (its optimised model) and checks that the tensors between the
// convolutions are not reordered out of the layout, then checks the values against the float64
// reference. On a CPU without NCHWc kernels (no AVX2) there is no layout to keep: the tests skip.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { toOnnx } from '../../src/engine/compile.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { activationInputs } from '../../src/export/int8-activations.js';
import { quantizeWeightsInt8 } from '../../src/export/int8-weights.js';
import { readOnnx } from '../../src/export/onnx-read.js';
import { assertClose, type Arr } from '../reference/ndarray.js';
import * as R from '../reference/ops.js';
import { rnd, toHost } from './harness.js';

const NCHWC = 'com.microsoft.nchwc';
/** The reference's padding for the 3×3 convolutions (top, left, bottom, right). */
const PAD = { padding: [1, 1, 1, 1] as const };

/** The nodes of the graph onnxruntime runs (all optimisations on), and the function's output. */
async function optimised(fn: (x: Tensor) => Tensor, x: Arr): Promise<{ nodes: { opType: string; domain: string }[]; y: Arr }> {
  const dir = await mkdtemp(join(tmpdir(), 'segkit-nchwc-'));
  try {
    const path = join(dir, 'optimised.onnx');
    const session = await ort.InferenceSession.create(toOnnx(fn, [{ shape: x.shape }]), {
      graphOptimizationLevel: 'all',
      intraOpNumThreads: 1,
      optimizedModelFilePath: path,
      logSeverityLevel: 3,
    });
    const host = toHost(x);
    const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', host.f32, host.shape) });
    const t = out[session.outputNames[0]!]!;
    await session.release();
    const nodes = readOnnx(new Uint8Array(await readFile(path))).graph.nodes;
    return { nodes, y: { data: Float64Array.from(t.data as Float32Array), shape: [...t.dims] } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const count = (nodes: { opType: string }[], op: string) => nodes.filter((n) => n.opType === op).length;
const summary = (nodes: { opType: string; domain: string }[]) => nodes.map((n) => (n.domain === NCHWC ? `${n.opType}*` : n.opType)).join(' → ');

const x = rnd([1, 16, 9, 12]);
// 64 channels: a multiple of every NCHWc block, and enough weights (≥ 64 per tensor) for int8 to quantize the identity conv's ones if it did not skip them.
const w1 = rnd([64, 16, 3, 3], 0.2);
const w2 = rnd([64, 64, 3, 3], 0.15);
const conv = (t: Tensor, w: Arr) => t.conv2d(t.graph.constant(toHost(w)), { padding: 1 });

/** conv → PReLU(y) + y·σ(y) (one slope) → conv: SERNet-Former's AbM between two convolutions. */
const abmSlope = rnd([1]);
const abmBetweenConvs = (t: Tensor) => {
  const y = conv(t, w1);
  return conv(y.prelu(t.graph.constant(toHost(abmSlope))).add(y.silu()), w2);
};

// Whether this CPU has NCHWc kernels at all: a plain 3×3 convolution is blocked if it does.
const blocked = (await optimised((t) => conv(t, w1), x)).nodes.some((n) => n.domain === NCHWC);
const skip = blocked ? false : 'onnxruntime has no NCHWc kernels on this CPU (no AVX2): there is no blocked layout to keep';

describe('lowerings that keep onnxruntime in its NCHWc layout', { skip }, () => {
  for (const alignCorners of [true, false]) {
    it(`conv → bilinear ×2 (align_corners ${alignCorners}) → conv: the resize runs blocked, values as the reference`, async () => {
      const { nodes, y } = await optimised((t) => conv(conv(t, w1).resize({ scale: 2, mode: 'bilinear', alignCorners }), w2), x);
      assert.equal(count(nodes, 'Resize'), 0, `a plain Resize is left: ${summary(nodes)}`);
      assert.ok(nodes.some((n) => n.opType === 'Upsample' && n.domain === NCHWC), summary(nodes));
      assert.equal(count(nodes, 'ReorderOutput'), 1, `only the output leaves the layout: ${summary(nodes)}`);
      const ref = R.conv2d(R.resize2d(R.conv2d(x, w1, null, PAD), { scale: [2, 2] }, 'bilinear', alignCorners), w2, null, PAD);
      assertClose(y, ref, 1e-5, 'conv-resize-conv');
    });
  }

  it("SERNet-Former's AbM, PReLU(y) + y·σ(y) with one slope, between convs: no reorders, values as the reference", async () => {
    const written = readOnnx(toOnnx(abmBetweenConvs, [{ shape: x.shape }])).graph.nodes;
    assert.ok(written.some((n) => n.opType === 'Conv' && n.attributes.some((a) => a.name === 'group' && 'i' in a && a.i === 64)), `no depth-wise conv written: ${summary(written)}`);
    const { nodes, y } = await optimised(abmBetweenConvs, x);
    assert.equal(count(nodes, 'ReorderOutput'), 1, `only the output leaves the layout: ${summary(nodes)}`);
    assert.equal(count(nodes, 'ReorderInput'), 1, `only the input enters the layout: ${summary(nodes)}`);
    const y1 = R.conv2d(x, w1, null, PAD);
    assertClose(y, R.conv2d(R.add(R.prelu(y1, abmSlope), R.silu(y1)), w2, null, PAD), 1e-5, 'abm');
  });

  it("int8 leaves the depth-wise identity conv's input and weights alone (it is no real convolution)", () => {
    const m = readOnnx(toOnnx(abmBetweenConvs, [{ shape: x.shape }]));
    const convInputs = m.graph.nodes.filter((n) => n.opType === 'Conv').map((n) => n.inputs[0]!);
    assert.equal(convInputs.length, 3);
    assert.deepEqual(activationInputs(m), [convInputs[0], convInputs[2]]);
    // Nor its weights: the ones stay float32 while both real convolutions get int8 weights.
    const weights = m.graph.nodes.filter((n) => n.opType === 'Conv').map((n) => n.inputs[1]!);
    assert.equal(quantizeWeightsInt8(m).quantized, 2);
    const dequantized = (name: string) => m.graph.nodes.some((n) => n.opType === 'DequantizeLinear' && n.outputs[0] === name);
    assert.ok(dequantized(weights[0]!) && dequantized(weights[2]!), 'the real convs read dequantized int8 weights');
    assert.ok(!dequantized(weights[1]!) && m.graph.initializers.some((t) => t.name === weights[1]), 'the identity conv reads its float32 ones');
  });

  it('a one-slope PReLU read only once stays a single LeakyRelu (fused into the conv)', async () => {
    const slope = rnd([1]);
    const fn = (t: Tensor) => conv(conv(t, w1).prelu(t.graph.constant(toHost(slope))), w2);
    const written = readOnnx(toOnnx(fn, [{ shape: x.shape }])).graph.nodes;
    assert.equal(count(written, 'Conv'), 2, summary(written));
    assert.equal(count(written, 'LeakyRelu'), 1, summary(written));
  });
});
