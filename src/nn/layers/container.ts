import type { Tensor } from '../../engine/tensor.js';
import { Module } from '../module.js';

export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** torch.nn.Sequential: children named '0', '1', … so checkpoint keys match PyTorch's. */
export class Sequential extends Module {
  readonly layers: Module[];

  constructor(...layers: Module[]) {
    super();
    this.layers = layers.map((m, i) => this.module(String(i), m));
  }

  forward(x: Tensor): Tensor {
    return this.layers.reduce((y, m) => m.forward(y), x);
  }
}
