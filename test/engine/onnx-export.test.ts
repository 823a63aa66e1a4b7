// A traced model written to .onnx loads in a fresh onnxruntime session and gives the same output
// as the in-process compiled run, and the file passes onnx.checker (Debian python3-onnx).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import { cat, type Tensor } from '../../src/engine/tensor.js';
import { BatchNorm2d, Conv2d, LayerNorm, Linear, Module, PReLU, compileModule, exportModuleOnnx, manualSeed } from '../../src/nn/index.js';

/** A small net touching most op families: conv (dilated, depth-wise), BN, PReLU, pooling, resize, attention-style matmul/softmax, layer norm. */
class TinyNet extends Module {
  conv1 = this.module('conv1', new Conv2d(3, 8, 3, { padding: 1, stride: 2 }));
  bn1 = this.module('bn1', new BatchNorm2d(8));
  act = this.module('act', new PReLU(8));
  dw = this.module('dw', new Conv2d(8, 8, 3, { padding: 2, dilation: 2, groups: 8 }));
  norm = this.module('norm', new LayerNorm(8));
  proj = this.module('proj', new Linear(8, 8));
  head = this.module('head', new Conv2d(16, 5, 1));

  forward(x: Tensor): Tensor {
    const [h, w] = [x.shape[2]!, x.shape[3]!];
    let y = this.act.forward(this.bn1.forward(this.conv1.forward(x)));
    y = this.dw.forward(y).add(y);
    const [n, c, hh, ww] = y.shape as [number, number, number, number];
    const tokens = this.norm.forward(y.flatten(2).transpose(1, 2)); // [N, HW, C]
    const attn = tokens.matmul(tokens.transpose(1, 2)).mul(1 / Math.sqrt(c)).softmax(-1);
    const mixed = this.proj.forward(attn.matmul(tokens)).gelu().transpose(1, 2).reshape([n, c, hh, ww]);
    const pooled = y.adaptiveAvgPool2d(1).resize({ size: [hh, ww], mode: 'nearest' });
    const out = this.head.forward(cat([mixed.add(pooled), y.maxPool2d({ kernel: 3, stride: 1, padding: 1 })], 1));
    return out.resize({ size: [h, w], alignCorners: false }).argmax(1);
  }
}

function randomInput(shape: number[]): HostTensor {
  let s = 7;
  const d = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1);
  return new HostTensor(d, shape);
}

function makeNet(): TinyNet {
  manualSeed(3);
  const net = new TinyNet().eval();
  // Non-trivial running statistics so BatchNorm is not an identity.
  net.bn1.runningMean.set(randomInput([8]));
  net.bn1.runningVar.set(new HostTensor(randomInput([8]).f32.map((v) => 1 + Math.abs(v)), [8]));
  return net;
}

describe('ONNX export', () => {
  const shape = [2, 3, 17, 22];

  it('a traced model exported to .onnx gives the same output in a fresh session', async () => {
    const net = makeNet();
    const x = randomInput(shape);
    const compiled = compileModule(net, { runtime: nodeRuntime, threads: 1 });
    const inProcess = (await compiled.run(x)) as HostTensor;
    await compiled.dispose();

    const bytes = exportModuleOnnx(net, [{ shape }], { metadata: { classes: 'a,b,c,d,e' } });
    const session = await ort.InferenceSession.create(bytes);
    assert.deepEqual(session.inputNames, ['input']);
    const out = await session.run({ input: new ort.Tensor('float32', x.f32, shape) });
    const labels = out.output!;
    assert.deepEqual(labels.dims, [2, 17, 22]);
    assert.deepEqual(Array.from(labels.data as BigInt64Array), Array.from(inProcess.data as BigInt64Array));
    // Not a degenerate model: several classes appear.
    assert.ok(new Set(Array.from(labels.data as BigInt64Array)).size > 1, 'the test net predicts more than one class');
    await session.release();
  });

  it('parameters are initializers named by their state-dict keys', () => {
    const bytes = exportModuleOnnx(makeNet(), [{ shape }]);
    const text = new TextDecoder('latin1').decode(bytes);
    for (const key of ['conv1.weight', 'bn1.running_var', 'proj.bias', 'head.weight']) assert.ok(text.includes(key), `${key} in the ONNX file`);
  });

  it('passes onnx.checker (python3-onnx)', async (t) => {
    const probe = spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      t.skip('python3-onnx is not installed (apt-get install python3-onnx); onnx.checker not run');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'segkit-onnx-'));
    try {
      const file = join(dir, 'tiny.onnx');
      writeFileSync(file, exportModuleOnnx(makeNet(), [{ shape }], { metadata: { classes: 'a,b,c,d,e' } }));
      const r = spawnSync('/usr/bin/python3', ['-c', 'import onnx,sys; m=onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print(m.opset_import[0].version)', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, `onnx.checker failed:\n${r.stderr}`);
      assert.equal(r.stdout.trim(), '17');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
