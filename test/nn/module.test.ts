// Module base and layers: state-dict keys and order as PyTorch, strict/non-strict loading,
// parameter counts, PyTorch's default initialisation bounds, BatchNorm's running-statistics
// update, dropout masks from a seeded generator.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { compile } from '../../src/engine/compile.js';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { f32ToF16 } from '../../src/io/half.js';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { BatchNorm2d, Conv2d, Dropout, DropPath, LayerNorm, Linear, Module, PReLU, ReLU, Sequential, manualSeed } from '../../src/nn/index.js';
import { assertClose } from '../reference/ndarray.js';
import * as R from '../reference/ops.js';
import { rnd } from '../engine/harness.js';

class Block extends Module {
  conv = this.module('conv', new Conv2d(3, 8, 3, { padding: 1, bias: false }));
  bn = this.module('bn', new BatchNorm2d(8));
  act = this.module('act', new PReLU(8));
  forward(x: Tensor): Tensor {
    return this.act.forward(this.bn.forward(this.conv.forward(x)));
  }
}

const net = () => new Sequential(new Block(), new Conv2d(8, 4, 1), new ReLU(), new Linear(5, 2));

// The same structure in PyTorch, written independently.
const TORCH_NET = `
import torch.nn as nn
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.act = nn.PReLU(8)
net = nn.Sequential(Block(), nn.Conv2d(8, 4, 1), nn.ReLU(), nn.Linear(5, 2))
for k, v in net.state_dict().items():
    print(k, list(v.shape), str(v.dtype))
print('params', sum(p.numel() for p in net.parameters()))
`;

describe('Module', () => {
  it('state-dict keys, order and shapes are as PyTorch writes them', () => {
    const keys = Object.entries(net().stateDict()).map(([k, v]) => `${k} [${v.shape}]`);
    assert.deepEqual(keys, [
      '0.conv.weight [8,3,3,3]',
      '0.bn.weight [8]',
      '0.bn.bias [8]',
      '0.bn.running_mean [8]',
      '0.bn.running_var [8]',
      '0.bn.num_batches_tracked []',
      '0.act.weight [8]',
      '1.weight [4,8,1,1]',
      '1.bias [4]',
      '3.weight [2,5]',
      '3.bias [2]',
    ]);
    // 216 + 16 + 8 + 32 + 4 + 10 + 2, counted by hand.
    assert.equal(net().numParameters(), 288);
  });

  it('matches torch.nn state_dict() of the same structure (python3-torch)', (t) => {
    const r = spawnSync('/usr/bin/python3', ['-c', TORCH_NET], { encoding: 'utf8' });
    if (r.status !== 0) {
      t.skip(`python3-torch not available: ${r.stderr.trim().split('\n').pop()}`);
      return;
    }
    const lines = r.stdout.trim().split('\n');
    const torchKeys = lines.filter((l) => !l.startsWith('params')).map((l) => l.split(' ')[0]);
    assert.deepEqual(Object.keys(net().stateDict()), torchKeys);
    assert.equal(`params ${net().numParameters()}`, lines.at(-1));
  });

  it('loadStateDict: strict loading lists missing and unexpected keys; non-strict reports them', () => {
    const a = net();
    const sd = { ...a.stateDict() };
    delete sd['1.bias'];
    sd['extra.weight'] = HostTensor.zeros([1]);
    assert.throws(() => net().loadStateDict(sd), /missing \(1\): 1\.bias[\s\S]*unexpected \(1\): extra\.weight/);
    const b = net();
    const res = b.loadStateDict(sd, { strict: false });
    assert.deepEqual(res, { missing: ['1.bias'], unexpected: ['extra.weight'] });
    assert.deepEqual(Array.from(b.stateDict()['0.conv.weight']!.f32), Array.from(a.stateDict()['0.conv.weight']!.f32));
  });

  it('loadStateDict rejects shape mismatches, naming key and both shapes', () => {
    const sd = { ...net().stateDict(), '3.weight': HostTensor.zeros([3, 5]) };
    assert.throws(() => net().loadStateDict(sd), /3\.weight: checkpoint \[3, 5\] float32, model \[2, 5\] float32/);
  });

  it('loading copies the data (later changes to the source do not leak in)', () => {
    const src = net().stateDict();
    const b = net();
    b.loadStateDict(src);
    src['3.bias']!.f32[0] = 123;
    assert.notEqual(b.stateDict()['3.bias']!.f32[0], 123);
  });

  it('train()/eval() reach every descendant', () => {
    const n = net().eval();
    for (const [, m] of n.namedModules()) assert.equal(m.training, false);
    n.train();
    for (const [, m] of n.namedModules()) assert.equal(m.training, true);
  });
});

