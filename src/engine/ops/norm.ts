import type { Tensor } from '../graph.js';
import { emitSimple } from '../onnx/emitter.js';
import { check, defineOp } from '../op.js';
import { fmt, normAxis } from '../shape.js';

function softmaxLike(name: 'Softmax' | 'LogSoftmax') {
  return defineOp<{ axis: number }>({
    name,
    infer: ([x], { axis }) => {
      normAxis(axis, x!.shape.length, name);
      return [{ shape: [...x!.shape], dtype: x!.dtype }];
    },
    onnx: (n, e) => emitSimple(e, name, n, { axis: { i: n.attrs.axis } }),
  });
}

/** softmax along one axis (opset-13 semantics: that axis alone, not a flattened suffix). */
export const Softmax = softmaxLike('Softmax');
export const LogSoftmax = softmaxLike('LogSoftmax');

/** Layer normalisation over the last axis: inputs x, scale [C], bias [C]. */
export const LayerNorm = defineOp<{ epsilon: number }>({
  name: 'LayerNorm',
  infer: (inputs) => {
    const [x, w, b] = inputs as [Tensor, Tensor, Tensor];
    const c = x.shape[x.shape.length - 1];
    check(x.shape.length >= 1, 'LayerNorm', 'input must have rank ≥ 1', inputs);
    check(w.shape.length === 1 && w.shape[0] === c && b.shape.length === 1 && b.shape[0] === c, 'LayerNorm', `weight and bias must have shape [${c}] (the last input dim)`, inputs);
    return [{ shape: [...x.shape], dtype: x.dtype }];
  },
  onnx: (n, e) => emitSimple(e, 'LayerNormalization', n, { axis: { i: -1 }, epsilon: { f: n.attrs.epsilon } }),
});

/** Inference-form batch norm: inputs x [N,C,...], scale, bias, running mean, running var (each [C]). */
export const BatchNorm = defineOp<{ epsilon: number }>({
  name: 'BatchNorm',
  infer: (inputs) => {
    const x = inputs[0]!;
    check(x.shape.length >= 2, 'BatchNorm', 'input must have rank ≥ 2 [N, C, ...]', inputs);
    const c = x.shape[1]!;
    for (const p of inputs.slice(1)) {
      check(p.shape.length === 1 && p.shape[0] === c, 'BatchNorm', `weight, bias, running mean and var must have shape [${c}], got ${fmt(p.shape)}`, inputs);
    }
    return [{ shape: [...x.shape], dtype: x.dtype }];
  },
  onnx: (n, e) => emitSimple(e, 'BatchNormalization', n, { epsilon: { f: n.attrs.epsilon } }),
});
