import type { Tensor } from '../../engine/tensor.js';
import { cat } from '../../engine/tensor.js';
import { Sequential } from '../../nn/layers/container.js';
import { Dropout } from '../../nn/layers/dropout.js';
import { Module } from '../../nn/module.js';
import { ChannelWise } from './crb.js';
import { cba, S2fpnConvBlock, type S2fpnVariant } from './s2fpn-conv-block.js';
import { createSsam, type ScaleAwareBlock, type StripAttention } from './ssam.js';

/** APF's outputs: the fused map for the next level and, in training mode, the auxiliary logits. */
export interface ApfOutput {
  out: Tensor;
  /** K-class logits at the fused map's resolution; null in eval mode (the branch is not traced). */
  aux: Tensor | null;
}

/**
 * S2-FPN's Attention Pyramid Fusion (official `PyrmidFusionNet`, architectures.md §5.4). Inputs:
 * `xHigh` (coarser, `highChannels`) and `xLow` (finer, `lowChannels`).
 *
 * L = 1×1 CBA(xLow → highChannels); Hu = bilinear(xHigh → size(L), align_corners false);
 * Fc = FRB(cat[L, Hu]) (1×1 CBA then 3×3 CBA); Z = SSAM(Fc) ⊙ 3×3 CBA(Hu) + CRB(Fc) ⊙ 3×3 CBA(L);
 * out = 3×3 CBA(Z); aux = 1×1 conv(Dropout(0.15)(3×3 CBA(Z))) to `numClasses`.
 * The SSAM is the variant's (v1 StripAttention, v2 ScaleAwareBlock).
 */
export class AttentionPyramidFusion extends Module<[Tensor, Tensor], ApfOutput> {
  readonly lateralLow: S2fpnConvBlock;
  readonly convLow: S2fpnConvBlock;
  readonly sa: StripAttention | ScaleAwareBlock;
  readonly convHigh: S2fpnConvBlock;
  readonly ca: ChannelWise;
  readonly frb: Sequential;
  readonly classifier: Sequential;
  readonly apf: S2fpnConvBlock;

  constructor(highChannels: number, lowChannels: number, outChannels: number, numClasses: number, variant: S2fpnVariant) {
    super();
    this.lateralLow = this.module('lateral_low', cba(lowChannels, highChannels, 1, variant));
    this.convLow = this.module('conv_low', cba(highChannels, outChannels, 3, variant));
    this.sa = this.module('sa', createSsam(outChannels, variant));
    this.convHigh = this.module('conv_high', cba(highChannels, outChannels, 3, variant));
    this.ca = this.module('ca', new ChannelWise(outChannels));
    this.frb = this.module('FRB', new Sequential(cba(2 * highChannels, outChannels, 1, variant), cba(outChannels, outChannels, 3, variant)));
    this.classifier = this.module('classifier', new Sequential(cba(outChannels, outChannels, 3, variant), new Dropout(0.15), new S2fpnConvBlock(outChannels, numClasses, 1, variant)));
    this.apf = this.module('apf', cba(outChannels, outChannels, 3, variant));
  }

  forward(xHigh: Tensor, xLow: Tensor): ApfOutput {
    const z = this.fuse(xHigh, xLow);
    return { out: this.apf.forward(z), aux: this.training ? this.classifier.forward(z) : null };
  }

  /** Z, the attention-weighted fusion both outputs are computed from. */
  fuse(xHigh: Tensor, xLow: Tensor): Tensor {
    const lat = this.lateralLow.forward(xLow);
    const [, , h, w] = lat.shape as [number, number, number, number];
    const hu = xHigh.resize({ size: [h, w], mode: 'bilinear', alignCorners: false });
    const fc = this.frb.forward(cat([lat, hu], 1));
    return this.sa.forward(fc).mul(this.convHigh.forward(hu)).add(this.ca.forward(fc).mul(this.convLow.forward(lat)));
  }
}
