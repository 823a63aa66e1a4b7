/**
 * Reads ONNX bytes into an {@link OnnxModel}: what segkit's writer produces (raw-data initializers,
 * packed attributes) and the common alternatives (typed data fields, unpacked lists). Sub-graph
 * attributes (If/Loop bodies) and external data are refused by name: segkit never writes them.
 */
import { ONNX_TYPE, elementBytes, numel, type OnnxAttribute, type OnnxGraph, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './onnx-model.js';
import { ProtoReader, packedFloats, packedVarints, utf8, varintNumber, type ProtoField } from './proto-reader.js';

const ATTR_TYPES: Record<number, OnnxAttribute['type'] | 'GRAPH' | 'TENSORS' | 'GRAPHS'> = { 1: 'FLOAT', 2: 'INT', 3: 'STRING', 4: 'TENSOR', 5: 'GRAPH', 6: 'FLOATS', 7: 'INTS', 8: 'STRINGS', 9: 'TENSORS', 10: 'GRAPHS' };

const bytes = (f: ProtoField, where: string): Uint8Array => {
  if (f.wire !== 2) throw new Error(`ONNX protobuf: ${where} has wire type ${f.wire}; expected bytes`);
  return f.value;
};
const num = (f: ProtoField, where: string): number => {
  if (f.wire !== 0) throw new Error(`ONNX protobuf: ${where} has wire type ${f.wire}; expected a varint`);
  return varintNumber(f.value, where);
};

function readTensor(b: Uint8Array, where: string): OnnxTensor {
  const t: OnnxTensor = { name: '', dataType: 0, dims: [], raw: new Uint8Array(0) };
  let raw: Uint8Array | null = null;
  const floats: number[] = [];
  const ints: number[] = [];
  const int64s: bigint[] = [];
  const doubles: number[] = [];
  for (const f of new ProtoReader(b, where).fields()) {
    if (f.field === 1) t.dims.push(...packedVarints(f, `${where}.dims`));
    else if (f.field === 2) t.dataType = num(f, `${where}.data_type`);
    else if (f.field === 4) floats.push(...packedFloats(f, `${where}.float_data`));
    else if (f.field === 5) ints.push(...packedVarints(f, `${where}.int32_data`));
    else if (f.field === 7) {
      if (f.wire === 0) int64s.push(BigInt.asIntN(64, f.value));
      else for (const v of packedVarints(f, `${where}.int64_data`)) int64s.push(BigInt(v));
    } else if (f.field === 8) t.name = utf8(bytes(f, `${where}.name`));
    else if (f.field === 9) raw = bytes(f, `${where}.raw_data`);
    else if (f.field === 10) {
      const d = bytes(f, `${where}.double_data`);
      const dv = new DataView(d.buffer, d.byteOffset, d.length);
      for (let i = 0; i + 8 <= d.length; i += 8) doubles.push(dv.getFloat64(i, true));
    } else if (f.field === 13 || f.field === 14) throw new Error(`${where} '${t.name}': external tensor data is not supported; segkit writes weights inside the file`);
  }
  const n = numel(t.dims);
  if (raw) t.raw = raw;
  else if (t.dataType === ONNX_TYPE.FLOAT) t.raw = new Uint8Array(Float32Array.from(floats).buffer);
  else if (t.dataType === ONNX_TYPE.INT64) t.raw = new Uint8Array(BigInt64Array.from(int64s).buffer);
  else if (t.dataType === ONNX_TYPE.DOUBLE) t.raw = new Uint8Array(Float64Array.from(doubles).buffer);
  else if (t.dataType === ONNX_TYPE.INT32) t.raw = new Uint8Array(Int32Array.from(ints).buffer);
  else if (t.dataType === ONNX_TYPE.FLOAT16) t.raw = new Uint8Array(Uint16Array.from(ints).buffer);
  else if (t.dataType === ONNX_TYPE.INT8) t.raw = new Uint8Array(Int8Array.from(ints).buffer);
  else if (t.dataType === ONNX_TYPE.UINT8 || t.dataType === ONNX_TYPE.BOOL) t.raw = Uint8Array.from(ints);
  else throw new Error(`${where} '${t.name}': element type ${t.dataType} is not supported`);
  if (t.raw.length !== n * elementBytes(t.dataType)) throw new Error(`${where} '${t.name}': ${t.raw.length} bytes of data for dims [${t.dims}] (${n} elements of ${elementBytes(t.dataType)} bytes)`);
  return t;
}

function readAttribute(b: Uint8Array, where: string): OnnxAttribute {
  let name = '';
  let type = 0;
  let f32 = 0;
  let i = 0;
  let s = '';
  let t: OnnxTensor | undefined;
  const floats: number[] = [];
  const ints: number[] = [];
  const strings: string[] = [];
  for (const f of new ProtoReader(b, where).fields()) {
    if (f.field === 1) name = utf8(bytes(f, `${where}.name`));
    else if (f.field === 2) f32 = packedFloats(f, `${where}.f`)[0]!;
    else if (f.field === 3) i = num(f, `${where}.i`);
    else if (f.field === 4) s = utf8(bytes(f, `${where}.s`));
    else if (f.field === 5) t = readTensor(bytes(f, `${where}.t`), `${where}.t`);
    else if (f.field === 7) floats.push(...packedFloats(f, `${where}.floats`));
    else if (f.field === 8) ints.push(...packedVarints(f, `${where}.ints`));
    else if (f.field === 9) strings.push(utf8(bytes(f, `${where}.strings`)));
    else if (f.field === 20) type = num(f, `${where}.type`);
  }
  const kind = ATTR_TYPES[type];
  switch (kind) {
    case 'FLOAT': return { name, type: kind, f: f32 };
    case 'INT': return { name, type: kind, i };
    case 'STRING': return { name, type: kind, s };
    case 'TENSOR': return { name, type: kind, t: t! };
    case 'FLOATS': return { name, type: kind, floats };
    case 'INTS': return { name, type: kind, ints };
    case 'STRINGS': return { name, type: kind, strings };
    default: throw new Error(`${where} '${name}': attribute type ${kind ?? type} is not supported (segkit graphs have no sub-graphs)`);
  }
}

function readNode(b: Uint8Array, where: string): OnnxNode {
  const n: OnnxNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: [] };
  for (const f of new ProtoReader(b, where).fields()) {
    if (f.field === 1) n.inputs.push(utf8(bytes(f, `${where}.input`)));
    else if (f.field === 2) n.outputs.push(utf8(bytes(f, `${where}.output`)));
    else if (f.field === 3) n.name = utf8(bytes(f, `${where}.name`));
    else if (f.field === 4) n.opType = utf8(bytes(f, `${where}.op_type`));
    else if (f.field === 5) n.attributes.push(readAttribute(bytes(f, `${where}.attribute`), `${where}.attribute`));
    else if (f.field === 7) n.domain = utf8(bytes(f, `${where}.domain`));
  }
  return n;
}

