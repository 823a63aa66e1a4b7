import { HostTensor } from '../engine/host-tensor.js';
import type { Tensor } from '../engine/tensor.js';
import { logitsAtLabelSize } from './resize-logits.js';

/**
 * How a pixel-averaged loss is normalised (architectures.md §3.4 — both exist in the wild):
 * - 'valid': divide by the number of labelled pixels, or with class weights by the sum of the
 *   labelled pixels' weights — torch.nn.CrossEntropyLoss(ignore_index, weight), HF transformers.
 * - 'all': divide by every pixel, ignored ones included (they contribute 0) — mmseg 0.x's
 *   CrossEntropyLoss default (avg_non_ignore=False); class weights only scale the terms.
 */
export type LossAverage = 'valid' | 'all';

export interface CrossEntropyOptions {
  /** Label value that contributes nothing (default 255). */
  ignoreIndex?: number;
  /** One weight per class (e.g. ENet or median-frequency weights from `segkit data stats`). */
  classWeights?: readonly number[];
  /** Default 'valid'. */
  average?: LossAverage;
}

/**
 * Pixel cross-entropy of N×K×h×w logits against N×H×W integer labels (int64 or int32); logits are
 * resized to H×W first. A batch whose pixels are all ignored gives 0 (PyTorch gives NaN).
 */
export function crossEntropy(logits: Tensor, labels: Tensor, o: CrossEntropyOptions = {}): Tensor {
  const k = logits.shape[1]!;
  if (labels.rank !== 3) throw new Error(`crossEntropy: labels must be N×H×W, got [${labels.shape.join(', ')}]`);
  if (o.classWeights && o.classWeights.length !== k) throw new Error(`crossEntropy: classWeights has ${o.classWeights.length} values but the logits have ${k} classes`);
  const ignore = o.ignoreIndex ?? 255;
  const logp = logitsAtLabelSize(logits, labels.shape).logSoftmax(1);
  const valid = labels.eq(labels.graph.scalar(ignore, labels.dtype)).logicalNot();
  // Ignored pixels pick class 0 (any in-range index) and are masked out afterwards.
  const safe = labels.where(valid, labels.graph.scalar(0, labels.dtype));
  const picked = logp.gatherElements(safe.unsqueeze(1), 1).squeeze(1);
  let weight = valid.cast('float32');
  if (o.classWeights) {
    const table = labels.graph.constant(new HostTensor(Float32Array.from(o.classWeights), [k]));
    weight = weight.mul(table.gather(safe, 0));
  }
  const total = picked.mul(weight).sum().neg();
  if ((o.average ?? 'valid') === 'all') return total.mul(1 / labels.size);
  return total.div(weight.sum().maximum(1e-12));
}
