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
  /**
   * Extra weight of pixels near a label boundary (default 0: none): a pixel whose
   * (2·boundaryWidth+1)² neighbourhood holds another label weighs 1 + boundaryWeight. Errors of a
   * low-resolution decoder sit in that band (a portrait model's most common error is a boundary
   * off by a pixel or two), and weighting it is PortraitNet's boundary emphasis in its simplest
   * form. Ignored pixels count as class 0 when finding the band.
   */
  boundaryWeight?: number;
  /** Half-width in pixels of the boundary band (default 2). */
  boundaryWidth?: number;
}

/** N×H×W float mask, 1 where the (2r+1)² window around a pixel holds more than one label value. */
export function labelBoundaryBand(labels: Tensor, r: number): Tensor {
  const y = labels.cast('float32').unsqueeze(1);
  const pool = (t: Tensor) => t.maxPool2d({ kernel: 2 * r + 1, stride: 1, padding: r });
  return pool(y).gt(pool(y.neg()).neg()).cast('float32').squeeze(1);
}

/**
 * Pixel cross-entropy of N×K×h×w logits against N×H×W integer labels (int64 or int32); logits are
 * resized to H×W first. A batch whose pixels are all ignored gives 0 (PyTorch gives NaN).
 */
export function crossEntropy(logits: Tensor, labels: Tensor, o: CrossEntropyOptions = {}): Tensor {
  const k = logits.shape[1]!;
  if (labels.rank !== 3) throw new Error(`crossEntropy: labels must be N×H×W, got [${labels.shape.join(', ')}]`);
  if (o.boundaryWidth !== undefined && !(Number.isInteger(o.boundaryWidth) && o.boundaryWidth >= 1)) throw new Error(`crossEntropy: boundaryWidth must be a positive integer (pixels), got ${o.boundaryWidth}`);
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
  if (o.boundaryWeight) weight = weight.mul(labelBoundaryBand(safe, o.boundaryWidth ?? 2).mul(o.boundaryWeight).add(1));
  const total = picked.mul(weight).sum().neg();
  if ((o.average ?? 'valid') === 'all') return total.mul(1 / labels.size);
  return total.div(weight.sum().maximum(1e-12));
}
