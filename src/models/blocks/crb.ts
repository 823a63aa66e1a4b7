import type { Tensor } from '../../engine/tensor.js';
import { ReLU, Sigmoid } from '../../nn/layers/activation.js';
import { Sequential } from '../../nn/layers/container.js';
import { Module } from '../../nn/module.js';
import { S2fpnConvBlock } from './s2fpn-conv-block.js';

/**
 * S2-FPN's Channel-wise Re-weighting Block (official `ChannelWise`, architectures.md §5.6): an SE
 * block without BN, x ⊙ σ(W₂·ReLU(W₁·GAP(x))) with bias-free 1×1 convs C → C/r → C (r = 4). The
 * official `conv_pool` Sequential is kept, so the keys are `conv_pool.0.conv.weight` and
 * `conv_pool.2.conv.weight`; both versions compute the same thing (the convs are bare, so the
 * variant's activation does not enter).
 */
export class ChannelWise extends Module {
  readonly convPool: Sequential;

  constructor(channels: number, reduction = 4) {
    super();
    if (channels % reduction !== 0) throw new Error(`ChannelWise: channels (${channels}) must be a multiple of reduction (${reduction})`);
    const hidden = channels / reduction;
    this.convPool = this.module('conv_pool', new Sequential(new S2fpnConvBlock(channels, hidden, 1, 'v1'), new ReLU(), new S2fpnConvBlock(hidden, channels, 1, 'v1'), new Sigmoid()));
  }

  forward(x: Tensor): Tensor {
    return x.mul(this.convPool.forward(x.mean([2, 3], true)));
  }
}
