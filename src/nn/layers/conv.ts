import type { Parameter } from '../../engine/parameter.js';
import type { Padding2d, Tensor } from '../../engine/tensor.js';
import { defaultBias, getDefaultRng, kaimingUniformDefault } from '../init.js';
import { Module } from '../module.js';

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: Padding2d | 'same';
  dilation?: number | [number, number];
  groups?: number;
  /** Default true, as in PyTorch. */
  bias?: boolean;
}

/** torch.nn.Conv2d: weight [out, in/groups, kh, kw], bias [out]; PyTorch's default init. */
export class Conv2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernel: number | [number, number],
    readonly options: Conv2dOptions = {},
  ) {
    super();
    const [kh, kw] = typeof kernel === 'number' ? [kernel, kernel] : kernel;
    const groups = options.groups ?? 1;
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new Error(`Conv2d: groups=${groups} must divide inChannels=${inChannels} and outChannels=${outChannels}`);
    }
    const rng = getDefaultRng();
    this.weight = this.param('weight', kaimingUniformDefault([outChannels, inChannels / groups, kh, kw], rng));
    this.bias = options.bias === false ? null : this.param('bias', defaultBias(outChannels, (inChannels / groups) * kh * kw, rng));
  }

  forward(x: Tensor): Tensor {
    const o = this.options;
    return x.conv2d(this.weight, { bias: this.bias, stride: o.stride, padding: o.padding, dilation: o.dilation, groups: o.groups });
  }
}
