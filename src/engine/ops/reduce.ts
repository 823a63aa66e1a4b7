import type { Node, Tensor } from '../graph.js';
import { check, defineOp } from '../op.js';
import { normAxis } from '../shape.js';

export interface ReduceAttrs {
  /** Normalised (non-negative), sorted, unique axes. */
  axes: number[];
  keepdims: boolean;
}

export function reducedShape(shape: readonly number[], axes: readonly number[], keepdims: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

/** The output gradient with the reduced axes restored as size 1, and the input. */
function keepDims(n: Node<ReduceAttrs>, gy: Tensor): [Tensor, Tensor] {
  const x = n.inputs[0]!;
  return [gy.reshape(reducedShape(x.shape, n.attrs.axes, true)), x];
}

const reduceGrads = {
  ReduceSum: (n: Node<ReduceAttrs>, gy: Tensor): Tensor => {
    const [g, x] = keepDims(n, gy);
    return g.expand(x.shape);
  },
  ReduceMean: (n: Node<ReduceAttrs>, gy: Tensor): Tensor => {
    const [g, x] = keepDims(n, gy);
    return g.mul(g.size / x.size).expand(x.shape);
  },
  // Every element equal to the max shares the gradient equally (PyTorch's amax).
  ReduceMax: (n: Node<ReduceAttrs>, gy: Tensor): Tensor => {
    const [g, x] = keepDims(n, gy);
    const hit = x.eq(n.outputs[0]!.reshape(g.shape)).cast(x.dtype);
    return hit.mul(g.div(hit.sum(n.attrs.axes, true)));
  },
};

function reduce(name: 'ReduceSum' | 'ReduceMean' | 'ReduceMax') {
  return defineOp<ReduceAttrs>({
    name,
    infer: (inputs, a) => {
      const x = inputs[0] as Tensor;
      for (const ax of a.axes) check(ax >= 0 && ax < x.shape.length, name, `axis ${ax} out of range for rank ${x.shape.length}`, inputs);
      return [{ shape: reducedShape(x.shape, a.axes, a.keepdims), dtype: x.dtype }];
    },
    onnx: (n, e) => {
      const keepdims = { i: n.attrs.keepdims ? 1 : 0 };
      const x = e.name(n.inputs[0]!);
      const y = e.name(n.outputs[0]!);
      // No axes reduces nothing here (ONNX would reduce every axis).
      if (n.attrs.axes.length === 0) e.node('Identity', [x], [y]);
      // Opset 13+ takes ReduceSum's axes as an input; ReduceMean/Max switch to that only in opset 18.
      else if (name === 'ReduceSum') e.node(name, [x, e.int64s(n.attrs.axes)], [y], { keepdims });
      else e.node(name, [x], [y], { axes: { ints: n.attrs.axes }, keepdims });
    },
    vjp: (n, [gy]) => [reduceGrads[name](n, gy!)],
  });
}

export const ReduceSum = reduce('ReduceSum');
export const ReduceMean = reduce('ReduceMean');
export const ReduceMax = reduce('ReduceMax');

/** Index of the first maximum along an axis (int64). */
export const ArgMax = defineOp<{ axis: number; keepdims: boolean }>({
  name: 'ArgMax',
  infer: (inputs, a) => {
    const x = inputs[0] as Tensor;
    const axis = normAxis(a.axis, x.shape.length, 'ArgMax');
    return [{ shape: reducedShape(x.shape, [axis], a.keepdims), dtype: 'int64' }];
  },
  onnx: (n, e) => {
    const axis = normAxis(n.attrs.axis, n.inputs[0]!.shape.length, 'ArgMax');
    e.node('ArgMax', [e.name(n.inputs[0]!)], [e.name(n.outputs[0]!)], { axis: { i: axis }, keepdims: { i: n.attrs.keepdims ? 1 : 0 } });
  },
});
