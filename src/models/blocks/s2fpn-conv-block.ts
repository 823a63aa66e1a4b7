import type { Tensor } from '../../engine/tensor.js';
import { PReLU } from '../../nn/layers/activation.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { BatchNorm2d } from '../../nn/layers/norm.js';
import { Module } from '../../nn/module.js';

/**
 * The two S2-FPN code versions (architectures.md §5): 'v1' is the paper's (strip-pooling SSAM,
 * summing GFU, ReLU in every conv_block), 'v2' the 2023 rewrite (ScaleAwareBlock SSAM, gated GFU,
 * per-channel PReLU in every conv_block).
 */
export type S2fpnVariant = 'v1' | 'v2';

export const S2FPN_VARIANTS: readonly S2fpnVariant[] = ['v1', 'v2'];

/** Throws unless `v` is one of S2FPN_VARIANTS. */
export function checkS2fpnVariant(v: string, where: string): asserts v is S2fpnVariant {
  if (!(S2FPN_VARIANTS as readonly string[]).includes(v)) throw new Error(`${where}: variant must be one of ${S2FPN_VARIANTS.join(', ')}, got '${v}'`);
}

export interface S2fpnConvBlockOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
  /** Conv → BN → activation when true; a bare conv when false (the official default). */
  bnAct?: boolean;
}

/**
 * S2-FPN's `conv_block` (§5.1): a bias-free Conv2d, followed (with `bnAct`) by BatchNorm and the
 * variant's activation — ReLU in v1, PReLU with one slope per channel in v2. Names (`conv`, `bn`,
 * `act`) are the official code's. The official module also builds `bn` and `act` when `bnAct` is
 * false and never uses them; they are not built here (src/models/s2fpn/keymap.ts drops them from
 * official checkpoints).
 */
export class S2fpnConvBlock extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d | null;
  readonly act: PReLU | null;

  constructor(inChannels: number, outChannels: number, kernel: number, variant: S2fpnVariant, o: S2fpnConvBlockOptions = {}) {
    super();
    this.conv = this.module('conv', new Conv2d(inChannels, outChannels, kernel, { stride: o.stride, padding: o.padding ?? 0, dilation: o.dilation, groups: o.groups, bias: false }));
    this.bn = o.bnAct ? this.module('bn', new BatchNorm2d(outChannels)) : null;
    this.act = o.bnAct && variant === 'v2' ? this.module('act', new PReLU(outChannels)) : null;
  }

  forward(x: Tensor): Tensor {
    const y = this.conv.forward(x);
    if (!this.bn) return y;
    const z = this.bn.forward(y);
    return this.act ? this.act.forward(z) : z.relu();
  }
}

/** conv_block with BN and activation and "same" padding for a stride-1 k×k conv (the common CBA). */
export function cba(inChannels: number, outChannels: number, kernel: 1 | 3, variant: S2fpnVariant, o: Omit<S2fpnConvBlockOptions, 'bnAct'> = {}): S2fpnConvBlock {
  return new S2fpnConvBlock(inChannels, outChannels, kernel, variant, { padding: ((kernel - 1) / 2) * (o.dilation ?? 1), ...o, bnAct: true });
}
