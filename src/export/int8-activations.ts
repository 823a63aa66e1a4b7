/**
 * Static int8 (`--int8 static`): QuantizeLinear → DequantizeLinear pairs (QDQ) on the activation
 * inputs of every Conv, ConvTranspose, MatMul and Gemm, with per-tensor uint8 parameters from a
 * calibration pass (calibrate.ts), on top of the per-channel int8 weights of int8-weights.ts.
 *
 * Parameters: asymmetric uint8 over the observed range widened to include 0 (so zero padding is
 * exact): scale = (max − min)/255, zero point = round(−min/scale). The pairs model what an int8
 * kernel sees; onnxruntime fuses them into integer kernels where its QDQ rules allow and otherwise
 * runs them as the quantize/dequantize they are, so the accuracy reported is that of the int8 model.
 */
import { GraphIndex, isIdentityConv, ONNX_TYPE, tensorFromBytes, tensorFromFloat32, type OnnxModel, type OnnxNode } from './onnx-model.js';

/** Observed value range of one tensor. */
export interface Range {
  min: number;
  max: number;
}

/** Values computed from initializers alone (weights, transposed weights, shape constants). */
export function constantValues(m: OnnxModel): Set<string> {
  const c = new Set(m.graph.initializers.map((t) => t.name));
  for (const n of m.graph.nodes) if (n.inputs.every((x) => x === '' || c.has(x))) for (const o of n.outputs) c.add(o);
  return c;
}

const QUANTIZED_OPS: Record<string, number[]> = { Conv: [0], ConvTranspose: [0], MatMul: [0, 1], Gemm: [0, 1] };

/** The activation tensors int8 static quantizes: non-constant float inputs of the ops above, in graph order. */
export function activationInputs(m: OnnxModel): string[] {
  const constant = constantValues(m);
  const { initializers } = new GraphIndex(m.graph);
  const out = new Set<string>();
  for (const n of m.graph.nodes) {
    const slots = n.domain === '' ? QUANTIZED_OPS[n.opType] : undefined;
    if (!slots || isIdentityConv(n, initializers)) continue;
    for (const i of slots) {
      const x = n.inputs[i];
      if (x && !constant.has(x)) out.add(x);
    }
  }
  return [...out];
}

/** uint8 quantization parameters for a range (widened to include 0). */
export function uint8Params(r: Range): { scale: number; zeroPoint: number } {
  const lo = Math.min(0, r.min);
  const hi = Math.max(0, r.max);
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  return { scale: Math.fround(scale), zeroPoint: Math.max(0, Math.min(255, Math.round(-lo / scale))) };
}

/** Inserts a QDQ pair on each calibrated activation (every tensor named in `ranges`). */
export function insertActivationQdq(m: OnnxModel, ranges: ReadonlyMap<string, Range>): number {
  const g = m.graph;
  const ix = new GraphIndex(g);
  const quantized = new Set(ranges.keys());
  const pairs = new Map<string, OnnxNode[]>();
  const replacement = new Map<string, string>();
  for (const [x, r] of ranges) {
    const { scale, zeroPoint } = uint8Params(r);
    const [sn, zn, qn, dn] = [ix.fresh(`${x}_act_scale`), ix.fresh(`${x}_act_zero_point`), ix.fresh(`${x}_quantized`), ix.fresh(`${x}_dequantized`)];
    g.initializers.push(tensorFromFloat32(sn, [], Float32Array.of(scale)), tensorFromBytes(zn, ONNX_TYPE.UINT8, [], Uint8Array.of(zeroPoint)));
    pairs.set(x, [
      { name: `quantize_${x}`, opType: 'QuantizeLinear', domain: '', inputs: [x, sn, zn], outputs: [qn], attributes: [] },
      { name: `dequantize_${x}`, opType: 'DequantizeLinear', domain: '', inputs: [qn, sn, zn], outputs: [dn], attributes: [] },
    ]);
    replacement.set(x, dn);
  }
  // Each pair goes right before the first node that reads its tensor: after the producer, so the order stays topological.
  const nodes: OnnxNode[] = [];
  for (const n of g.nodes) {
    const slots = n.domain === '' ? QUANTIZED_OPS[n.opType] : undefined;
    if (slots) {
      for (const i of slots) {
        const x = n.inputs[i];
        if (!x || !quantized.has(x)) continue;
        const p = pairs.get(x);
        if (p) {
          nodes.push(...p);
          pairs.delete(x);
        }
        n.inputs[i] = replacement.get(x)!;
      }
    }
    nodes.push(n);
  }
  g.nodes = nodes;
  return replacement.size;
}
