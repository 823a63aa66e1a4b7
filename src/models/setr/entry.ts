import { VIT_NAMES, type ViTName } from '../backbones/vit.js';
import type { ModelEntry } from '../registry.js';
import { SETR_VARIANTS, Setr, type SetrVariant } from './model.js';

/** Registry entry 'setr': `variant` picks the decoder, `encoder` the ViT size, `imgSize` the stored position-embedding grid. */
export const entry: ModelEntry = {
  name: 'setr',
  description: 'SETR (Zheng et al., CVPR 2021): plain ViT/16 encoder with the Naive, PUP or MLA decoder and auxiliary heads (loss weight 0.4 each)',
  options: {
    variant: { type: 'string', default: 'pup', choices: SETR_VARIANTS, doc: "decoder: 'naive' (1×1 convs, ×16), 'pup' (progressive ×2 upsampling), 'mla' (multi-level aggregation)" },
    encoder: { type: 'string', default: 'vit-l16', choices: VIT_NAMES, doc: "ViT size: 'vit-l16' (SETR's T-Large, ~306–319 M params), 'vit-b16', or the DeiT sizes 'vit-s16', 'vit-t16'" },
    imgSize: {
      type: 'number',
      default: 768,
      doc: 'square image size the position embedding is stored at (a multiple of 16; other input sizes resize it bilinearly); match the checkpoint: 768 Cityscapes, 512 ADE20K, 480 Pascal-Context, 384 timm ViT-*-384, 224 DeiT',
    },
  },
  create: (o) =>
    new Setr({ numClasses: o.numClasses, inChannels: o.inChannels, variant: o.variant as SetrVariant, encoder: o.encoder as ViTName, imgSize: o.imgSize as number }),
};
