// The compiled train step: optimizers against a float64 host re-implementation of PyTorch's
// update rules, schedules against hand-computed values, and a small conv net that learns a
// fixed batch (loss down ≥ 100×, the same curve bit for bit with the same seed).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { Parameter } from '../../src/engine/parameter.js';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { BatchNorm2d, Conv2d, Module, manualSeed } from '../../src/nn/index.js';
import { adam, adamw } from '../../src/optim/adam.js';
import { paramGroups } from '../../src/optim/groups.js';
import type { Optimizer } from '../../src/optim/optimizer.js';
import { constantLr, cosine, poly, step, withWarmup } from '../../src/optim/schedules.js';
import { sgd } from '../../src/optim/sgd.js';
import { compileTrainStep } from '../../src/train/step.js';
import { compileEvalStep } from '../../src/train/eval-step.js';
import { compileModule } from '../../src/nn/compile.js';

/** One parameter vector p; loss = Σ c_i·(p_i − t_i)², gradient 2·c·(p − t). */
class Quadratic extends Module {
  p: Parameter;
  q: Parameter;
  constructor(p0: number[]) {
    super();
    this.p = this.param('p', new Parameter(HostTensor.fromArray(p0, [p0.length])));
    this.q = this.param('q', new Parameter(HostTensor.fromArray([0.5], [1])));
  }
  forward(target: Tensor): Tensor {
    return target.graph.param(this.p).sub(target).pow(2).mul(C).sum().add(target.graph.param(this.q).mul(target.graph.param(this.q)).sum());
  }
}
const C = 1.5;
const P0 = [0.3, -1.2, 2.0, 0.05];
const T = [1.0, 0.5, -0.7, 0.0];

/** PyTorch's update rules in float64, written out step by step from the torch.optim docs. */
function reference(kind: string, steps: number, lrs: number[], o: { momentum?: number; nesterov?: boolean; wd?: number; betas?: [number, number]; eps?: number }): number[] {
  const p = [...P0];
  const buf = p.map(() => 0);
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const [b1, b2] = o.betas ?? [0.9, 0.999];
  for (let t = 1; t <= steps; t++) {
    const lr = lrs[t - 1]!;
    for (let i = 0; i < p.length; i++) {
      let g = 2 * C * (p[i]! - T[i]!);
      if (kind === 'sgd') {
        if (o.wd) g += o.wd * p[i]!;
        if (o.momentum) {
          buf[i] = t === 1 ? g : o.momentum * buf[i]! + g;
          g = o.nesterov ? g + o.momentum * buf[i]! : buf[i]!;
        }
        p[i] = p[i]! - lr * g;
      } else {
        if (kind === 'adamw' && o.wd) p[i] = p[i]! * (1 - lr * o.wd);
        if (kind === 'adam' && o.wd) g += o.wd * p[i]!;
        m[i] = b1 * m[i]! + (1 - b1) * g;
        v[i] = b2 * v[i]! + (1 - b2) * g * g;
        const mh = m[i]! / (1 - b1 ** t);
        const vh = v[i]! / (1 - b2 ** t);
        p[i] = p[i]! - (lr * mh) / (Math.sqrt(vh) + (o.eps ?? 1e-8));
      }
    }
  }
  return p;
}

async function runOptimizer(opt: Optimizer, steps: number, lr = constantLr(0.05)): Promise<number[]> {
  const model = new Quadratic(P0);
  const ts = compileTrainStep(model, (mm, target) => mm.forward(target), { runtime: nodeRuntime, optimizer: opt, schedule: lr, groups: [{ params: [model.p] }] });
  const target = HostTensor.fromArray(T, [4]);
  for (let i = 0; i < steps; i++) await ts.step(target);
  await ts.dispose();
  return Array.from(model.p.value.f32);
}

function close(actual: number[], expected: number[], tol: number, what: string) {
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) <= tol * Math.max(1, Math.abs(expected[i]!)), `${what}[${i}]: ${a} vs ${expected[i]}`));
}

