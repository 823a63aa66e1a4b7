import type { Tensor } from '../engine/tensor.js';
import { crossEntropy, type CrossEntropyOptions } from './cross-entropy.js';
import { logitsAtLabelSize } from './resize-logits.js';

export interface OhemOptions extends CrossEntropyOptions {
  /**
   * A labelled pixel is hard, and kept, when the softmax probability of its label is below this
   * (mmseg's `thresh`, default 0.7).
   */
  thresh?: number;
  /**
   * At least this many hardest labelled pixels per image are kept (mmseg's `min_kept`, default
   * 100000). As in mmseg the count is pooled over the batch: minKept × N pixels of the whole batch,
   * not minKept of each image.
   */
  minKept?: number;
}

/**
 * Cross-entropy over the hard pixels only: mmseg's OHEMPixelSampler (probability-threshold mode)
 * followed by the cross-entropy of src/losses/cross-entropy.ts. Logits are resized to the labels
 * first, as mmseg resizes before sampling.
 *
 * Selection, over the labelled pixels of the whole batch, with p = softmax probability of the
 * label and s = those probabilities sorted ascending:
 * threshold = max(s[min(minKept·N, count − 1)], thresh); a pixel is kept when p < threshold.
 * So at least minKept·N hardest pixels are kept when the batch has more labelled pixels than that;
 * when it has fewer, mmseg's rule keeps all of them except the easiest one (and its ties) unless
 * `thresh` is above every p. Selection carries no gradient.
 *
 * The loss is the cross-entropy of the kept pixels with `classWeights` and `average` as in
 * crossEntropy, where 'valid' now means the kept pixels: the (weighted) mean over them, the
 * torch-style normalisation. `average: 'all'` divides by every pixel of the batch, which is what
 * mmseg 0.x's default CrossEntropyLoss (avg_non_ignore=False) does with the sampler's weights.
 */
export function ohemCrossEntropy(logits: Tensor, labels: Tensor, o: OhemOptions = {}): Tensor {
  const thresh = o.thresh ?? 0.7;
  const minKept = o.minKept ?? 100000;
  if (!Number.isFinite(thresh)) throw new Error(`ohemCrossEntropy: thresh must be a finite number (a probability, e.g. 0.7), got ${thresh}`);
  if (!Number.isInteger(minKept) || minKept < 1) throw new Error(`ohemCrossEntropy: minKept must be a positive integer, got ${minKept}`);
  if (labels.rank !== 3) throw new Error(`ohemCrossEntropy: labels must be N×H×W, got [${labels.shape.join(', ')}]`);
  const g = labels.graph;
  const ignore = o.ignoreIndex ?? 255;
  const z = logitsAtLabelSize(logits, labels.shape);
  const valid = labels.eq(g.scalar(ignore, labels.dtype)).logicalNot();
  const safe = labels.where(valid, g.scalar(0, labels.dtype));
  const prob = z.softmax(1).gatherElements(safe.unsqueeze(1), 1).squeeze(1);

  // Unlabelled pixels get 2 (above any probability) so they sort after every labelled one; then
  // the first `count` sorted values are the labelled pixels' and only the batchKept + 1 smallest
  // are ever read.
  const batchKept = minKept * labels.shape[0]!;
  const flat = prob.where(valid, 2).reshape([-1]);
  const [smallest] = flat.topk(Math.min(batchKept + 1, flat.size), 0, { largest: false });
  const count = valid.cast('int64').sum();
  // With no labelled pixel nothing is kept whatever the threshold; index 0 keeps the Gather in range.
  const at = count.sub(g.scalar(1, 'int64')).minimum(g.scalar(batchKept, 'int64')).maximum(g.scalar(0, 'int64'));
  const threshold = smallest.gather(at, 0).maximum(thresh);
  const kept = prob.lt(threshold).logicalAnd(valid);

  // Pixels left out become ignored labels, so crossEntropy's weighting and averaging apply as-is.
  const keptLabels = labels.where(kept, g.scalar(ignore, labels.dtype));
  return crossEntropy(z, keptLabels, { ignoreIndex: ignore, classWeights: o.classWeights, average: o.average });
}
