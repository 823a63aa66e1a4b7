import { HostTensor } from '../../engine/host-tensor.js';
import type { Parameter } from '../../engine/parameter.js';
import type { Tensor } from '../../engine/tensor.js';
import { constant } from '../init.js';
import { Module } from '../module.js';

/**
 * torch.nn.BatchNorm2d. Eval mode normalises with the running statistics; training mode with the
 * batch statistics, and records the running-statistics update (PyTorch's rule:
 * running = (1 − momentum)·running + momentum·batch, with the unbiased batch variance).
 */
export class BatchNorm2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  readonly runningMean: Parameter;
  readonly runningVar: Parameter;
  readonly numBatchesTracked: Parameter;

  constructor(
    readonly numFeatures: number,
    readonly options: { eps?: number; momentum?: number } = {},
  ) {
    super();
    this.weight = this.param('weight', constant([numFeatures], 1));
    this.bias = this.param('bias', constant([numFeatures], 0));
    this.runningMean = this.buffer('running_mean', HostTensor.zeros([numFeatures]));
    this.runningVar = this.buffer('running_var', new HostTensor(new Float32Array(numFeatures).fill(1), [numFeatures]));
    // Kept for checkpoint compatibility with PyTorch (its state_dict has it); not used by the graph.
    this.numBatchesTracked = this.buffer('num_batches_tracked', HostTensor.zeros([], 'int64'));
  }

  get eps(): number {
    return this.options.eps ?? 1e-5;
  }

  forward(x: Tensor): Tensor {
    if (!this.training) {
      return x.batchNorm({ weight: this.weight, bias: this.bias, runningMean: this.runningMean, runningVar: this.runningVar, eps: this.eps });
    }
    const m = this.options.momentum ?? 0.1;
    const { out, mean, varUnbiased } = x.batchNormTrain(this.weight, this.bias, this.eps);
    const g = x.graph;
    g.updateBuffer(this.runningMean, g.param(this.runningMean).mul(1 - m).add(mean.mul(m)));
    g.updateBuffer(this.runningVar, g.param(this.runningVar).mul(1 - m).add(varUnbiased.mul(m)));
    return out;
  }
}

/** torch.nn.LayerNorm over the last axis (elementwise affine). */
export class LayerNorm extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;

  constructor(
    readonly normalizedShape: number,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = this.param('weight', constant([normalizedShape], 1));
    this.bias = this.param('bias', constant([normalizedShape], 0));
  }

  forward(x: Tensor): Tensor {
    return x.layerNorm(this.weight, this.bias, this.eps);
  }
}
