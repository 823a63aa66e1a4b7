import { compile, toOnnx, type CompiledFunction, type CompileOptions, type InputSpec } from '../engine/compile.js';
import type { OnnxWriteOptions } from '../engine/onnx/write.js';
import type { Tensor } from '../engine/tensor.js';
import type { AnyModule } from './module.js';

/**
 * Compiles a module's forward pass for inference: parameters become constants named by their
 * state-dict keys; one session per input shape and train/eval mode, rebuilt if weights are replaced.
 */
export function compileModule(m: AnyModule, o: Omit<CompileOptions, 'paramNames' | 'cacheKey'>): CompiledFunction {
  return compile((...xs: Tensor[]) => m.forward(...xs), { ...o, paramNames: m.namedState(), cacheKey: () => (m.training ? 'train' : 'eval') });
}

/** Traces a module on inputs of the given shapes and writes it as ONNX bytes (weights inside). */
export function exportModuleOnnx(m: AnyModule, specs: readonly InputSpec[], o: OnnxWriteOptions = {}): Uint8Array {
  return toOnnx((...xs: Tensor[]) => m.forward(...xs), specs, { ...o, paramNames: m.namedState() });
}
