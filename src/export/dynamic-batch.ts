/**
 * A symbolic batch dimension for a model segkit traced at static shapes (`--dynamic batch`).
 *
 * segkit's graphs carry every shape as a constant, so the batch size is baked into shape operands
 * (Reshape targets, Resize sizes, Expand shapes, Split sizes). The model is traced twice, at batch
 * sizes a and b, and the two graphs compared input by input: they must have the same nodes and
 * attributes, and every constant that differs must be a 1-D int64 vector whose differing entries
 * are q·a and q·b (a multiple of the batch). Those operands are rebuilt in the graph from the
 * input's run-time batch, Shape(input)[0:1] (times q where q ≠ 1), concatenated with the entries
 * that do not depend on it. Anything else that depends on the batch (a float constant of batch
 * size, an attribute) is an error naming the node: such a model cannot take a symbolic batch, and
 * one file per batch size is the way to export it.
 *
 * Height and width are never made symbolic: they enter the graph in many more ways (position
 * embeddings, pooling matrices, resize targets), and a file that claimed to accept any size would
 * have to be wrong for some. Export one file per input size instead.
 */
import { GraphIndex, ONNX_TYPE, int64Of, tensorFromInt64, type OnnxAttribute, type OnnxModel, type OnnxNode, type OnnxTensor } from './onnx-model.js';

export const BATCH_DIM = 'batch';

export class DynamicBatchError extends Error {}

function sameTensor(a: OnnxTensor, b: OnnxTensor): boolean {
  if (a.dataType !== b.dataType || a.dims.join() !== b.dims.join() || a.raw.length !== b.raw.length) return false;
  for (let i = 0; i < a.raw.length; i++) if (a.raw[i] !== b.raw[i]) return false;
  return true;
}

function attrKey(a: OnnxAttribute): string {
  return JSON.stringify(a, (k, v) => (k === 'raw' ? Array.from(v as Uint8Array) : v));
}

const describe = (n: OnnxNode) => `${n.opType} node '${n.name}'`;

/**
 * The model traced at batch `batchA` (`a`) rewritten to take any batch size, given the same model
 * traced at batch `batchB` (`b`). `a` is modified and returned. Throws {@link DynamicBatchError}
 * naming what bakes the batch size in when that cannot be done.
 */
