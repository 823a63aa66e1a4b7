import type { Tensor } from '../../engine/tensor.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { PReLU } from '../../nn/layers/activation.js';
import { BatchNorm2d } from '../../nn/layers/norm.js';
import { Module } from '../../nn/module.js';

/** One DbN branch: dilated Conv3×3 (padding = dilation, no bias) → BN → PReLU (FastSeg's DilationBlock). */
class DilationBlock extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  readonly relu: PReLU;

  constructor(inChannels: number, outChannels: number, dilation: number) {
    super();
    this.conv = this.module('conv', new Conv2d(inChannels, outChannels, 3, { padding: dilation, dilation, bias: false }));
    this.bn = this.module('bn', new BatchNorm2d(outChannels));
    this.relu = this.module('relu', new PReLU());
  }

  forward(x: Tensor): Tensor {
    return this.relu.forward(this.bn.forward(this.conv.forward(x)));
  }
}

/**
 * SERNet-Former's dilation-based network (the bridge between encoder and decoder) as FastSeg reads
 * it: three parallel dilated 3×3 CBP branches on the same input, rates 12, 16 and 18, **summed**
 * (no concat, no 1×1 fusion, no residual). Spatial size is preserved. Children are
 * `dilated_conv1..3` (each `conv`, `bn`, `relu`) as in FastSeg.
 *
 * `outChannels` defaults to `inChannels` (FastSeg's only form); a narrower output lets a wide
 * encoder (ResNet-50's 2048 channels) feed a light decoder.
 */
export class DbN extends Module {
  /** Dilation rates of the three branches (FastSeg). */
  static readonly RATES = [12, 16, 18] as const;
  private readonly branches: DilationBlock[];

  constructor(
    readonly inChannels: number,
    readonly outChannels: number = inChannels,
  ) {
    super();
    this.branches = DbN.RATES.map((d, i) => this.module(`dilated_conv${i + 1}`, new DilationBlock(inChannels, outChannels, d)));
  }

  forward(x: Tensor): Tensor {
    return this.branches.map((b) => b.forward(x)).reduce((a, b) => a.add(b));
  }
}
