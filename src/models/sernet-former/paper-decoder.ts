import type { Tensor } from '../../engine/tensor.js';
import { cat } from '../../engine/tensor.js';
import { PReLU } from '../../nn/layers/activation.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { BatchNorm2d } from '../../nn/layers/norm.js';
import { Module } from '../../nn/module.js';
import { AfnDecoderBlock } from './afn-block.js';

/** Widths of the paper-style decoder ([inferred]: the paper publishes none). */
export const PAPER_DECODER = { afnChannels: 64, fuseChannels: 256 } as const;

/**
 * Decoder of the paper-style SERNet-Former reconstruction (architectures.md §1.3), built from
 * FastSeg's pieces since the paper's wiring is not recoverable: on the stride-4 low-level map
 * (`low`) and the stride-8 DbN output (`high`),
 *
 * ```
 * afn1 = AfnDecoderBlock(low → 64, AfN1)(low)                         spatial, at s4
 * afn2 = AfnDecoderBlock(high → 64, AfN2)(high, size(low))            ×2 to s4, context ÷4 and back
 * x    = PReLU(BN(Conv1×1(cat[low, afn1, afn2]) → 256))
 * out  = classifier: Conv1×1 256 → K (bias)                            K @ s4
 * ```
 */
export class PaperDecoder extends Module<[Tensor, Tensor], Tensor> {
  readonly afn1: AfnDecoderBlock;
  readonly afn2: AfnDecoderBlock;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly relu1: PReLU;
  readonly classifier: Conv2d;

  constructor(lowChannels: number, highChannels: number, numClasses: number) {
    super();
    const { afnChannels: a, fuseChannels: f } = PAPER_DECODER;
    this.afn1 = this.module('afn1', new AfnDecoderBlock(lowChannels, a, 'afn1'));
    this.afn2 = this.module('afn2', new AfnDecoderBlock(highChannels, a, 'afn2', 2));
    this.conv1 = this.module('conv1', new Conv2d(lowChannels + 2 * a, f, 1, { bias: false }));
    this.bn1 = this.module('bn1', new BatchNorm2d(f));
    this.relu1 = this.module('relu1', new PReLU());
    this.classifier = this.module('classifier', new Conv2d(f, numClasses, 1));
  }

  forward(low: Tensor, high: Tensor): Tensor {
    const size: [number, number] = [low.shape[2]!, low.shape[3]!];
    const x = cat([low, this.afn1.forward(low), this.afn2.forward(high, size)], 1);
    return this.classifier.forward(this.relu1.forward(this.bn1.forward(this.conv1.forward(x))));
  }
}
