/**
 * Writes an {@link OnnxModel} back to ONNX bytes (proto-pieces.ts: each weight copied once; the
 * field numbers are onnx/onnx.proto's). The inverse of onnx-read.ts for every field it keeps.
 */
import { PieceWriter } from './proto-pieces.js';
import type { OnnxAttribute, OnnxModel, OnnxNode, OnnxTensor, OnnxValueInfo } from './onnx-model.js';

const ATTR_CODE: Record<OnnxAttribute['type'], number> = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 };

function tensorProto(t: OnnxTensor): PieceWriter {
  return new PieceWriter().packedInts(1, t.dims).int(2, t.dataType).string(8, t.name).bytes(9, t.raw);
}

function attributeProto(a: OnnxAttribute): PieceWriter {
  const w = new PieceWriter().string(1, a.name);
  if (a.type === 'FLOAT') w.float(2, a.f);
  else if (a.type === 'INT') w.int(3, a.i);
  else if (a.type === 'STRING') w.string(4, a.s);
  else if (a.type === 'TENSOR') w.message(5, tensorProto(a.t));
  else if (a.type === 'FLOATS') w.packedFloats(7, a.floats);
  else if (a.type === 'INTS') w.packedInts(8, a.ints);
  else for (const s of a.strings) w.string(9, s);
  return w.int(20, ATTR_CODE[a.type]);
}

function nodeProto(n: OnnxNode): PieceWriter {
  const w = new PieceWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const a of n.attributes) w.message(5, attributeProto(a));
  if (n.domain) w.string(7, n.domain);
  return w;
}

function valueInfoProto(v: OnnxValueInfo): PieceWriter {
  const tensorType = new PieceWriter().int(1, v.elemType);
  if (v.dims) {
    const shape = new PieceWriter();
    for (const d of v.dims) {
      const dim = new PieceWriter();
      if (typeof d === 'number') dim.int(1, d);
      else if (typeof d === 'string') dim.string(2, d);
      shape.message(1, dim);
    }
    tensorType.message(2, shape);
  }
  return new PieceWriter().string(1, v.name).message(2, new PieceWriter().message(1, tensorType));
}

/** Serialises the model (graph, opsets, metadata_props) as ONNX bytes. */
export function encodeOnnx(m: OnnxModel): Uint8Array {
  const g = new PieceWriter();
  for (const n of m.graph.nodes) g.message(1, nodeProto(n));
  g.string(2, m.graph.name);
  for (const t of m.graph.initializers) g.message(5, tensorProto(t));
  if (m.graph.docString) g.string(10, m.graph.docString);
  for (const v of m.graph.inputs) g.message(11, valueInfoProto(v));
  for (const v of m.graph.outputs) g.message(12, valueInfoProto(v));
  for (const v of m.graph.valueInfo) g.message(13, valueInfoProto(v));
  const w = new PieceWriter().int(1, m.irVersion).string(2, m.producerName).string(3, m.producerVersion);
  if (m.docString) w.string(6, m.docString);
  w.message(7, g);
  for (const o of m.opsets) {
    const op = new PieceWriter();
    if (o.domain) op.string(1, o.domain);
    w.message(8, op.int(2, o.version));
  }
  for (const [k, v] of m.metadata) w.message(14, new PieceWriter().string(1, k).string(2, v));
  return w.finish();
}
