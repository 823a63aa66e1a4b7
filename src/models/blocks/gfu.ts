import type { Tensor } from '../../engine/tensor.js';
import { cat } from '../../engine/tensor.js';
import { ReLU, Sigmoid } from '../../nn/layers/activation.js';
import { Sequential } from '../../nn/layers/container.js';
import { BatchNorm2d } from '../../nn/layers/norm.js';
import { Module } from '../../nn/module.js';
import { cba, S2fpnConvBlock, type S2fpnVariant } from './s2fpn-conv-block.js';

/**
 * S2-FPN's Global Feature Upsample (official `GlobalFeatureUpsample`, architectures.md §5.7).
 * Inputs: `xGui` (finer, from APF, `lowChannels`) and `yHigh` (coarser decoder state, `inChannels`).
 *
 * - v1 (paper): Yu = ReLU(1×1 conv(bilinear(yHigh → size(xGui), align_corners true))),
 *   Xg = 1×1 CBA(xGui); out = 1×1 CBA(Yu + Xg).
 * - v2: the sum goes through a 3×3 CBA; its two channel halves gate Yu (3×3 CBA C/2 → C) and Xg
 *   (σ(BN(1×1 conv C/2 → C))), and a 3×3 CBA fuses the concatenated gated maps.
 */
export class GlobalFeatureUpsample extends Module<[Tensor, Tensor]> {
  readonly conv1: S2fpnConvBlock;
  readonly conv2: Sequential;
  readonly conv3: S2fpnConvBlock;
  /** v2 only: the gate of Yu, the gate of Xg, and the fusion of the gated pair. */
  readonly gates: { s1: S2fpnConvBlock; s2: Sequential; fuse: S2fpnConvBlock } | null;

  constructor(lowChannels: number, inChannels: number, outChannels: number, readonly variant: S2fpnVariant) {
    super();
    this.conv1 = this.module('conv1', cba(lowChannels, outChannels, 1, variant));
    this.conv2 = this.module('conv2', new Sequential(new S2fpnConvBlock(inChannels, outChannels, 1, variant), new ReLU()));
    if (variant === 'v2' && outChannels % 2 !== 0) throw new Error(`GlobalFeatureUpsample v2: outChannels must be even (it is split in halves), got ${outChannels}`);
    this.conv3 = this.module('conv3', cba(outChannels, outChannels, variant === 'v1' ? 1 : 3, variant));
    const half = outChannels / 2;
    this.gates =
      variant === 'v1'
        ? null
        : {
            s1: this.module('s1', cba(half, outChannels, 3, variant)),
            s2: this.module('s2', new Sequential(new S2fpnConvBlock(half, outChannels, 1, variant), new BatchNorm2d(outChannels), new Sigmoid())),
            fuse: this.module('fuse', cba(2 * outChannels, outChannels, 3, variant)),
          };
  }

  forward(xGui: Tensor, yHigh: Tensor): Tensor {
    const [, , h, w] = xGui.shape as [number, number, number, number];
    const yu = this.conv2.forward(yHigh.resize({ size: [h, w], mode: 'bilinear', alignCorners: true }));
    const xg = this.conv1.forward(xGui);
    const fz = this.conv3.forward(yu.add(xg));
    if (!this.gates) return fz;
    const [a, b] = fz.chunk(2, 1) as [Tensor, Tensor];
    const { s1, s2, fuse } = this.gates;
    return fuse.forward(cat([s1.forward(a).mul(yu), s2.forward(b).mul(xg)], 1));
  }
}
