/**
 * BatchNorm folding, done on the written ONNX graph (not on segkit's IR): an inference-form
 * BatchNormalization whose input is the output of a Conv (or a group-1 ConvTranspose) used by
 * nothing else is merged into that convolution:
 *
 *   s = γ / √(σ² + ε),   W'[o] = W[o]·s[o],   b'[o] = (b[o] − μ[o])·s[o] + β[o]
 *
 * computed in float64 and stored as float32. Done on the ONNX graph because that is the artefact
 * being shipped: the pass sees exactly what a consumer loads, whatever op sequence the tracer
 * emitted, and needs no change to the IR. onnxruntime performs the same fusion when it loads a
 * model, so the point here is a file without BatchNormalization for runtimes that do not (and a
 * smaller graph to read). Run {@link pruneDeadNodes} afterwards to drop the BatchNorm parameters.
 */
import { GraphIndex, forEachChannelBlock, ONNX_TYPE, float32Of, floatAttr, intAttr, tensorFromFloat32, type OnnxModel, type OnnxNode, type OnnxTensor } from './onnx-model.js';

export interface FoldReport {
  /** BatchNormalization nodes merged into a convolution. */
  folded: number;
  /** BatchNormalization nodes left (not directly after a foldable convolution). */
  remaining: number;
}

function floatInit(ix: GraphIndex, name: string | undefined): OnnxTensor | null {
  if (!name) return null;
  const t = ix.initializers.get(name);
  return t && t.dataType === ONNX_TYPE.FLOAT ? t : null;
}

/** Output-channel axis of the conv weight, or null when this conv cannot take the fold. */
function outAxis(conv: OnnxNode): 0 | 1 | null {
  if (conv.domain !== '') return null;
  if (conv.opType === 'Conv') return 0;
  if (conv.opType === 'ConvTranspose' && intAttr(conv, 'group', 1) === 1) return 1;
  return null;
}

/** Merges every foldable BatchNormalization into the convolution before it. */
export function foldBatchNorm(m: OnnxModel): FoldReport {
  const g = m.graph;
  let folded = 0;
  const removed = new Set<OnnxNode>();
  const ix = new GraphIndex(g);
  for (const bn of g.nodes) {
    if (bn.opType !== 'BatchNormalization' || bn.domain !== '' || bn.outputs.length !== 1 || intAttr(bn, 'training_mode', 0) !== 0) continue;
    const x = bn.inputs[0]!;
    const conv = ix.producer.get(x);
    if (!conv || removed.has(conv)) continue;
    const axis = outAxis(conv);
    if (axis === null || ix.outputs.has(x) || ix.consumersOf(x).length !== 1) continue;
    const [gamma, beta, mean, variance] = bn.inputs.slice(1).map((n) => floatInit(ix, n));
    const w = floatInit(ix, conv.inputs[1]);
    const bias = conv.inputs[2] ? floatInit(ix, conv.inputs[2]) : null;
    if (!gamma || !beta || !mean || !variance || !w || (conv.inputs[2] && !bias)) continue;
    const cout = w.dims[axis]!;
    if ([gamma, beta, mean, variance].some((t) => t.dims.length !== 1 || t.dims[0] !== cout)) continue;

    const eps = floatAttr(bn, 'epsilon', 1e-5);
    const [gv, bv, mv, vv] = [gamma, beta, mean, variance].map(float32Of) as [Float32Array, Float32Array, Float32Array, Float32Array];
    const s = Float64Array.from(gv, (v, o) => v / Math.sqrt(vv[o]! + eps));
    const src = float32Of(w);
    const wNew = new Float32Array(src.length);
    forEachChannelBlock(w.dims, axis, (ch, start, end) => {
      const k = s[ch]!;
      for (let i = start; i < end; i++) wNew[i] = src[i]! * k;
    });
    const b0 = bias ? float32Of(bias) : new Float32Array(cout);
    const bNew = Float32Array.from({ length: cout }, (_, o) => (b0[o]! - mv[o]!) * s[o]! + bv[o]!);

    // Reuse the conv's own names when nothing else reads those tensors (a shared weight gets a copy).
    const wName = ix.consumersOf(w.name).length === 1 ? w.name : ix.fresh(`${w.name}_bn_folded`);
    const bName = bias && ix.consumersOf(bias.name).length === 1 ? bias.name : ix.fresh(w.name.replace(/\.weight$/, '') + '.bias');
    replaceOrAdd(m, ix, tensorFromFloat32(wName, w.dims, wNew));
    replaceOrAdd(m, ix, tensorFromFloat32(bName, [cout], bNew));
    conv.inputs = [conv.inputs[0]!, wName, bName];
    conv.outputs = [bn.outputs[0]!];
    removed.add(bn);
    folded++;
  }
  g.nodes = g.nodes.filter((n) => !removed.has(n));
  const remaining = g.nodes.filter((n) => n.opType === 'BatchNormalization').length;
  return { folded, remaining };
}

function replaceOrAdd(m: OnnxModel, ix: GraphIndex, t: OnnxTensor): void {
  const inits = m.graph.initializers;
  const i = inits.findIndex((x) => x.name === t.name);
  if (i >= 0) inits[i] = t;
  else inits.push(t);
  ix.initializers.set(t.name, t);
}