describe('initialisation', () => {
  it("Conv2d/Linear weights and biases follow PyTorch's kaiming_uniform(a=√5) bounds", () => {
    manualSeed(11);
    const conv = new Conv2d(16, 32, 3);
    const bound = 1 / Math.sqrt(16 * 9);
    const w = conv.weight.value.f32;
    const maxAbs = w.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assert.ok(maxAbs <= bound && maxAbs > 0.95 * bound, `max |w| ${maxAbs} vs bound ${bound}`);
    // U(−b, b) has variance b²/3.
    const variance = w.reduce((s, v) => s + v * v, 0) / w.length;
    assert.ok(Math.abs(variance / (bound * bound / 3) - 1) < 0.05, `variance ratio ${variance / (bound * bound / 3)}`);
    assert.ok(conv.bias!.value.f32.every((v) => Math.abs(v) <= bound));
  });
  it('is reproducible with manualSeed and differs across seeds', () => {
    manualSeed(5);
    const a = new Linear(4, 3).weight.value.f32;
    manualSeed(5);
    const b = new Linear(4, 3).weight.value.f32;
    manualSeed(6);
    const c = new Linear(4, 3).weight.value.f32;
    assert.deepEqual(Array.from(a), Array.from(b));
    assert.notDeepEqual(Array.from(a), Array.from(c));
  });
  it('norm layers start at weight 1, bias 0, running var 1', () => {
    const bn = new BatchNorm2d(3);
    assert.deepEqual(Array.from(bn.weight.value.f32), [1, 1, 1]);
    assert.deepEqual(Array.from(bn.runningVar.value.f32), [1, 1, 1]);
    assert.deepEqual(Array.from(new LayerNorm(2).bias.value.f32), [0, 0]);
  });
});

describe('training-mode layers', () => {
  it("BatchNorm2d in training mode normalises with batch statistics and updates running stats by PyTorch's momentum rule", async () => {
    const bn = new BatchNorm2d(3, { momentum: 0.2 });
    const x = rnd([4, 3, 5, 6], 2);
    const f = compile((t) => bn.forward(t), { runtime: nodeRuntime, paramMode: 'input', paramNames: bn.namedState() });
    const y = (await f.run(new HostTensor(Float32Array.from(x.data), x.shape))) as HostTensor;
    const ref = R.batchNormTraining(x, null, null, 1e-5);
    assertClose({ data: y.f32, shape: y.shape }, ref.y, 1e-5, 'bn train output');
    const expMean = R.mul(ref.mean, 0.2);
    const expVar = R.add(R.mul(ref.varUnbiased, 0.2), 0.8);
    assertClose({ data: bn.runningMean.value.f32, shape: [3] }, expMean, 1e-5, 'running mean');
    assertClose({ data: bn.runningVar.value.f32, shape: [3] }, expVar, 1e-5, 'running var');
    await f.dispose();
  });

  it('a training-mode BatchNorm cannot be compiled for inference by mistake', async () => {
    const bn = new BatchNorm2d(2);
    const f = compile((t) => bn.forward(t), { runtime: nodeRuntime });
    await assert.rejects(f.run(HostTensor.zeros([1, 2, 2, 2])), /call model\.eval\(\) for inference/);
  });

  it('dropout masks come from the seeded generator: same seed, same output; eval mode is identity', async () => {
    const drop = new Dropout(0.5);
    const x = new HostTensor(new Float32Array(1000).fill(1), [10, 100]);
    const run = async (seed: number) => {
      const f = compile((t) => drop.forward(t), { runtime: nodeRuntime, seed });
      const y = ((await f.run(x)) as HostTensor).f32;
      await f.dispose();
      return y;
    };
    const [a, b, c] = [await run(1), await run(1), await run(2)];
    assert.deepEqual(Array.from(a), Array.from(b));
    assert.notDeepEqual(Array.from(a), Array.from(c));
    assert.ok(a.every((v) => v === 0 || v === 2), 'kept values are scaled by 1/(1−p)');
    const kept = a.filter((v) => v > 0).length;
    assert.ok(kept > 430 && kept < 570, `about half kept: ${kept}`);
    drop.eval();
    const f = compile((t) => drop.forward(t), { runtime: nodeRuntime });
    assert.deepEqual(Array.from(((await f.run(x)) as HostTensor).f32), Array.from(x.f32));
    await f.dispose();
  });

  it('DropPath drops whole samples', async () => {
    const dp = new DropPath(0.5);
    const x = new HostTensor(new Float32Array(64 * 8).fill(1), [64, 8]);
    const f = compile((t) => dp.forward(t), { runtime: nodeRuntime, seed: 3 });
    const y = ((await f.run(x)) as HostTensor).f32;
    for (let n = 0; n < 64; n++) {
      const row = y.slice(n * 8, n * 8 + 8);
      assert.ok(row.every((v) => v === row[0]), `sample ${n} is dropped or kept as a whole`);
    }
    await f.dispose();
  });
});

describe('loadStateDict dtype conversion', () => {
  it('decodes a float16 checkpoint into float32 parameters (not the raw half bits)', () => {
    const lin = new Linear(2, 1);
    const half = (xs: number[]) => new HostTensor(Uint16Array.from(xs.map(f32ToF16)), [1, 2], 'float16');
    lin.loadStateDict({ weight: half([1.5, -0.25]), bias: new HostTensor(Uint16Array.from([f32ToF16(2)]), [1], 'float16') });
    assert.deepEqual([...lin.weight.value.f32], [1.5, -0.25]);
    assert.deepEqual([...lin.bias!.value.f32], [2]);
  });
});