describe('optimizers follow PyTorch update rules', () => {
  const lrs = Array.from({ length: 12 }, () => 0.05);
  it('SGD plain, with momentum, Nesterov, weight decay', async () => {
    close(await runOptimizer(sgd(), 12), reference('sgd', 12, lrs, {}), 1e-5, 'sgd');
    close(await runOptimizer(sgd({ momentum: 0.9 }), 12), reference('sgd', 12, lrs, { momentum: 0.9 }), 1e-5, 'momentum');
    close(await runOptimizer(sgd({ momentum: 0.9, nesterov: true, weightDecay: 0.1 }), 12), reference('sgd', 12, lrs, { momentum: 0.9, nesterov: true, wd: 0.1 }), 1e-5, 'nesterov');
  });
  it('Adam with L2 and AdamW with decoupled decay', async () => {
    close(await runOptimizer(adam({ weightDecay: 0.1 }), 12), reference('adam', 12, lrs, { wd: 0.1 }), 1e-5, 'adam');
    close(await runOptimizer(adamw({ weightDecay: 0.1, betas: [0.8, 0.99] }), 12), reference('adamw', 12, lrs, { wd: 0.1, betas: [0.8, 0.99] }), 1e-5, 'adamw');
  });
  it('the scheduled lr is an input of the step', async () => {
    const sched = poly(0.1, 10, { power: 0.9 });
    close(await runOptimizer(sgd({ momentum: 0.5 }), 8, sched), reference('sgd', 8, Array.from({ length: 8 }, (_, i) => sched(i)), { momentum: 0.5 }), 1e-5, 'poly sgd');
  });
  it('only parameters in the groups are trained; lr multipliers and per-group weight decay apply', async () => {
    const model = new Quadratic(P0);
    const ts = compileTrainStep(model, (mm, t) => mm.forward(t), {
      runtime: nodeRuntime,
      optimizer: sgd({ weightDecay: 0.1 }),
      schedule: constantLr(0.05),
      groups: [{ params: [model.p], lrMult: 2, weightDecay: 0 }],
    });
    await ts.step(HostTensor.fromArray(T, [4]));
    close(Array.from(model.p.value.f32), reference('sgd', 1, [0.1], {}), 1e-6, 'lr ×2, no decay');
    assert.equal(model.q.value.f32[0], 0.5, 'q is not in any group and stays');
    await ts.dispose();
  });
  it('a parameter without a gradient is left alone (no decay, no state), as PyTorch skips it', async () => {
    const model = new Quadratic(P0);
    // q is in the group but the loss ignores it: AdamW's decoupled decay must not touch it.
    const ts = compileTrainStep(model, (mm, t) => t.graph.param(mm.p).sub(t).pow(2).sum(), { runtime: nodeRuntime, optimizer: adamw({ weightDecay: 0.5 }), schedule: constantLr(0.1) });
    for (let i = 0; i < 3; i++) await ts.step(HostTensor.fromArray(T, [4]));
    assert.equal(model.q.value.f32[0], 0.5);
    assert.deepEqual([...ts.optimizerState()['q.exp_avg']!.f32], [0]);
    assert.notDeepEqual([...model.p.value.f32], P0.map(Math.fround));
    await ts.dispose();
  });
  it('clips gradients by global norm', async () => {
    const model = new Quadratic(P0);
    const ts = compileTrainStep(model, (mm, t) => mm.forward(t), { runtime: nodeRuntime, optimizer: sgd(), schedule: constantLr(1), clipGradNorm: 0.5, groups: [{ params: [model.p] }] });
    await ts.step(HostTensor.fromArray(T, [4]));
    const g = P0.map((p, i) => 2 * C * (p - T[i]!));
    const norm = Math.hypot(...g);
    close(Array.from(model.p.value.f32), P0.map((p, i) => p - (g[i]! * 0.5) / (norm + 1e-6)), 1e-5, 'clipped');
    await ts.dispose();
  });
});

describe('schedules', () => {
  it('poly, cosine, step and linear warm-up give the hand-computed values', () => {
    const p = poly(0.01, 100, { power: 0.9, minLr: 1e-4 });
    assert.ok(Math.abs(p(50) - ((0.01 - 1e-4) * 0.5 ** 0.9 + 1e-4)) < 1e-12);
    assert.equal(p(100), 1e-4);
    assert.ok(Math.abs(cosine(1, 10)(5) - 0.5) < 1e-12);
    assert.equal(step(1, [3, 6], 0.5)(6), 0.25);
    const w = withWarmup(constantLr(2), { iters: 4, startFactor: 0.25 });
    assert.deepEqual([0, 1, 2, 4].map(w), [0.5, 0.875, 1.25, 2]);
  });
});

class SmallNet extends Module {
  c1 = this.module('c1', new Conv2d(3, 8, 3, { padding: 1, bias: false }));
  b1 = this.module('b1', new BatchNorm2d(8));
  c2 = this.module('c2', new Conv2d(8, 8, 3, { padding: 1, bias: false }));
  b2 = this.module('b2', new BatchNorm2d(8));
  head = this.module('head', new Conv2d(8, 3, 1));
  forward(x: Tensor): Tensor {
    const y = this.b1.forward(this.c1.forward(x)).relu();
    return this.head.forward(this.b2.forward(this.c2.forward(y)).relu());
  }
}

/** Mean pixel cross-entropy: labels int64 [N, H, W]. */
function crossEntropy(model: SmallNet, x: Tensor, labels: Tensor): Tensor {
  const logp = model.forward(x).logSoftmax(1);
  return logp.mul(labels.oneHot(3).permute([0, 3, 1, 2])).sum().mul(-1 / labels.size);
}

function syntheticBatch(): [HostTensor, HostTensor] {
  const [n, h, w] = [2, 12, 12];
  const x = HostTensor.zeros([n, 3, h, w]);
  const y = HostTensor.zeros([n, h, w], 'int64');
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const cls = (i + 2 * j + 3 * b) % 3;
        (y.data as BigInt64Array)[(b * h + i) * w + j] = BigInt(cls);
        for (let c = 0; c < 3; c++) x.f32[((b * 3 + c) * h + i) * w + j] = (c === cls ? 1 : 0) + 0.3 * Math.sin(i * 7 + j * 3 + c);
      }
    }
  }
  return [x, y];
}

