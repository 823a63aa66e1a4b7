import type { Tensor } from '../engine/tensor.js';

/**
 * Logits at the label's size: bilinear, align_corners false, as mmseg's decode heads and HF's
 * SegFormer resize logits before the loss. Unchanged when the sizes already agree.
 */
export function logitsAtLabelSize(logits: Tensor, labelShape: readonly number[]): Tensor {
  const [h, w] = labelShape.slice(-2) as [number, number];
  if (logits.shape[2] === h && logits.shape[3] === w) return logits;
  return logits.resize({ size: [h, w], mode: 'bilinear', alignCorners: false });
}
