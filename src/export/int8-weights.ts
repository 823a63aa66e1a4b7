/**
 * Weight-only int8 (`--int8 dynamic`): the weights of convolutions and matrix products are stored
 * as int8 with one scale per output channel (symmetric, zero point 0, range ±127) and restored by
 * a DequantizeLinear node, so activations stay float32 and nothing needs calibrating.
 *
 * Which tensors: float32 initializers of rank ≥ 2 and at least {@link MIN_ELEMENTS} elements read
 * by Conv/ConvTranspose (weight input), MatMul/Gemm, or a Transpose feeding one (a Linear layer's
 * [out, in] weight is transposed in the graph). Position embeddings, biases, norms and other
 * constants stay float32. The channel axis follows the consumer: Conv axis 0, ConvTranspose 1,
 * MatMul's right operand its last axis (its columns are the outputs), its left operand the rows.
 */
import { GraphIndex, forEachChannelBlock, isIdentityConv, ONNX_TYPE, float32Of, intAttr, tensorFromBytes, tensorFromFloat32, type OnnxModel, type OnnxNode, type OnnxTensor } from './onnx-model.js';

export const MIN_ELEMENTS = 64;

export interface Int8WeightsReport {
  quantized: number;
  /** Largest |w − dequantized w| / max|w| over all quantized tensors (half a step at most: ≤ 1/254). */
  worstRelativeError: number;
}

/** The channel axis to quantize an initializer along, from how its first weight-like consumer reads it; null: not a weight. */
function channelAxis(t: OnnxTensor, uses: { node: OnnxNode; index: number }[], initializers: ReadonlyMap<string, OnnxTensor>): number | null {
  const rank = t.dims.length;
  for (const { node, index } of uses) {
    if (node.domain !== '') continue;
    if (node.opType === 'Conv' && index === 1) return isIdentityConv(node, initializers) ? null : 0;
    if (node.opType === 'ConvTranspose' && index === 1) return 1;
    if (node.opType === 'MatMul') return index === 1 ? rank - 1 : rank - 2;
    if (node.opType === 'Gemm' && index === 1) return intAttr(node, 'transB', 0) ? 0 : 1;
    if (node.opType === 'Gemm' && index === 0) return intAttr(node, 'transA', 0) ? 1 : 0;
    if (node.opType === 'Transpose' && rank === 2) return 0;
  }
  return null;
}

/** Per-channel symmetric int8 codes and scales of a float tensor along `axis`. */
export function quantizePerChannel(v: Float32Array, dims: readonly number[], axis: number): { q: Int8Array; scale: Float32Array } {
  const c = dims[axis]!;
  const maxAbs = new Float64Array(c);
  forEachChannelBlock(dims, axis, (ch, start, end) => {
    let m = maxAbs[ch]!;
    for (let i = start; i < end; i++) m = Math.max(m, Math.abs(v[i]!));
    maxAbs[ch] = m;
  });
  // An all-zero channel gets scale 1 (its codes are 0 whatever the scale; ONNX wants scale > 0).
  const scale = Float32Array.from(maxAbs, (m) => (m > 0 ? m / 127 : 1));
  const q = new Int8Array(v.length);
  forEachChannelBlock(dims, axis, (ch, start, end) => {
    const sc = scale[ch]!;
    for (let i = start; i < end; i++) q[i] = Math.max(-127, Math.min(127, Math.round(v[i]! / sc)));
  });
  return { q, scale };
}

/** Replaces weight initializers by int8 + DequantizeLinear (per output channel). */
export function quantizeWeightsInt8(m: OnnxModel): Int8WeightsReport {
  const g = m.graph;
  const ix = new GraphIndex(g);
  const dq: OnnxNode[] = [];
  const added: OnnxTensor[] = [];
  const report: Int8WeightsReport = { quantized: 0, worstRelativeError: 0 };
  g.initializers = g.initializers.filter((t) => {
    if (t.dataType !== ONNX_TYPE.FLOAT || t.dims.length < 2 || t.raw.length / 4 < MIN_ELEMENTS) return true;
    const axis = channelAxis(t, ix.consumersOf(t.name), ix.initializers);
    if (axis === null) return true;
    const v = float32Of(t);
    const { q, scale } = quantizePerChannel(v, t.dims, axis);
    const c = t.dims[axis]!;
    let worst = 0;
    let peak = 0;
    forEachChannelBlock(t.dims, axis, (ch, start, end) => {
      const sc = scale[ch]!;
      for (let i = start; i < end; i++) {
        peak = Math.max(peak, Math.abs(v[i]!));
        worst = Math.max(worst, Math.abs(v[i]! - q[i]! * sc));
      }
    });
    if (peak > 0) report.worstRelativeError = Math.max(report.worstRelativeError, worst / peak);
    const [qn, sn, zn] = [ix.fresh(`${t.name}_int8`), ix.fresh(`${t.name}_scale`), ix.fresh(`${t.name}_zero_point`)];
    added.push(tensorFromBytes(qn, ONNX_TYPE.INT8, t.dims, q), tensorFromFloat32(sn, [c], scale), tensorFromBytes(zn, ONNX_TYPE.INT8, [c], new Int8Array(c)));
    dq.push({ name: `dequantize_${t.name}`, opType: 'DequantizeLinear', domain: '', inputs: [qn, sn, zn], outputs: [t.name], attributes: [{ name: 'axis', type: 'INT', i: axis }] });
    report.quantized++;
    return false;
  });
  g.initializers.push(...added);
  g.nodes = [...dq, ...g.nodes];
  return report;
}
