import { sumToShape } from '../autodiff.js';
import type { Tensor } from '../graph.js';
import { emitSimple } from '../onnx/emitter.js';
import { check, defineOp } from '../op.js';
import { broadcastShapes, fmt } from '../shape.js';

/** Batched matrix product with NumPy broadcasting of the leading dims; both operands rank ≥ 2. */
export const MatMul = defineOp<{}>({
  name: 'MatMul',
  infer: (inputs) => {
    const [a, b] = inputs as [Tensor, Tensor];
    check(a.shape.length >= 2 && b.shape.length >= 2, 'MatMul', 'both operands must have rank ≥ 2', inputs);
    check(a.dtype === b.dtype, 'MatMul', 'operands must have the same dtype', inputs);
    const k1 = a.shape[a.shape.length - 1]!;
    const k2 = b.shape[b.shape.length - 2]!;
    check(k1 === k2, 'MatMul', `inner dimensions must match: a[..., ${k1}] · b[..., ${k2}, :]`, inputs);
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
    check(batch !== null, 'MatMul', `batch dims ${fmt(a.shape.slice(0, -2))} and ${fmt(b.shape.slice(0, -2))} do not broadcast`, inputs);
    return [{ shape: [...batch!, a.shape[a.shape.length - 2]!, b.shape[b.shape.length - 1]!], dtype: a.dtype }];
  },
  onnx: (n, e) => emitSimple(e, 'MatMul', n),
  // da = gy·bᵀ, db = aᵀ·gy, summed over the batch dims each operand was broadcast along.
  vjp: (n, [gy]) => {
    const [a, b] = n.inputs as [Tensor, Tensor];
    const g = gy!;
    const ga = sumToShape(g.matmul(b.transpose(-1, -2)), a.shape);
    // A matrix shared by a batch (a Linear weight): fold the batch into one product instead of
    // a batch of products and a ReduceSum.
    const gb = b.rank === 2 && a.rank > 2
      ? a.reshape([-1, a.shape[a.rank - 1]!]).transpose(0, 1).matmul(g.reshape([-1, g.shape[g.rank - 1]!]))
      : sumToShape(a.transpose(-1, -2).matmul(g), b.shape);
    return [ga, gb];
  },
});
