import { DTYPES, type DType } from '../dtype.js';
import { HostTensor } from '../host-tensor.js';
import type { Graph, Node, Tensor } from '../graph.js';
import type { OnnxAttr, OnnxEmitter } from './emitter.js';
import { ProtoWriter } from './protobuf.js';

/** ONNX IR version 8 with opset 17: what onnx 1.12+ checks and every onnxruntime ≥ 1.12 runs. */
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;

export interface OnnxWriteOptions {
  /** Model metadata (class names, palette, mean/std …) as ONNX metadata_props. */
  metadata?: Record<string, string>;
  docString?: string;
  graphName?: string;
  /** Graph-input dims to write as symbolic (dim_param), e.g. { input: { 0: 'batch' } }. */
  dynamicDims?: Record<string, Record<number, string>>;
}

// ONNX protobuf field numbers (onnx/onnx.proto).
const F = {
  model: { irVersion: 1, producerName: 2, producerVersion: 3, docString: 6, graph: 7, opsetImport: 8, metadataProps: 14 },
  opset: { domain: 1, version: 2 },
  graph: { node: 1, name: 2, initializer: 5, docString: 10, input: 11, output: 12, valueInfo: 13 },
  node: { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 },
  attr: { name: 1, f: 2, i: 3, s: 4, t: 5, floats: 7, ints: 8, type: 20 },
  attrType: { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 },
  tensor: { dims: 1, dataType: 2, name: 8, rawData: 9 },
  valueInfo: { name: 1, type: 2 },
  typeProto: { tensorType: 1 },
  tensorType: { elemType: 1, shape: 2 },
  shape: { dim: 1 },
  dim: { value: 1, param: 2 },
  entry: { key: 1, value: 2 },
} as const;

