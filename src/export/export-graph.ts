/**
 * The graph an export traces: the model in eval mode between optional in-graph preprocessing and
 * the chosen head.
 *
 *   input  float32 N×C×H×W normalised (x/255 − mean)/std          name 'pixel_values'
 *       or uint8 N×H×W×3 RGB (canvas ImageData without alpha)    name 'image'
 *          → Cast, Transpose to NCHW, ·1/(255·std) − mean/std (the Segmenter's arithmetic)
 *   model  eval-mode forward: N×K×h×w logits at the model's output stride
 *          → bilinear resize (align_corners false) to H×W, as the Segmenter resizes them
 *   head   logits  N×K×H×W float32                                name 'logits'
 *          probs   softmax over K (sigmoid when K = 1)             name 'probs'
 *          labels  argmax over K (K = 1: logit > 0, i.e. p > 0.5)  name 'labels'
 *                  N×H×W uint8 when K ≤ 256 (class indices fit a byte, and a byte map is what
 *                  canvases and the Segmenter use), else int64 (ONNX ArgMax's own type)
 */
import { trace } from '../engine/compile.js';
import { HostTensor } from '../engine/host-tensor.js';
import { writeOnnx } from '../engine/onnx/write.js';
import type { Tensor } from '../engine/tensor.js';
import type { SegmentationModel } from '../models/segmentation-model.js';
import type { Head } from './options.js';

export interface GraphSpec {
  batch: number;
  channels: number;
  height: number;
  width: number;
  head: Head;
  /** uint8 NHWC RGB input with the normalisation inside the graph. */
  uint8: boolean;
}

export const inputNameOf = (uint8: boolean): string => (uint8 ? 'image' : 'pixel_values');
export const outputNameOf = (head: Head): string => head;

/** uint8 N×H×W×3 → normalised float N×3×H×W, computed as the Segmenter does: x·(1/(255·std)) − mean/std. */
function normalizeInGraph(x: Tensor, model: SegmentationModel): Tensor {
  const { mean, std } = model.normalization;
  const g = x.graph;
  const scale = g.constant(new HostTensor(Float32Array.from([0, 1, 2], (c) => 1 / (255 * std[c]!)), [1, 3, 1, 1]), 'normalize_scale');
  const shift = g.constant(new HostTensor(Float32Array.from([0, 1, 2], (c) => mean[c]! / std[c]!), [1, 3, 1, 1]), 'normalize_shift');
  return x.cast('float32').permute([0, 3, 1, 2]).mul(scale).sub(shift);
}

function applyHead(logits: Tensor, head: Head): Tensor {
  const k = logits.shape[1]!;
  if (head === 'logits') return logits;
  if (head === 'probs') return k === 1 ? logits.sigmoid() : logits.softmax(1);
  if (k === 1) return logits.gt(0).cast('uint8').squeeze(1);
  const labels = logits.argmax(1);
  return k <= 256 ? labels.cast('uint8') : labels;
}

/** Traces the export graph and writes it as ONNX bytes (weights as initializers named by state-dict keys). */
export function traceExportGraph(model: SegmentationModel, s: GraphSpec): Uint8Array {
  model.eval();
  if (s.uint8 && s.channels !== 3) throw new Error(`--uint8 takes RGB images (3 channels); this model takes ${s.channels} input channels`);
  const shape = s.uint8 ? [s.batch, s.height, s.width, 3] : [s.batch, s.channels, s.height, s.width];
  const fn = (x: Tensor) => {
    const out = model.forward(s.uint8 ? normalizeInGraph(x, model) : x);
    if (Array.isArray(out)) throw new Error('internal error: the model returned several outputs in eval mode');
    const [h, w] = [out.shape[2]!, out.shape[3]!];
    const logits = h === s.height && w === s.width ? out : out.resize({ size: [s.height, s.width], mode: 'bilinear', alignCorners: false });
    return { [outputNameOf(s.head)]: applyHead(logits, s.head) };
  };
  const t = trace(fn, [{ shape, dtype: s.uint8 ? 'uint8' : 'float32', name: inputNameOf(s.uint8) }], { paramNames: model.namedState() });
  if (t.graph.updates.size > 0) throw new Error('internal error: the traced export graph updates buffers (a module left in training mode)');
  if (t.graph.masks.length > 0) throw new Error('internal error: the traced export graph has random masks (dropout in training mode)');
  return writeOnnx(t.graph, t.outputs, { graphName: 'segkit' });
}
