import type { HostTensor } from '../engine/host-tensor.js';
import type { Parameter } from '../engine/parameter.js';
import type { Tensor } from '../engine/tensor.js';

/** Parameters that share a learning-rate multiplier and a weight decay (PyTorch's param_groups). */
export interface ParamGroup {
  params: Parameter[];
  /** Multiplies the scheduled learning rate (e.g. 10 for a decode head). Default 1. */
  lrMult?: number;
  /** Overrides the optimizer's weight decay for this group (e.g. 0 for norms and biases). */
  weightDecay?: number;
}

/** What one parameter's update sees, as traced tensors. */
export interface UpdateContext {
  param: Tensor;
  grad: Tensor;
  /** The parameter's optimizer state (momentum buffers, Adam moments), by slot name. */
  state: Record<string, Tensor>;
  /** Scalar learning rate of this step, with the group's multiplier applied. */
  lr: Tensor;
  weightDecay: number;
  /** Per-step scalars the optimizer asked for (e.g. Adam's bias corrections). */
  scalars: Record<string, Tensor>;
}

/**
 * An optimizer as graph code: `update` builds the new parameter and state from traced tensors,
 * so forward + backward + update compile into one onnxruntime session. State lives on the host
 * between steps and is fed back as inputs.
 */
export interface Optimizer {
  readonly name: string;
  readonly weightDecay: number;
  /** Names of the per-parameter state slots, initialised to zeros. */
  readonly slots: readonly string[];
  /** Host-computed scalars for step `t` (1-based), fed as graph inputs. */
  scalars(t: number): Record<string, number>;
  update(c: UpdateContext): { param: Tensor; state: Record<string, Tensor> };
}

/** Host-side optimizer state for a set of parameters: one zero-initialised tensor per slot. */
export type OptimizerState = Map<Parameter, Record<string, HostTensor>>;
