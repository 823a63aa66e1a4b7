import type { Tensor } from '../../engine/tensor.js';
import { Module } from '../../nn/module.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { BatchNorm2d, LayerNorm } from '../../nn/layers/norm.js';
import { VIT_LAYER_NORM_EPS, VIT_PATCH_SIZE, tokensToMap } from '../backbones/vit.js';

/** Output size [H, W] of the logits: the input image's. */
export type Size = readonly [number, number];

/**
 * The three shapes of SETR's `VisionTransformerUpHead` (§4.2, §4.3):
 * - 'naive' (num_conv=2, conv3x3_conv1x1=False): 1×1 conv → BN → ReLU → 1×1 classifier → ×16 to the image.
 *   Also the Naive auxiliary head.
 * - 'pup' (num_conv=4, num_upsampe_layer=4): four 3×3 conv → BN → ReLU stages with ×2 after the
 *   first three, the 1×1 classifier, then the last ×2.
 * - 'pup-aux' (num_conv=2, num_upsampe_layer=2): 3×3 conv → BN → ReLU → ×4 → 1×1 classifier → to the image.
 */
export type UpHeadKind = 'naive' | 'pup' | 'pup-aux';

const CHANNELS = 256;

/**
 * SETR's `VisionTransformerUpHead` with its module names (`norm`, `conv_{i}`, `syncbn_fc_{i}`).
 * Input: the B×(1+N)×C tokens of one block (cls token first); the cls token is dropped (§4.7: the
 * reference's `N % 48` test only works at the released sizes), the patch tokens layer-normed and laid
 * out on the H/16 × W/16 grid. Every resize is bilinear with align_corners=False and scales both
 * axes (the reference resizes to square targets; §4.7). Convs keep their bias before BN (§4.7).
 */
export class SetrUpHead extends Module<[Tensor, Size], Tensor> {
  readonly norm: LayerNorm;
  readonly convs: Conv2d[];
  readonly bns: BatchNorm2d[];

  constructor(
    readonly kind: UpHeadKind,
    embedDim: number,
    numClasses: number,
  ) {
    super();
    this.norm = this.module('norm', new LayerNorm(embedDim, VIT_LAYER_NORM_EPS));
    const conv = (i: number, inC: number, outC: number, k: 1 | 3) => this.module(`conv_${i}`, new Conv2d(inC, outC, k, { padding: (k - 1) / 2 }));
    if (kind === 'pup') {
      this.convs = [conv(0, embedDim, CHANNELS, 3), conv(1, CHANNELS, CHANNELS, 3), conv(2, CHANNELS, CHANNELS, 3), conv(3, CHANNELS, CHANNELS, 3), conv(4, CHANNELS, numClasses, 1)];
    } else if (kind === 'naive' || kind === 'pup-aux') {
      this.convs = [conv(0, embedDim, CHANNELS, kind === 'naive' ? 1 : 3), conv(1, CHANNELS, numClasses, 1)];
    } else {
      throw new Error(`SetrUpHead: kind must be 'naive', 'pup' or 'pup-aux', got '${String(kind)}'`);
    }
    this.bns = Array.from({ length: this.convs.length - 1 }, (_, i) => this.module(`syncbn_fc_${i}`, new BatchNorm2d(CHANNELS)));
  }

  forward(tokens: Tensor, size: Size): Tensor {
    const grid = [size[0] / VIT_PATCH_SIZE, size[1] / VIT_PATCH_SIZE] as const;
    let x = tokensToMap(this.norm.forward(tokens.slice(1, 1)), grid);
    const cbr = (i: number) => (x = this.bns[i]!.forward(this.convs[i]!.forward(x)).relu());
    const up = (f: number) => (x = x.resize({ scale: f, mode: 'bilinear', alignCorners: false }));
    const toImage = () => x.resize({ size: [size[0], size[1]], mode: 'bilinear', alignCorners: false });
    if (this.kind === 'pup') {
      for (let i = 0; i < 3; i++) {
        cbr(i);
        up(2);
      }
      cbr(3);
      x = this.convs[4]!.forward(x);
      return up(2); // the grid was 1/16 of the image: now the image size
    }
    cbr(0);
    if (this.kind === 'pup-aux') up(4);
    x = this.convs[1]!.forward(x);
    return toImage();
  }
}
