import { Sequential } from '../../nn/layers/container.js';
import { Dropout } from '../../nn/layers/dropout.js';
import { S2fpnConvBlock, type S2fpnVariant } from './s2fpn-conv-block.js';

/**
 * S2-FPN's context heads on the last backbone stage (architectures.md §5.3): a grouped 3×3
 * conv_block (BN + activation) and Dropout(0.15), as the official `nn.Sequential` (keys `0.conv.*`,
 * `0.bn.*`, `0.act.*`).
 */
export class ContextHead extends Sequential {
  constructor(inChannels: number, outChannels: number, o: { stride: number; groups: number; variant: S2fpnVariant }) {
    super(new S2fpnConvBlock(inChannels, outChannels, 3, o.variant, { stride: o.stride, padding: 1, groups: o.groups, bnAct: true }), new Dropout(0.15));
  }
}

/** CFGB: depth-wise 3×3 stride-2 conv_block, C → C (512 @ s32 → 512 @ s64 in S2-FPN). */
export function createCfgb(channels: number, variant: S2fpnVariant): ContextHead {
  return new ContextHead(channels, channels, { stride: 2, groups: channels, variant });
}

/** FAB: grouped 3×3 conv_block C → C/2 with two input channels per group, stride 1 (512 → 256 @ s32). */
export function createFab(channels: number, variant: S2fpnVariant): ContextHead {
  return new ContextHead(channels, channels / 2, { stride: 1, groups: channels / 2, variant });
}
