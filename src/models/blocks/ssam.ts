import type { Parameter } from '../../engine/parameter.js';
import type { Tensor } from '../../engine/tensor.js';
import { cat } from '../../engine/tensor.js';
import { constant } from '../../nn/init.js';
import { Sequential } from '../../nn/layers/container.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { Dropout } from '../../nn/layers/dropout.js';
import { BatchNorm2d } from '../../nn/layers/norm.js';
import { Module } from '../../nn/module.js';
import { cba, S2fpnConvBlock, type S2fpnVariant } from './s2fpn-conv-block.js';

/** γ·o + (1 − γ)·x: the learnable blend (γ starts at 0, so the block starts as the identity path). */
function blend(gamma: Parameter, o: Tensor, x: Tensor): Tensor {
  const g = x.graph.param(gamma);
  return o.mul(g).add(x.mul(g.neg().add(1)));
}

/**
 * S2-FPN v1 SSAM, the paper's Scale-aware Strip Attention Module (official `SpatialAttention`,
 * architectures.md §5.5): max- and average-pooled vertical strips (over H) through one shared 1×1
 * conv weight and separate BNs, a channel softmax of their product of which channels 0 and 1 weigh
 * the two strips, a 1×1 fuse conv, dropout, and a ReLU of the γ-blend with the input (the B×C×1×W
 * strip broadcasts over H). C channels in and out.
 */
export class StripAttention extends Module {
  /** Only its weight is used (the official conv also has a bias that is never applied). */
  readonly convSh: Conv2d;
  readonly bnSh1: BatchNorm2d;
  readonly bnSh2: BatchNorm2d;
  readonly fuse: S2fpnConvBlock;
  readonly gamma: Parameter;
  private readonly drop: Dropout;

  constructor(channels: number) {
    super();
    this.convSh = this.module('conv_sh', new Conv2d(channels, channels, 1, { bias: false }));
    this.bnSh1 = this.module('bn_sh1', new BatchNorm2d(channels));
    this.bnSh2 = this.module('bn_sh2', new BatchNorm2d(channels));
    this.fuse = this.module('fuse', new S2fpnConvBlock(channels, channels, 1, 'v1'));
    this.gamma = this.param('gamma', constant([1], 0));
    this.drop = this.module('drop', new Dropout(0.15));
  }

  forward(x: Tensor): Tensor {
    const mx = this.bnSh1.forward(this.convSh.forward(x.max(2, true)));
    const av = this.bnSh2.forward(this.convSh.forward(x.mean(2, true)));
    const s = mx.mul(av).softmax(1);
    const f = s.slice(1, 0, 1).mul(av).add(s.slice(1, 1, 2).mul(mx));
    return blend(this.gamma, this.drop.forward(this.fuse.forward(f)), x).relu();
  }
}

/**
 * The attention half of S2-FPN v2's SSAM (official common_blocks `ScaleAwareStripAttention`,
 * §5.5 "SSAM2"): the max-pooled strip (B×W×C) attends over every position of the full-resolution
 * shared-conv map (softmax over the W axis of a W×HW map); the attention redistributes a 1×1-conv of
 * the average-pooled strip, a 1×1 conv `augmment_conv` (sic) turns it into C maps of which 0 and 1
 * weigh the full map and the strip; then fuse, dropout, ReLU of the γ-blend with x, and a 1×1 `fuse_out`.
 * The two weights are not squashed (no sigmoid), as in common_blocks.py.
 */
export class StripAttention2 extends Module {
  readonly convSh: Conv2d;
  readonly bnSh1: BatchNorm2d;
  readonly bnSh2: BatchNorm2d;
  readonly augmentConv: Conv2d;
  readonly convV: Conv2d;
  readonly fuse: S2fpnConvBlock;
  readonly fuseOut: S2fpnConvBlock;
  readonly gamma: Parameter;
  private readonly drop: Dropout;

