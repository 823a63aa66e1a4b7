/**
 * An ONNX model held in memory as plain data, for the export passes (BatchNorm folding, pruning,
 * dynamic batch, float16 and int8 weights) to rewrite before the file is written. Only the parts
 * of ModelProto segkit writes are modelled; tensors keep their bytes as little-endian raw data.
 */

/** ONNX TensorProto.DataType codes used here. */
export const ONNX_TYPE = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11 } as const;

const TYPE_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8 };

export const typeName = (code: number): string => Object.entries(ONNX_TYPE).find(([, v]) => v === code)?.[0] ?? `type ${code}`;

/** An initializer (or tensor attribute): dims, element type and little-endian bytes. */
export interface OnnxTensor {
  name: string;
  dataType: number;
  dims: number[];
  raw: Uint8Array;
}

export type OnnxAttribute =
  | { name: string; type: 'FLOAT'; f: number }
  | { name: string; type: 'INT'; i: number }
  | { name: string; type: 'STRING'; s: string }
  | { name: string; type: 'TENSOR'; t: OnnxTensor }
  | { name: string; type: 'FLOATS'; floats: number[] }
  | { name: string; type: 'INTS'; ints: number[] }
  | { name: string; type: 'STRINGS'; strings: string[] };

export interface OnnxNode {
  name: string;
  opType: string;
  /** '' for the default ONNX domain. */
  domain: string;
  /** '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attributes: OnnxAttribute[];
}

/** A graph input/output or value_info: element type and dims (a number, a symbolic name, or null when unknown). */
export interface OnnxValueInfo {
  name: string;
  elemType: number;
  /** null: no shape recorded. */
  dims: (number | string | null)[] | null;
}

export interface OnnxGraph {
  name: string;
  docString?: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  valueInfo: OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  docString?: string;
  opsets: { domain: string; version: number }[];
  graph: OnnxGraph;
  /** metadata_props, in order. */
  metadata: [string, string][];
}

export const numel = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/** An aligned copy of the bytes when a typed view of them would be misaligned. */
function aligned(raw: Uint8Array, bytes: number): ArrayBuffer {
  if (raw.byteOffset % bytes === 0) return raw.buffer as ArrayBuffer;
  return raw.slice().buffer as ArrayBuffer;
}

function view<T>(t: OnnxTensor, code: number, bytes: number, make: (b: ArrayBuffer, off: number, n: number) => T): T {
  if (t.dataType !== code) throw new Error(`ONNX tensor '${t.name}' is ${typeName(t.dataType)}; expected ${typeName(code)}`);
  const n = numel(t.dims);
  if (t.raw.length !== n * bytes) throw new Error(`ONNX tensor '${t.name}' has ${t.raw.length} bytes for dims [${t.dims}]; expected ${n * bytes}`);
  const buf = aligned(t.raw, bytes);
  return make(buf, buf === t.raw.buffer ? t.raw.byteOffset : 0, n);
}

/** The values of a FLOAT tensor (a view when aligned; do not write to it). */
export const float32Of = (t: OnnxTensor): Float32Array => view(t, ONNX_TYPE.FLOAT, 4, (b, o, n) => new Float32Array(b, o, n));
/** The values of an INT64 tensor. */
export const int64Of = (t: OnnxTensor): BigInt64Array => view(t, ONNX_TYPE.INT64, 8, (b, o, n) => new BigInt64Array(b, o, n));
/** The raw half bits of a FLOAT16 tensor. */
export const float16BitsOf = (t: OnnxTensor): Uint16Array => view(t, ONNX_TYPE.FLOAT16, 2, (b, o, n) => new Uint16Array(b, o, n));

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export function tensorFromFloat32(name: string, dims: readonly number[], data: Float32Array): OnnxTensor {
  return { name, dataType: ONNX_TYPE.FLOAT, dims: [...dims], raw: bytesOf(data) };
}
export function tensorFromInt64(name: string, dims: readonly number[], data: readonly number[] | BigInt64Array): OnnxTensor {
  const a = data instanceof BigInt64Array ? data : BigInt64Array.from(data, (v) => BigInt(v));
  return { name, dataType: ONNX_TYPE.INT64, dims: [...dims], raw: bytesOf(a) };
}
export function tensorFromBytes(name: string, dataType: number, dims: readonly number[], data: ArrayBufferView): OnnxTensor {
  const n = numel(dims);
  const want = n * (TYPE_BYTES[dataType] ?? NaN);
  const raw = bytesOf(data);
  if (raw.length !== want) throw new Error(`tensorFromBytes: '${name}' has ${raw.length} bytes; ${typeName(dataType)} [${dims}] needs ${want}`);
  return { name, dataType, dims: [...dims], raw };
}

export const elementBytes = (dataType: number): number => TYPE_BYTES[dataType] ?? 0;

/**
 * Visits a row-major tensor of `dims` as contiguous runs [start, end) that each lie in one index
 * `ch` of `axis` (one run per channel for axis 0; one per (leading index, channel) otherwise).
 */
export function forEachChannelBlock(dims: readonly number[], axis: number, visit: (ch: number, start: number, end: number) => void): void {
  const c = dims[axis]!;
  const inner = numel(dims.slice(axis + 1));
  const outer = numel(dims.slice(0, axis));
  for (let o = 0, base = 0; o < outer; o++) {
    for (let ch = 0; ch < c; ch++, base += inner) visit(ch, base, base + inner);
  }
}

/** Attribute lookup with a default. */
export function attr(n: OnnxNode, name: string): OnnxAttribute | undefined {
  return n.attributes.find((a) => a.name === name);
}
export function intAttr(n: OnnxNode, name: string, fallback: number): number {
  const a = attr(n, name);
  return a?.type === 'INT' ? a.i : fallback;
}
export function floatAttr(n: OnnxNode, name: string, fallback: number): number {
  const a = attr(n, name);
  return a?.type === 'FLOAT' ? a.f : fallback;
}

/**
 * A depth-wise 1×1 convolution by ones without bias: segkit writes one in front of a LeakyRelu
 * only to keep onnxruntime in its blocked layout (engine/ops/elementwise.ts, PRelu). It computes
 * the identity, so int8 leaves it alone: no quantized weights, no quantized input.
 */
export function isIdentityConv(n: OnnxNode, initializers: ReadonlyMap<string, OnnxTensor>): boolean {
  const w = initializers.get(n.inputs[1] ?? '');
  if (n.opType !== 'Conv' || n.domain !== '' || (n.inputs[2] ?? '') !== '' || !w || w.dataType !== ONNX_TYPE.FLOAT) return false;
  const [c, perGroup, kh, kw] = w.dims;
  return w.dims.length === 4 && perGroup === 1 && kh === 1 && kw === 1 && intAttr(n, 'group', 1) === c && float32Of(w).every((v) => v === 1);
}

/** Lookup tables over a graph, rebuilt after each structural change (they are cheap). */
export class GraphIndex {
  readonly initializers = new Map<string, OnnxTensor>();
  readonly producer = new Map<string, OnnxNode>();
  readonly consumers = new Map<string, { node: OnnxNode; index: number }[]>();
  readonly outputs: Set<string>;
  private readonly names = new Set<string>();

