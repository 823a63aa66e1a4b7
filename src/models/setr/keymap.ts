import type { KeyMap } from '../../io/keymap.js';

/**
 * Checkpoint namings SETR can import. segkit's SETR uses the official fudan-zvg/SETR module names,
 * so official checkpoints need only their unused classifiers dropped; ImageNet ViTs (timm) and
 * mmseg's re-implementation map onto the encoder. Encoder-only maps leave the decoder untouched:
 * load them with `{ strict: false }`. The position embedding must have the model's grid: build
 * SETR with `imgSize` equal to the checkpoint's (the model resizes it in the graph for other inputs).
 */

/** fudan-zvg/SETR checkpoints (mmseg 0.x `state_dict`), all variants with their auxiliary heads. */
export const SETR_OFFICIAL: KeyMap = {
  name: 'setr-official',
  description:
    'fudan-zvg/SETR checkpoints (backbone.*, decode_head.*, auxiliary_head.N.*): names already match; drops the never-called `conv_seg` classifier every mmseg 0.x decode head builds',
  rules: [],
  drop: [/^(decode_head|auxiliary_head\.\d+)\.conv_seg\./],
};

/**
 * timm / DeiT ImageNet ViTs (`vit_*_patch16_*`, `deit_{tiny,small,base}_patch16_224`): the encoder,
 * under `backbone.`. Not the distilled DeiTs (their extra dist token changes pos_embed's length).
 */
export const TIMM_VIT: KeyMap = {
  name: 'timm-vit',
  description: 'timm/DeiT ImageNet ViT-*/16 (cls_token, pos_embed, patch_embed.proj, blocks.N.*) as the SETR encoder; drops the classifier and final norm; load with strict false',
  rules: [[/^(cls_token|pos_embed|patch_embed\.|blocks\.)/, 'backbone.$1']],
  drop: [/^(norm|fc_norm|head|head_dist|pre_logits)\./, /^dist_token$/],
};

/**
 * mmseg ≥ 0.20 / 1.x `VisionTransformer` (its SETR configs and ImageNet ViT conversions) as the
 * encoder. Its SETR decode heads are built differently (bias-free convs, the MLA classifier 1×1,
 * the MLA neck's 3×3 convs in reverse level order, resizes split between head and segmentor), so
 * their weights do not fit the official heads and are dropped.
 */
export const MMSEG_VIT: KeyMap = {
  name: 'mmseg-vit',
  description: "mmseg's VisionTransformer (backbone.layers.N.{ln1,attn.attn.in_proj_*,attn.attn.out_proj,ln2,ffn.layers.*}) as the SETR encoder; heads dropped; load with strict false",
  rules: [
    [/^backbone\.patch_embed\.projection\./, 'backbone.patch_embed.proj.'],
    [/^backbone\.layers\.(\d+)\.ln1\./, 'backbone.blocks.$1.norm1.'],
    [/^backbone\.layers\.(\d+)\.ln2\./, 'backbone.blocks.$1.norm2.'],
    // nn.MultiheadAttention's in_proj is [3C, C] with rows q, k, v: timm's qkv layout.
    [/^backbone\.layers\.(\d+)\.attn\.attn\.in_proj_(weight|bias)$/, 'backbone.blocks.$1.attn.qkv.$2'],
    [/^backbone\.layers\.(\d+)\.attn\.attn\.out_proj\./, 'backbone.blocks.$1.attn.proj.'],
    [/^backbone\.layers\.(\d+)\.ffn\.layers\.0\.0\./, 'backbone.blocks.$1.mlp.fc1.'],
    [/^backbone\.layers\.(\d+)\.ffn\.layers\.1\./, 'backbone.blocks.$1.mlp.fc2.'],
  ],
  drop: [/^(decode_head|auxiliary_head|neck)\./, /^backbone\.ln1\./],
};

export const SETR_KEY_MAPS: KeyMap[] = [SETR_OFFICIAL, TIMM_VIT, MMSEG_VIT];
