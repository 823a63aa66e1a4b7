import type { Tensor } from '../graph.js';
import { HostTensor } from '../host-tensor.js';
import { emitSimple } from '../onnx/emitter.js';
import { check, defineOp, type OpDef } from '../op.js';
import { keepWhere } from './elementwise.js';

/** ONNX Gather: out shape = x.shape[:axis] + indices.shape + x.shape[axis+1:]. */
export const Gather = defineOp<{ axis: number }>({
  name: 'Gather',
  infer: (inputs, { axis }) => {
    const [x, idx] = inputs as [Tensor, Tensor];
    check(idx.dtype === 'int64' || idx.dtype === 'int32', 'Gather', `indices must be int64 or int32, got ${idx.dtype}`, inputs);
    check(axis >= 0 && axis < x.shape.length, 'Gather', `axis ${axis} out of range for rank ${x.shape.length}`, inputs);
    return [{ shape: [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)], dtype: x.dtype }];
  },
  onnx: (n, e) => emitSimple(e, 'Gather', n, { axis: { i: n.attrs.axis } }),
  // Scatter-add gy back to the gathered rows (repeated indices accumulate); none for the indices.
  vjp: (n, [gy]) => {
    const [x, idx] = n.inputs as [Tensor, Tensor];
    const a = n.attrs.axis;
    const rows = idx.size;
    const upd = gy!.reshape([...x.shape.slice(0, a), rows, ...x.shape.slice(a + 1)]);
    const i64 = idx.dtype === 'int64' ? idx : idx.cast('int64');
    const index = i64.reshape(upd.shape.map((d, i) => (i === a ? d : 1))).expand(upd.shape);
    return [x.graph.apply(ScatterAdd, [index, upd], { axis: a, shape: [...x.shape] })[0]!, null];
  },
});

/** One-hot along a new last axis, float32; indices outside [0, depth) give all-zero rows. */
export const OneHot = defineOp<{ depth: number }>({
  name: 'OneHot',
  infer: (inputs, { depth }) => {
    const idx = inputs[0] as Tensor;
    check(idx.dtype === 'int64' || idx.dtype === 'int32', 'OneHot', `indices must be int64 or int32, got ${idx.dtype}`, inputs);
    check(Number.isInteger(depth) && depth > 0, 'OneHot', `depth must be a positive integer, got ${depth}`, inputs);
    return [{ shape: [...idx.shape, depth], dtype: 'float32' }];
  },
  onnx: (n, e) => {
    // ONNX OneHot wraps negative indices (−1 → depth−1); PyTorch-style ignore values are ≥ depth
    // (255) or negative (−100), so negatives are first moved out of range.
    const idx = n.inputs[0]!;
    const depth = e.initializer(new HostTensor(BigInt64Array.from([BigInt(n.attrs.depth)]), [1], 'int64'), 'onehot_depth');
    const values = e.initializer(new HostTensor(new Float32Array([0, 1]), [2]), 'onehot_values');
    const i64 = e.temp('onehot_idx');
    e.node('Cast', [e.name(idx)], [i64], { to: { i: 7 } });
    const zero = e.initializer(new HostTensor(new BigInt64Array(1), [], 'int64'), 'zero_i64');
    const neg = e.temp('onehot_neg');
    e.node('Less', [i64, zero], [neg]);
    const out = e.initializer(new HostTensor(BigInt64Array.from([BigInt(n.attrs.depth)]), [], 'int64'), 'onehot_oob');
    const safe = e.temp('onehot_safe');
    e.node('Where', [neg, out, i64], [safe]);
    e.node('OneHot', [safe, depth, values], [e.name(n.outputs[0]!)], { axis: { i: -1 } });
  },
});

/**
 * ONNX GatherElements (torch.gather): out[i][j][k] = x[idx[i][j][k]][j][k] for axis 0, and so on;
 * the output has the indices' shape. The gradient of ScatterAdd.
 */
