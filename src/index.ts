/** segkit for Node.js: the core plus onnxruntime-node and file I/O. */
export * from './core.js';
export { nodeRuntime } from './engine/runtime/node.js';
export { readSafetensorsFile, writeSafetensorsFile } from './io/safetensors-node.js';
export { writeFileAtomic } from './io/atomic-file.js';
export { readTorchCheckpoint, readStateDictFile } from './io/pth-node.js';
export * as data from './data/node.js';
