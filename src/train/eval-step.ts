import { compile, type CompiledFunction, type TraceResult } from '../engine/compile.js';
import type { Runtime } from '../engine/runtime/runtime.js';
import type { Tensor } from '../engine/tensor.js';
import type { AnyModule } from '../nn/module.js';

export interface EvalStepOptions {
  runtime: Runtime;
  threads?: number;
}

/**
 * Inference for a model that is being trained (validation every N iterations): traced in eval mode
 * whatever the model's current mode, with parameters and buffers fed as inputs rather than baked in,
 * so the session built on the first call is reused after every training step instead of being
 * rebuilt from new weights. One session per input signature, as for compileModule.
 * For deployment (weights fixed) compileModule is faster: baked weights let onnxruntime fold
 * BatchNorm into convolutions and pre-pack them.
 */
export function compileEvalStep<M extends AnyModule>(
  model: M,
  fn: (model: M, ...inputs: Tensor[]) => TraceResult = (m, ...xs) => m.forward(...xs) as TraceResult,
  o: EvalStepOptions,
): CompiledFunction {
  return compile(
    (...xs: Tensor[]) => {
      const wasTraining = model.training;
      model.eval();
      try {
        return fn(model, ...xs);
      } finally {
        model.train(wasTraining);
      }
    },
    { runtime: o.runtime, threads: o.threads, paramMode: 'input', paramNames: model.namedState() },
  );
}
