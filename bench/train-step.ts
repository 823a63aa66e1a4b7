// bench/train-step: one training step (forward + backward + SGD update) of a ResNet-18
// segmentation net (torchvision ResNet-18 trunk, 1×1 head to 11 classes, bilinear ×32, pixel
// cross-entropy) at batch 8 × 3 × 360 × 480, next to its forward-only time and to PyTorch's CPU
// build (Debian python3-torch, same architecture and batch, 2 threads) measured in the same run.
// Targets (issue [autodiff]): step ≤ 3.5× forward; step ≤ 1.0× PyTorch. Also prints peak RSS per
// step over --steps steps (must not grow).
// Usage: npx tsx bench/train-step.ts [--batch 8] [--height 360] [--width 480] [--steps 50] [--threads 2]
//                                    [--model NAME --options JSON]  (a zoo model; no PyTorch peer)
import { spawnSync } from 'node:child_process';
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

// Forward only: the same training-mode forward + loss, parameters as inputs, no backward.
const fwd = compile((a, b) => loss(model, a!, b!), { runtime: nodeRuntime, threads, paramMode: 'input', paramNames: model.namedState() });
const fwdTimes: number[] = [];
for (let i = 0; i < 6; i++) {
  const t0 = performance.now();
  await fwd.run(x, y);
  if (i >= 2) fwdTimes.push(performance.now() - t0);
}
await fwd.dispose();

const step = compileTrainStep(model, loss, { runtime: nodeRuntime, threads, optimizer: sgd({ momentum: 0.9, weightDecay: 1e-4 }), schedule: constantLr(0.01) });
const stepTimes: number[] = [];
const rss: number[] = [];
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  await step.step(x, y);
  stepTimes.push(performance.now() - t0);
  rss.push(process.memoryUsage().rss / 2 ** 20);
}
await step.dispose();

const torchScript = `
import time, torch, torch.nn as nn, torch.nn.functional as F, torchvision
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
for f, name in ((fwd, 'fwd'), (step, 'step')):
    ts = []
    for i in range(6):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    print(name, sorted(ts[2:])[len(ts[2:]) // 2] * 1000)
`;
const torch = zooName ? { status: 1, stdout: '', stderr: `not run for --model ${zooName}` } : spawnSync('/usr/bin/python3', ['-c', torchScript], { encoding: 'utf8' });
const torchMs: Record<string, number> = {};
if (torch.status === 0) for (const line of torch.stdout.trim().split('\n')) torchMs[line.split(' ')[0]!] = Number(line.split(' ')[1]);

const f = median(fwdTimes);
const s = median(stepTimes);
console.log(`\nsegkit bench/train-step — ${zooName ? `${zooName} ${JSON.stringify(zooOptions)}` : 'ResNet-18 seg net'}, batch ${N}×3×${H}×${W}, ${threads} threads, SGD momentum\n`);
console.log('| engine | forward ms | train step ms | step / forward |');
console.log('|---|---:|---:|---:|');
console.log(`| segkit (onnxruntime-node) | ${f.toFixed(0)} | ${s.toFixed(0)} | ${(s / f).toFixed(2)} |`);
if (torch.status === 0) console.log(`| PyTorch ${'CPU eager (python3-torch)'} | ${torchMs.fwd!.toFixed(0)} | ${torchMs.step!.toFixed(0)} | ${(torchMs.step! / torchMs.fwd!).toFixed(2)} |`);
else console.log(`| PyTorch | not run: ${torch.stderr.trim().split('\n').pop()} | | |`);
console.log(`\nstep / forward: ${(s / f).toFixed(2)} (target ≤ 3.5)` + (torch.status === 0 ? `; segkit step / PyTorch step: ${(s / torchMs.step!).toFixed(2)} (target ≤ 1.0)` : ''));
// RSS after every 10th step: the first steps warm onnxruntime's arena up; after that it must stay flat.
const marks = rss.map((v, i) => [i + 1, v] as const).filter(([i]) => i === 1 || i % 10 === 0 || i === rss.length);
console.log(`RSS (MiB) after step ${marks.map(([i, v]) => `${i}: ${v.toFixed(0)}`).join(', ')}`);
const tail = rss.slice(Math.min(10, rss.length - 1));
console.log(`growth from step 10 to ${steps}: ${(tail.at(-1)! - tail[0]!).toFixed(1)} MiB (max − step 10: ${(Math.max(...tail) - tail[0]!).toFixed(1)} MiB)`);
