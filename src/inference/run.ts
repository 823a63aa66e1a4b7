/**
 * The inference entry point: one mode (whole or sliding window) at one or several test scales,
 * optionally with horizontal flips, as mmseg's test pipelines run it. With more than one
 * (scale, flip) view the result is the mean of the views' softmax probabilities (mmseg aug_test).
 */
import { HostTensor } from '../engine/host-tensor.js';
import { imageDims, positiveInt, type ForwardFn } from './forward.js';
import { flipWidth, resizeBilinearNCHW } from './nchw.js';
import { labelsFromScores, probabilities, type ScoresKind } from './scores.js';
import { alignedSize, testSize } from './sizes.js';
import { slideInference, type SlideOptions } from './slide.js';
import { forwardPadded, forwardResized, wholeSettings, type WholeOptions } from './whole.js';

/** mmseg's multi-scale test ratios (the SegFormer and SETR aug-test configs), each also flipped. */
export const MMSEG_TTA_RATIOS: readonly number[] = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75];

/** Whole-image mode (mmseg `mode='whole'`). */
export type WholeMode = { mode: 'whole' } & Omit<WholeOptions, 'inputMultiple'>;
/** Sliding-window mode (mmseg `mode='slide'`). */
export type SlideMode = { mode: 'slide' } & Omit<SlideOptions, 'inputMultiple'>;

/** Options of {@link runInference}. */
export interface InferenceOptions {
  /** The model's constraint: input sizes must be multiples of it (`SegmentationModel.inputMultiple`). */
  inputMultiple: number;
  /** Default `{ mode: 'whole' }` (AlignedResize to multiples of `inputMultiple`). */
  mode?: WholeMode | SlideMode;
  /**
   * Base test scale, mmcv `img_scale` (unordered [long, short] bound, e.g. [2048, 1024]; use
   * [Infinity, 512] for "short side 512"): the image is rescaled keeping its ratio before
   * inference and the scores are resized back. Default: the image's own size.
   */
  scale?: readonly [number, number];
  /** Test-time scales as ratios of the base scale (default [1]), e.g. [0.5, 0.75, 1, 1.25, 1.5, 1.75]. */
  ratios?: readonly number[];
  /** Also run every scale on the horizontally flipped image (default false). */
  flip?: boolean;
  /** For a single-channel (binary) model: probability above which a pixel is labelled 1 (default 0.5). */
  threshold?: number;
}

/** Scores and labels at the input size. */
export interface InferenceResult {
  /** N×K×H×W: logits for a single view, mean probabilities (softmax, sigmoid if K = 1) for several. */
  scores: HostTensor;
  kind: ScoresKind;
  /** N×H×W label maps, row-major: argmax over K (threshold for K = 1). */
  labels: Uint8Array | Int32Array;
}

/**
 * Logits at the input size for one view: the image (flipped if asked) is rescaled to the view's
 * test size, run in the chosen mode, and the logits resized back to the input size (and unflipped).
 * AlignedResize goes straight from the input to the aligned test size, and the logits straight from
 * the aligned size back to the input size (mmseg resizes the image twice, rescale then align; the
 * logits path is the same).
 */
async function viewLogits(x: HostTensor, forward: ForwardFn, o: InferenceOptions, ratio: number, flip: boolean): Promise<HostTensor> {
  const [, , h, w] = imageDims(x, 'runInference');
  const mode = o.mode ?? { mode: 'whole' };
  const [th, tw] = testSize(h, w, ratio, o.scale);
  const input = flip ? flipWidth(x) : x;
  let logits: HostTensor;
  if (mode.mode === 'slide') {
    logits = await slideInference(resizeBilinearNCHW(input, th, tw), forward, { ...mode, inputMultiple: o.inputMultiple });
  } else if (mode.mode === 'whole') {
    const { fit, padValue } = wholeSettings({ ...mode, inputMultiple: o.inputMultiple });
    if (fit === 'pad') logits = await forwardPadded(resizeBilinearNCHW(input, th, tw), forward, o.inputMultiple, padValue);
    else {
      const [ha, wa] = alignedSize(th, tw, o.inputMultiple);
      logits = await forwardResized(input, forward, ha, wa);
    }
  } else throw new Error(`runInference: mode must be 'whole' or 'slide', got ${JSON.stringify((mode as { mode: unknown }).mode)}`);
  logits = resizeBilinearNCHW(logits, h, w);
  return flip ? flipWidth(logits) : logits;
}

/**
 * Runs a segmentation model on an N×C×H×W float32 batch through `forward` and returns scores and
 * label maps at the input size. One view (ratio 1, no flip) gives logits; several views give the
 * mean of their probabilities.
 *
 * ```ts
 * // SegFormer on Cityscapes: 1024×1024 windows, stride 768, multi-scale + flip
 * const r = await runInference(batch, forward, {
 *   inputMultiple: model.inputMultiple,
 *   mode: { mode: 'slide', crop: [1024, 1024], stride: [768, 768] },
 *   ratios: [0.5, 0.75, 1, 1.25, 1.5, 1.75], flip: true,
 * });
 * ```
 */
export async function runInference(x: HostTensor, forward: ForwardFn, o: InferenceOptions): Promise<InferenceResult> {
  imageDims(x, 'runInference');
  positiveInt(o.inputMultiple, 'inputMultiple', 'runInference');
  const ratios = o.ratios ?? [1];
  if (ratios.length === 0) throw new Error('runInference: ratios must list at least one scale ratio');
  for (const r of ratios) if (!(r > 0 && Number.isFinite(r))) throw new Error(`runInference: scale ratios must be positive numbers, got ${r}`);
  const flips = o.flip ? [false, true] : [false];
  if (ratios.length * flips.length === 1) {
    const scores = await viewLogits(x, forward, o, ratios[0]!, false);
    return { scores, kind: 'logits', labels: labelsFromScores(scores, 'logits', o.threshold) };
  }
  let sum: Float32Array | undefined;
  let shape: number[] = [];
  for (const ratio of ratios) {
    for (const flip of flips) {
      const p = probabilities(await viewLogits(x, forward, o, ratio, flip));
      if (!sum) {
        sum = p.f32;
        shape = p.shape;
      } else {
        if (p.shape[1] !== shape[1]) throw new Error(`runInference: forward returned ${p.shape[1]} classes at ratio ${ratio} but ${shape[1]} for an earlier view`);
        const v = p.f32;
        for (let i = 0; i < v.length; i++) sum[i]! += v[i]!;
      }
    }
  }
  const views = ratios.length * flips.length;
  for (let i = 0; i < sum!.length; i++) sum![i]! /= views;
  const scores = new HostTensor(sum!, shape);
  return { scores, kind: 'probabilities', labels: labelsFromScores(scores, 'probabilities', o.threshold) };
}
