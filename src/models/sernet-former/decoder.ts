import type { Tensor } from '../../engine/tensor.js';
import { cat } from '../../engine/tensor.js';
import { PReLU } from '../../nn/layers/activation.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { Linear } from '../../nn/layers/linear.js';
import { BatchNorm2d } from '../../nn/layers/norm.js';
import { Module } from '../../nn/module.js';
import { UpsampleBlock } from '../blocks/upsample.js';
import { AfnDecoderBlock } from './afn-block.js';

/**
 * FastSeg's SERNet-Former decoder (`EfficientResNetDecoder`, architectures.md §2.2), on the encoder
 * outputs [a0 … a6] with skip1 = a0 (64 @ s2), skip2 = a2 (64 @ s4), skip3 = a6 (512 @ s16):
 *
 * ```
 * afn1 = AfnDecoderBlock(64→64, AfN1)(skip2)                         64 @ s4
 * afn2 = AfnDecoderBlock(512→32, AfN2, ×4)(skip3)                    32 @ s4
 * x    = PReLU(BN(Conv1×1(cat[skip2, afn1, afn2]) → 64))             64 @ s4
 * x    = UpsampleBlock(64→64, ×2)(x)                                 64 @ s2
 * x    = UpsampleBlock(128→128, ×2)(cat[skip1, x])                  128 @ s1
 * out  = cls_head(x), a per-pixel Linear 128→K                        K @ s1
 * ```
 */
export class EfficientResNetDecoder extends Module<[Tensor[]], Tensor> {
  readonly afn1: AfnDecoderBlock;
  readonly afn2: AfnDecoderBlock;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly relu1: PReLU;
  readonly upsample1: UpsampleBlock;
  readonly upsample2: UpsampleBlock;
  readonly cls_head: Linear;

  constructor(readonly numClasses: number) {
    super();
    this.afn1 = this.module('afn1', new AfnDecoderBlock(64, 64, 'afn1'));
    this.afn2 = this.module('afn2', new AfnDecoderBlock(512, 32, 'afn2', 4));
    this.conv1 = this.module('conv1', new Conv2d(64 + 32 + 64, 64, 1, { bias: false }));
    this.bn1 = this.module('bn1', new BatchNorm2d(64));
    this.relu1 = this.module('relu1', new PReLU());
    this.upsample1 = this.module('upsample1', new UpsampleBlock(64, 64, 2));
    this.upsample2 = this.module('upsample2', new UpsampleBlock(64 + 64, 128, 2));
    this.cls_head = this.module('cls_head', new Linear(128, numClasses));
  }

  forward(activations: Tensor[]): Tensor {
    if (activations.length !== 7) throw new Error(`EfficientResNetDecoder: expected the encoder's 7 outputs, got ${activations.length}`);
    const [skip1, , skip2, , , , skip3] = activations as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
    let x = cat([skip2, this.afn1.forward(skip2), this.afn2.forward(skip3)], 1);
    x = this.relu1.forward(this.bn1.forward(this.conv1.forward(x)));
    x = this.upsample1.forward(x);
    x = this.upsample2.forward(cat([skip1, x], 1));
    // FastSeg applies the Linear channel-last; the same weight as a 1×1 conv avoids two transposes.
    const w = x.graph.lift(this.cls_head.weight).reshape([this.numClasses, 128, 1, 1]);
    return x.conv2d(w, { bias: this.cls_head.bias });
  }
}
