// bench/train-step: one training step (forward + backward + SGD update) of a ResNet-18
// segmentation net (torchvision ResNet-18 trunk, 1×1 head to 11 classes, bilinear ×32, pixel
// cross-entropy) at batch 8 × 3 × 360 × 480, next to its forward-only time and to PyTorch's CPU
// build (Debian python3-torch, same architecture and batch, 2 threads) measured in the same run,
// round by round. Targets (issue [autodiff]): step ≤ 3.5× forward; step ≤ 1.0× PyTorch. Then
// prints the RSS over --steps more steps (must not grow).
// Usage: npx tsx bench/train-step.ts [--batch 8] [--height 360] [--width 480] [--rounds 10] [--steps 50] [--threads 2]
//                                    [--model NAME --options JSON]  (a zoo model; no PyTorch peer)
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { compile } from '../src/engine/compile.js';
import { HostTensor } from '../src/engine/host-tensor.js';
import { nodeRuntime } from '../src/engine/runtime/node.js';
import type { Tensor } from '../src/engine/tensor.js';
import { ResNet } from '../src/models/backbones/resnet.js';
import { Conv2d, Module, manualSeed } from '../src/nn/index.js';
import { crossEntropy } from '../src/losses/cross-entropy.js';
import { createModel, type SegmentationModel } from '../src/models/index.js';
import { constantLr } from '../src/optim/schedules.js';
import { sgd } from '../src/optim/sgd.js';
import { compileTrainStep } from '../src/train/step.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const [N, H, W] = [arg('batch', 8), arg('height', 360), arg('width', 480)];
const steps = arg('steps', 50);
const threads = arg('threads', 2);
const K = 11;

class SegNet extends Module {
  backbone = this.module('backbone', new ResNet(18, { numClasses: null }));
  head = this.module('head', new Conv2d(512, K, 1));
  forward(x: Tensor): Tensor {
    return this.head.forward(this.backbone.features(x).at(-1)!).resize({ size: [x.shape[2]!, x.shape[3]!] });
  }
}

// A zoo model instead (--model s2fpn --options '{"encoder":"resnet18"}'): its own time only, no PyTorch peer.
const zooName = (() => {
  const i = process.argv.indexOf('--model');
  return i >= 0 ? process.argv[i + 1]! : null;
})();
const zooOptions = (() => {
  const i = process.argv.indexOf('--options');
  return i >= 0 ? (JSON.parse(process.argv[i + 1]!) as Record<string, unknown>) : {};
})();

/** Pixel cross-entropy of the main output plus the weighted auxiliary outputs (training mode). */
const loss = (m: Module<[Tensor], Tensor | Tensor[]>, x: Tensor, y: Tensor) => {
  const out = m.forward(x) as Tensor | Tensor[];
  const [main, ...aux] = Array.isArray(out) ? out : [out];
  const weights = (m as unknown as Partial<SegmentationModel>).auxWeights ?? [];
  return aux.reduce((l, a, i) => l.add(crossEntropy(a, y).mul(weights[i] ?? 1)), crossEntropy(main!, y));
};

manualSeed(0);
const model: Module<[Tensor], Tensor | Tensor[]> = zooName ? createModel(zooName, { numClasses: K, ...zooOptions }) : new SegNet();
const x = HostTensor.zeros([N, 3, H, W]);
x.f32.forEach((_, i) => (x.f32[i] = Math.sin(i * 0.37)));
const y = HostTensor.zeros([N, H, W], 'int64');
(y.data as BigInt64Array).forEach((_, i) => ((y.data as BigInt64Array)[i] = BigInt(i % K)));

const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// PyTorch's side: a python3 process that builds the same net, then times one forward (no grad) or
// one step (zero_grad, forward, backward, SGD) for each line 'fwd' / 'step' it reads, answering in ms.
const torchScript = `
import sys, time, torch, torch.nn as nn, torch.nn.functional as F, torchvision
torch.set_num_threads(${threads}); torch.manual_seed(0)
class SegNet(nn.Module):
    def __init__(self):
        super().__init__()
        r = torchvision.models.resnet18()
        self.backbone = nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool, r.layer1, r.layer2, r.layer3, r.layer4)
        self.head = nn.Conv2d(512, ${K}, 1)
    def forward(self, x):
        return F.interpolate(self.head(self.backbone(x)), size=x.shape[2:], mode='bilinear', align_corners=False)
m = SegNet().train()
opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
x = torch.randn(${N}, 3, ${H}, ${W}); y = torch.randint(0, ${K}, (${N}, ${H}, ${W}))
def fwd():
    with torch.no_grad(): F.cross_entropy(m(x), y)
def step():
    opt.zero_grad(); F.cross_entropy(m(x), y).backward(); opt.step()
print('ready', flush=True)
for line in sys.stdin:
    t0 = time.perf_counter(); (fwd if line.strip() == 'fwd' else step)(); print((time.perf_counter() - t0) * 1000, flush=True)
`;