export function makeBatchDynamic(a: OnnxModel, b: OnnxModel, batchA: number, batchB: number): { model: OnnxModel; rebuiltShapes: number } {
  const ga = a.graph;
  const gb = b.graph;
  if (ga.nodes.length !== gb.nodes.length) throw new DynamicBatchError(`the traced graph has ${ga.nodes.length} nodes at batch ${batchA} but ${gb.nodes.length} at batch ${batchB}: its structure depends on the batch size`);
  const input = ga.inputs[0];
  if (!input || ga.inputs.length !== 1) throw new DynamicBatchError('a symbolic batch needs a model with exactly one input');
  const ia = new GraphIndex(ga);
  const ib = new GraphIndex(gb);
  const batchName = ia.fresh('batch_size');
  const helpers: OnnxNode[] = [{ name: 'batch_size_of_input', opType: 'Shape', domain: '', inputs: [input.name], outputs: [batchName], attributes: [{ name: 'start', type: 'INT', i: 0 }, { name: 'end', type: 'INT', i: 1 }] }];
  const added: OnnxTensor[] = [];
  const multiples = new Map<number, string>();
  const rebuilt = new Map<string, string>();

  /** An int64 [1] tensor holding q × batch. */
  const batchTimes = (q: number): string => {
    if (q === 1) return batchName;
    let name = multiples.get(q);
    if (!name) {
      const k = ia.fresh(`batch_factor_${q}`);
      added.push(tensorFromInt64(k, [1], [q]));
      name = ia.fresh(`batch_size_x${q}`);
      helpers.push({ name: `batch_size_times_${q}`, opType: 'Mul', domain: '', inputs: [batchName, k], outputs: [name], attributes: [] });
      multiples.set(q, name);
    }
    return name;
  };

  /** The operand rebuilt from the run-time batch, or an error when it is not linear in the batch. */
  const rebuild = (ta: OnnxTensor, tb: OnnxTensor, where: OnnxNode, index: number): string => {
    const fail = (why: string): never => {
      throw new DynamicBatchError(
        `the traced graph bakes the batch size into '${ta.name}' (input ${index} of ${describe(where)}): ${why}. ` +
          'This model cannot be exported with a symbolic batch; export one file per batch size (--input NxCxHxW)',
      );
    };
    if (ta.dataType !== ONNX_TYPE.INT64 || tb.dataType !== ONNX_TYPE.INT64) fail(`a ${ta.dataType === ONNX_TYPE.FLOAT ? 'float' : 'non-int64'} constant of dims [${ta.dims}] at batch ${batchA}, [${tb.dims}] at batch ${batchB}`);
    if (ta.dims.length !== 1 || ta.dims.join() !== tb.dims.join()) fail(`its dims change with the batch ([${ta.dims}] vs [${tb.dims}])`);
    const va = Array.from(int64Of(ta), Number);
    const vb = Array.from(int64Of(tb), Number);
    const key = `${va}|${vb}`;
    const known = rebuilt.get(key);
    if (known) return known;
    const parts: string[] = [];
    let run: number[] = [];
    const flush = () => {
      if (run.length) {
        const c = ia.fresh(`${ta.name}_static_part`);
        added.push(tensorFromInt64(c, [run.length], run));
        parts.push(c);
        run = [];
      }
    };
    va.forEach((x, k) => {
      const y = vb[k]!;
      if (x === y) return run.push(x);
      const q = x / batchA;
      if (!(Number.isInteger(q) && q > 0 && y === q * batchB)) fail(`entry ${k} is ${x} at batch ${batchA} and ${y} at batch ${batchB}, not a multiple of the batch`);
      flush();
      parts.push(batchTimes(q));
    });
    flush();
    const out = ia.fresh(`${ta.name}_dynamic`);
    helpers.push(parts.length === 1 ? { name: `rebuild_${out}`, opType: 'Identity', domain: '', inputs: parts, outputs: [out], attributes: [] } : { name: `rebuild_${out}`, opType: 'Concat', domain: '', inputs: parts, outputs: [out], attributes: [{ name: 'axis', type: 'INT', i: 0 }] });
    rebuilt.set(key, out);
    return out;
  };

  let count = 0;
  ga.nodes.forEach((na, i) => {
    const nb = gb.nodes[i]!;
    if (na.opType !== nb.opType || na.inputs.length !== nb.inputs.length) throw new DynamicBatchError(`node ${i} is ${describe(na)} at batch ${batchA} but ${describe(nb)} at batch ${batchB}: the graph's structure depends on the batch size`);
    const attrsA = na.attributes.map(attrKey).join();
    if (attrsA !== nb.attributes.map(attrKey).join()) throw new DynamicBatchError(`the attributes of ${describe(na)} depend on the batch size; this model cannot be exported with a symbolic batch (export one file per batch size)`);
    na.inputs.forEach((xa, j) => {
      const ta = ia.initializers.get(xa);
      const tb = ib.initializers.get(nb.inputs[j]!);
      if (!ta || !tb) {
        if (ta || tb) throw new DynamicBatchError(`input ${j} of ${describe(na)} is a constant at one batch size only`);
        return;
      }
      if (sameTensor(ta, tb)) return;
      na.inputs[j] = rebuild(ta, tb, na, j);
      count++;
    });
  });

  const symbolic = (dims: (number | string | null)[] | null, other: (number | string | null)[] | null, what: string): (number | string | null)[] | null => {
    if (!dims || !other) return dims;
    if (dims.length !== other.length || dims.slice(1).join() !== other.slice(1).join() || dims[0] !== batchA || other[0] !== batchB) {
      throw new DynamicBatchError(`${what} has dims [${dims}] at batch ${batchA} and [${other}] at batch ${batchB}; expected the batch as the first dim only`);
    }
    return [BATCH_DIM, ...dims.slice(1)];
  };
  input.dims = symbolic(input.dims, gb.inputs[0]!.dims, `graph input '${input.name}'`);
  ga.outputs.forEach((o, k) => (o.dims = symbolic(o.dims, gb.outputs[k]?.dims ?? null, `graph output '${o.name}'`)));
  // Intermediate shapes recorded at one batch size would contradict the symbolic one: let the runtime infer them.
  ga.valueInfo = [];
  ga.initializers.push(...added);
  ga.nodes = [...helpers, ...ga.nodes];
  return { model: a, rebuiltShapes: count };
}
