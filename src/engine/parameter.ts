import { HostTensor } from './host-tensor.js';
import type { Shape } from './shape.js';

let nextParamId = 0;

/**
 * A named, persistent tensor that traced graphs read: a trainable weight or a buffer
 * (BatchNorm running statistics). The host data lives here; a traced graph refers to it either as
 * a constant (inference: onnxruntime can pre-pack it) or as a graph input (training).
 */
export class Parameter {
  readonly id = nextParamId++;
  /** Bumped whenever `value` is replaced, so compiled graphs that baked it in can notice. */
  version = 0;
  constructor(
    public value: HostTensor,
    /** false for buffers such as running statistics. */
    readonly requiresGrad = true,
  ) {}

  get shape(): number[] {
    return this.value.shape;
  }

  static zeros(shape: Shape, requiresGrad = true): Parameter {
    return new Parameter(HostTensor.zeros(shape), requiresGrad);
  }

  /** Replaces the data (same shape required) and bumps the version. */
  set(value: HostTensor): void {
    this.value = value;
    this.version++;
  }
}
