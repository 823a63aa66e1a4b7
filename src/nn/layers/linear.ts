import type { Parameter } from '../../engine/parameter.js';
import type { Tensor } from '../../engine/tensor.js';
import { defaultBias, getDefaultRng, kaimingUniformDefault } from '../init.js';
import { Module } from '../module.js';

/** torch.nn.Linear: weight [out, in], bias [out], applied to the last axis. */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    { bias = true }: { bias?: boolean } = {},
  ) {
    super();
    const rng = getDefaultRng();
    this.weight = this.param('weight', kaimingUniformDefault([outFeatures, inFeatures], rng));
    this.bias = bias ? this.param('bias', defaultBias(outFeatures, inFeatures, rng)) : null;
  }

  forward(x: Tensor): Tensor {
    return x.linear(this.weight, this.bias);
  }
}
