import type { Tensor } from '../../engine/tensor.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { PReLU } from '../../nn/layers/activation.js';
import { BatchNorm2d } from '../../nn/layers/norm.js';
import { Module } from '../../nn/module.js';
import { abg } from './abg.js';

/**
 * SERNet-Former's attention-boosting module on a BatchNorm output y: `act(y) + y·σ(y)`, i.e. the
 * activation's output plus the attention-boosting gate of the same pre-activation tensor
 * (architectures.md §1.5.1: the paper's AbM fuses AbG with the ReLU path by addition; FastSeg
 * writes the same sum with PReLU). `act` defaults to ReLU (the paper's form); pass the identity
 * for FastSeg SERSegFormer's `t + t·σ(t)`, or GELU for its Mix-FFN `GELU(d) + d·σ(d)`.
 */
export function abm(y: Tensor, act: (t: Tensor) => Tensor = (t) => t.relu()): Tensor {
  return act(y).add(abg(y));
}

/**
 * The "AbG conv unit" FastSeg builds its SERNet-Former encoder from (its `ConvBlock`):
 * `y = BN(Conv3×3(x))` (stride `stride`, padding 1, no bias), then `PReLU(y) + y·σ(y)` with one
 * shared PReLU slope. Children are named `conv`, `bn`, `relu` as in FastSeg, so FastSeg
 * checkpoints load without renaming.
 */
export class AbGConvUnit extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  readonly relu: PReLU;

  constructor(inChannels: number, outChannels: number, stride = 1) {
    super();
    this.conv = this.module('conv', new Conv2d(inChannels, outChannels, 3, { stride, padding: 1, bias: false }));
    this.bn = this.module('bn', new BatchNorm2d(outChannels));
    this.relu = this.module('relu', new PReLU());
  }

  forward(x: Tensor): Tensor {
    return abm(this.bn.forward(this.conv.forward(x)), (y) => this.relu.forward(y));
  }
}
