/** The engine: trace TypeScript tensor code into a graph, write it as ONNX, run it on onnxruntime. */
export * from './dtype.js';
export * from './shape.js';
export { HostTensor } from './host-tensor.js';
export { Parameter } from './parameter.js';
export { Graph, Node, Tensor, type ParamMode, type TensorLike } from './graph.js';
export { cat, where, type Conv2dOptions as ConvOpOptions, type ConvTranspose2dOptions, type Padding2d, type Pool2dOptions, type ResizeOptions } from './tensor.js';
export { ShapeError, defineOp, type OpDef } from './op.js';
export { writeOnnx, ONNX_OPSET, ONNX_IR_VERSION, type OnnxWriteOptions } from './onnx/write.js';
export { trace, toOnnx, compile, CompiledFunction, type InputSpec, type TraceResult, type CompileOptions } from './compile.js';
export type { Runtime, Session, SessionOptions } from './runtime/runtime.js';
export { createOrtRuntime, type OrtModule } from './runtime/ort.js';
export { grad, sumToShape } from './autodiff.js';
