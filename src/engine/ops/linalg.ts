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
});