/** Little-endian bytes of a host tensor (every platform segkit runs on is little-endian). */
function rawBytes(t: HostTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

function tensorProto(name: string, t: HostTensor): ProtoWriter {
  return new ProtoWriter()
    .packedInts(F.tensor.dims, t.shape)
    .int(F.tensor.dataType, DTYPES[t.dtype].onnx)
    .string(F.tensor.name, name)
    .bytes(F.tensor.rawData, rawBytes(t));
}

function attrProto(name: string, a: OnnxAttr): ProtoWriter {
  const w = new ProtoWriter().string(F.attr.name, name);
  if ('i' in a) w.int(F.attr.i, a.i).int(F.attr.type, F.attrType.INT);
  else if ('f' in a) w.float(F.attr.f, a.f).int(F.attr.type, F.attrType.FLOAT);
  else if ('s' in a) w.string(F.attr.s, a.s).int(F.attr.type, F.attrType.STRING);
  else if ('ints' in a) w.packedInts(F.attr.ints, a.ints).int(F.attr.type, F.attrType.INTS);
  else if ('floats' in a) w.packedFloats(F.attr.floats, a.floats).int(F.attr.type, F.attrType.FLOATS);
  else w.message(F.attr.t, tensorProto('', a.t)).int(F.attr.type, F.attrType.TENSOR);
  return w;
}

function valueInfo(name: string, shape: readonly number[], dtype: DType, symbolic?: Record<number, string>): ProtoWriter {
  const dims = new ProtoWriter();
  shape.forEach((d, i) => {
    const dim = new ProtoWriter();
    if (symbolic?.[i] !== undefined) dim.string(F.dim.param, symbolic[i]!);
    else dim.int(F.dim.value, d);
    dims.message(F.shape.dim, dim);
  });
  const tensorType = new ProtoWriter().int(F.tensorType.elemType, DTYPES[dtype].onnx).message(F.tensorType.shape, dims);
  const type = new ProtoWriter().message(F.typeProto.tensorType, tensorType);
  return new ProtoWriter().string(F.valueInfo.name, name).message(F.valueInfo.type, type);
}

/** Nodes that contribute to the outputs, in trace (topological) order. */
function liveNodes(outputs: readonly Tensor[]): Node<any>[] {
  const live = new Set<Node<any>>();
  const stack = outputs.map((t) => t.node).filter((n): n is Node<any> => n !== null);
  while (stack.length) {
    const n = stack.pop()!;
    if (live.has(n)) continue;
    live.add(n);
    for (const x of n.inputs) if (x.node && !live.has(x.node)) stack.push(x.node);
  }
  const g = outputs[0]?.graph;
  return g ? g.nodes.filter((n) => live.has(n)) : [];
}

class Emitter implements OnnxEmitter {
  readonly nodes: ProtoWriter[] = [];
  readonly initializers: ProtoWriter[] = [];
  private readonly names = new Map<Tensor, string>();
  private readonly int64Cache = new Map<string, string>();
  private readonly used = new Set<string>();
  private counter = 0;
  private readonly useCounts = new Map<Tensor, number>();

  constructor(graph: Graph, outputNames: Map<Tensor, string>, nodes: readonly Node<any>[], outputs: readonly Tensor[]) {
    for (const t of [...nodes.flatMap((n) => n.inputs), ...outputs]) this.useCounts.set(t, (this.useCounts.get(t) ?? 0) + 1);
    for (const t of graph.inputs) this.bind(t, t.name!);
    for (const t of graph.constants.keys()) if (t.name) this.bind(t, t.name);
    for (const [t, n] of outputNames) if (!this.names.has(t)) this.bind(t, n);
  }

  private bind(t: Tensor, n: string): void {
    this.names.set(t, n);
    this.used.add(n);
  }

  name(t: Tensor): string {
    let n = this.names.get(t);
    if (!n) {
      n = this.temp(`t${t.id}`);
      this.names.set(t, n);
    }
    return n;
  }

  uses(t: Tensor): number {
    return this.useCounts.get(t) ?? 0;
  }

  temp(hint: string): string {
    let n = hint;
    while (this.used.has(n)) n = `${hint}_${++this.counter}`;
    this.used.add(n);
    return n;
  }

  node(opType: string, inputs: readonly string[], outputs: readonly string[], attrs: Record<string, OnnxAttr> = {}): void {
    const w = new ProtoWriter();
    for (const i of inputs) w.string(F.node.input, i);
    for (const o of outputs) w.string(F.node.output, o);
    w.string(F.node.name, `${opType}_${this.nodes.length}`).string(F.node.opType, opType);
    for (const [k, v] of Object.entries(attrs)) w.message(F.node.attribute, attrProto(k, v));
    this.nodes.push(w);
  }

  int64s(values: readonly number[]): string {
    const key = values.join(',');
    let n = this.int64Cache.get(key);
    if (!n) {
      n = this.initializer(new HostTensor(BigInt64Array.from(values, BigInt), [values.length], 'int64'), 'const_i64');
      this.int64Cache.set(key, n);
    }
    return n;
  }

  initializer(value: HostTensor, hint: string): string {
    const n = this.temp(hint);
    this.initializers.push(tensorProto(n, value));
    return n;
  }
}

/**
 * Serialises a traced graph as an ONNX ModelProto. Only nodes that reach the outputs are written;
 * every declared graph input is kept so the model's signature is what the caller declared.
 */
export function writeOnnx(graph: Graph, outputs: Record<string, Tensor>, opts: OnnxWriteOptions = {}): Uint8Array {
  const outEntries = Object.entries(outputs);
  if (outEntries.length === 0) throw new Error('writeOnnx: a graph needs at least one output');
  // An output that is also an input, a constant, or another output needs its own name via Identity.
  const outputNames = new Map<Tensor, string>();
  const aliased: [string, Tensor][] = [];
  for (const [name, t] of outEntries) {
    if (t.graph !== graph) throw new Error(`writeOnnx: output '${name}' belongs to another graph`);
    if (t.node && !outputNames.has(t)) outputNames.set(t, name);
    else aliased.push([name, t]);
  }
  const nodes = liveNodes(outEntries.map(([, t]) => t));
  const e = new Emitter(graph, outputNames, nodes, outEntries.map(([, t]) => t));
  for (const n of nodes) n.op.onnx(n, e);
  for (const [name, t] of aliased) e.node('Identity', [e.name(t)], [name]);

  const liveConstants = new Set<Tensor>();
  for (const n of nodes) for (const x of n.inputs) if (graph.constants.has(x)) liveConstants.add(x);
  for (const [, t] of aliased) if (graph.constants.has(t)) liveConstants.add(t);

  const g = new ProtoWriter();
  for (const n of e.nodes) g.message(F.graph.node, n);
  g.string(F.graph.name, opts.graphName ?? 'segkit');
  for (const [t, v] of graph.constants) if (liveConstants.has(t)) g.message(F.graph.initializer, tensorProto(e.name(t), v));
  for (const init of e.initializers) g.message(F.graph.initializer, init);
  for (const t of graph.inputs) g.message(F.graph.input, valueInfo(t.name!, t.shape, t.dtype, opts.dynamicDims?.[t.name!]));
  for (const [name, t] of outEntries) g.message(F.graph.output, valueInfo(name, t.shape, t.dtype));
  for (const n of nodes) {
    for (const t of n.outputs) {
      if (!outputNames.has(t)) g.message(F.graph.valueInfo, valueInfo(e.name(t), t.shape, t.dtype));
    }
  }

  const m = new ProtoWriter()
    .int(F.model.irVersion, ONNX_IR_VERSION)
    .string(F.model.producerName, 'segkit')
    .string(F.model.producerVersion, '0.1.0');
  if (opts.docString) m.string(F.model.docString, opts.docString);
  m.message(F.model.graph, g).message(F.model.opsetImport, new ProtoWriter().string(F.opset.domain, '').int(F.opset.version, ONNX_OPSET));
  for (const [k, v] of Object.entries(opts.metadata ?? {})) {
    m.message(F.model.metadataProps, new ProtoWriter().string(F.entry.key, k).string(F.entry.value, v));
  }
  return m.finish();
}
