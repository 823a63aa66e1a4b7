import type { HostTensor } from '../host-tensor.js';
import type { Tensor } from '../graph.js';

/** An ONNX attribute value, tagged with its ONNX type. */
export type OnnxAttr =
  | { i: number }
  | { f: number }
  | { s: string }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { t: HostTensor };

/** What an op's `onnx()` lowering uses to write ONNX nodes. */
export interface OnnxEmitter {
  /** The ONNX value name of a traced tensor. */
  name(t: Tensor): string;
  /** How many times the written graph reads this tensor: inputs of written nodes, plus graph outputs. */
  uses(t: Tensor): number;
  /** A fresh value name for an intermediate that only exists in the ONNX graph. */
  temp(hint: string): string;
  /** Appends an ONNX node (default domain). */
  node(opType: string, inputs: readonly string[], outputs: readonly string[], attrs?: Record<string, OnnxAttr>): void;
  /** Name of a 1-D int64 initializer with these values (deduplicated). */
  int64s(values: readonly number[]): string;
  /** Name of an initializer holding this host tensor. */
  initializer(value: HostTensor, hint: string): string;
}

/** The common case: one ONNX node whose inputs and outputs are those of the IR node. */
export function emitSimple(
  e: OnnxEmitter,
  opType: string,
  node: { inputs: readonly Tensor[]; outputs: readonly Tensor[] },
  attrs?: Record<string, OnnxAttr>,
): void {
  e.node(
    opType,
    node.inputs.map((t) => e.name(t)),
    node.outputs.map((t) => e.name(t)),
    attrs,
  );
}
