// bench/conv-grad: the three ways of computing a Conv's weight gradient (src/engine/ops/conv.ts
// convWeightGrad), 'im2col' (strided windows + one batched MatMul), 'patches' (the same columns from
// one Conv with one-hot kernels) and 'conv' (a convolution over the batch), on realistic shapes, next to the forward conv and the input gradient (ConvTranspose).
// defaultWeightGrad picks by kernel size, dilation and how the weight compares with the maps.
// Usage: npx tsx bench/conv-grad.ts [--threads N] [--iters N]
import { cpus } from 'node:os';
import { compile } from '../src/engine/compile.js';
import { HostTensor } from '../src/engine/host-tensor.js';
import { convWeightGrad, defaultWeightGrad, type ConvAttrs, type WeightGradMethod } from '../src/engine/ops/conv.js';
import { nodeRuntime } from '../src/engine/runtime/node.js';
import { grad } from '../src/engine/autodiff.js';
import type { Tensor } from '../src/engine/tensor.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const threads = arg('threads', 2);
const iters = arg('iters', 7);

function random(shape: number[]): HostTensor {
  const t = HostTensor.zeros(shape);
  for (let i = 0; i < t.size; i++) t.f32[i] = Math.random() * 2 - 1;
  return t;
}

/**
 * Milliseconds per run of each function (best of `iters` after warm-up). The functions run in
 * turn, so a background load shifts them alike; the best run is the least disturbed one.
 */
async function timeAll(fns: ((...xs: Tensor[]) => Tensor)[], inputs: HostTensor[][]): Promise<number[]> {
  const compiled = fns.map((fn) => compile(fn, { runtime: nodeRuntime, threads }));
  const best = fns.map(() => Infinity);
  for (let it = -2; it < iters; it++) {
    for (let k = 0; k < fns.length; k++) {
      const t0 = performance.now();
      await compiled[k]!.run(...inputs[k]!);
      if (it >= 0) best[k] = Math.min(best[k]!, performance.now() - t0);
    }
  }
  for (const f of compiled) await f.dispose();
  return best;
}

interface Case {
  name: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
  a: ConvAttrs;
}
const attrs = (stride: number, pad: number, group = 1, dilation = 1): ConvAttrs => ({
  strides: [stride, stride],
  pads: [pad, pad, pad, pad],
  dilations: [dilation, dilation],
  group,
});
const cases: Case[] = [
  { name: '3×3 64→64, 8×90×120, stride 1', x: [8, 64, 90, 120], w: [64, 64, 3, 3], a: attrs(1, 1) },
  { name: '3×3 64→64, 8×90×120, stride 2', x: [8, 64, 90, 120], w: [64, 64, 3, 3], a: attrs(2, 1) },
  { name: '3×3 depth-wise 64, 8×90×120, stride 1', x: [8, 64, 90, 120], w: [64, 1, 3, 3], a: attrs(1, 1, 64) },
  { name: '3×3 depth-wise 64, 8×90×120, stride 2', x: [8, 64, 90, 120], w: [64, 1, 3, 3], a: attrs(2, 1, 64) },
  { name: '3×3 64→64 dilation 6, 8×45×60', x: [8, 64, 45, 60], w: [64, 64, 3, 3], a: attrs(1, 6, 1, 6) },
  { name: '1×1 256→64, 8×45×60', x: [8, 256, 45, 60], w: [64, 256, 1, 1], a: attrs(1, 0) },
  { name: '3×3 256→256, 8×23×30, stride 1', x: [8, 256, 23, 30], w: [256, 256, 3, 3], a: attrs(1, 1) },
  { name: '3×3 512→512, 8×12×15, stride 1', x: [8, 512, 12, 15], w: [512, 512, 3, 3], a: attrs(1, 1) },
  { name: '7×7 3→64, 8×360×480, stride 2 (ResNet stem)', x: [8, 3, 360, 480], w: [64, 3, 7, 7], a: attrs(2, 3) },
];

console.log('(run it on an otherwise idle machine: another busy process distorts these numbers)');
console.log(`\nsegkit bench/conv-grad — onnxruntime-node, ${threads} thread(s), ${cpus()[0]?.model ?? 'cpu'}, best of ${iters}, ms\n`);
console.log('| case | forward | dx | dw im2col | dw patches | dw conv | fastest | default |');
console.log('|---|---:|---:|---:|---:|---:|---|---|');
for (const c of cases) {
  const x = random(c.x);
  const w = random(c.w);
  const conv = (t: Tensor, ww: Tensor) => t.conv2d(ww, { stride: c.a.strides, padding: c.a.pads, dilation: c.a.dilations, groups: c.a.group });
  const probe = compile(conv, { runtime: nodeRuntime, threads });
  const gy: HostTensor = random((await probe.run(x, w)).shape);
  await probe.dispose();
  const [forward, dx, im2col, viaConv, patches] = await timeAll(
    [
      conv,
      (t, ww, g) => grad(conv(t, ww!), [t], g!)[0]!,
      (t, g) => convWeightGrad(t, g!, c.a, c.w, 'im2col'),
      (t, g) => convWeightGrad(t, g!, c.a, c.w, 'conv'),
      (t, g) => convWeightGrad(t, g!, c.a, c.w, 'patches'),
    ],
    [[x, w], [x, w, gy], [x, gy], [x, gy], [x, gy]],
  );
  const dw: Record<WeightGradMethod, number> = { im2col: im2col!, conv: viaConv!, patches: patches! };
  const best = (Object.keys(dw) as WeightGradMethod[]).reduce((p, q) => (dw[q] < dw[p] ? q : p));
  const ms = (v: number) => v.toFixed(1);
  console.log(`| ${c.name} | ${ms(forward!)} | ${ms(dx!)} | ${ms(dw.im2col)} | ${ms(dw.patches)} | ${ms(dw.conv)} | ${best} | ${defaultWeightGrad(c.x, c.w, gy.shape, c.a)} |`);
}
