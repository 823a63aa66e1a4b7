// BatchNorm folding and pruning on the written ONNX graph: a small random net with BatchNorm after
// a biased conv, a bias-free depth-wise conv and a transposed conv (non-trivial running statistics)
// gives the same outputs folded and unfolded through onnxruntime-node with its own graph
// optimisations off (so its BatchNormalization kernel, not its own fusion, is the reference), and the
// folded file has no BatchNormalization node (counted by segkit's reader and, when Debian's
// python3-onnx is installed, by the onnx package). A BatchNorm that does not follow a convolution is
// left in place. The ONNX reader/encoder round trip is exact, and pruning drops dead nodes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { HostTensor } from '../../src/engine/host-tensor.js';
import type { Parameter } from '../../src/engine/parameter.js';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { foldBatchNorm } from '../../src/export/fold-batchnorm.js';
import { encodeOnnx } from '../../src/export/onnx-encode.js';
import { opCounts, tensorFromFloat32, type OnnxModel } from '../../src/export/onnx-model.js';
import { readOnnx } from '../../src/export/onnx-read.js';
import { pruneDeadNodes } from '../../src/export/prune.js';
import { findOnnxPython } from '../../src/export/onnx-checker.js';
import { BatchNorm2d, Conv2d, Module, exportModuleOnnx, manualSeed } from '../../src/nn/index.js';
import { kaimingUniformDefault } from '../../src/nn/init.js';
import { maxRelative } from './helpers.js';

function randomTensor(shape: number[], seed: number, f: (u: number) => number = (u) => u * 2 - 1): HostTensor {
  let s = seed;
  const d = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => f((s = (s * 16807) % 2147483647) / 2147483647));
  return new HostTensor(d, shape);
}

/** Gives a BatchNorm random affine parameters and running statistics (the defaults would make it nearly an identity). */
function randomize(bn: BatchNorm2d, seed: number): void {
  const c = bn.numFeatures;
  bn.weight.set(randomTensor([c], seed, (u) => 0.5 + u));
  bn.bias.set(randomTensor([c], seed + 1));
  bn.runningMean.set(randomTensor([c], seed + 2));
  bn.runningVar.set(randomTensor([c], seed + 3, (u) => 0.2 + 2 * u));
}

class FoldNet extends Module {
  conv1 = this.module('conv1', new Conv2d(3, 8, 3, { padding: 1, stride: 2 }));
  bn1 = this.module('bn1', new BatchNorm2d(8));
  dw = this.module('dw', new Conv2d(8, 8, 3, { padding: 1, groups: 8, bias: false }));
  bn2 = this.module('bn2', new BatchNorm2d(8));
  up: Parameter = this.param('up_weight', kaimingUniformDefault([8, 6, 2, 2]));
  bn3 = this.module('bn3', new BatchNorm2d(6));
  head = this.module('head', new Conv2d(6, 5, 1));

  forward(x: Tensor): Tensor {
    const y = this.bn1.forward(this.conv1.forward(x)).relu();
    const z = this.bn2.forward(this.dw.forward(y)).relu().add(y);
    return this.head.forward(this.bn3.forward(z.convTranspose2d(this.up, { stride: 2 })).relu());
  }
}

/** A BatchNorm after an Add: nothing to fold it into. */
class AddThenBn extends Module {
  a = this.module('a', new Conv2d(3, 4, 1));
  b = this.module('b', new Conv2d(3, 4, 3, { padding: 1 }));
  bn = this.module('bn', new BatchNorm2d(4));
  forward(x: Tensor): Tensor {
    return this.bn.forward(this.a.forward(x).add(this.b.forward(x)));
  }
}

function makeFoldNet(): FoldNet {
  manualSeed(11);
  const net = new FoldNet();
  [net.bn1, net.bn2, net.bn3].forEach((bn, i) => randomize(bn, 100 + 10 * i));
  return net.eval();
}

async function run(bytes: Uint8Array, x: HostTensor): Promise<Float32Array> {
  // Optimisations off: onnxruntime would otherwise fuse Conv+BatchNormalization itself.
  const s = await nodeRuntime.createSession(bytes, { threads: 1, optimization: 'disabled' });
  try {
    return (await s.run({ input: x })).output!.f32;
  } finally {
    await s.release();
  }
}

function folded(bytes: Uint8Array): { m: OnnxModel; bytes: Uint8Array; report: ReturnType<typeof foldBatchNorm> } {
  const m = readOnnx(bytes);
  const report = foldBatchNorm(m);
  pruneDeadNodes(m);
  return { m, bytes: encodeOnnx(m), report };
}

