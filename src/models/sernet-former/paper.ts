import type { Tensor } from '../../engine/tensor.js';
import { ResNet, type ResidualBlock } from '../backbones/resnet.js';
import { abm } from '../blocks/abm.js';
import { DbN } from '../blocks/dbn.js';
import { SegmentationModel } from '../segmentation-model.js';
import { PaperDecoder } from './paper-decoder.js';

/** Encoders of the paper-style variant. */
export const PAPER_ENCODERS = { resnet50: 50, resnet101: 101 } as const;
export type PaperEncoder = keyof typeof PAPER_ENCODERS;

/** Channels of the DbN bridge output ([inferred]; DeepLabV3's ASPP width). */
export const PAPER_DBN_CHANNELS = 256;

export interface SERNetFormerPaperOptions {
  numClasses: number;
  /** 'resnet50' (default) or 'resnet101', dilated to output stride 8. */
  encoder?: PaperEncoder;
  inChannels?: number;
}

/**
 * **Experimental.** A paper-style SERNet-Former reconstructed from what the paper states
 * (architectures.md §1.3); the real network is MATLAB-only and unpublished, so this is one reading,
 * not a reproduction.
 *
 * - Encoder ("Efficient-ResNet"): torchvision ResNet-50/101 with layer3/layer4 dilated (output
 *   stride 8). An attention-boosting module replaces the final ReLU of the stem and of the last
 *   block of each stage (AbM1…AbM5): `ReLU(s) + s·σ(s)` with s the pre-ReLU sum (BN3 output plus
 *   shortcut; whether the paper gates before or after the shortcut is unknown).
 * - DbN bridge on layer4 (2048 → 256 channels, rates 12/16/18, summed, as FastSeg).
 * - Decoder: AfN1 on the stride-4 layer1 map, AfN2 on the DbN output upsampled ×2 to stride 4,
 *   fused by concat + 1×1 CBP, a 1×1 classifier, then bilinear ×4 to the input size.
 *
 * Any input size works (every upsampling lands on an explicit size); logits are K × H × W.
 * Parameter names: `backbone.*` are torchvision's (ImageNet weights load into `backbone` with
 * strict off for the absent `fc`), then `dbn.*` and `decoder.*`.
 */
export class SERNetFormerPaper extends SegmentationModel {
  readonly numClasses: number;
  override readonly outputStride = 1;
  readonly backbone: ResNet;
  readonly dbn: DbN;
  readonly decoder: PaperDecoder;

  constructor({ numClasses, encoder = 'resnet50', inChannels = 3 }: SERNetFormerPaperOptions) {
    super();
    const depth = PAPER_ENCODERS[encoder];
    if (!depth) throw new Error(`SERNetFormerPaper: encoder must be one of ${Object.keys(PAPER_ENCODERS).join(', ')}, got '${encoder}'`);
    if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`SERNetFormerPaper: numClasses must be a positive integer, got ${numClasses}`);
    this.numClasses = numClasses;
    this.backbone = this.module('backbone', new ResNet(depth, { inChannels, numClasses: null, replaceStrideWithDilation: [false, true, true] }));
    const [, low, , , high] = this.backbone.outChannels as [number, number, number, number, number];
    this.dbn = this.module('dbn', new DbN(high, PAPER_DBN_CHANNELS));
    this.decoder = this.module('decoder', new PaperDecoder(low, PAPER_DBN_CHANNELS, numClasses));
  }

  /** Encoder outputs with the AbMs applied: [stem (s2), layer1 (s4), layer2, layer3, layer4 (all s8)]. */
  features(x: Tensor): Tensor[] {
    const r = this.backbone;
    const stem = abm(r.bn1.forward(r.conv1.forward(x)));
    const out = [stem];
    let y = stem.maxPool2d({ kernel: 3, stride: 2, padding: 1 });
    for (const layer of r.layers) {
      const blocks = layer.layers;
      for (const b of blocks.slice(0, -1)) y = b.forward(y);
      y = abm((blocks.at(-1) as ResidualBlock).preActivation(y));
      out.push(y);
    }
    return out;
  }

  forward(x: Tensor): Tensor {
    this.checkInputSize(x, 'sernet-former-paper');
    const f = this.features(x);
    const logits = this.decoder.forward(f[1]!, this.dbn.forward(f[4]!));
    return logits.resize({ size: [x.shape[2]!, x.shape[3]!], mode: 'bilinear', alignCorners: false });
  }
}
