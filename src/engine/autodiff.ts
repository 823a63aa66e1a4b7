import { isFloat } from './dtype.js';
import type { Tensor } from './graph.js';
import { fmt, sameShape } from './shape.js';

/**
 * Reverse-mode gradients of `loss` with respect to `wrt`, built as more nodes of the same graph
 * (so the backward pass is written to ONNX and run like the forward).
 *
 * `loss` must have one element unless `seed`, the cotangent of `loss` (same shape), is given.
 * Only float tensors carry gradients (indices, masks and comparison results are constants to
 * autodiff, as in PyTorch). The result has one entry per `wrt` tensor: its gradient, or null when
 * the loss does not depend on it through float ops.
 */
export function grad(loss: Tensor, wrt: readonly Tensor[], seed?: Tensor): (Tensor | null)[] {
  const g = loss.graph;
  if (!isFloat(loss.dtype)) throw new Error(`grad: the loss must be a float tensor, got ${loss}`);
  for (const t of wrt) {
    if (t.graph !== g) throw new Error('grad: a wrt tensor belongs to another trace than the loss');
    if (!isFloat(t.dtype)) throw new Error(`grad: can only differentiate with respect to float tensors, got ${t}`);
  }
  let cotangent: Tensor;
  if (seed) {
    if (seed.graph !== g) throw new Error('grad: the seed belongs to another trace than the loss');
    if (!sameShape(seed.shape, loss.shape) || seed.dtype !== loss.dtype) {
      throw new Error(`grad: the seed ${seed} must have the loss's shape and dtype (${loss})`);
    }
    cotangent = seed;
  } else {
    if (loss.size !== 1) {
      throw new Error(`grad: the loss must be a scalar (one element), got ${loss}; pass a seed (the output cotangent) for a non-scalar output`);
    }
    const one = loss.dtype === 'float32' ? g.scalar(1) : g.scalar(1).cast(loss.dtype);
    cotangent = loss.rank === 0 ? one : one.reshape(loss.shape);
  }

  // Forward sweep: the float tensors that depend on some wrt tensor. Only they receive gradients,
  // which keeps the walk below on the paths between wrt and the loss.
  const end = loss.node ? g.nodes.indexOf(loss.node) : -1;
  const live = new Set<Tensor>(wrt);
  for (let i = 0; i <= end; i++) {
    const n = g.nodes[i]!;
    if (n.inputs.some((x) => live.has(x))) for (const o of n.outputs) if (isFloat(o.dtype)) live.add(o);
  }

  // Backward sweep in reverse trace order: every consumer of a tensor comes after it, so its
  // cotangent is complete when its producer is reached.
  const grads = new Map<Tensor, Tensor>();
  const accumulate = (t: Tensor, gt: Tensor): void => {
    const prev = grads.get(t);
    grads.set(t, prev ? prev.add(gt) : gt);
  };
  if (live.has(loss)) accumulate(loss, cotangent);
  for (let i = end; i >= 0; i--) {
    const n = g.nodes[i]!;
    const gouts = n.outputs.map((o) => grads.get(o) ?? null);
    if (gouts.every((x) => x === null)) continue;
    if (!n.op.vjp) {
      const to = n.inputs.filter((x) => live.has(x)).map(String).join(', ');
      throw new Error(`grad: the gradient must flow through ${n.op.name}, which is not differentiable (no vjp), to its input ${to}`);
    }
    const gins = n.op.vjp(n, gouts);
    n.inputs.forEach((x, k) => {
      const gx = gins[k];
      if (!gx || !live.has(x)) return;
      if (!sameShape(gx.shape, x.shape)) {
        throw new Error(`internal error: the vjp of ${n.op.name} gave input ${k} a gradient of shape ${fmt(gx.shape)}, but the input is ${x}`);
      }
      accumulate(x, gx);
    });
  }
  return wrt.map((t) => grads.get(t) ?? null);
}

/**
 * Sums a gradient of a broadcast result back to the shape of the operand that was broadcast:
 * ReduceSum over the added leading axes and the axes where the operand had size 1, then reshape.
 */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const ok = lead >= 0 && shape.every((d, i) => d === 1 || d === g.shape[lead + i]);
  if (!ok) throw new Error(`sumToShape: ${fmt(shape)} does not broadcast to the gradient's shape ${fmt(g.shape)}`);
  const axes = g.shape.map((_, i) => i).filter((i) => i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1));
  return (axes.length > 0 ? g.sum(axes, true) : g).reshape(shape);
}
