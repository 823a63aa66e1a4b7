/** segkit for Node.js: the core plus onnxruntime-node and file I/O. */
export * from './core.js';
export { nodeRuntime } from './engine/runtime/node.js';
export { readSafetensorsFile, writeSafetensorsFile } from './io/safetensors-node.js';
export { writeFileAtomic } from './io/atomic-file.js';
export { readTorchCheckpoint, readStateDictFile } from './io/pth-node.js';
export * as data from './data/node.js';
export { createSegmenter, shippedModels } from './segmenter/node.js';
export { Trainer, type TrainerOptions, type TrainResult, NonFiniteLossError } from './train/trainer.js';
export { loadTrainConfig, checkTrainConfig, ConfigError, type TrainConfig } from './train/config.js';
export { BUILTIN_CONFIGS, listConfigs } from './train/configs/index.js';
export { saveCheckpoint, loadCheckpoint, latestCheckpoint } from './train/checkpoint.js';
export { writeConfusionHeatmap } from './metrics/heatmap-node.js';
export * as onnxExport from './export/index.js';
export { writeExport } from './export/export-files.js';
