/**
 * ONNX export, platform-neutral part: a checkpoint to a verified .onnx (exportCheckpoint), the
 * file's self-description (ExportContract, transformers.js sidecars), a runner that applies the
 * Segmenter's pre/post-processing to any exported file (ExportedSegmenter), and the graph passes
 * on their own. Node-only companions: export-files.ts (atomic writes), onnx-checker.ts
 * (python3-onnx), export-data.ts (datasets), version-node.ts.
 */
export { exportCheckpoint, exportModel, modelFromCheckpoint, type ExportOptions, type ExportedModel, type ExportReport, type ExportMeta } from './export-model.js';
export { ExportedSegmenter, prepareInput, type ExportedSegmentation } from './exported-segmenter.js';
export { contractFromMetadata, metadataProps, type ExportContract } from './contract.js';
export { configJson, preprocessorJson, CONFIG_FILE, PREPROCESSOR_FILE } from './sidecars.js';
export { HEADS, WEIGHT_FORMATS, parseHead, parseInt8Mode, parseDynamic, weightFormat, type Head, type WeightFormat, type Int8Mode } from './options.js';
export { resolveInputShape, fixedValidationSize } from './input-size.js';
export { readOnnx } from './onnx-read.js';
export { encodeOnnx } from './onnx-encode.js';
export { foldBatchNorm } from './fold-batchnorm.js';
export { pruneDeadNodes } from './prune.js';
export { makeBatchDynamic, DynamicBatchError } from './dynamic-batch.js';
export { convertWeightsToFloat16 } from './float16-weights.js';
export { quantizeWeightsInt8 } from './int8-weights.js';
export { activationInputs, insertActivationQdq } from './int8-activations.js';
export { calibrateRanges } from './calibrate.js';
export { evaluateExports, labelAgreement } from './evaluate-exports.js';
export { agreementWithSegmenter, REQUIRED_AGREEMENT } from './segmenter-agreement.js';
export type { OnnxModel, OnnxGraph, OnnxNode, OnnxTensor } from './onnx-model.js';
