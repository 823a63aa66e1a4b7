import type { Tensor } from '../../engine/tensor.js';
import { Module } from '../../nn/module.js';
import { VIT_CONFIGS, VIT_NAMES, VIT_PATCH_SIZE, VisionTransformer, type ViTName } from '../backbones/vit.js';
import { SegmentationModel } from '../segmentation-model.js';
import { SetrMlaAuxHead, SetrMlaBackbone, SetrMlaHead } from './mla.js';
import { SetrUpHead, type Size } from './up-head.js';

/** SETR's decoders (architectures.md §4.2–4.4). */
export type SetrVariant = 'naive' | 'pup' | 'mla';
export const SETR_VARIANTS: readonly SetrVariant[] = ['naive', 'pup', 'mla'];

/**
 * Which block outputs (0-based) each decoder reads, by encoder depth. 24 blocks (ViT-L): §4.2–4.4.
 * 12 blocks: the released 12-block configs — Naive-Base (aux 2, 5, 8), PUP-DeiT (aux 4, 7, 9, 11),
 * MLA-DeiT (mla_index 2, 5, 8, 11); the doc names only the ViT-L indices.
 */
const TAPS: Record<number, { naive: readonly number[]; pup: readonly number[]; mla: readonly number[] }> = {
  24: { naive: [9, 14, 19], pup: [9, 14, 19, 23], mla: [5, 11, 17, 23] },
  12: { naive: [2, 5, 8], pup: [4, 7, 9, 11], mla: [2, 5, 8, 11] },
};

/** Loss weight of every auxiliary head in SETR's configs (main head 1.0). */
export const SETR_AUX_WEIGHT = 0.4;

export interface SetrOptions {
  numClasses: number;
  inChannels?: number;
  /** Default 'pup'. */
  variant?: SetrVariant;
  /** Default 'vit-l16' (the paper's "T-Large"). */
  encoder?: ViTName;
  /**
   * Image size (square) the position embedding is stored at; other sizes resize it bilinearly in
   * the graph (§4.1). Must match a checkpoint's: SETR 768 (Cityscapes), 512 (ADE20K), 480
   * (Pascal-Context); timm ViT-*-384 384; DeiT 224. Default 768.
   */
  imgSize?: number;
  /** Encoder dropout (0 in the released configs) and stochastic depth (0). */
  dropRate?: number;
  dropPathRate?: number;
}

/** torch.nn.ModuleList of auxiliary heads (keys `auxiliary_head.{i}.…`): head i reads input i. */
class AuxiliaryHeads extends Module<[Tensor[], Size], Tensor[]> {
  readonly heads: Module<[Tensor, Size], Tensor>[];

  constructor(heads: Module<[Tensor, Size], Tensor>[]) {
    super();
    this.heads = heads.map((h, i) => this.module(String(i), h));
  }

  forward(inputs: Tensor[], size: Size): Tensor[] {
    return this.heads.map((h, i) => h.forward(inputs[i]!, size));
  }
}

/**
 * SETR (Zheng et al., CVPR 2021): a plain ViT encoder with the Naive, PUP or MLA decoder, with the
 * official code's module names (`backbone.…`, `decode_head.…`, `auxiliary_head.{i}.…`; the unused
 * `conv_seg` of mmseg's BaseDecodeHead left out — see keymap.ts). Logits come at the input size
 * (outputStride 1). Eval mode returns them; training mode returns [main, ...aux] with auxWeights 0.4
 * each (Naive: 3 aux heads, PUP: 4, MLA: 4). H and W must be multiples of 16 and may differ.
 */
export class Setr extends SegmentationModel {
  readonly numClasses: number;
  override readonly auxWeights: readonly number[];
  override readonly outputStride = 1;
  override readonly inputMultiple = VIT_PATCH_SIZE;
  readonly variant: SetrVariant;
  readonly encoder: ViTName;
  readonly backbone: VisionTransformer;
  readonly decode_head: SetrUpHead | SetrMlaHead;
  readonly auxiliary_head: AuxiliaryHeads;

  constructor(options: SetrOptions) {
    super();
    const { numClasses, variant = 'pup', encoder = 'vit-l16', imgSize = 768 } = options;
    if (!SETR_VARIANTS.includes(variant)) throw new Error(`SETR: variant must be one of ${SETR_VARIANTS.join(', ')}, got '${String(variant)}'`);
    if (!VIT_NAMES.includes(encoder)) throw new Error(`SETR: encoder must be one of ${VIT_NAMES.join(', ')}, got '${String(encoder)}'`);
    if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`SETR: numClasses must be a positive integer, got ${numClasses}`);
    this.numClasses = numClasses;
    this.variant = variant;
    this.encoder = encoder;
    const cfg = VIT_CONFIGS[encoder];
    const taps = TAPS[cfg.depth]![variant];
    const vit = { inChannels: options.inChannels, imgSize, dropRate: options.dropRate, dropPathRate: options.dropPathRate };
    const last = cfg.depth - 1;
    if (variant === 'mla') {
      this.backbone = this.module('backbone', new SetrMlaBackbone(cfg, taps, vit));
      this.decode_head = this.module('decode_head', new SetrMlaHead(numClasses));
      this.auxiliary_head = this.module('auxiliary_head', new AuxiliaryHeads(taps.map(() => new SetrMlaAuxHead(numClasses))));
    } else {
      // The main head reads the last block; the backbone returns [last, ...aux taps].
      this.backbone = this.module('backbone', new VisionTransformer(cfg, { ...vit, outIndices: [last, ...taps] }));
      this.decode_head = this.module('decode_head', new SetrUpHead(variant, cfg.embedDim, numClasses));
      const auxKind = variant === 'pup' ? 'pup-aux' : 'naive';
      this.auxiliary_head = this.module('auxiliary_head', new AuxiliaryHeads(taps.map(() => new SetrUpHead(auxKind, cfg.embedDim, numClasses))));
    }
    this.auxWeights = taps.map(() => SETR_AUX_WEIGHT);
  }

  forward(x: Tensor): Tensor | Tensor[] {
    this.checkInputSize(x, 'SETR');
    const size: Size = [x.shape[2]!, x.shape[3]!];
    const feats = this.backbone.forward(x);
    let main: Tensor;
    let auxInputs: Tensor[];
    if (this.decode_head instanceof SetrMlaHead) {
      main = this.decode_head.forward(feats, size);
      auxInputs = feats;
    } else {
      main = this.decode_head.forward(feats[0]!, size);
      auxInputs = feats.slice(1);
    }
    return this.training ? [main, ...this.auxiliary_head.forward(auxInputs, size)] : main;
  }
}
