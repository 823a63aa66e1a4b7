import type { Tensor } from '../graph.js';
import { HostTensor } from '../host-tensor.js';
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

/**
 * Training-form batch norm, fused: batch statistics over every axis but 1, then the inference-form
 * normalisation with them. Outputs: y, batch mean [C], biased batch variance [C].
 * One op instead of a chain of element-wise ops because its backward, written out by hand, needs
 * three full passes over x-sized tensors where the autodiff of the chain needs about eight.
 */
export const BatchNormTrain = defineOp<{ epsilon: number }>({
  name: 'BatchNormTrain',
  infer: (inputs) => {
    const [x, w, b] = inputs as [Tensor, Tensor, Tensor];
    check(x.shape.length >= 2, 'BatchNormTrain', 'input must have rank ≥ 2 [N, C, ...]', inputs);
    const c = x.shape[1]!;
    check(w.shape.length === 1 && w.shape[0] === c && b.shape.length === 1 && b.shape[0] === c, 'BatchNormTrain', `weight and bias must have shape [${c}]`, inputs);
    return [{ shape: [...x.shape], dtype: x.dtype }, { shape: [c], dtype: x.dtype }, { shape: [c], dtype: x.dtype }];
  },
  onnx: (n, e) => {
    const [x, w, b] = n.inputs.map((t) => e.name(t)) as [string, string, string];
    const [y, mean, variance] = n.outputs.map((t) => e.name(t)) as [string, string, string];
    const axes = n.inputs[0]!.shape.map((_, i) => i).filter((i) => i !== 1);
    const c = n.inputs[0]!.shape[1]!;
    const [mk, d, ss, vk] = ['mean_k', 'centered', 'sum_squares', 'var_k'].map((h) => e.temp(`bn_${h}`)) as [string, string, string, string];
    e.node('ReduceMean', [x], [mk], { axes: { ints: axes }, keepdims: { i: 1 } });
    e.node('Sub', [x, mk], [d]);
    // Two-pass variance (no cancellation); ReduceSumSquare spares writing and reading (x − μ)².
    e.node('ReduceSumSquare', [d], [ss], { axes: { ints: axes }, keepdims: { i: 1 } });
    e.node('Mul', [ss, e.initializer(new HostTensor(Float32Array.of(c / n.inputs[0]!.size), []), 'bn_inv_count')], [vk]);
    e.node('Reshape', [mk, e.int64s([c])], [mean]);
    e.node('Reshape', [vk, e.int64s([c])], [variance]);
    e.node('BatchNormalization', [x, w, b, mean, variance], [y], { epsilon: { f: n.attrs.epsilon } });
  },
  // With μ, σ² the batch statistics, r = 1/√(σ² + ε), M = elements per channel, S = Σ gy,
  // T = Σ gy·(x − μ):  dw = r·T,  db = S,  dx = a·gy + β·x + c per channel, where a = w·r,
  // β = −w·r³·T/M, c = −a·S/M − β·μ. Gradients reaching the mean and variance outputs add
  // gμ/M and 2·gσ²·(x − μ)/M, folded into β and c. β·x + c is one inference-form BatchNorm pass.
  vjp: (n, [gy, gMean, gVar]) => {
    const [x, w] = n.inputs as [Tensor, Tensor];
    const [, mean, variance] = n.outputs as [Tensor, Tensor, Tensor];
    const c = x.shape[1]!;
    const m = x.size / c;
    const others = x.shape.map((_, i) => i).filter((i) => i !== 1);
    const r = variance.add(n.attrs.epsilon).sqrt().reciprocal();
    let beta: Tensor | null = null;
    let shift: Tensor | null = null;
    let dx: Tensor | null = null;
    let dw: Tensor | null = null;
    let db: Tensor | null = null;
    if (gy) {
      const s = gy.sum(others);
      const t = gy.mul(x).sum(others).sub(mean.mul(s));
      const a = w.mul(r);
      beta = w.mul(r.mul(r).mul(r)).mul(t).mul(-1 / m);
      shift = a.mul(s).mul(-1 / m);
      dx = gy.mul(a.reshape([1, c, ...new Array<number>(x.rank - 2).fill(1)]));
      dw = r.mul(t);
      db = s;
    }
    if (gVar) {
      const k = gVar.mul(2 / m);
      beta = beta ? beta.add(k) : k;
    }
    if (gMean) {
      const k = gMean.mul(1 / m);
      shift = shift ? shift.add(k) : k;
    }
    if (beta || shift) {
      const zeros = x.graph.constant(new HostTensor(new Float32Array(c), [c]));
      const ones = x.graph.constant(new HostTensor(new Float32Array(c).fill(1), [c]));
      const slope = beta ?? zeros;
      const offset = beta ? (shift ? shift.sub(beta.mul(mean)) : beta.mul(mean).neg()) : shift!;
      // slope·x + offset as BatchNorm with mean 0, var 1, ε 0: one pass instead of a Mul and an Add.
      const affine = x.graph.apply(BatchNorm, [x, slope, offset, zeros, ones], { epsilon: 0 })[0]!;
      dx = dx ? dx.add(affine) : affine;
    }
    return [dx, dw, db];
  },
});