function readValueInfo(b: Uint8Array, where: string): OnnxValueInfo {
  const v: OnnxValueInfo = { name: '', elemType: 0, dims: null };
  for (const f of new ProtoReader(b, where).fields()) {
    if (f.field === 1) v.name = utf8(bytes(f, `${where}.name`));
    else if (f.field === 2) {
      for (const tf of new ProtoReader(bytes(f, `${where}.type`), `${where}.type`).fields()) {
        if (tf.field !== 1) throw new Error(`${where} '${v.name}': only tensor types are supported`);
        for (const tt of new ProtoReader(bytes(tf, `${where}.tensor_type`), `${where}.tensor_type`).fields()) {
          if (tt.field === 1) v.elemType = num(tt, `${where}.elem_type`);
          else if (tt.field === 2) {
            v.dims = [];
            for (const sf of new ProtoReader(bytes(tt, `${where}.shape`), `${where}.shape`).fields()) {
              if (sf.field !== 1) continue;
              let d: number | string | null = null;
              for (const df of new ProtoReader(bytes(sf, `${where}.dim`), `${where}.dim`).fields()) {
                if (df.field === 1) d = num(df, `${where}.dim_value`);
                else if (df.field === 2) d = utf8(bytes(df, `${where}.dim_param`));
              }
              v.dims.push(d);
            }
          }
        }
      }
    }
  }
  return v;
}

function readGraph(b: Uint8Array): OnnxGraph {
  const g: OnnxGraph = { name: '', nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [] };
  for (const f of new ProtoReader(b, 'GraphProto').fields()) {
    if (f.field === 1) g.nodes.push(readNode(bytes(f, 'GraphProto.node'), 'NodeProto'));
    else if (f.field === 2) g.name = utf8(bytes(f, 'GraphProto.name'));
    else if (f.field === 5) g.initializers.push(readTensor(bytes(f, 'GraphProto.initializer'), 'initializer'));
    else if (f.field === 10) g.docString = utf8(bytes(f, 'GraphProto.doc_string'));
    else if (f.field === 11) g.inputs.push(readValueInfo(bytes(f, 'GraphProto.input'), 'graph input'));
    else if (f.field === 12) g.outputs.push(readValueInfo(bytes(f, 'GraphProto.output'), 'graph output'));
    else if (f.field === 13) g.valueInfo.push(readValueInfo(bytes(f, 'GraphProto.value_info'), 'value_info'));
  }
  return g;
}

/** Parses an ONNX ModelProto. Errors say which message is malformed. */
export function readOnnx(data: Uint8Array): OnnxModel {
  const m: OnnxModel = { irVersion: 0, producerName: '', producerVersion: '', opsets: [], graph: null as never, metadata: [] };
  for (const f of new ProtoReader(data, 'ModelProto').fields()) {
    if (f.field === 1) m.irVersion = num(f, 'ModelProto.ir_version');
    else if (f.field === 2) m.producerName = utf8(bytes(f, 'ModelProto.producer_name'));
    else if (f.field === 3) m.producerVersion = utf8(bytes(f, 'ModelProto.producer_version'));
    else if (f.field === 6) m.docString = utf8(bytes(f, 'ModelProto.doc_string'));
    else if (f.field === 7) m.graph = readGraph(bytes(f, 'ModelProto.graph'));
    else if (f.field === 8) {
      const o = { domain: '', version: 0 };
      for (const of of new ProtoReader(bytes(f, 'opset_import'), 'opset_import').fields()) {
        if (of.field === 1) o.domain = utf8(bytes(of, 'opset_import.domain'));
        else if (of.field === 2) o.version = num(of, 'opset_import.version');
      }
      m.opsets.push(o);
    } else if (f.field === 14) {
      let [k, v] = ['', ''];
      for (const ef of new ProtoReader(bytes(f, 'metadata_props'), 'metadata_props').fields()) {
        if (ef.field === 1) k = utf8(bytes(ef, 'metadata_props.key'));
        else if (ef.field === 2) v = utf8(bytes(ef, 'metadata_props.value'));
      }
      m.metadata.push([k, v]);
    }
  }
  if (!m.graph) throw new Error('ONNX protobuf: the model has no graph (not an ONNX model?)');
  return m;
}
