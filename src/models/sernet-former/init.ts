import { HostTensor } from '../../engine/host-tensor.js';
import { getDefaultRng, uniform } from '../../nn/init.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { Linear } from '../../nn/layers/linear.js';
import type { AnyModule } from '../../nn/module.js';

/**
 * FastSeg's from-scratch initialisation for SERNet-Former (`utils/initialization.py`, applied by
 * `train_sernet.py`; architectures.md §2.2): 1×1 convs and Linear layers Xavier-uniform, other
 * convs Kaiming-uniform(a=√5) (PyTorch's default, which Conv2d already draws), every bias 0,
 * BatchNorm γ = 1 and β = 0 (BatchNorm2d's own init). PReLU slopes keep their 0.25.
 */
export function initFastSeg(model: AnyModule, rng = getDefaultRng()): void {
  for (const [, m] of model.namedModules()) {
    if (m instanceof Conv2d || m instanceof Linear) {
      const shape = m.weight.shape;
      const isPointwise = m instanceof Linear || (shape[2] === 1 && shape[3] === 1);
      if (isPointwise) {
        // Xavier-uniform, gain 1: U(−a, a), a = √(6 / (fan_in + fan_out)).
        const bound = Math.sqrt(6 / (shape[0]! + shape[1]!));
        m.weight.set(uniform(shape, -bound, bound, rng).value);
      }
      if (m.bias) m.bias.set(HostTensor.zeros(m.bias.shape));
    }
  }
}
