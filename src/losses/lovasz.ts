import { HostTensor } from '../engine/host-tensor.js';
import { cat, type Tensor } from '../engine/tensor.js';
import { logitsAtLabelSize } from './resize-logits.js';

export interface LovaszOptions {
  /** Label value that contributes nothing (default 255). */
  ignoreIndex?: number;
  /**
   * Which classes the per-class losses are averaged over: 'present' (default) the classes that
   * occur among the batch's labelled pixels, 'all' every class, or a list of class indices.
   */
  classes?: 'present' | 'all' | readonly number[];
}

/**
 * Gradient of the Lovász extension of the Jaccard loss with respect to the errors sorted in
 * decreasing order (Berman et al. 2018, Alg. 1), per row of K×P ground truth sorted the same way:
 * J_i = 1 − |gt ∩ first i+1| / |gt ∪ first i+1|, then first differences J_i − J_{i−1}. The
 * union is ≥ 1 at every position, so no row divides by zero.
 */
function lovaszGrad(gtSorted: Tensor): Tensor {
  const total = gtSorted.sum(1, true);
  const intersection = total.sub(gtSorted.cumsum(1));
  const union = total.add(gtSorted.neg().add(1).cumsum(1));
  const jaccard = intersection.div(union).neg().add(1);
  const p = gtSorted.shape[1]!;
  if (p === 1) return jaccard;
  return cat([jaccard.slice(1, 0, 1), jaccard.slice(1, 1).sub(jaccard.slice(1, 0, p - 1))], 1);
}

/**
 * Lovász-softmax loss (Berman, Rannen Triki, Blaschko, CVPR 2018), as `lovasz_softmax` of the
 * authors' lovasz_losses.py with per_image=False: softmax probabilities of N×K×h×w logits (resized
 * to the N×H×W labels) against the labels, over the labelled pixels of the whole batch. For each
 * class c the errors |[y = c] − p_c| are sorted in decreasing order and dotted with the Lovász
 * gradient of the sorted ground truth (which carries no gradient); the result is averaged over the
 * classes chosen by `classes`. A batch with no labelled pixel gives 0.
 */
export function lovaszSoftmax(logits: Tensor, labels: Tensor, o: LovaszOptions = {}): Tensor {
  const k = logits.shape[1]!;
  if (logits.rank !== 4 || k < 2) throw new Error(`lovaszSoftmax: expects N×K×h×w logits with K ≥ 2 classes (use the binary losses for one logit), got [${logits.shape.join(', ')}]`);
  if (labels.rank !== 3) throw new Error(`lovaszSoftmax: labels must be N×H×W, got [${labels.shape.join(', ')}]`);
  const classes = o.classes ?? 'present';
  if (Array.isArray(classes)) {
    const bad = classes.some((c, i) => !Number.isInteger(c) || c < 0 || c >= k || classes.indexOf(c) !== i);
    if (classes.length === 0 || bad) throw new Error(`lovaszSoftmax: classes must be 'present', 'all' or a non-empty list of distinct class indices in [0, ${k}), got [${classes.join(', ')}]`);
  } else if (classes !== 'present' && classes !== 'all') {
    throw new Error(`lovaszSoftmax: classes must be 'present', 'all' or a list of class indices, got ${JSON.stringify(classes)}`);
  }
  const g = labels.graph;
  const flatLabels = labels.reshape([1, -1]);
  const valid = flatLabels.eq(g.scalar(o.ignoreIndex ?? 255, labels.dtype)).logicalNot();
  // K×P: class probabilities and foreground indicators of every pixel of the batch.
  const probs = logitsAtLabelSize(logits, labels.shape).softmax(1).transpose(0, 1).reshape([k, -1]);
  const fg = flatLabels.squeeze(0).oneHot(k).transpose(0, 1).mul(valid.cast('float32'));
  const errors = fg.sub(probs).abs();

  // Unlabelled pixels get error −1 so they sort after every labelled one (errors are ≥ 0) and are
  // then zeroed: the labelled prefix of each sorted row is exactly the reference's sorted errors.
  const [sorted, perm] = errors.where(valid, -1).topk(errors.shape[1]!, 1);
  const labelled = sorted.ge(0).cast('float32');
  const perClass = sorted.mul(labelled).mul(lovaszGrad(fg.gatherElements(perm, 1))).sum(1);

  if (classes === 'all') return perClass.mean();
  let chosen: Tensor;
  if (classes === 'present') chosen = fg.sum(1).gt(0).cast('float32');
  else {
    const mask = new Float32Array(k);
    for (const c of classes) mask[c] = 1;
    chosen = g.constant(new HostTensor(mask, [k]));
  }
  return perClass.mul(chosen).sum().div(chosen.sum().maximum(1));
}
