import { HostTensor } from '../engine/host-tensor.js';
import { cat, type Tensor } from '../engine/tensor.js';

/** The mean-field CRF's settings; the defaults are crfseg's `CRF(n_spatial_dims=2)`, FastSeg's. */
export interface CrfOptions {
  /** Mean-field iterations (default 5). 0 returns the logits unchanged. */
  iterations?: number;
  /** Side of the square Gaussian window in pixels, odd (default 11). */
  filterSize?: number;
  /** Weight of the smoothness (pairwise) term (default 1). */
  smoothnessWeight?: number;
  /** Bandwidth θ of the Gaussian exp(−d²/2θ²), in pixels (default 1). */
  smoothnessTheta?: number;
}

function positiveInteger(v: number, what: string, allowZero = false): void {
  if (!Number.isInteger(v) || v < (allowZero ? 0 : 1)) throw new Error(`crfMeanField: ${what} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${v}`);
}

/**
 * crfseg's 1-D Gaussian taps exp(−(d/θ)²/2), d = −r…r, with the centre tap zeroed. crfseg filters
 * each axis with these taps in turn, so the 2-D window is their outer product: zero on the whole
 * centre row and column, not only at the centre pixel. Kept as is for parity.
 */
function gaussianTaps(size: number, theta: number, scale: number): Float32Array {
  const r = (size - 1) / 2;
  return Float32Array.from({ length: size }, (_, i) => (i === r ? 0 : scale * Math.exp(-(((i - r) / theta) ** 2) / 2)));
}

/**
 * The learning-free mean-field CRF that FastSeg uses (the `crfseg` package's `CRF(n_spatial_dims=2)`
 * with its initial, never-trained parameters; architectures.md §2.5), on N×K×H×W logits, returning
 * logits of the same shape. With U the input logits and x₀ = U, each iteration is
 *
 *   x_{t+1} = U + w · G ∗ softmax(x_t)   (per class, over the channel axis)
 *
 * — crfseg's "normalise (softmax), message passing (Gaussian filter), compatibility transform
 * (Potts, −[i = j]), subtract from the unaries" with the two minus signs folded. G is a separable
 * spatial Gaussian (see gaussianTaps) applied with zero padding; no image features (no bilateral
 * term). One logit channel (K = 1) is crfseg's binary case: the CRF runs on [z, 0] and returns the
 * difference of its two output logits.
 */
export function crfMeanField(logits: Tensor, o: CrfOptions = {}): Tensor {
  const iterations = o.iterations ?? 5;
  const size = o.filterSize ?? 11;
  const weight = o.smoothnessWeight ?? 1;
  const theta = o.smoothnessTheta ?? 1;
  if (logits.rank !== 4) throw new Error(`crfMeanField: expects N×K×H×W logits, got [${logits.shape.join(', ')}]`);
  positiveInteger(iterations, 'iterations', true);
  positiveInteger(size, 'filterSize');
  if (size % 2 === 0) throw new Error(`crfMeanField: filterSize must be odd (a window centred on the pixel), got ${size}`);
  if (!Number.isFinite(weight)) throw new Error(`crfMeanField: smoothnessWeight must be a finite number, got ${weight}`);
  if (!(theta > 0) || !Number.isFinite(theta)) throw new Error(`crfMeanField: smoothnessTheta must be a positive number, got ${theta}`);

  const g = logits.graph;
  const [n, k, h, w] = logits.shape as [number, number, number, number];
  const unary = k === 1 ? cat([logits, g.constant(HostTensor.zeros([n, 1, h, w]))], 1) : logits;
  const c = unary.shape[1]!;
  // Depthwise (one filter per class) convolutions, vertical then horizontal; w folds into the first.
  const depthwise = (taps: Float32Array, shape: number[]) => g.constant(new HostTensor(Float32Array.from({ length: c * size }, (_, i) => taps[i % size]!), shape));
  const vertical = depthwise(gaussianTaps(size, theta, weight), [c, 1, size, 1]);
  const horizontal = depthwise(gaussianTaps(size, theta, 1), [c, 1, 1, size]);
  const r = (size - 1) / 2;
  let x = unary;
  for (let i = 0; i < iterations; i++) {
    const message = x.softmax(1).conv2d(vertical, { padding: [r, 0], groups: c }).conv2d(horizontal, { padding: [0, r], groups: c });
    x = unary.add(message);
  }
  return k === 1 ? x.slice(1, 0, 1).sub(x.slice(1, 1, 2)) : x;
}

/**
 * FastSeg's CRF loss, mean(CRF(z) − z) over every element, with crfMeanField as the CRF (FastSeg
 * applies it to logits already resized to the label size; `segmentationLoss` does the same).
 *
 * What it is: CRF(z) − z is the last iteration's smoothness message. With K ≥ 2 classes the
 * softmax sums to 1 over classes, so Σ_c G ∗ softmax_c = G ∗ 1 depends only on the pixel position:
 * the loss is a constant and gives no gradient (up to float rounding). With one logit channel
 * (FastSeg's binary models) it is w·mean(G ∗ (2σ(x_{T−1}) − 1)): minimising it lowers the
 * neighbourhood-smoothed probability of the positive class everywhere — a pull on the logits,
 * not a smoothness prior. FastSeg's weight for it is 0 by default.
 */
export function crfLoss(logits: Tensor, o: CrfOptions = {}): Tensor {
  return crfMeanField(logits, o).sub(logits).mean();
}
