import { DTYPES, type DType } from './dtype.js';
import { HostTensor } from './host-tensor.js';
import type { OpDef } from './op.js';
import { Parameter } from './parameter.js';
import { Tensor } from './tensor.js';

export { Tensor };

/** What ops accept as a second operand: a tensor, a Parameter, or a number (a scalar constant). */
export type TensorLike = Tensor | Parameter | number;

/** One op application: inputs and outputs are Tensors of the same graph. */
export class Node<A = Record<string, unknown>> {
  constructor(
    readonly op: OpDef<A>,
    readonly inputs: readonly Tensor[],
    readonly attrs: A,
    public outputs: Tensor[] = [],
  ) {}
}

/** How a traced graph refers to Parameters: baked-in constants (inference) or graph inputs (training). */
export type ParamMode = 'constant' | 'input';

/**
 * A graph being traced. Tensors are created by ops on other tensors of the same graph; nodes are
 * appended in trace order, which is a topological order.
 */
export class Graph {
  readonly nodes: Node<any>[] = [];
  readonly inputs: Tensor[] = [];
  /** Constant tensors and their host data (ONNX initializers). */
  readonly constants = new Map<Tensor, HostTensor>();
  /** Parameters read by this graph, in first-use order, with the tensor standing for each. */
  readonly params = new Map<Parameter, Tensor>();
  /** New values for buffers (e.g. BatchNorm running statistics) computed by a training-mode trace. */
  readonly updates = new Map<Parameter, Tensor>();
  /** Random keep-masks (dropout, drop-path) the graph takes as inputs, filled from a seeded generator per run. */
  readonly masks: { tensor: Tensor; keepProb: number }[] = [];
  private readonly paramNames = new Map<Parameter, string>();
  private readonly scalars = new Map<string, Tensor>();
  private readonly names = new Set<string>();
  private nextId = 0;

  constructor(readonly paramMode: ParamMode = 'constant') {}

  /** Gives parameters their dotted names (from Module.namedParameters()) before tracing. */
  nameParameters(named: Iterable<[string, Parameter]>): this {
    for (const [name, p] of named) this.paramNames.set(p, name);
    return this;
  }

  /** A new graph input. */
  input(name: string, shape: readonly number[], dtype: DType = 'float32'): Tensor {
    const t = this.newTensor([...shape], dtype, null, 0, this.claim(name));
    this.inputs.push(t);
    return t;
  }

  /** A constant from host data (becomes an ONNX initializer). */
  constant(value: HostTensor, name?: string): Tensor {
    const t = this.newTensor([...value.shape], value.dtype, null, 0, name ? this.claim(name) : undefined);
    this.constants.set(t, value);
    return t;
  }

  /** A rank-0 constant, shared by every use of the same value and dtype. */
  scalar(value: number, dtype: DType = 'float32'): Tensor {
    const key = `${dtype}:${Object.is(value, -0) ? '-0' : value}`;
    let t = this.scalars.get(key);
    if (!t) {
      const data = DTYPES[dtype].create(1);
      if (data instanceof BigInt64Array) data[0] = BigInt(value);
      else data[0] = value;
      t = this.constant(new HostTensor(data, [], dtype));
      this.scalars.set(key, t);
    }
    return t;
  }

  /** The tensor standing for a Parameter in this graph (created on first use). */
  param(p: Parameter): Tensor {
    let t = this.params.get(p);
    if (!t) {
      const name = this.claim(this.paramNames.get(p) ?? `param_${p.id}`);
      if (this.paramMode === 'input') {
        t = this.newTensor([...p.shape], p.value.dtype, null, 0, name);
        this.inputs.push(t);
      } else {
        t = this.constant(p.value, name);
      }
      this.params.set(p, t);
    }
    return t;
  }

  /** Records a buffer's new value (a training-mode side effect, applied after the graph runs). */
  updateBuffer(p: Parameter, value: Tensor): void {
    if (p.requiresGrad) throw new Error('updateBuffer: only buffers (requiresGrad = false) can be updated by a forward pass');
    if (value.shape.join() !== p.shape.join()) throw new Error(`updateBuffer: new value ${value} does not match the buffer shape [${p.shape}]`);
    this.updates.set(p, value);
  }

  /**
   * A 0/1 float mask input of `shape` with P(1) = keepProb, fed from a seeded generator at each
   * run, so dropout and drop-path are reproducible and the graph stays deterministic.
   */
  bernoulliMask(shape: readonly number[], keepProb: number): Tensor {
    const t = this.input(`mask_${this.masks.length}`, shape, 'float32');
    this.masks.push({ tensor: t, keepProb });
    return t;
  }

  /** Turns a number or Parameter into a tensor of this graph (numbers become scalars of `dtype`). */
  lift(v: TensorLike, dtype: DType = 'float32'): Tensor {
    if (typeof v === 'number') return this.scalar(v, dtype);
    if (v instanceof Parameter) return this.param(v);
    if (v.graph !== this) throw new Error('a tensor from another trace was used (tensors cannot cross graphs)');
    return v;
  }

  /** Applies an op: checks shapes (throws ShapeError), records the node, returns its outputs. */
  apply<A>(op: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor[] {
    for (const x of inputs) {
      if (x.graph !== this) throw new Error(`${op.name}: an input belongs to another graph (mixing tensors of two traces)`);
    }
    const types = op.infer(inputs, attrs);
    const node = new Node<A>(op, inputs, attrs);
    node.outputs = types.map((ty, i) => this.newTensor(ty.shape, ty.dtype, node as Node<any>, i));
    this.nodes.push(node as Node<any>);
    return node.outputs;
  }

  /** Reserves a unique value name (ONNX requires unique names). */
  private claim(name: string): string {
    let n = name;
    for (let k = 1; this.names.has(n); k++) n = `${name}_${k}`;
    this.names.add(n);
    return n;
  }

  private newTensor(shape: number[], dtype: DType, node: Node<any> | null, index: number, name?: string): Tensor {
    return new Tensor(this, this.nextId++, shape, dtype, node, index, name);
  }
}
