import type { DType } from './dtype.js';
import type { Node, Tensor } from './graph.js';
import type { OnnxEmitter } from './onnx/emitter.js';
import { fmt } from './shape.js';

/** The static type of one op output. */
export interface OutType {
  shape: number[];
  dtype: DType;
}

/**
 * One IR op: its shape/type rule, how it lowers to ONNX, and (for differentiable ops) its
 * vector-Jacobian product, side by side. Attributes are plain, static data (shapes are static).
 */
export interface OpDef<A = Record<string, unknown>> {
  readonly name: string;
  /** Types of the outputs; throws a ShapeError naming the op, the shapes and the rule. */
  infer(inputs: readonly Tensor[], attrs: A): OutType[];
  /** Writes the ONNX node(s) computing the outputs of `node`. */
  onnx(node: Node<A>, e: OnnxEmitter): void;
  /**
   * Gradients of the inputs given gradients of the outputs (null = no gradient flows), built from
   * traced ops so the backward pass is itself a graph. Absent for non-differentiable ops.
   */
  vjp?(node: Node<A>, gradOutputs: readonly (Tensor | null)[]): (Tensor | null)[];
}

export function defineOp<A = Record<string, unknown>>(def: OpDef<A>): OpDef<A> {
  return def;
}

/** A shape or type rule was broken while tracing. The message names the op, the rule and the shapes. */
export class ShapeError extends Error {
  constructor(op: string, rule: string, inputs: readonly { shape: readonly number[]; dtype?: DType }[]) {
    const shapes = inputs.map((t) => fmt(t.shape) + (t.dtype && t.dtype !== 'float32' ? ` ${t.dtype}` : '')).join(', ');
    super(`${op}: ${rule} (input shapes: ${shapes})`);
    this.name = 'ShapeError';
  }
}

/** Throws a ShapeError unless `ok`. */
export function check(ok: boolean, op: string, rule: string, inputs: readonly { shape: readonly number[]; dtype?: DType }[]): void {
  if (!ok) throw new ShapeError(op, rule, inputs);
}
