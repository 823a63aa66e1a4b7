import type { Tensor } from '../../engine/tensor.js';
import { cat } from '../../engine/tensor.js';
import { Module } from '../../nn/module.js';
import { ReLU } from '../../nn/layers/activation.js';
import { Sequential } from '../../nn/layers/container.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { BatchNorm2d, LayerNorm } from '../../nn/layers/norm.js';
import { VIT_LAYER_NORM_EPS, VisionTransformer, tokensToMap, type ViTConfig, type VisionTransformerOptions } from '../backbones/vit.js';
import type { Size } from './up-head.js';

/**
 * SETR-MLA (architectures.md §4.4) with the module names of SETR's `VIT_MLA` backbone
 * (`norm_0..3`, `mla.mla_p{2..5}_1x1`, `mla.mla_p{2..5}`), `VIT_MLAHead` (`mlahead.head{2..5}`,
 * `cls`) and `VIT_MLA_AUXIHead` (`aux`). Levels 2, 3, 4, 5 of those names are the block outputs
 * Z6, Z12, Z18, Z24 (ViT-L; for 12-block encoders Z3, Z6, Z9, Z12).
 */

const MLA_CHANNELS = 256;
const HEAD_CHANNELS = 128;
const LEVELS = [2, 3, 4, 5] as const;

/** Conv (no bias) → BN → ReLU, as nn.Sequential(conv, bn, relu): keys `.0.weight`, `.1.*`. */
function cbr(inC: number, outC: number, k: 1 | 3): Module[] {
  return [new Conv2d(inC, outC, k, { padding: (k - 1) / 2, bias: false }), new BatchNorm2d(outC), new ReLU()];
}

/**
 * SETR's `Conv_MLA` neck: 1×1 CBR per level, a top-down running sum from the deepest level
 * (P24' = c24, P18' = P24' + c18, …), then a 3×3 CBR per level; all at the patch-grid resolution.
 */
class ConvMla extends Module<[Tensor[]], Tensor[]> {
  readonly lateral: Sequential[];
  readonly output: Sequential[];

  constructor(embedDim: number) {
    super();
    this.lateral = LEVELS.map((l) => this.module(`mla_p${l}_1x1`, new Sequential(...cbr(embedDim, MLA_CHANNELS, 1))));
    this.output = LEVELS.map((l) => this.module(`mla_p${l}`, new Sequential(...cbr(MLA_CHANNELS, MLA_CHANNELS, 3))));
  }

  /** Maps of levels 2..5 (shallow → deep) → P of levels 2..5. */
  forward(maps: Tensor[]): Tensor[] {
    const lat = maps.map((m, i) => this.lateral[i]!.forward(m));
    const sums: Tensor[] = [lat[3]!];
    for (let i = 2; i >= 0; i--) sums.unshift(sums[0]!.add(lat[i]!));
    return sums.map((s, i) => this.output[i]!.forward(s));
  }
}

/**
 * The ViT of SETR-MLA (`VIT_MLA`): the cls token is dropped after the position embedding, the four
 * tapped block outputs get their own LayerNorm (`norm_0..3`) and the MLA neck (`mla`) turns them
 * into four 256-channel maps at H/16 × W/16, which `forward` returns (levels 2..5).
 */
export class SetrMlaBackbone extends VisionTransformer {
  readonly mla: ConvMla;
  readonly norms: LayerNorm[];

  constructor(encoder: ViTConfig, mlaIndices: readonly number[], options: Omit<VisionTransformerOptions, 'outIndices' | 'clsTokenInBlocks'> = {}) {
    super(encoder, { ...options, outIndices: mlaIndices, clsTokenInBlocks: false });
    if (mlaIndices.length !== 4) throw new Error(`SetrMlaBackbone: needs 4 block indices, got [${mlaIndices.join(', ')}]`);
    this.mla = this.module('mla', new ConvMla(encoder.embedDim));
    this.norms = LEVELS.map((_, i) => this.module(`norm_${i}`, new LayerNorm(encoder.embedDim, VIT_LAYER_NORM_EPS)));
  }

  override forward(x: Tensor): Tensor[] {
    const grid = this.grid(x);
    const tokens = super.forward(x);
    return this.mla.forward(tokens.map((t, i) => tokensToMap(this.norms[i]!.forward(t), grid)));
  }
}

/**
 * `VIT_MLAHead`: per level two 3×3 CBRs (256→128→128) and ×4 bilinear with align_corners=TRUE
 * (the reference's choice here, unlike everywhere else), concatenated (512 channels at H/4 × W/4),
 * a 3×3 classifier with bias, then bilinear (align_corners=False) to the image.
 */
export class SetrMlaHead extends Module<[Tensor[], Size], Tensor> {
  readonly mlahead: MlaBranches;
  readonly cls: Conv2d;

  constructor(numClasses: number) {
    super();
    this.mlahead = this.module('mlahead', new MlaBranches());
    this.cls = this.module('cls', new Conv2d(LEVELS.length * HEAD_CHANNELS, numClasses, 3, { padding: 1 }));
  }

  forward(ps: Tensor[], size: Size): Tensor {
    return this.cls.forward(this.mlahead.forward(ps)).resize({ size: [size[0], size[1]], mode: 'bilinear', alignCorners: false });
  }
}

/** SETR's `MLAHead` (the `mlahead` module): the four branches and their concatenation. */
class MlaBranches extends Module<[Tensor[]], Tensor> {
  readonly heads: Sequential[];

  constructor() {
    super();
    this.heads = LEVELS.map((l) => this.module(`head${l}`, new Sequential(...cbr(MLA_CHANNELS, HEAD_CHANNELS, 3), ...cbr(HEAD_CHANNELS, HEAD_CHANNELS, 3))));
  }

  forward(ps: Tensor[]): Tensor {
    return cat(
      ps.map((p, i) => this.heads[i]!.forward(p).resize({ size: [4 * p.shape[2]!, 4 * p.shape[3]!], mode: 'bilinear', alignCorners: true })),
      1,
    );
  }
}

/** `VIT_MLA_AUXIHead` on one neck output: a bias-free 1×1 classifier, then bilinear to the image. */
export class SetrMlaAuxHead extends Module<[Tensor, Size], Tensor> {
  readonly aux: Conv2d;

  constructor(numClasses: number) {
    super();
    this.aux = this.module('aux', new Conv2d(MLA_CHANNELS, numClasses, 1, { bias: false }));
  }

  forward(p: Tensor, size: Size): Tensor {
    return this.aux.forward(p).resize({ size: [size[0], size[1]], mode: 'bilinear', alignCorners: false });
  }
}
