/**
 * float16 weights: every float32 initializer of at least {@link MIN_ELEMENTS} elements is stored
 * as FLOAT16 and widened back by a Cast(to=FLOAT) node at the top of the graph, so the file is
 * about half the size while every op still computes in float32.
 *
 * Why compute stays float32: onnxruntime's CPU execution provider (Node, and the wasm backend in
 * browsers) has float16 kernels for few ops, so a graph computing in float16 would either not load
 * or be split into many casts and run slower; its loader constant-folds Cast(initializer), so the
 * widening costs nothing at run time. The model therefore runs anywhere the float32 file runs, and
 * only the rounding of the weights (a relative error ≤ 2⁻¹¹) changes its outputs.
 *
 * Tensors below the size threshold (scalars, resize scales, LayerNorm-sized vectors of tiny models)
 * stay float32: they weigh nothing and some are constants whose precision matters (an ε). Tensors
 * with values beyond float16's range (±65504) stay float32 too, and are reported.
 */
import { f32ToF16 } from '../io/half.js';
import { GraphIndex, ONNX_TYPE, float32Of, tensorFromBytes, type OnnxModel, type OnnxNode } from './onnx-model.js';

export const MIN_ELEMENTS = 16;
const F16_MAX = 65504;

export interface Float16Report {
  converted: number;
  /** Initializers kept float32 because a value is beyond float16's range. */
  outOfRange: string[];
}

export function convertWeightsToFloat16(m: OnnxModel): Float16Report {
  const g = m.graph;
  const ix = new GraphIndex(g);
  const casts: OnnxNode[] = [];
  const report: Float16Report = { converted: 0, outOfRange: [] };
  g.initializers = g.initializers.map((t) => {
    if (t.dataType !== ONNX_TYPE.FLOAT || t.raw.length / 4 < MIN_ELEMENTS) return t;
    const v = float32Of(t);
    const bits = new Uint16Array(v.length);
    for (let i = 0; i < v.length; i++) {
      if (!(Math.abs(v[i]!) <= F16_MAX)) {
        report.outOfRange.push(t.name);
        return t;
      }
      bits[i] = f32ToF16(v[i]!);
    }
    const name = ix.fresh(`${t.name}_fp16`);
    casts.push({ name: `cast_${t.name}`, opType: 'Cast', domain: '', inputs: [name], outputs: [t.name], attributes: [{ name: 'to', type: 'INT', i: ONNX_TYPE.FLOAT }] });
    report.converted++;
    return tensorFromBytes(name, ONNX_TYPE.FLOAT16, t.dims, bits);
  });
  g.nodes = [...casts, ...g.nodes];
  return report;
}
