import type { Tensor } from '../../engine/tensor.js';
import { Module } from '../../nn/module.js';

/**
 * SERNet-Former's attention-boosting gate (Eq. 1), `AbG(y) = y·σ(y)`, where y is the output of a
 * BatchNorm. It is SiLU by another name; the point of the gate is that it lets through the
 * (attenuated) negative part of y that a following ReLU removes. Parameter-free.
 */
export function abg(y: Tensor): Tensor {
  return y.silu();
}

/**
 * {@link abg} as a module (FastSeg's `AttentionBoostingGate`), for use inside a Sequential.
 * It owns no parameters, so it adds nothing to a state dict.
 */
export class AttentionBoostingGate extends Module {
  forward(y: Tensor): Tensor {
    return abg(y);
  }
}
