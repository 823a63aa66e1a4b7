import type { Tensor } from '../../engine/tensor.js';
import { cat } from '../../engine/tensor.js';
import { PReLU, Sigmoid } from '../../nn/layers/activation.js';
import { Sequential } from '../../nn/layers/container.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { Module } from '../../nn/module.js';

/** Global average pooling to B×C×1×1 (parameter-free; a Sequential slot so indices match FastSeg). */
class GlobalPooling extends Module {
  forward(x: Tensor): Tensor {
    return x.mean([2, 3], true);
  }
}

/** Mean over channels to B×1×H×W (parameter-free; a Sequential slot so indices match FastSeg). */
class ChannelPooling extends Module {
  forward(x: Tensor): Tensor {
    return x.mean(1, true);
  }
}

/**
 * DAM's channel branch: `y = Conv3×3(x)` (bias) to `outChannels`, then
 * `y + y ⊙ σ(Conv1×1(PReLU(Conv1×1(GAP(y)))))` (first 1×1 with bias, second without).
 */
class ChannelAttention extends Module {
  readonly conv: Conv2d;
  readonly attn: Sequential;

  constructor(inChannels: number, outChannels: number) {
    super();
    this.conv = this.module('conv', new Conv2d(inChannels, outChannels, 3, { padding: 1 }));
    this.attn = this.module(
      'attn',
      new Sequential(new GlobalPooling(), new Conv2d(outChannels, outChannels, 1), new PReLU(), new Conv2d(outChannels, outChannels, 1, { bias: false }), new Sigmoid()),
    );
  }

  forward(x: Tensor): Tensor {
    const y = this.conv.forward(x);
    return y.add(y.mul(this.attn.forward(y)));
  }
}

/**
 * DAM's spatial branch: `y = Conv3×3(x)` (bias) to `outChannels`, then
 * `y + y ⊙ σ(Conv7×7 dil 2 (PReLU(Conv7×7(mean_c(y)))))`, both 1→1 convs with bias.
 */
class SpatialAttention extends Module {
  readonly conv: Conv2d;
  readonly attn: Sequential;

  constructor(inChannels: number, outChannels: number, dilation = 2) {
    super();
    this.conv = this.module('conv', new Conv2d(inChannels, outChannels, 3, { padding: 1 }));
    this.attn = this.module(
      'attn',
      new Sequential(new ChannelPooling(), new Conv2d(1, 1, 7, { padding: 3 }), new PReLU(), new Conv2d(1, 1, 7, { padding: 3 * dilation, dilation }), new Sigmoid()),
    );
  }

  forward(x: Tensor): Tensor {
    const y = this.conv.forward(x);
    return y.add(y.mul(this.attn.forward(y)));
  }
}

/** One DAM block: channel branch to ⌊C/2⌋ channels and spatial branch to C − ⌊C/2⌋, concatenated. */
class DAMBlock extends Module {
  readonly cam: ChannelAttention;
  readonly sam: SpatialAttention;

  constructor(channels: number) {
    super();
    this.cam = this.module('cam', new ChannelAttention(channels, Math.floor(channels / 2)));
    this.sam = this.module('sam', new SpatialAttention(channels, channels - Math.floor(channels / 2)));
  }

  forward(x: Tensor): Tensor {
    return cat([this.cam.forward(x), this.sam.forward(x)], 1);
  }
}

/**
 * HSNet's dual attention mechanism **as FastSeg reads it** (unofficial: HSNet's code was never
 * published; architectures.md §6.2). `nBlocks` DAM blocks in a row, each a channel branch and a
 * spatial branch on the same input whose outputs are concatenated back to C channels. Shape
 * preserving (C×H×W → C×H×W), no normalisation. Children are `dam.0`, `dam.1`, … with `cam`/`sam`
 * inside, as in FastSeg; FastSeg's two unused convs (`conv_cam`, `conv_sam`) are not created, so a
 * FastSeg checkpoint needs those keys dropped.
 */
export class DAM extends Module {
  /** The blocks in a row, registered as `dam` so keys read `dam.0.cam.conv.weight` as in FastSeg. */
  readonly dam: Sequential;

  constructor(
    readonly channels: number,
    nBlocks = 2,
  ) {
    super();
    if (!Number.isInteger(channels) || channels < 2) throw new Error(`DAM: channels must be an integer ≥ 2, got ${channels}`);
    if (!Number.isInteger(nBlocks) || nBlocks < 1) throw new Error(`DAM: nBlocks must be a positive integer, got ${nBlocks}`);
    this.dam = this.module('dam', new Sequential(...Array.from({ length: nBlocks }, () => new DAMBlock(channels))));
  }

  forward(x: Tensor): Tensor {
    return this.dam.forward(x);
  }
}
