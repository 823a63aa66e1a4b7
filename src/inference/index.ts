/**
 * Host-side inference modes, independent of any model class: whole image (aligned resize or pad),
 * sliding window, multi-scale + flip test-time augmentation, softmax and argmax.
 */
export { type ForwardFn } from './forward.js';
export { resizeBilinearNCHW, flipWidth, padBottomRight, cropNCHW } from './nchw.js';
export { ceilToMultiple, alignedSize, testSize } from './sizes.js';
export { softmaxChannels, sigmoid, probabilities, argmaxChannels, labelsFromScores, type ScoresKind } from './scores.js';
export { wholeInference, forwardResized, forwardPadded, type WholeOptions } from './whole.js';
export { slideInference, slideWindows, slideCounts, type SlideOptions, type SlideWindow } from './slide.js';
export { runInference, MMSEG_TTA_RATIOS, type InferenceOptions, type InferenceResult, type WholeMode, type SlideMode } from './run.js';
