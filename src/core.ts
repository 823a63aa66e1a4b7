/**
 * Everything in segkit that runs the same in Node and the browser (no Node-only imports):
 * the engine, layers, safetensors. `segkit` (Node) and `segkit/web` re-export it with a runtime.
 */
export * from './engine/index.js';
export * from './nn/index.js';
export { parseSafetensors, serializeSafetensors, type SafetensorsFile } from './io/safetensors.js';
export { f16ToF32, f32ToF16, bf16ToF32 } from './io/half.js';
export * as data from './data/index.js';
export { createModel, listModels, SegmentationModel, type ModelEntry } from './models/index.js';
export * from './metrics/index.js';
export * as losses from './losses/index.js';
export { compileTrainStep, TrainStep } from './train/step.js';
export { compileEvalStep } from './train/eval-step.js';
export * as optim from './optim/index.js';
export { loadTorchCheckpoint, extractStateDict, type TorchCheckpoint } from './io/pth.js';
export { CheckpointError } from './io/checkpoint-error.js';
export * as inference from './inference/index.js';
export { Segmenter, type Segmentation, type SegmenterOptions } from './segmenter/segmenter.js';
export { checkpointFromSafetensors, serializeCheckpoint, weightsOnly, type Checkpoint, type CheckpointMeta, type WeightStorage } from './train/checkpoint-format.js';
export { renderCurves, type ScalarRecord } from './train/curves.js';
export * as effects from './segmenter/effects.js';
