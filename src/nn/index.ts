/** Layers and the Module base, PyTorch-style. */
export { Module, type AnyModule, type LoadResult, type StateDict } from './module.js';
export * as init from './init.js';
export { manualSeed } from './init.js';
export { Conv2d, type Conv2dOptions } from './layers/conv.js';
export { Linear } from './layers/linear.js';
export { BatchNorm2d, LayerNorm } from './layers/norm.js';
export { PReLU, ReLU, GELU, Sigmoid } from './layers/activation.js';
export { Dropout, Dropout2d, DropPath } from './layers/dropout.js';
export { Identity, Sequential } from './layers/container.js';
export { compileModule, exportModuleOnnx } from './compile.js';
