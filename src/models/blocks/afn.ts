import type { Tensor } from '../../engine/tensor.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { PReLU } from '../../nn/layers/activation.js';
import { BatchNorm2d } from '../../nn/layers/norm.js';
import { Module } from '../../nn/module.js';
import { abm } from './abm.js';

/**
 * Three AbG conv units C→C in a row (Conv3×3 no-bias → BN → `PReLU(y) + y·σ(y)`), with FastSeg's
 * flat child names conv1/bn1/relu1 … conv3/bn3/relu3 (its gates own no parameters).
 */
abstract class AttentionFusionNetwork extends Module {
  private readonly units: { conv: Conv2d; bn: BatchNorm2d; relu: PReLU }[];

  protected constructor(
    readonly channels: number,
    strides: readonly [number, number, number],
  ) {
    super();
    this.units = strides.map((stride, i) => ({
      conv: this.module(`conv${i + 1}`, new Conv2d(channels, channels, 3, { stride, padding: 1, bias: false })),
      bn: this.module(`bn${i + 1}`, new BatchNorm2d(channels)),
      relu: this.module(`relu${i + 1}`, new PReLU()),
    }));
  }

  forward(x: Tensor): Tensor {
    return this.units.reduce((h, u) => abm(u.bn.forward(u.conv.forward(h)), (y) => u.relu.forward(y)), x);
  }
}

/**
 * SERNet-Former's AfN1 as FastSeg reads it ("spatial", S:1): three stride-1 AbG conv units
 * C→C; the spatial size is preserved.
 */
export class SpatialAFN extends AttentionFusionNetwork {
  constructor(channels: number) {
    super(channels, [1, 1, 1]);
  }
}

/**
 * SERNet-Former's AfN2 as FastSeg reads it ("context", S:4): three AbG conv units C→C with
 * strides 2, 2, 1, so H and W shrink by 4 (each stride-2 conv gives ceil(n/2)).
 */
export class ContextAFN extends AttentionFusionNetwork {
  constructor(channels: number) {
    super(channels, [2, 2, 1]);
  }
}