  constructor(channels: number) {
    super();
    this.convSh = this.module('conv_sh', new Conv2d(channels, channels, 1, { bias: false }));
    this.bnSh1 = this.module('bn_sh1', new BatchNorm2d(channels));
    this.bnSh2 = this.module('bn_sh2', new BatchNorm2d(channels));
    this.augmentConv = this.module('augmment_conv', new Conv2d(channels, channels, 1));
    this.convV = this.module('conv_v', new Conv2d(channels, channels, 1));
    this.fuse = this.module('fuse', new S2fpnConvBlock(channels, channels, 1, 'v2'));
    this.fuseOut = this.module('fuse_out', new S2fpnConvBlock(channels, channels, 1, 'v2'));
    this.gamma = this.param('gamma', constant([1], 0));
    this.drop = this.module('drop', new Dropout(0.15));
  }

  forward(x: Tensor): Tensor {
    const [b, c, h, w] = x.shape as [number, number, number, number];
    const mx = this.bnSh1.forward(this.convSh.forward(x.max(2, true))); // B×C×1×W
    const av = this.bnSh2.forward(this.convSh.forward(x)); // B×C×H×W
    const att = mx.reshape([b, c, w]).transpose(1, 2).matmul(av.reshape([b, c, h * w])).softmax(1); // B×W×HW
    const v = this.convV.forward(x.mean(2, true)).reshape([b, c, w]);
    const t = this.augmentConv.forward(v.matmul(att).reshape([b, c, h, w]));
    const f = t.slice(1, 0, 1).mul(av).add(t.slice(1, 1, 2).mul(mx));
    return this.fuseOut.forward(blend(this.gamma, this.drop.forward(this.fuse.forward(f)), x).relu());
  }
}

/** v2's MLP2 (§5.5): sigmoid(1×1 conv(cat[3×3 dilation-2 CBA, 3×3 dilation-4 CBA] to C/2 each)). */
export class StripMlp extends Module {
  readonly dconv1: S2fpnConvBlock;
  readonly dconv2: S2fpnConvBlock;
  readonly fuse: S2fpnConvBlock;

  constructor(channels: number) {
    super();
    if (channels % 2 !== 0) throw new Error(`StripMlp: channels must be even (two halves are concatenated), got ${channels}`);
    this.dconv1 = this.module('dconv1', cba(channels, channels / 2, 3, 'v2', { dilation: 2 }));
    this.dconv2 = this.module('dconv2', cba(channels, channels / 2, 3, 'v2', { dilation: 4 }));
    this.fuse = this.module('fuse', new S2fpnConvBlock(channels, channels, 1, 'v2'));
  }

  forward(x: Tensor): Tensor {
    return this.fuse.forward(cat([this.dconv1.forward(x), this.dconv2.forward(x)], 1)).sigmoid();
  }
}

/** v2's AttentionBlock: x + SSAM2(x), then + MLP2 of that (official names `attn`, `mlp`). */
export class StripAttentionBlock extends Module {
  readonly attn: StripAttention2;
  readonly mlp: StripMlp;

  constructor(channels: number) {
    super();
    this.attn = this.module('attn', new StripAttention2(channels));
    this.mlp = this.module('mlp', new StripMlp(channels));
  }

  forward(x: Tensor): Tensor {
    const y = x.add(this.attn.forward(x));
    return y.add(this.mlp.forward(y));
  }
}

/**
 * S2-FPN v2 SSAM (official `ScaleAwareBlock` with one layer, keys `tr.0.attn.*`, `tr.0.mlp.*`).
 * Its output is unbounded: APF multiplies its high branch by it as it is.
 */
export class ScaleAwareBlock extends Module {
  readonly tr: Sequential;

  constructor(channels: number) {
    super();
    this.tr = this.module('tr', new Sequential(new StripAttentionBlock(channels)));
  }

  forward(x: Tensor): Tensor {
    return this.tr.forward(x);
  }
}

/** The SSAM of a variant, as APF uses it: v1 StripAttention, v2 ScaleAwareBlock. */
export function createSsam(channels: number, variant: S2fpnVariant): StripAttention | ScaleAwareBlock {
  return variant === 'v1' ? new StripAttention(channels) : new ScaleAwareBlock(channels);
}