export const GatherElements: OpDef<{ axis: number }> = defineOp<{ axis: number }>({
  name: 'GatherElements',
  infer: (inputs, { axis }) => {
    const [x, idx] = inputs as [Tensor, Tensor];
    check(idx.dtype === 'int64' || idx.dtype === 'int32', 'GatherElements', `indices must be int64 or int32, got ${idx.dtype}`, inputs);
    check(idx.shape.length === x.shape.length, 'GatherElements', 'indices must have the rank of the input', inputs);
    check(axis >= 0 && axis < x.shape.length, 'GatherElements', `axis ${axis} out of range for rank ${x.shape.length}`, inputs);
    check(idx.shape.every((d, i) => i === axis || d <= x.shape[i]!), 'GatherElements', 'indices may not be larger than the input off the axis', inputs);
    return [{ shape: [...idx.shape], dtype: x.dtype }];
  },
  onnx: (n, e) => emitSimple(e, 'GatherElements', n, { axis: { i: n.attrs.axis } }),
  vjp: (n, [gy]) => {
    const [x, idx] = n.inputs as [Tensor, Tensor];
    const axis = n.attrs.axis;
    const i64 = idx.dtype === 'int64' ? idx : idx.cast('int64');
    // One index per position along a short axis (a loss picking each pixel's class): the gradient is
    // gy wherever the index equals the position along the axis. Comparing against 0…K−1 runs in
    // parallel; onnxruntime's ScatterElements is a serial loop (8×11×360×480 in a train step:
    // 29 ms for the scatter, about 14 for the compare, cast and product).
    const onePerPosition = idx.shape[axis] === 1 && idx.shape.every((d, i) => i === axis || d === x.shape[i]);
    if (onePerPosition && x.shape[axis]! <= 256) {
      const k = x.shape[axis]!;
      const positions = new HostTensor(new BigInt64Array(k).map((_, i) => BigInt(i)), x.shape.map((d, i) => (i === axis ? d : 1)), 'int64');
      const wrapped = i64.add(i64.lt(0).cast('int64').mul(k)); // negative indices count from the end
      return [keepWhere(gy!, wrapped.eq(x.graph.constant(positions))), null];
    }
    return [x.graph.apply(ScatterAdd, [i64, gy!], { axis, shape: [...x.shape] })[0]!, null];
  },
});

/**
 * ScatterElements with add-reduction into zeros of `shape`: out[idx] += updates along `axis`.
 * The gradient of Gather, GatherElements, reflect/edge Pad and max pooling.
 */
export const ScatterAdd: OpDef<{ axis: number; shape: number[] }> = defineOp<{ axis: number; shape: number[] }>({
  name: 'ScatterAdd',
  infer: (inputs, a) => {
    const [idx, upd] = inputs as [Tensor, Tensor];
    check(idx.dtype === 'int64', 'ScatterAdd', 'indices must be int64', inputs);
    check(idx.shape.join() === upd.shape.join(), 'ScatterAdd', 'indices and updates must have the same shape', inputs);
    check(a.shape.length === upd.shape.length, 'ScatterAdd', 'output rank must equal the updates rank', inputs);
    return [{ shape: [...a.shape], dtype: upd.dtype }];
  },
  onnx: (n, e) => {
    const [idx, upd] = n.inputs as [Tensor, Tensor];
    const zeros = e.temp('scatter_zeros');
    e.node('ConstantOfShape', [e.int64s(n.attrs.shape)], [zeros], { value: { t: new HostTensor(new Float32Array(1), [1]) } });
    e.node('ScatterElements', [zeros, e.name(idx), e.name(upd)], [e.name(n.outputs[0]!)], {
      axis: { i: n.attrs.axis },
      reduction: { s: 'add' },
    });
  },
  vjp: (n, [gy]) => {
    const [idx] = n.inputs as [Tensor, Tensor];
    return [null, gy!.graph.apply(GatherElements, [gy!, idx], { axis: n.attrs.axis })[0]!];
  },
});
