import type { Tensor } from '../graph.js';
import { emitSimple } from '../onnx/emitter.js';
import { check, defineOp } from '../op.js';
import type { Pads4, Pair } from './conv.js';

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

export const MaxPool = defineOp<MaxPoolAttrs>({
  name: 'MaxPool',
  infer: (inputs, a) => {
    const shape = poolShape('MaxPool', inputs, a, a.dilations);
    const out = [{ shape, dtype: inputs[0]!.dtype }];
    return a.withIndices ? [...out, { shape: [...shape], dtype: 'int64' as const }] : out;
  },
  onnx: (n, e) => emitSimple(e, 'MaxPool', n, { ...poolOnnx(n.attrs), dilations: { ints: n.attrs.dilations } }),
});

export interface AvgPoolAttrs extends PoolAttrs {
  countIncludePad: boolean;
}

export const AveragePool = defineOp<AvgPoolAttrs>({
  name: 'AveragePool',
  infer: (inputs, a) => [{ shape: poolShape('AveragePool', inputs, a), dtype: inputs[0]!.dtype }],
  onnx: (n, e) => emitSimple(e, 'AveragePool', n, { ...poolOnnx(n.attrs), count_include_pad: { i: n.attrs.countIncludePad ? 1 : 0 } }),
});
