import type { Tensor } from '../../engine/tensor.js';
import { Module } from '../../nn/module.js';
import { MIT_CONFIGS, MIT_NAMES, MixTransformer, type LayerNormEps, type MiTName } from '../backbones/mit.js';
import { SegmentationModel } from '../segmentation-model.js';
import { SegformerDecodeHead } from './head.js';

export interface SegFormerOptions {
  numClasses: number;
  /** Default 'mit-b0'. */
  encoder?: MiTName;
  inChannels?: number;
  /** All-MLP width; default the encoder's (256 for mit-b0/b1, 768 for mit-b2…b5). */
  decoderHiddenSize?: number;
  /** Stochastic-depth rate of the last encoder block (HF `drop_path_rate`); default 0.1. */
  dropPath?: number;
  /** Dropout before the classifier (HF `classifier_dropout_prob`); default 0.1. */
  classifierDropout?: number;
  /** LayerNorm epsilons by checkpoint origin; default 'official' (see {@link LayerNormEps}). */
  layerNormEps?: LayerNormEps;
}

/** HF's SegformerModel: holds the encoder, so keys read `segformer.encoder.…`. */
export class SegformerBackbone extends Module<[Tensor], Tensor[]> {
  readonly encoder: MixTransformer;
  constructor(encoder: MixTransformer) {
    super();
    this.encoder = this.module('encoder', encoder);
  }
  forward(x: Tensor): Tensor[] {
    return this.encoder.features(x);
  }
}

/**
 * SegFormer (Xie et al. 2021; architectures.md §3): Mix Transformer encoder + All-MLP decoder, with
 * HF `SegformerForSemanticSegmentation` parameter names (`segformer.encoder.…`, `decode_head.…`), so
 * HF safetensors checkpoints load with loadStateDict as they are; official NVlabs / mmseg 0.x
 * checkpoints load through the key maps in ./keymap.ts. Returns K × ⌈H/4⌉ × ⌈W/4⌉ logits for any
 * input size.
 */
export class SegFormer extends SegmentationModel {
  readonly numClasses: number;
  override readonly outputStride = 4;
  readonly segformer: SegformerBackbone;
  readonly decode_head: SegformerDecodeHead;

  constructor(options: SegFormerOptions) {
    super();
    const name = options.encoder ?? 'mit-b0';
    if (!MIT_CONFIGS[name]) throw new Error(`SegFormer: encoder must be one of ${MIT_NAMES.join(', ')}, got '${name}'`);
    const hidden = options.decoderHiddenSize || MIT_CONFIGS[name].decoderHiddenSize;
    if (!Number.isInteger(hidden) || hidden < 1) throw new Error(`SegFormer: decoderHiddenSize must be a positive integer, got ${options.decoderHiddenSize}`);
    const p = options.classifierDropout ?? 0.1;
    if (!(p >= 0 && p < 1)) throw new Error(`SegFormer: classifierDropout must be in [0, 1), got ${p}`);
    this.numClasses = options.numClasses;
    const encoder = new MixTransformer(name, { inChannels: options.inChannels, dropPath: options.dropPath, layerNormEps: options.layerNormEps });
    this.segformer = this.module('segformer', new SegformerBackbone(encoder));
    this.decode_head = this.module('decode_head', new SegformerDecodeHead(encoder.outChannels, hidden, options.numClasses, p));
  }

  forward(x: Tensor): Tensor {
    this.checkInputSize(x, 'SegFormer');
    return this.decode_head.forward(this.segformer.forward(x));
  }
}
