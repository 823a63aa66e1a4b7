/** Losses as graph code: each takes traced logits and labels and returns a scalar tensor. */
export { crossEntropy, type CrossEntropyOptions, type LossAverage } from './cross-entropy.js';
export { bceWithLogits, binaryDice, multiclassDice, type BinaryLossOptions, type DiceOptions } from './binary.js';
