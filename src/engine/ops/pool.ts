import type { Tensor } from '../graph.js';
import { HostTensor } from '../host-tensor.js';
import { emitSimple } from '../onnx/emitter.js';
import { check, defineOp, type OpDef } from '../op.js';
import { ConvTranspose, type Pads4, type Pair } from './conv.js';
import { ScatterAdd } from './indexing.js';

export interface PoolAttrs {
  kernel: Pair;
  strides: Pair;
  pads: Pads4;
  ceilMode: boolean;
}

/**
 * Output length of a pooling window sweep, PyTorch's rule: with ceil_mode the last window is kept
 * only if it starts inside the input or the left padding.
 */
export function poolOut(size: number, k: number, s: number, padBegin: number, padEnd: number, d: number, ceil: boolean): number {
  const span = size + padBegin + padEnd - d * (k - 1) - 1;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= size + padBegin) out--;
  return out;
}

function poolShape(op: string, inputs: readonly Tensor[], a: PoolAttrs, dilations: Pair = [1, 1]): number[] {
  const x = inputs[0]!;
  check(x.shape.length === 4, op, 'input must be 4-D [N, C, H, W]', inputs);
  check(a.pads[0] <= a.kernel[0] / 2 && a.pads[1] <= a.kernel[1] / 2, op, `padding ${a.pads} must be at most half the kernel ${a.kernel}`, inputs);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const oh = poolOut(h, a.kernel[0], a.strides[0], a.pads[0], a.pads[2], dilations[0], a.ceilMode);
  const ow = poolOut(w, a.kernel[1], a.strides[1], a.pads[1], a.pads[3], dilations[1], a.ceilMode);
  check(oh > 0 && ow > 0, op, `kernel ${a.kernel} does not fit the padded input ${h}×${w}`, inputs);
  return [n, c, oh, ow];
}

const poolOnnx = (a: PoolAttrs) => ({
  kernel_shape: { ints: a.kernel },
  strides: { ints: a.strides },
  pads: { ints: a.pads },
  ceil_mode: { i: a.ceilMode ? 1 : 0 },
});

export interface MaxPoolAttrs extends PoolAttrs {
  dilations: Pair;
  /** Also output the argmax indices (int64, flat over the whole N·C·H·W input), for the gradient. */
  withIndices: boolean;
}

export const MaxPool: OpDef<MaxPoolAttrs> = defineOp<MaxPoolAttrs>({
  name: 'MaxPool',
  infer: (inputs, a) => {
    const shape = poolShape('MaxPool', inputs, a, a.dilations);
    const out = [{ shape, dtype: inputs[0]!.dtype }];
    return a.withIndices ? [...out, { shape: [...shape], dtype: 'int64' as const }] : out;
  },
  onnx: (n, e) => emitSimple(e, 'MaxPool', n, { ...poolOnnx(n.attrs), dilations: { ints: n.attrs.dilations } }),
  // Each window's gradient goes to its argmax: scatter-add over the flattened input (the indices
  // are flat over N·C·H·W). Without indices in the forward, the pool is re-run with them.
  vjp: (n, [gy]) => {
    const x = n.inputs[0]!;
    const idx = n.attrs.withIndices ? n.outputs[1]! : x.graph.apply(MaxPool, [x], { ...n.attrs, withIndices: true })[1]!;
    const dx = x.graph.apply(ScatterAdd, [idx.reshape([-1]), gy!.reshape([-1])], { axis: 0, shape: [x.size] })[0]!;
    return [dx.reshape(x.shape)];
  },
});

export interface AvgPoolAttrs extends PoolAttrs {
  countIncludePad: boolean;
}

export const AveragePool = defineOp<AvgPoolAttrs>({
  name: 'AveragePool',
  infer: (inputs, a) => [{ shape: poolShape('AveragePool', inputs, a), dtype: inputs[0]!.dtype }],
  onnx: (n, e) => emitSimple(e, 'AveragePool', n, { ...poolOnnx(n.attrs), count_include_pad: { i: n.attrs.countIncludePad ? 1 : 0 } }),
  // Spread gy / divisor over each window: a depth-wise ConvTranspose with an all-ones kernel.
  // The divisors come from the host, so count_include_pad and ceil mode are exact; the end
  // padding / output padding make the result exactly x's shape (ceil mode may overhang the end).
  vjp: (n, [gy]) => {
    const x = n.inputs[0]!;
    const a = n.attrs;
    const [c, h, w] = [x.shape[1]!, x.shape[2]!, x.shape[3]!];
    const [oh, ow] = [gy!.shape[2]!, gy!.shape[3]!];
    const ch = windowCounts(h, oh, a, 0);
    const cw = windowCounts(w, ow, a, 1);
    const inv = new Float32Array(oh * ow);
    for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) inv[i * ow + j] = 1 / Math.max(ch[i]! * cw[j]!, 1);
    const g = x.graph;
    const scaled = gy!.mul(g.constant(new HostTensor(inv, [oh, ow])));
    const ones = g.constant(new HostTensor(new Float32Array(c * a.kernel[0] * a.kernel[1]).fill(1), [c, 1, ...a.kernel]));
    const fit = [0, 1].map((i) => {
      const reach = ([oh, ow][i]! - 1) * a.strides[i]! - a.pads[i]! + a.kernel[i]!;
      const size = [h, w][i]!;
      return reach >= size ? { padEnd: reach - size, outPad: 0 } : { padEnd: 0, outPad: size - reach };
    });
    const dx = g.apply(ConvTranspose, [scaled, ones], {
      strides: a.strides,
      pads: [a.pads[0], a.pads[1], fit[0]!.padEnd, fit[1]!.padEnd],
      dilations: [1, 1],
      group: c,
      outputPadding: [fit[0]!.outPad, fit[1]!.outPad],
    })[0]!;
    return [dx];
  },
});

/**
 * Per output position along one axis, the divisor of its window (PyTorch's rule): the window
 * clipped to the padded input when counting padding, else to the real input.
 */
function windowCounts(size: number, out: number, a: AvgPoolAttrs, axis: 0 | 1): number[] {
  const [k, s, padBegin, padEnd] = [a.kernel[axis], a.strides[axis], a.pads[axis], a.pads[axis + 2]!];
  return Array.from({ length: out }, (_, o) => {
    const start = o * s - padBegin;
    const end = Math.min(start + k, size + padEnd);
    return a.countIncludePad ? end - start : Math.max(Math.min(end, size) - Math.max(start, 0), 0);
  });
}