describe('BatchNorm folding', () => {
  const shape = [2, 3, 12, 10];
  const x = randomTensor(shape, 5);

  test('folded and unfolded graphs agree within 1e-5 relative; no BatchNormalization is left', async () => {
    const original = exportModuleOnnx(makeFoldNet(), [{ shape }]);
    assert.equal(opCounts(readOnnx(original)).BatchNormalization, 3, 'the traced graph has the three BatchNorms');
    const f = folded(original);
    assert.deepEqual(f.report, { folded: 3, remaining: 0 });
    assert.equal(opCounts(f.m).BatchNormalization, undefined);
    const names = f.m.graph.initializers.map((t) => t.name);
    assert.ok(!names.some((n) => n.startsWith('bn')), `BatchNorm parameters pruned, initializers: ${names.join(', ')}`);
    const weightsOf = (m: OnnxModel) => m.graph.nodes.filter((n) => n.opType.startsWith('Conv')).map((n) => n.inputs[1]);
    assert.deepEqual(weightsOf(f.m), weightsOf(readOnnx(original)), 'folded weights keep the conv weight names');
    assert.ok(f.m.graph.nodes.filter((n) => n.opType.startsWith('Conv')).every((n) => n.inputs.length === 3), 'every folded conv has a bias (the bias-free ones gain one)');
    const [a, b] = [await run(f.bytes, x), await run(original, x)];
    const d = maxRelative(a, b);
    assert.ok(d <= 1e-5, `folded vs unfolded: relative difference ${d}`);
    // The comparison can fail: folding with the wrong ε already shows.
    const wrong = readOnnx(original);
    for (const n of wrong.graph.nodes) if (n.opType === 'BatchNormalization') n.attributes = [{ name: 'epsilon', type: 'FLOAT', f: 0.1 }];
    foldBatchNorm(wrong);
    assert.ok(maxRelative(await run(encodeOnnx(wrong), x), b) > 1e-3, 'a wrong fold is detected');
  });

  test('the onnx package (python3-onnx) also finds no BatchNormalization in the folded file', async (t) => {
    const py = findOnnxPython();
    if (!py) return t.skip('python3-onnx is not installed (apt-get install python3-onnx); cross-check not run');
    const dir = mkdtempSync(join(tmpdir(), 'segkit-fold-'));
    try {
      const file = join(dir, 'folded.onnx');
      writeFileSync(file, folded(exportModuleOnnx(makeFoldNet(), [{ shape }])).bytes);
      const r = spawnSync(py.python, ['-c', 'import onnx,sys,collections; m=onnx.load(sys.argv[1]); print(dict(collections.Counter(n.op_type for n in m.graph.node)))', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.ok(!r.stdout.includes('BatchNormalization'), r.stdout);
      assert.match(r.stdout, /'Conv': 3/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a BatchNorm that does not follow a convolution stays, and the numbers still agree', async () => {
    manualSeed(2);
    const net = new AddThenBn();
    randomize(net.bn, 7);
    const original = exportModuleOnnx(net.eval(), [{ shape }]);
    const f = folded(original);
    assert.deepEqual(f.report, { folded: 0, remaining: 1 });
    assert.ok(maxRelative(await run(f.bytes, x), await run(original, x)) <= 1e-6);
  });

  test('reading and re-encoding is exact: the same outputs, bit for bit', async () => {
    const original = exportModuleOnnx(makeFoldNet(), [{ shape }], { metadata: { classes: 'a,b' } });
    const again = encodeOnnx(readOnnx(original));
    assert.deepEqual(await run(again, x), await run(original, x));
    assert.deepEqual(readOnnx(again).metadata, [['classes', 'a,b']]);
  });

  test('pruning removes nodes that reach no output and initializers nothing reads', () => {
    const m: OnnxModel = {
      irVersion: 8,
      producerName: 'test',
      producerVersion: '0',
      opsets: [{ domain: '', version: 17 }],
      metadata: [],
      graph: {
        name: 'g',
        inputs: [{ name: 'x', elemType: 1, dims: [2] }],
        outputs: [{ name: 'y', elemType: 1, dims: [2] }],
        valueInfo: [{ name: 'dead', elemType: 1, dims: [2] }],
        initializers: [tensorFromFloat32('w', [2], Float32Array.of(1, 2)), tensorFromFloat32('unused', [2], Float32Array.of(3, 4))],
        nodes: [
          { name: 'n0', opType: 'Mul', domain: '', inputs: ['x', 'unused'], outputs: ['dead'], attributes: [] },
          { name: 'n1', opType: 'Add', domain: '', inputs: ['x', 'w'], outputs: ['y'], attributes: [] },
        ],
      },
    };
    assert.deepEqual(pruneDeadNodes(m), { nodes: 1, initializers: 1 });
    assert.deepEqual(m.graph.nodes.map((n) => n.name), ['n1']);
    assert.deepEqual(m.graph.initializers.map((t) => t.name), ['w']);
    assert.deepEqual(m.graph.valueInfo, []);
  });
});