async function trainCurve(seed: number, steps: number): Promise<number[]> {
  manualSeed(seed);
  const net = new SmallNet();
  const ts = compileTrainStep(net, crossEntropy, { runtime: nodeRuntime, optimizer: adam(), schedule: constantLr(0.02), seed });
  const [x, y] = syntheticBatch();
  const curve: number[] = [];
  for (let i = 0; i < steps; i++) curve.push((await ts.step(x, y)).loss);
  await ts.dispose();
  return curve;
}

describe('a small conv net learns a fixed batch', () => {
  it('drives the loss down ≥ 100× in 300 steps, bit for bit reproducibly', async () => {
    const a = await trainCurve(7, 300);
    assert.ok(a[0]! / a.at(-1)! >= 100, `loss ${a[0]} → ${a.at(-1)} (${(a[0]! / a.at(-1)!).toFixed(1)}×)`);
    const b = await trainCurve(7, 300);
    assert.deepEqual(b, a, 'the same seed gives the same loss curve');
  });
});

describe('evalStep and resuming', () => {
  it('evalStep sees the weights after every step without rebuilding its session, and agrees with compileModule', async () => {
    manualSeed(3);
    const net = new SmallNet();
    const ts = compileTrainStep(net, crossEntropy, { runtime: nodeRuntime, optimizer: adam(), schedule: constantLr(0.02) });
    const ev = compileEvalStep(net, undefined, { runtime: nodeRuntime });
    const [x, y] = syntheticBatch();
    const outs: Float32Array[] = [];
    for (let i = 0; i < 3; i++) {
      await ts.step(x, y);
      assert.equal(net.training, true, 'the train step leaves the model in training mode');
      const got = (await ev.run(x)) as HostTensor;
      assert.equal(net.training, true, 'evalStep does not change the mode it found');
      net.eval();
      const ref = compileModule(net, { runtime: nodeRuntime });
      const want = (await ref.run(x)) as HostTensor;
      await ref.dispose();
      net.train();
      want.f32.forEach((v, j) => assert.ok(Math.abs(v - got.f32[j]!) <= 1e-5 * Math.max(1, Math.abs(v)), `step ${i} output ${j}: ${got.f32[j]} vs ${v}`));
      outs.push(got.f32.slice());
    }
    assert.notDeepEqual(outs[0], outs[2], 'weights changed between steps');
    assert.equal(ev.sessions, 1);
    await ev.dispose();
    await ts.dispose();
  });

  it('revertLastStep restores weights, BatchNorm statistics and optimizer state exactly (a skipped batch)', async () => {
    const [x, y] = syntheticBatch();
    manualSeed(9);
    const net = new SmallNet();
    const ts = compileTrainStep(net, crossEntropy, { runtime: nodeRuntime, optimizer: sgd({ momentum: 0.9 }), schedule: constantLr(0.05) });
    const copy = (sd: Record<string, HostTensor>) => Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, Array.from(v.data as ArrayLike<number | bigint>, Number)]));
    await ts.step(x, y);
    const weights = copy(net.stateDict());
    const state = copy(ts.optimizerState());
    const second = (await ts.step(x, y)).loss;
    assert.notDeepEqual(copy(net.stateDict()), weights, 'the step changed the weights');
    ts.revertLastStep();
    assert.deepEqual(copy(net.stateDict()), weights);
    assert.deepEqual(copy(ts.optimizerState()), state);
    assert.throws(() => ts.revertLastStep(), /no step to revert/);
    assert.equal((await ts.step(x, y)).loss, second, 'the reverted state computes the same loss again');
    await ts.dispose();
  });

  it('loadOptimizerState + iteration continue a run exactly as if it had not stopped', async () => {
    const [x, y] = syntheticBatch();
    const make = () => {
      manualSeed(5);
      const net = new SmallNet();
      return { net, ts: compileTrainStep(net, crossEntropy, { runtime: nodeRuntime, optimizer: adam(), schedule: poly(0.02, 10) }) };
    };
    const a = make();
    const straight: number[] = [];
    for (let i = 0; i < 6; i++) straight.push((await a.ts.step(x, y)).loss);

    const b = make();
    for (let i = 0; i < 3; i++) await b.ts.step(x, y);
    const weights = Object.fromEntries(Object.entries(b.net.stateDict()).map(([k, v]) => [k, new HostTensor(v.data.slice(), v.shape, v.dtype)]));
    const opt = Object.fromEntries(Object.entries(b.ts.optimizerState()).map(([k, v]) => [k, new HostTensor(v.f32.slice(), v.shape)]));
    const c = make();
    c.net.loadStateDict(weights);
    c.ts.loadOptimizerState(opt);
    c.ts.iteration = 3;
    const resumed: number[] = [];
    for (let i = 0; i < 3; i++) resumed.push((await c.ts.step(x, y)).loss);
    assert.deepEqual(resumed, straight.slice(3));
    assert.throws(() => c.ts.loadOptimizerState({ ...opt, extra: HostTensor.zeros([1]) }), /unexpected \(1\): extra/);
    for (const s of [a, b, c]) await s.ts.dispose();
  });
});