  constructor(readonly graph: OnnxGraph) {
    for (const t of graph.initializers) this.initializers.set(t.name, t);
    for (const v of graph.inputs) this.names.add(v.name);
    for (const n of graph.nodes) {
      for (const o of n.outputs) {
        this.producer.set(o, n);
        this.names.add(o);
      }
      n.inputs.forEach((x, index) => {
        if (!x) return;
        let list = this.consumers.get(x);
        if (!list) this.consumers.set(x, (list = []));
        list.push({ node: n, index });
      });
    }
    for (const t of graph.initializers) this.names.add(t.name);
    this.outputs = new Set(graph.outputs.map((o) => o.name));
  }

  /** A value name not used anywhere in the graph (reserved on return). */
  fresh(hint: string): string {
    let n = hint;
    for (let k = 1; this.names.has(n); k++) n = `${hint}_${k}`;
    this.names.add(n);
    return n;
  }

  consumersOf(name: string): { node: OnnxNode; index: number }[] {
    return this.consumers.get(name) ?? [];
  }
}

/** Node counts by op type, e.g. { Conv: 20, Relu: 17 }. */
export function opCounts(m: OnnxModel): Record<string, number> {
  const c: Record<string, number> = {};
  for (const n of m.graph.nodes) c[n.opType] = (c[n.opType] ?? 0) + 1;
  return c;
}

/** Bytes held by initializers, by ONNX type name. */
export function weightBytes(m: OnnxModel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of m.graph.initializers) out[typeName(t.dataType)] = (out[typeName(t.dataType)] ?? 0) + t.raw.length;
  return out;
}
