import type { Tensor } from '../../engine/tensor.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { PReLU } from '../../nn/layers/activation.js';
import { BatchNorm2d } from '../../nn/layers/norm.js';
import { Module } from '../../nn/module.js';

/**
 * FastSeg's UpsampleBlock: bilinear upsampling (align_corners=True) **then** Conv3×3 (padding 1,
 * no bias) → BN → PReLU (one shared slope). With `scale` 1 it is a plain 3×3 CBP. Children are
 * `conv`, `bn`, `relu` as in FastSeg.
 *
 * `forward(x)` upsamples by `scale` (output floor(n·scale), FastSeg's nn.Upsample); `forward(x, size)`
 * resizes to an explicit [H, W] instead, so a decoder can land exactly on a skip connection's size
 * whatever the input size. With align_corners=True both give the same values when the sizes agree.
 */
export class UpsampleBlock extends Module<[Tensor, [number, number]?]> {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  readonly relu: PReLU;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly scale = 2,
  ) {
    super();
    if (!(scale > 0)) throw new Error(`UpsampleBlock: scale must be positive, got ${scale}`);
    this.conv = this.module('conv', new Conv2d(inChannels, outChannels, 3, { padding: 1, bias: false }));
    this.bn = this.module('bn', new BatchNorm2d(outChannels));
    this.relu = this.module('relu', new PReLU());
  }

  forward(x: Tensor, size?: [number, number]): Tensor {
    const up = size ? x.resize({ size, mode: 'bilinear', alignCorners: true }) : x.resize({ scale: this.scale, mode: 'bilinear', alignCorners: true });
    return this.relu.forward(this.bn.forward(this.conv.forward(up)));
  }
}
