import type { Parameter } from '../../engine/parameter.js';
import type { Tensor } from '../../engine/tensor.js';
import { constant } from '../init.js';
import { Module } from '../module.js';

/** torch.nn.PReLU: one shared slope (numParameters = 1) or one per channel; init 0.25. */
export class PReLU extends Module {
  readonly weight: Parameter;

  constructor(numParameters = 1, init = 0.25) {
    super();
    this.weight = this.param('weight', constant([numParameters], init));
  }

  forward(x: Tensor): Tensor {
    return x.prelu(this.weight);
  }
}

/** Parameter-free activations as modules, for Sequential. */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}

export class GELU extends Module {
  forward(x: Tensor): Tensor {
    return x.gelu();
  }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}
