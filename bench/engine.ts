// bench/engine: GFLOP/s of a single conv, a 4-layer conv chain and a matmul on onnxruntime-node,
// next to the machine's matmul peak measured in the same run (best of several large MatMuls).
// Target (issue [engine]): the conv chain at ≥ 150 GFLOP/s on the 2-core machine.
// Usage: npx tsx bench/engine.ts [--threads N] [--iters N]
import { availableParallelism, cpus } from 'node:os';
import { compile } from '../src/engine/compile.js';
import { HostTensor } from '../src/engine/host-tensor.js';
import { Parameter } from '../src/engine/parameter.js';
import { nodeRuntime } from '../src/engine/runtime/node.js';
import type { Tensor } from '../src/engine/tensor.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const threads = arg('threads', availableParallelism());
const iters = arg('iters', 20);

function random(shape: number[], scale = 0.1): HostTensor {
  const t = HostTensor.zeros(shape);
  for (let i = 0; i < t.size; i++) t.f32[i] = (Math.random() * 2 - 1) * scale;
  return t;
}

/** Median seconds per call after warm-up. */
async function time(fn: (...xs: Tensor[]) => Tensor, inputs: HostTensor[]): Promise<number> {
  const f = compile(fn, { runtime: nodeRuntime, threads });
  for (let i = 0; i < 3; i++) await f.run(...inputs);
  const times: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    await f.run(...inputs);
    times.push((performance.now() - t0) / 1000);
  }
  await f.dispose();
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const convFlops = (n: number, cin: number, cout: number, k: number, h: number, w: number) => 2 * n * cin * cout * k * k * h * w;

interface Row {
  name: string;
  gflop: number;
  seconds: number;
}
const rows: Row[] = [];

// Matmul peak: the best of several large square products (the 1536² row below is one of them).
const matmulRate = async (n: number) => (2 * n ** 3) / (await time((x, y) => x.matmul(y), [random([n, n]), random([n, n])])) / 1e9;
let peak = Math.max(await matmulRate(1024), await matmulRate(2048));

// The shapes of DESIGN.md §1: batch 2, 64→64 channels, 3×3, 128×128.
const [N, C, H, W] = [2, 64, 128, 128];
const x = random([N, C, H, W], 1);
const weights = Array.from({ length: 4 }, () => new Parameter(random([C, C, 3, 3], 0.05)));
const biases = Array.from({ length: 4 }, () => new Parameter(random([C], 0.01)));
rows.push({
  name: 'conv 3×3 64→64, 2×128×128',
  gflop: convFlops(N, C, C, 3, H, W) / 1e9,
  seconds: await time((t) => t.conv2d(weights[0]!, { bias: biases[0], padding: 1 }), [x]),
});
rows.push({
  name: 'chain of 4 × (conv 3×3 + ReLU)',
  gflop: (4 * convFlops(N, C, C, 3, H, W)) / 1e9,
  seconds: await time((t) => weights.reduce((y, w, i) => y.conv2d(w, { bias: biases[i], padding: 1 }).relu(), t), [x]),
});
rows.push({
  name: 'same chain, weights as graph inputs (train-step form)',
  gflop: (4 * convFlops(N, C, C, 3, H, W)) / 1e9,
  seconds: await time((t, w0, w1, w2, w3) => [w0!, w1!, w2!, w3!].reduce((y, w, i) => y.conv2d(w, { bias: biases[i], padding: 1 }).relu(), t), [x, ...weights.map((w) => w.value)]),
});
const M = 1536;
rows.push({ name: `matmul ${M}×${M}×${M}`, gflop: (2 * M ** 3) / 1e9, seconds: await time((a, b) => a.matmul(b), [random([M, M]), random([M, M])]) });
peak = Math.max(peak, rows.at(-1)!.gflop / rows.at(-1)!.seconds);

console.log('(run it on an otherwise idle machine: another busy process halves these numbers)');
console.log(`\nsegkit bench/engine — onnxruntime-node, ${threads} thread(s), ${cpus()[0]?.model ?? 'cpu'}, median of ${iters}\n`);
console.log('| case | GFLOP | ms | GFLOP/s | × matmul peak |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) {
  const rate = r.gflop / r.seconds;
  console.log(`| ${r.name} | ${r.gflop.toFixed(2)} | ${(r.seconds * 1000).toFixed(1)} | ${rate.toFixed(1)} | ${(rate / peak).toFixed(2)} |`);
}
console.log(`| matmul peak (best of 1024², 1536², 2048²) | | | ${peak.toFixed(1)} | 1.00 |`);
const chain = rows[1]!.gflop / rows[1]!.seconds;
console.log(`\nconv chain: ${chain.toFixed(1)} GFLOP/s — target ≥ 150: ${chain >= 150 ? 'met' : 'NOT met'}`);
