import type { Tensor } from '../graph.js';
import { HostTensor } from '../host-tensor.js';
import { check, defineOp, type OpDef } from '../op.js';
import { ScatterAdd } from './indexing.js';

export interface TopKAttrs {
  /** How many elements to keep along the axis (1..size of the axis). */
  k: number;
  /** Normalised (non-negative) axis. */
  axis: number;
  /** true: the k largest, in descending order; false: the k smallest, ascending. */
  largest: boolean;
}

/**
 * ONNX TopK (opset 11+), always sorted: the k largest (or smallest) values along an axis and their
 * int64 indices. Equal values keep their input order (lower index first), as ONNX specifies, so
 * the result is deterministic; k = the axis size is a full (stable) sort.
 */
export const TopK = defineOp<TopKAttrs>({
  name: 'TopK',
  infer: (inputs, { k, axis, largest }) => {
    const x = inputs[0] as Tensor;
    check(x.dtype !== 'bool', 'TopK', 'needs a numeric tensor, got bool', inputs);
    check(Number.isInteger(axis) && axis >= 0 && axis < x.shape.length, 'TopK', `axis ${axis} out of range for rank ${x.shape.length}`, inputs);
    const size = x.shape[axis]!;
    check(Number.isInteger(k) && k >= 1 && k <= size, 'TopK', `k must be an integer in [1, ${size}] (the size of axis ${axis}), got ${k}`, inputs);
    check(typeof largest === 'boolean', 'TopK', `largest must be a boolean, got ${String(largest)}`, inputs);
    const shape = x.shape.map((d, i) => (i === axis ? k : d));
    return [
      { shape, dtype: x.dtype },
      { shape: [...shape], dtype: 'int64' },
    ];
  },
  onnx: (n, e) => {
    e.node('TopK', [e.name(n.inputs[0]!), e.int64s([n.attrs.k])], n.outputs.map((t) => e.name(t)), {
      axis: { i: n.attrs.axis },
      largest: { i: n.attrs.largest ? 1 : 0 },
      sorted: { i: 1 },
    });
  },
  // Each selected value came from exactly one input element: scatter its gradient back there.
  vjp: (n, [gValues]) => {
    const x = n.inputs[0]!;
    const indices = n.outputs[1]!;
    return [x.graph.apply(ScatterAdd, [indices, gValues!], { axis: n.attrs.axis, shape: [...x.shape] })[0]!];
  },
});

export interface CumSumAttrs {
  /** Normalised (non-negative) axis. */
  axis: number;
  /** Sum from the end of the axis towards its start. */
  reverse: boolean;
}

/**
 * ONNX CumSum (opset 14 for these types), inclusive: y[i] = Σ_{j≤i} x[j] along the axis, or
 * Σ_{j≥i} x[j] when `reverse`. The axis travels as an int64 scalar input, as ONNX requires.
 */
export const CumSum: OpDef<CumSumAttrs> = defineOp<CumSumAttrs>({
  name: 'CumSum',
  infer: (inputs, { axis, reverse }) => {
    const x = inputs[0] as Tensor;
    // The types onnxruntime's CPU CumSum kernel implements.
    check(x.dtype === 'float32' || x.dtype === 'int32' || x.dtype === 'int64', 'CumSum', `needs a float32, int32 or int64 tensor, got ${x.dtype}`, inputs);
    check(Number.isInteger(axis) && axis >= 0 && axis < x.shape.length, 'CumSum', `axis ${axis} out of range for rank ${x.shape.length}`, inputs);
    check(typeof reverse === 'boolean', 'CumSum', `reverse must be a boolean, got ${String(reverse)}`, inputs);
    return [{ shape: [...x.shape], dtype: x.dtype }];
  },
  onnx: (n, e) => {
    const axis = e.initializer(new HostTensor(BigInt64Array.from([BigInt(n.attrs.axis)]), [], 'int64'), 'cumsum_axis');
    e.node('CumSum', [e.name(n.inputs[0]!), axis], [e.name(n.outputs[0]!)], {
      exclusive: { i: 0 },
      reverse: { i: n.attrs.reverse ? 1 : 0 },
    });
  },
  // x[j] reaches every y[i] with i ≥ j (forward), so its gradient sums gy over those i: the
  // cumulative sum of gy in the opposite direction.
  vjp: (n, [gy]) => [gy!.graph.apply(CumSum, [gy!], { axis: n.attrs.axis, reverse: !n.attrs.reverse })[0]!],
});
