import type { Tensor } from '../engine/tensor.js';
import { logitsAtLabelSize } from './resize-logits.js';

export interface BinaryLossOptions {
  /** Label value that contributes nothing (default 255). Labels are 0/1 otherwise. */
  ignoreIndex?: number;
}

/** Positive-class targets (float 0/1) and the labelled-pixel mask from N×H×W integer labels. */
function binaryTargets(labels: Tensor, ignoreIndex: number): { target: Tensor; valid: Tensor } {
  if (labels.rank !== 3) throw new Error(`binary loss: labels must be N×H×W, got [${labels.shape.join(', ')}]`);
  const valid = labels.eq(labels.graph.scalar(ignoreIndex, labels.dtype)).logicalNot().cast('float32');
  return { target: labels.eq(labels.graph.scalar(1, labels.dtype)).cast('float32'), valid };
}

function singleLogit(logits: Tensor, what: string): void {
  if (logits.rank !== 4 || logits.shape[1] !== 1) throw new Error(`${what}: expects N×1×h×w logits (one positive-class logit), got [${logits.shape.join(', ')}]`);
}

/**
 * torch.nn.BCEWithLogitsLoss on one positive-class logit per pixel against 0/1 labels, averaged over
 * labelled pixels; computed as max(z, 0) − z·t + log(1 + e^−|z|), stable for large |z|.
 */
export function bceWithLogits(logits: Tensor, labels: Tensor, o: BinaryLossOptions = {}): Tensor {
  singleLogit(logits, 'bceWithLogits');
  const z = logitsAtLabelSize(logits, labels.shape).squeeze(1);
  const { target, valid } = binaryTargets(labels, o.ignoreIndex ?? 255);
  const perPixel = z.relu().sub(z.mul(target)).add(z.abs().neg().exp().add(1).log());
  return perPixel.mul(valid).sum().div(valid.sum().maximum(1e-12));
}

export interface DiceOptions extends BinaryLossOptions {
  /** Added to numerator and denominator (default 1, as in segmentation_models.pytorch's smooth=… usage). */
  smooth?: number;
  /**
   * FastSeg's form, kept for parity only: thresholds the logits at 0 before the Dice, so the loss has
   * no gradient (architectures.md §2.5). Default false: the differentiable soft Dice.
   */
  thresholded?: boolean;
}

/** 1 − Dice between predicted probabilities p and targets t over labelled pixels: (2Σpt + s)/(Σp + Σt + s). */
function diceLoss(p: Tensor, t: Tensor, axes: number[], smooth: number): Tensor {
  const inter = p.mul(t).sum(axes);
  const denom = p.sum(axes).add(t.sum(axes));
  return inter.mul(2).add(smooth).div(denom.add(smooth)).neg().add(1);
}

/** Binary soft Dice loss on one positive-class logit per pixel (sigmoid probabilities). */
export function binaryDice(logits: Tensor, labels: Tensor, o: DiceOptions = {}): Tensor {
  singleLogit(logits, 'binaryDice');
  const z = logitsAtLabelSize(logits, labels.shape).squeeze(1);
  const { target, valid } = binaryTargets(labels, o.ignoreIndex ?? 255);
  const p = o.thresholded ? z.ge(0).cast('float32') : z.sigmoid();
  return diceLoss(p.mul(valid), target.mul(valid), [0, 1, 2], o.smooth ?? 1);
}

/**
 * Multi-class soft Dice on softmax probabilities, one Dice per class over the batch, averaged over
 * classes (segmentation_models.pytorch DiceLoss(mode='multiclass')); ignored pixels are left out.
 */
export function multiclassDice(logits: Tensor, labels: Tensor, o: Omit<DiceOptions, 'thresholded'> = {}): Tensor {
  if (labels.rank !== 3) throw new Error(`multiclassDice: labels must be N×H×W, got [${labels.shape.join(', ')}]`);
  const k = logits.shape[1]!;
  const ignore = o.ignoreIndex ?? 255;
  const valid = labels.eq(labels.graph.scalar(ignore, labels.dtype)).logicalNot().cast('float32').unsqueeze(1);
  const p = logitsAtLabelSize(logits, labels.shape).softmax(1).mul(valid);
  const t = labels.oneHot(k).permute([0, 3, 1, 2]).mul(valid);
  return diceLoss(p, t, [0, 2, 3], o.smooth ?? 1).mean();
}
