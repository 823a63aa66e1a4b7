import type { Tensor } from '../../engine/tensor.js';
import { Module } from '../../nn/module.js';
import { ContextAFN, SpatialAFN } from '../blocks/afn.js';
import { UpsampleBlock } from '../blocks/upsample.js';

/**
 * A decoder branch around an attention-fusion network (FastSeg's `AfnDecoderBlock`):
 * `u = upsample_block1(x)`, `v = upsample_block2(afn(u))` back at u's size, output `u + v`.
 *
 * - `'afn1'`: SpatialAFN, both upsample blocks ×1 (3×3 CBPs): the spatial size is kept.
 * - `'afn2'`: ContextAFN (÷4) between two upsamplings; `upscale` is the first one's factor
 *   (FastSeg ×4: stride 16 → 4), the second undoes the ContextAFN's ÷4.
 *
 * `forward(x, size)` makes the first upsampling land on an explicit size instead of `upscale`.
 */
export class AfnDecoderBlock extends Module<[Tensor, [number, number]?]> {
  readonly afn: SpatialAFN | ContextAFN;
  readonly upsample_block1: UpsampleBlock;
  readonly upsample_block2: UpsampleBlock;

  constructor(inChannels: number, outChannels: number, kind: 'afn1' | 'afn2', upscale = kind === 'afn1' ? 1 : 4) {
    super();
    const spatial = kind === 'afn1';
    this.afn = this.module('afn', spatial ? new SpatialAFN(outChannels) : new ContextAFN(outChannels));
    this.upsample_block1 = this.module('upsample_block1', new UpsampleBlock(inChannels, outChannels, upscale));
    this.upsample_block2 = this.module('upsample_block2', new UpsampleBlock(outChannels, outChannels, spatial ? 1 : 4));
  }

  forward(x: Tensor, size?: [number, number]): Tensor {
    const u = this.upsample_block1.forward(x, size);
    // At u's exact size: equal to FastSeg's ×4 whenever ×4 gets there (align_corners=True depends on sizes only).
    const v = this.upsample_block2.forward(this.afn.forward(u), [u.shape[2]!, u.shape[3]!]);
    return u.add(v);
  }
}
