/** Losses as graph code: each takes traced logits and labels and returns a scalar tensor. */
export { crossEntropy, type CrossEntropyOptions, type LossAverage } from './cross-entropy.js';
export { bceWithLogits, binaryDice, multiclassDice, type BinaryLossOptions, type DiceOptions } from './binary.js';
export { ohemCrossEntropy, type OhemOptions } from './ohem.js';
export { lovaszSoftmax, type LovaszOptions } from './lovasz.js';
export { crfMeanField, crfLoss, type CrfOptions } from './crf.js';
export { auxiliaryLoss, segmentationLoss, type LossSpec, type SegmentationLossFn } from './aux.js';