/** The PyTorch peer, or why it is not run (python3-torch missing, or --model given). */
async function startTorch(): Promise<{ time(what: 'fwd' | 'step'): Promise<number>; close(): void } | string> {
  if (zooName) return `not run for --model ${zooName}`;
  const py = spawn('/usr/bin/python3', ['-c', torchScript], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  py.stderr.on('data', (d) => (stderr += String(d)));
  const lines = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error(`python3 exited: ${stderr.trim().split('\n').pop()}`);
    return r.value;
  };
  try {
    await next(); // 'ready'
  } catch (e) {
    return (e as Error).message;
  }
  return {
    async time(what) {
      py.stdin.write(`${what}\n`);
      return Number(await next());
    },
    close: () => py.stdin.end(),
  };
}

// Forward only: the same training-mode forward + loss, parameters as inputs, no backward.
const fwd = compile((a, b) => loss(model, a!, b!), { runtime: nodeRuntime, threads, paramMode: 'input', paramNames: model.namedState() });
const step = compileTrainStep(model, loss, { runtime: nodeRuntime, threads, optimizer: sgd({ momentum: 0.9, weightDecay: 1e-4 }), schedule: constantLr(0.01) });
const torch = await startTorch();
const timed = async (f: () => Promise<unknown>) => {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
};

// Rounds of segkit forward, PyTorch forward, segkit step, PyTorch step, with a pause between engines
// so neither's idle threads spin into the other's time. Ratios are taken within a round, then their
// median: this machine's speed drifts by ±15 % over minutes, which would bias back-to-back blocks.
const rounds = arg('rounds', 10);
const r: Record<'fwd' | 'step' | 'torchFwd' | 'torchStep', number[]> = { fwd: [], step: [], torchFwd: [], torchStep: [] };
for (let i = -2; i < rounds; i++) {
  const keep = i >= 0;
  const f = await timed(() => fwd.run(x, y));
  await sleep(300);
  const tf = typeof torch === 'string' ? NaN : await torch.time('fwd');
  await sleep(300);
  const s = await timed(() => step.step(x, y));
  await sleep(300);
  const ts = typeof torch === 'string' ? NaN : await torch.time('step');
  await sleep(300);
  if (keep) [r.fwd, r.torchFwd, r.step, r.torchStep].forEach((a, k) => a.push([f, tf, s, ts][k]!));
}
if (typeof torch !== 'string') torch.close();
await fwd.dispose();
// Then --steps steps alone, for the memory check.
const rss: number[] = [];
for (let i = 0; i < steps; i++) {
  await step.step(x, y);
  rss.push(process.memoryUsage().rss / 2 ** 20);
}
await step.dispose();

if (rounds > 0) {
  const perRound = (a: number[], b: number[]) => median(a.map((v, i) => v / b[i]!));
  const [f, s] = [median(r.fwd), median(r.step)];
  const stepPerFwd = perRound(r.step, r.fwd);
  console.log(`\nsegkit bench/train-step — ${zooName ? `${zooName} ${JSON.stringify(zooOptions)}` : 'ResNet-18 seg net'}, batch ${N}×3×${H}×${W}, ${threads} threads, SGD momentum, ${rounds} interleaved rounds (medians)\n`);
  console.log('| engine | forward ms | train step ms | step / forward (per round) |');
  console.log('|---|---:|---:|---:|');
  console.log(`| segkit (onnxruntime-node) | ${f.toFixed(0)} | ${s.toFixed(0)} | ${stepPerFwd.toFixed(2)} |`);
  if (typeof torch !== 'string') console.log(`| PyTorch CPU eager (python3-torch) | ${median(r.torchFwd).toFixed(0)} | ${median(r.torchStep).toFixed(0)} | ${perRound(r.torchStep, r.torchFwd).toFixed(2)} |`);
  else console.log(`| PyTorch | not run: ${torch} | | |`);
  const vsTorch = typeof torch === 'string' ? '' : `; segkit step / PyTorch step: ${perRound(r.step, r.torchStep).toFixed(2)} (target ≤ 1.0; rounds ${r.step.map((v, i) => (v / r.torchStep[i]!).toFixed(2)).join(' ')})`;
  console.log(`\nstep / forward: ${stepPerFwd.toFixed(2)} (target ≤ 3.5)` + vsTorch);
} else console.log(`\nsegkit bench/train-step — memory check only (--rounds 0), batch ${N}×3×${H}×${W}`);
// RSS after every 10th step of the memory check: after the warm-up rounds it must stay flat.
const marks = rss.map((v, i) => [i + 1, v] as const).filter(([i]) => i === 1 || i % 10 === 0 || i === rss.length);
console.log(`RSS (MiB) after step ${marks.map(([i, v]) => `${i}: ${v.toFixed(0)}`).join(', ')}`);
const tail = rss.slice(Math.min(10, rss.length - 1));
console.log(`growth from step 10 to ${steps}: ${(tail.at(-1)! - tail[0]!).toFixed(1)} MiB (max − step 10: ${(Math.max(...tail) - tail[0]!).toFixed(1)} MiB)`);
