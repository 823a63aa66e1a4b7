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
    onnx: (n, e) => {
      const x = n.inputs[0]!;
      const ax = n.attrs.axis;
      if (ax === x.shape.length - 1) return emitSimple(e, name, n, { axis: { i: ax } });
      // onnxruntime's kernels move a non-last axis to the end and run tiny rows: over the class axis
      // of N×K×H×W logits that is 4–5× slower than these five element-wise passes (bench/out/lsm).
      const [xn, yn] = [e.name(x), e.name(n.outputs[0]!)];
      const [mx, sh, ex, sm] = ['max', 'shifted', 'exp', 'sum'].map((h) => e.temp(`${name}_${h}`)) as [string, string, string, string];
      e.node('ReduceMax', [xn], [mx], { axes: { ints: [ax] }, keepdims: { i: 1 } });
      e.node('Sub', [xn, mx], [sh]);
      e.node('Exp', [sh], [ex]);
      e.node('ReduceSum', [ex, e.int64s([ax])], [sm], { keepdims: { i: 1 } });
      if (name === 'Softmax') return e.node('Div', [ex, sm], [yn]);
      const lg = e.temp(`${name}_log`);
      e.node('Log', [sm], [lg]);
      e.node('Sub', [sh, lg], [yn]);
    },
    vjp: (n, [gy]) => {
      const y = n.outputs[0]!;
      const ax = n.attrs.axis;
      const g = gy!;
      // softmax: y·(gy − Σ gy·y); log-softmax: gy − softmax·Σ gy.
      return [name === 'Softmax' ? y.mul(g.sub(g.mul(y).sum(ax, true))) : g.sub(y.exp().mul(g.sum(ax, true)))];
    },
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
  // With x̂ = (x − μ)·r, r = 1/√(σ² + ε) and g = gy·w: dx = r·(g − mean(g) − x̂·mean(g·x̂)) over the
  // last axis; dw = Σ gy·x̂, db = Σ gy over the other axes. The statistics are recomputed.
  vjp: (n, [gy]) => {
    const [x, w] = n.inputs as [Tensor, Tensor];
    const last = x.rank - 1;
    const centered = x.sub(x.mean(last, true));
    const r = centered.mul(centered).mean(last, true).add(n.attrs.epsilon).sqrt().reciprocal();
    const xhat = centered.mul(r);
    const g = gy!.mul(w);
    const dx = r.mul(g.sub(g.mean(last, true)).sub(xhat.mul(g.mul(xhat).mean(last, true))));
    const lead = x.shape.slice(0, -1).map((_, i) => i);
    const total = (t: Tensor) => (lead.length > 0 ? t.sum(lead) : t);
    return [dx, total(gy!.mul(xhat)), total(gy!)];
  },
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
  // A per-channel affine map of x: y = (x − m)·s + b with s = w/√(v + ε).
  vjp: (n, [gy]) => {
    const [x, w, , m, v] = n.inputs as [Tensor, Tensor, Tensor, Tensor, Tensor];
    const c = x.shape[1]!;
    const perChannel = (t: Tensor) => t.reshape([1, c, ...new Array<number>(x.rank - 2).fill(1)]);
    const others = x.shape.map((_, i) => i).filter((i) => i !== 1);
    const r = v.add(n.attrs.epsilon).sqrt().reciprocal();
    const scale = w.mul(r);
    const sumGy = gy!.sum(others);
    const sumGyXc = gy!.mul(x.sub(perChannel(m))).sum(others);
    return [
      gy!.mul(perChannel(scale)),
      sumGyXc.mul(r),
      sumGy,
      sumGy.mul(scale).neg(),
      sumGyXc.mul(w).mul(r.mul(r).mul(r)).mul(-0.5),
    ];
  },
});
