import type { Tensor } from '../../engine/tensor.js';
import { SegmentationModel } from '../segmentation-model.js';
import { EfficientResNetDecoder } from './decoder.js';
import { EfficientResNetEncoder } from './encoder.js';
import { initFastSeg } from './init.js';

export interface SERNetFormerOptions {
  numClasses: number;
  /** Input channels (default 3, RGB). */
  inChannels?: number;
}

/**
 * SERNet-Former as FastSeg runs it (architectures.md §2.2) — the only public runnable reading of
 * the paper, whose own code was never released. A plain 5-conv encoder of AbG conv units (output
 * stride 16) with the DbN bridge, and a decoder with AfN1/AfN2 branches and two learned ×2
 * upsamplings back to the input resolution: logits are K × H × W.
 *
 * H and W must be multiples of 16 (FastSeg's decoder concatenates stride-4 maps with ×4-upsampled
 * stride-16 maps). Parameter names equal FastSeg's (`encoder.initial_conv.conv.weight`,
 * `decoder.afn2.upsample_block1.bn.running_mean`, `decoder.cls_head.weight`, …), so FastSeg
 * checkpoints load as they are. Initialised as FastSeg's `train_sernet.py` does (from scratch).
 * With K = 1 it has 9,234,710 parameters.
 */
export class SERNetFormer extends SegmentationModel {
  readonly numClasses: number;
  override readonly inputMultiple = 16;
  override readonly outputStride = 1;
  readonly encoder: EfficientResNetEncoder;
  readonly decoder: EfficientResNetDecoder;

  constructor({ numClasses, inChannels = 3 }: SERNetFormerOptions) {
    super();
    if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`SERNetFormer: numClasses must be a positive integer, got ${numClasses}`);
    if (!Number.isInteger(inChannels) || inChannels < 1) throw new Error(`SERNetFormer: inChannels must be a positive integer, got ${inChannels}`);
    this.numClasses = numClasses;
    this.encoder = this.module('encoder', new EfficientResNetEncoder(inChannels));
    this.decoder = this.module('decoder', new EfficientResNetDecoder(numClasses));
    initFastSeg(this);
  }

  forward(x: Tensor): Tensor {
    this.checkInputSize(x, 'sernet-former');
    return this.decoder.forward(this.encoder.forward(x));
  }
}
