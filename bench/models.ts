// bench/models: every zoo model at its benchmark input — parameters, GMACs, ONNX size and inference
// latency (batch 1, --threads intra-op threads, median of --runs runs after 3 warm-ups) — beside two
// peers measured in the same run on the same machine (segkit and the exported peer in turns):
//   * PyTorch eager (Debian python3-torch, torch.set_num_threads(threads)), the reference model of
//     test/parity/models/<name>.py;
//   * that PyTorch model exported with torch.onnx.export (opset 17) and run in onnxruntime-node with
//     the same session options as segkit (what a transformers.js-style user runs; the strongest peer).
// Target (issues [zoo-1], [zoo-2]): segkit latency ≤ 0.9× the exported peer's.
// Usage: npx tsx bench/models.ts [--only SUBSTRING] [--runs 20] [--eager-runs 5] [--threads 2] [--no-torch]
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trace } from '../src/engine/compile.js';
import { countMacs } from '../src/engine/flops.js';
import { HostTensor } from '../src/engine/host-tensor.js';
import { nodeRuntime } from '../src/engine/runtime/node.js';
import type { Session } from '../src/engine/runtime/runtime.js';
import { compileModule, exportModuleOnnx } from '../src/nn/compile.js';
import { manualSeed } from '../src/nn/init.js';
import { createModel, listModels } from '../src/models/index.js';
import { findTorchPython } from '../test/parity/python.js';

interface Case {
  label: string;
  model: string;
  options: Record<string, unknown>;
  shape: [number, number, number, number];
  /** The PyTorch reference (test/parity/models/<model>.py) and its build() options. */
  py: { model: string; options: Record<string, unknown> };
}

const s2fpn = (encoder: string, k: number, h: number, w: number): Case => ({
  label: `S2-FPN v1 ${encoder.replace('resnet', 'R')}`,
  model: 's2fpn',
  options: { variant: 'v1', encoder, numClasses: k },
  shape: [1, 3, h, w],
  py: { model: 's2fpn', options: { variant: 'v1', encoder, numClasses: k } },
});

/** The benchmark inputs the issues name: SERNet-Former and SERSegFormer 512², SegFormer-B0 512² and 1024², S2-FPN 512×1024 and 360×480, SETR-PUP 768². */
const CASES: Case[] = [
  { label: 'SERNet-Former (FastSeg)', model: 'sernet-former', options: { numClasses: 2 }, shape: [1, 3, 512, 512], py: { model: 'sernet_former', options: { variant: 'fastseg', numClasses: 2 } } },
  { label: 'SERSegFormer (DConv decoder)', model: 'serseg-former', options: { numClasses: 2, upsample: true }, shape: [1, 3, 512, 512], py: { model: 'serseg_former', options: { numClasses: 2, upsample: true } } },
  { label: 'SegFormer-B0', model: 'segformer', options: { encoder: 'mit-b0', numClasses: 19 }, shape: [1, 3, 512, 512], py: { model: 'segformer', options: { encoder: 'mit-b0', numClasses: 19 } } },
  { label: 'SegFormer-B0', model: 'segformer', options: { encoder: 'mit-b0', numClasses: 19 }, shape: [1, 3, 1024, 1024], py: { model: 'segformer', options: { encoder: 'mit-b0', numClasses: 19 } } },
  s2fpn('resnet18', 19, 512, 1024),
  s2fpn('resnet18', 11, 360, 480),
  s2fpn('resnet34', 19, 512, 1024),
  s2fpn('resnet34', 11, 360, 480),
  { label: 'SETR-PUP ViT-B/16', model: 'setr', options: { variant: 'pup', encoder: 'vit-b16', numClasses: 19 }, shape: [1, 3, 768, 768], py: { model: 'setr', options: { variant: 'pup', encoder: 'vit-b16', numClasses: 19, imgSize: 768 } } },
];

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};
const runs = Number(opt('runs', '20'));
/** PyTorch eager is 10–40× slower than the other two here, so it gets fewer timed runs (0: not timed). */
const eagerRuns = Number(opt('eager-runs', '5'));
const threads = Number(opt('threads', '2'));
const only = opt('only', '');

const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;

/**
 * Times the functions in turns (3 warm-ups each, then --runs rounds of one run each): this
 * machine's speed drifts by ±15 % over minutes, which would bias blocks of runs timed one after
 * the other. Returns each function's run times in ms, round by round.
 */
