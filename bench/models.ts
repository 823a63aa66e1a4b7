// bench/models: every zoo model at its benchmark input — parameters, GMACs, ONNX size and inference
// latency (batch 1, --threads intra-op threads, median of --runs runs after 3 warm-ups) — beside two
// peers measured in the same run on the same machine:
//   * PyTorch eager (Debian python3-torch, torch.set_num_threads(threads)), the reference model of
//     test/parity/models/<name>.py;
//   * that PyTorch model exported with torch.onnx.export (opset 17) and run in onnxruntime-node with
//     the same session options as segkit (what a transformers.js-style user runs; the strongest peer).
// Target (issues [zoo-1], [zoo-2]): segkit latency ≤ 0.9× the exported peer's.
// Usage: npx tsx bench/models.ts [--only SUBSTRING] [--runs 20] [--threads 2] [--no-torch]
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

const CASES: Case[] = [];

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};
const runs = Number(opt('runs', '20'));
const threads = Number(opt('threads', '2'));
const only = opt('only', '');

const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;

async function time(run: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 3; i++) await run();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await run();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

function randomInput(shape: readonly number[]): HostTensor {
  const x = HostTensor.zeros(shape);
  x.f32.forEach((_, i) => (x.f32[i] = Math.sin(i * 0.37)));
  return x;
}

interface Peer {
  eagerMs?: number;
  exportedMs?: number;
  note?: string;
}

/** PyTorch eager latency and the latency of its torch.onnx.export in onnxruntime-node. */
async function peers(c: Case, input: HostTensor): Promise<Peer> {
  if (flag('no-torch')) return { note: 'not run (--no-torch)' };
  const py = findTorchPython();
  if (typeof py === 'string') return { note: `not run: ${py}` };
  const dir = await mkdtemp(join(tmpdir(), 'segkit-bench-models-'));
  try {
    const onnxPath = join(dir, 'torch.onnx');
    const r = spawnSync(py.python, [join('test', 'parity', 'reference.py'), c.py.model, JSON.stringify(c.py.options), c.shape.join('x'), dir, '--onnx', onnxPath, '--time', String(runs)], {
      env: py.env,
      encoding: 'utf8',
      timeout: 1_800_000,
    });
    if (r.status !== 0) return { note: `PyTorch failed: ${r.stderr.trim().split('\n').pop()}` };
    const eagerMs = JSON.parse(await readFile(join(dir, 'timing.json'), 'utf8')).median_ms as number;
    let session: Session | undefined;
    try {
      session = await nodeRuntime.createSession(new Uint8Array(await readFile(onnxPath)), { threads });
      const name = session.inputNames[0]!;
      const exportedMs = await time(() => session!.run({ [name]: input }));
      return { eagerMs, exportedMs };
    } finally {
      await session?.release();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const registered = new Set(listModels().map((m) => m.name));
const rows: string[] = [];
for (const c of CASES) {
  if (only && !c.label.includes(only)) continue;
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
  const segkitMs = await time(() => f.run(input));
  await f.dispose();
  const p = await peers(c, input);
  const fmt = (v?: number) => (v === undefined ? '—' : v.toFixed(1));
  const ratio = p.exportedMs ? (segkitMs / p.exportedMs).toFixed(2) : '—';
  rows.push(
    `| ${c.label} | ${c.shape.slice(2).join('×')} | ${(params / 1e6).toFixed(2)} M | ${gmacs.toFixed(2)} | ${onnxMiB.toFixed(1)} MiB | ${segkitMs.toFixed(1)} | ${fmt(p.eagerMs)} | ${fmt(p.exportedMs)} | ${ratio}${p.note ? ` (${p.note})` : ''} |`,
  );
  console.error(rows.at(-1));
}

console.log(`\nsegkit bench/models — batch 1, ${threads} threads, median of ${runs} runs after 3 warm-ups (ms)\n`);
console.log('| model | input | params | GMACs | ONNX | segkit | PyTorch eager | PyTorch → ONNX on onnxruntime-node | segkit / exported (target ≤ 0.9) |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(r);
