/**
 * Whole-image inference (mmseg `mode='whole'`): the model sees the entire image, made a multiple of
 * its `inputMultiple` either by resizing (mmseg's AlignedResize) or by padding at the bottom and
 * right (mmseg's `size_divisor` padding, cropped back from the logits).
 */
import type { HostTensor } from '../engine/host-tensor.js';
import { imageDims, positiveInt, runForward, type ForwardFn } from './forward.js';
import { cropNCHW, padBottomRight, resizeBilinearNCHW } from './nchw.js';
import { alignedSize } from './sizes.js';

/** Options of {@link wholeInference}. */
export interface WholeOptions {
  /** The model's constraint: input height and width must be multiples of it (1: any size). */
  inputMultiple: number;
  /**
   * How the input is made a multiple of `inputMultiple`: `'resize'` (default) resizes it
   * bilinearly to the next multiples (AlignedResize) and resizes the logits back; `'pad'` pads it
   * at the bottom/right with `padValue` and crops the logits back.
   */
  fit?: 'resize' | 'pad';
  /** Value of padded input pixels (default 0: the mean colour after normalisation, as mmseg pads). */
  padValue?: number;
}

/**
 * Resizes the batch to h×w, runs the model, and resizes its logits to h×w (bilinear,
 * align_corners False), as mmseg's `encode_decode` does.
 */
export async function forwardResized(x: HostTensor, forward: ForwardFn, h: number, w: number): Promise<HostTensor> {
  const out = await runForward(forward, resizeBilinearNCHW(x, h, w), 'wholeInference');
  return resizeBilinearNCHW(out, h, w);
}

/**
 * Pads the batch at the bottom/right to multiples of `inputMultiple`, runs the model, resizes the
 * logits to the padded size and crops the padding off: logits at the input size.
 */
export async function forwardPadded(x: HostTensor, forward: ForwardFn, inputMultiple: number, padValue: number): Promise<HostTensor> {
  const [, , h, w] = imageDims(x, 'wholeInference');
  const [hp, wp] = alignedSize(h, w, inputMultiple);
  const out = await runForward(forward, padBottomRight(x, hp, wp, padValue), 'wholeInference');
  return cropNCHW(resizeBilinearNCHW(out, hp, wp), 0, 0, h, w);
}

/** Checks whole-mode options; returns the fit and pad value with defaults applied. */
export function wholeSettings(o: WholeOptions): { fit: 'resize' | 'pad'; padValue: number } {
  positiveInt(o.inputMultiple, 'inputMultiple', 'wholeInference');
  const fit = o.fit ?? 'resize';
  if (fit !== 'resize' && fit !== 'pad') throw new Error(`wholeInference: fit must be 'resize' or 'pad', got ${JSON.stringify(fit)}`);
  const padValue = o.padValue ?? 0;
  if (!Number.isFinite(padValue)) throw new Error(`wholeInference: padValue must be a finite number, got ${padValue}`);
  return { fit, padValue };
}

/**
 * Whole-image inference on an N×C×H×W batch: returns N×K×H×W logits at the input size. With
 * `fit: 'resize'` the logits go model output → network input size → H×W, two bilinear resizes as in
 * mmseg (decode head, then `rescale`).
 */
export async function wholeInference(x: HostTensor, forward: ForwardFn, o: WholeOptions): Promise<HostTensor> {
  const [, , h, w] = imageDims(x, 'wholeInference');
  const { fit, padValue } = wholeSettings(o);
  if (fit === 'pad') return forwardPadded(x, forward, o.inputMultiple, padValue);
  const [ha, wa] = alignedSize(h, w, o.inputMultiple);
  return resizeBilinearNCHW(await forwardResized(x, forward, ha, wa), h, w);
}