async function timeInTurns(fns: (() => Promise<unknown>)[]): Promise<number[][]> {
  for (let i = 0; i < 3; i++) for (const f of fns) await f();
  const ms = fns.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    for (const [k, f] of fns.entries()) {
      const t0 = performance.now();
      await f();
      ms[k]!.push(performance.now() - t0);
    }
  }
  return ms;
}

function randomInput(shape: readonly number[]): HostTensor {
  const x = HostTensor.zeros(shape);
  x.f32.forEach((_, i) => (x.f32[i] = Math.sin(i * 0.37)));
  return x;
}

interface Peer {
  eagerMs?: number;
  /** The exported model in an onnxruntime-node session (the caller releases it). */
  exported?: Session;
  note?: string;
}

/** PyTorch eager latency, and its torch.onnx.export loaded into onnxruntime-node. */
async function peers(c: Case): Promise<Peer> {
  if (flag('no-torch')) return { note: 'not run (--no-torch)' };
  const py = findTorchPython();
  if (typeof py === 'string') return { note: `not run: ${py}` };
  const dir = await mkdtemp(join(tmpdir(), 'segkit-bench-models-'));
  try {
    const onnxPath = join(dir, 'torch.onnx');
    const r = spawnSync(py.python, [join('test', 'parity', 'reference.py'), c.py.model, JSON.stringify(c.py.options), c.shape.join('x'), dir, '--onnx', onnxPath, ...(eagerRuns > 0 ? ['--time', String(eagerRuns)] : [])], {
      env: py.env,
      encoding: 'utf8',
      timeout: 1_800_000,
    });
    if (r.status !== 0) return { note: `PyTorch failed: ${r.stderr.trim().split('\n').pop()}` };
    const eagerMs = eagerRuns > 0 ? (JSON.parse(await readFile(join(dir, 'timing.json'), 'utf8')).median_ms as number) : undefined;
    return { eagerMs, exported: await nodeRuntime.createSession(new Uint8Array(await readFile(onnxPath)), { threads }) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const registered = new Set(listModels().map((m) => m.name));
const rows: string[] = [];
for (const c of CASES) {
  if (only && !`${c.label} ${c.shape.slice(2).join('×')}`.includes(only)) continue;
  if (!registered.has(c.model)) {
    rows.push(`| ${c.label} | ${c.shape.slice(2).join('×')} | model '${c.model}' is not registered | | | | | | |`);
    continue;
  }
  manualSeed(0);
  const model = createModel(c.model, c.options).eval();
  const params = model.numParameters();
  const { graph } = trace((x) => model.forward(x!) as never, [{ shape: c.shape }]);
  const gmacs = countMacs(graph).total / 1e9;
  const onnxMiB = exportModuleOnnx(model, [{ shape: c.shape }]).byteLength / 2 ** 20;
  const input = randomInput(c.shape);
  const f = compileModule(model, { runtime: nodeRuntime, threads });
  const p = await peers(c);
  const exported = p.exported;
  const [segkit, peer] = await timeInTurns([() => f.run(input), ...(exported ? [() => exported.run({ [exported.inputNames[0]!]: input })] : [])]);
  await f.dispose();
  await exported?.release();
  const segkitMs = median(segkit!);
  const fmt = (v?: number) => (v === undefined ? '—' : v.toFixed(1));
  // The ratio of each round's pair, then their median.
  const ratio = peer ? median(segkit!.map((v, i) => v / peer[i]!)).toFixed(2) : '—';
  rows.push(
    `| ${c.label} | ${c.shape.slice(2).join('×')} | ${(params / 1e6).toFixed(2)} M | ${gmacs.toFixed(2)} | ${onnxMiB.toFixed(1)} MiB | ${segkitMs.toFixed(1)} | ${fmt(p.eagerMs)} | ${fmt(peer && median(peer))} | ${ratio}${p.note ? ` (${p.note})` : ''} |`,
  );
  console.error(rows.at(-1));
}

console.log(`\nsegkit bench/models — batch 1, ${threads} threads, median of ${runs} runs after 3 warm-ups (PyTorch eager: ${eagerRuns} runs) (ms)\n`);
console.log('| model | input | params | GMACs | ONNX | segkit | PyTorch eager | PyTorch → ONNX on onnxruntime-node | segkit / exported (target ≤ 0.9) |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(r);
