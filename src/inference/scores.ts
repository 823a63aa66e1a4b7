/**
 * From N×K×H×W scores to probabilities and label maps, on the host: softmax over K (sigmoid for a
 * single-channel binary model), argmax over K.
 */
import { HostTensor } from '../engine/host-tensor.js';

/** What a scores tensor holds. */
export type ScoresKind = 'logits' | 'probabilities';

function dims(x: HostTensor, where: string): [number, number, number] {
  if (x.shape.length !== 4) throw new Error(`${where}: expected N×K×H×W scores, got shape [${x.shape.join(', ')}]`);
  const [n, k, h, w] = x.shape as [number, number, number, number];
  return [n, k, h * w];
}

/** Softmax over the K channels of every pixel (the per-pixel maximum is subtracted first, so large logits do not overflow). */
export function softmaxChannels(x: HostTensor): HostTensor {
  const [n, k, hw] = dims(x, 'softmaxChannels');
  const src = x.f32;
  const out = new Float32Array(src.length);
  // Channel-by-channel passes over whole planes keep memory access contiguous.
  const max = new Float32Array(hw);
  const sum = new Float64Array(hw);
  for (let b = 0; b < n; b++) {
    const base = b * k * hw;
    max.set(src.subarray(base, base + hw));
    for (let c = 1; c < k; c++) {
      const o = base + c * hw;
      for (let i = 0; i < hw; i++) if (src[o + i]! > max[i]!) max[i] = src[o + i]!;
    }
    sum.fill(0);
    for (let c = 0; c < k; c++) {
      const o = base + c * hw;
      for (let i = 0; i < hw; i++) sum[i] += out[o + i] = Math.exp(src[o + i]! - max[i]!);
    }
    for (let c = 0; c < k; c++) {
      const o = base + c * hw;
      for (let i = 0; i < hw; i++) out[o + i]! /= sum[i]!;
    }
  }
  return new HostTensor(out, x.shape);
}

/** Element-wise logistic sigmoid. */
export function sigmoid(x: HostTensor): HostTensor {
  const src = x.f32;
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = 1 / (1 + Math.exp(-src[i]!));
  return new HostTensor(out, x.shape);
}

/**
 * Class probabilities from logits: softmax over K, or the sigmoid when K = 1 (a binary model's
 * single logit), as mmseg's test-time-augmentation merge does.
 */
export function probabilities(logits: HostTensor): HostTensor {
  return logits.shape[1] === 1 ? sigmoid(logits) : softmaxChannels(logits);
}

/**
 * Per-pixel argmax over K: an N×H×W label map, Uint8Array when K ≤ 256, else Int32Array. Ties go
 * to the lowest class index (as torch.argmax). A NaN score is an error: it would make the label
 * depend on the comparison order.
 */
export function argmaxChannels(x: HostTensor): Uint8Array | Int32Array {
  const [n, k, hw] = dims(x, 'argmaxChannels');
  const src = x.f32;
  const out = k <= 256 ? new Uint8Array(n * hw) : new Int32Array(n * hw);
  for (let b = 0; b < n; b++) {
    const base = b * k * hw;
    for (let i = 0; i < hw; i++) {
      let best = 0;
      let bestV = src[base + i]!;
      for (let c = 0; c < k; c++) {
        const v = src[base + c * hw + i]!;
        if (Number.isNaN(v)) throw new Error(`argmaxChannels: score of class ${c} at image ${b}, pixel ${i} is NaN`);
        if (v > bestV) {
          bestV = v;
          best = c;
        }
      }
      out[b * hw + i] = best;
    }
  }
  return out;
}

/**
 * Label maps from scores: argmax over K; for K = 1, the pixels whose probability exceeds
 * `threshold` (default 0.5, FastSeg's `logit > 0`; mmseg's decode heads default to 0.3) are 1.
 */
export function labelsFromScores(x: HostTensor, kind: ScoresKind, threshold = 0.5): Uint8Array | Int32Array {
  if (x.shape[1] !== 1) return argmaxChannels(x);
  if (!(threshold > 0 && threshold < 1)) throw new Error(`labelsFromScores: threshold must be in (0, 1), got ${threshold}`);
  // sigmoid(z) > t  ⇔  z > log(t / (1 − t)): threshold logits without computing the sigmoid.
  const cut = kind === 'logits' ? Math.log(threshold / (1 - threshold)) : threshold;
  const src = x.f32;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) {
    if (Number.isNaN(src[i]!)) throw new Error(`labelsFromScores: score at element ${i} is NaN`);
    out[i] = src[i]! > cut ? 1 : 0;
  }
  return out;
}
