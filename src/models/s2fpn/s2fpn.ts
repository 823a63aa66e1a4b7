import { cat, type Tensor } from '../../engine/tensor.js';
import { fans, normal } from '../../nn/init.js';
import { Conv2d } from '../../nn/layers/conv.js';
import type { AnyModule, StateDict } from '../../nn/module.js';
import { Module } from '../../nn/module.js';
import { ResNet, scaledWidth, type ResNetDepth } from '../backbones/resnet.js';
import { AttentionPyramidFusion } from '../blocks/apf.js';
import { createCfgb, createFab, type ContextHead } from '../blocks/cfgb.js';
import { GlobalFeatureUpsample } from '../blocks/gfu.js';
import { cba, checkS2fpnVariant, S2fpnConvBlock, type S2fpnVariant } from '../blocks/s2fpn-conv-block.js';
import { IMAGENET_NORMALIZATION, SegmentationModel, type Normalization } from '../segmentation-model.js';

/** Backbones of S2-FPN: torchvision ResNets; 'resnet34m' is ResNet-34 without the stem max-pool. */
export const S2FPN_ENCODERS = {
  resnet18: { depth: 18, noMaxPool: false },
  resnet34: { depth: 34, noMaxPool: false },
  resnet34m: { depth: 34, noMaxPool: true },
  resnet50: { depth: 50, noMaxPool: false },
  resnet101: { depth: 101, noMaxPool: false },
} as const satisfies Record<string, { depth: ResNetDepth; noMaxPool: boolean }>;

export type S2fpnEncoder = keyof typeof S2FPN_ENCODERS;

/**
 * The input normalisations of checkpoints trained with the official code: BGR mean subtraction on
 * 0–255 pixels with no std (architectures.md §5.9), written in segkit's RGB (x/255 − mean)/std form.
 */
export const S2FPN_CITYSCAPES_NORMALIZATION: Normalization = { mean: [73.45 / 255, 83.21 / 255, 72.78 / 255], std: [1 / 255, 1 / 255, 1 / 255] };
export const S2FPN_CAMVID_NORMALIZATION: Normalization = { mean: [99.63 / 255, 103.33 / 255, 105.66 / 255], std: [1 / 255, 1 / 255, 1 / 255] };

export interface S2FPNOptions {
  numClasses: number;
  inChannels?: number;
  /** 'v1' (paper, default) or 'v2' (2023 code): see S2fpnVariant. */
  variant?: S2fpnVariant;
  encoder?: S2fpnEncoder;
  /**
   * torchvision ResNet weights (ImageNet) for the backbone, loaded after the model's own
   * initialisation so that it never touches them (architectures.md §5.11 #1); see loadBackboneWeights.
   */
  backboneWeights?: StateDict;
  /**
   * What the weights expect of the input. Default ImageNet's, for the ImageNet backbone; official
   * checkpoints expect S2FPN_CITYSCAPES_NORMALIZATION or S2FPN_CAMVID_NORMALIZATION.
   */
  normalization?: Normalization;
  /**
   * Scales the backbone and every decoder width (1: the paper's network). The shipped portrait
   * model runs ResNet-18 at 0.25 (a sixteenth of the MACs) to reach real time on two cores.
   */
  widthMultiplier?: number;
  /**
   * Classify at stride 2 instead of 4 (not in the paper; off by default): the decoder output,
   * upsampled ×2, is fused with the ResNet stem's stride-2 features by `detail_reduce` (1×1 CBA,
   * stem → 32 channels) and `detail_fuse` (3×3 CBA, 32 + 32 → 32, widths scaled) before the
   * classifier. Boundaries then land on a grid twice as fine for about 7 % more MACs; it serves
   * small inputs whose edges matter, such as 224×224 portraits.
   */
  detailHead?: boolean;
}

/** The final classifier (official `SegHead`): a bare 1×1 conv, no bias, 32 → K (key `fc.conv.weight`). */
export class S2fpnSegHead extends Module {
  readonly fc: S2fpnConvBlock;

  constructor(inChannels: number, numClasses: number, variant: S2fpnVariant) {
    super();
    this.fc = this.module('fc', new S2fpnConvBlock(inChannels, numClasses, 1, variant));
  }

  forward(x: Tensor): Tensor {
    return this.fc.forward(x);
  }
}

/** The official code's init for everything but the backbone: Kaiming-normal (fan_in, gain √2) conv weights. */
function initKaimingFanIn(m: AnyModule): void {
  for (const [, c] of m.namedModules()) {
    if (c instanceof Conv2d) c.weight.set(normal(c.weight.shape, Math.sqrt(2 / fans(c.weight.shape).fanIn)).value);
  }
}

/**
 * S2-FPN (Elhassan et al. 2022, "Scale-aware Strip Attention Guided Feature Pyramid Network";
 * architectures.md §5), on a torchvision ResNet:
 *
 * - x2..x5 = ResNet layer1..4 (64, 128, 256, 512 channels; ResNet-50/101 go through the 3×3 CBA
 *   adapters `down2..down5` to those widths); CFGB (depth-wise stride 2) and FAB (grouped) on x5.
 * - APF1..4 fuse CFGB/x5, APF1/x4, APF2/x3, APF3/x2 into 256, 128, 64, 32 channels, each with an
 *   auxiliary classifier; GFU4..1 upsample FAB through APF1..4 (decoder at stride 4).
 * - A 1×1 classifier and a bilinear (align_corners) resize to the input size.
 *
 * Eval mode returns the logits at the input size (outputStride 1, any input size: every size
 * mismatch is reconciled by explicit resizes). Training mode returns [main, aux1..aux4] (APF1..4,
 * also at the input size), each weighted 1.0 as in the official loss.
 *
 * Parameter names are the official code's (`conv1_x`, `bn1`, `conv2_x..conv5_x` for the backbone,
 * `apf1.sa.conv_sh.weight`, `gfu4.conv2.0.conv.weight`, the head `classifier.*` in v1 and
 * `seghead.*` in v2). Modules the official code builds but never runs are left out (see
 * src/models/s2fpn/keymap.ts, which drops them from official checkpoints): the ResNet-50 adapters on
 * ResNet-18/34, SSAM's `conv_res` and `conv_sh.bias`, and BN/PReLU of conv_blocks without bn_act.
 */
export class S2FPN extends SegmentationModel {
  readonly numClasses: number;
  override readonly auxWeights = [1, 1, 1, 1] as const;
  override readonly outputStride = 1;
  override readonly inputMultiple = 1;
  override readonly normalization: Normalization;
  readonly variant: S2fpnVariant;
  readonly encoder: S2fpnEncoder;
  readonly widthMultiplier: number;
  /** torchvision-named view of the backbone (its layers are registered here under the official names). */
  readonly backbone: ResNet;
  /** down2..down5 (ResNet-50/101 only): layer1..4 widths → 64, 128, 256, 512. */
  readonly adapters: [S2fpnConvBlock, S2fpnConvBlock, S2fpnConvBlock, S2fpnConvBlock] | null;
  readonly fab: ContextHead;
  readonly cfgb: ContextHead;
  /** gfu4 (stride 32), gfu3, gfu2, gfu1 (stride 4). */
  readonly gfu: [GlobalFeatureUpsample, GlobalFeatureUpsample, GlobalFeatureUpsample, GlobalFeatureUpsample];
  /** apf1 (stride 32), apf2, apf3, apf4 (stride 4). */
  readonly apf: [AttentionPyramidFusion, AttentionPyramidFusion, AttentionPyramidFusion, AttentionPyramidFusion];
  /** The final classifier, registered as `classifier` (v1) or `seghead` (v2) as in the official code. */
  readonly head: S2fpnSegHead;
  /** detail_reduce (stem → w(32)) and detail_fuse (w(32) + w(32) → w(32)) with `detailHead`; null without. */
  readonly detail: { reduce: S2fpnConvBlock; fuse: S2fpnConvBlock } | null;

  constructor(o: S2FPNOptions) {
    super();
    const variant = o.variant ?? 'v1';
    checkS2fpnVariant(variant, 'S2FPN');
    const encoder = o.encoder ?? 'resnet18';
    if (!Object.hasOwn(S2FPN_ENCODERS, encoder)) throw new Error(`S2FPN: encoder must be one of ${Object.keys(S2FPN_ENCODERS).join(', ')}, got '${encoder}'`);
    if (!Number.isInteger(o.numClasses) || o.numClasses < 1) throw new Error(`S2FPN: numClasses must be a positive integer, got ${o.numClasses}`);
    this.numClasses = o.numClasses;
    this.variant = variant;
    this.encoder = encoder;
    const spec = S2FPN_ENCODERS[encoder];
    this.normalization = o.normalization ?? IMAGENET_NORMALIZATION;

    const m = o.widthMultiplier ?? 1;
    this.widthMultiplier = m;
    // A multiplier that leaves the narrowest width (the head's 32 channels) a multiple of 4 keeps
    // CRB's 4× reduction and v2's halvings whole.
    if (!Number.isInteger((32 * m) / 4) || m <= 0) throw new Error(`S2FPN: widthMultiplier must make 32 channels a positive multiple of 4 (0.125, 0.25, 0.5, …, 1), got ${m}`);
    const w = (c: number) => scaledWidth(c, m, 'S2FPN');
    const net = new ResNet(spec.depth, { inChannels: o.inChannels ?? 3, numClasses: null, noMaxPool: spec.noMaxPool, widthMultiplier: m });
    this.backbone = net;
    this.module('conv1_x', net.conv1);
    this.module('bn1', net.bn1);
    net.layers.forEach((layer, i) => this.module(`conv${i + 2}_x`, layer));

    const decoder: AnyModule[] = [];
    const add = <M extends AnyModule>(name: string, m: M): M => {
      decoder.push(m);
      return this.module(name, m);
    };
    const widths = [64, 128, 256, 512].map(w);
    this.adapters = spec.depth >= 50 ? (widths.map((c, i) => add(`down${i + 2}`, cba(net.outChannels[i + 1]!, c, 3, variant))) as S2FPN['adapters']) : null;
    this.fab = add('fab', createFab(w(512), variant));
    this.cfgb = add('cfgb', createCfgb(w(512), variant));
    // gfu4 (stride 32) … gfu1 (stride 4); apf1 (stride 32) … apf4 (stride 4).
    this.gfu = [
      add('gfu4', new GlobalFeatureUpsample(w(256), w(256), w(256), variant)),
      add('gfu3', new GlobalFeatureUpsample(w(128), w(256), w(128), variant)),
      add('gfu2', new GlobalFeatureUpsample(w(64), w(128), w(64), variant)),
      add('gfu1', new GlobalFeatureUpsample(w(32), w(64), w(32), variant)),
    ];
    this.apf = [
      add('apf1', new AttentionPyramidFusion(w(512), w(512), w(256), o.numClasses, variant)),
      add('apf2', new AttentionPyramidFusion(w(256), w(256), w(128), o.numClasses, variant)),
      add('apf3', new AttentionPyramidFusion(w(128), w(128), w(64), o.numClasses, variant)),
      add('apf4', new AttentionPyramidFusion(w(64), w(64), w(32), o.numClasses, variant)),
    ];
    this.head = add(variant === 'v1' ? 'classifier' : 'seghead', new S2fpnSegHead(w(32), o.numClasses, variant));
    this.detail = o.detailHead
      ? { reduce: add('detail_reduce', cba(net.outChannels[0]!, w(32), 1, variant)), fuse: add('detail_fuse', cba(2 * w(32), w(32), 3, variant)) }
      : null;
    for (const m of decoder) initKaimingFanIn(m);
    if (o.backboneWeights) this.loadBackboneWeights(o.backboneWeights);
  }

  /**
   * Loads torchvision ResNet weights (keys `conv1.weight`, `layer1.0.bn1.running_mean`, …; a
   * classifier `fc.*` is ignored) into the backbone, strictly; nothing else changes.
   */
  loadBackboneWeights(sd: StateDict): void {
    const entries = sd instanceof Map ? [...sd] : Object.entries(sd);
    this.backbone.loadStateDict(new Map(entries.filter(([k]) => !k.startsWith('fc.'))));
  }

  /** detailHead: the stride-4 decoder output d2, upsampled to the stem's stride-2 grid and fused with it. */
  private fuseDetail(d2: Tensor, stem: Tensor): Tensor {
    const { reduce, fuse } = this.detail!;
    const [, , h2, w2] = stem.shape as [number, number, number, number];
    const d = d2.resize({ size: [h2, w2], mode: 'bilinear', alignCorners: true });
    return fuse.forward(cat([d, reduce.forward(stem)], 1));
  }

  forward(x: Tensor): Tensor | Tensor[] {
    this.checkInputSize(x, 'S2FPN');
    const [, , h, w] = x.shape as [number, number, number, number];
    let [stem, x2, x3, x4, x5] = this.backbone.features(x) as [Tensor, Tensor, Tensor, Tensor, Tensor];
    if (this.adapters) [x2, x3, x4, x5] = this.adapters.map((a, i) => a.forward([x2, x3, x4, x5][i]!)) as [Tensor, Tensor, Tensor, Tensor];
    const [apf1, apf2, apf3, apf4] = this.apf;
    const a1 = apf1.forward(this.cfgb.forward(x5), x5);
    const a2 = apf2.forward(a1.out, x4);
    const a3 = apf3.forward(a2.out, x3);
    const a4 = apf4.forward(a3.out, x2);
    const [gfu4, gfu3, gfu2, gfu1] = this.gfu;
    const d5 = gfu4.forward(a1.out, this.fab.forward(x5));
    const d4 = gfu3.forward(a2.out, d5);
    const d3 = gfu2.forward(a3.out, d4);
    const d2 = gfu1.forward(a4.out, d3);
    const up = (t: Tensor) => t.resize({ size: [h, w], mode: 'bilinear', alignCorners: true });
    const seg = up(this.head.forward(this.detail ? this.fuseDetail(d2, stem) : d2));
    if (!this.training) return seg;
    return [seg, ...[a1, a2, a3, a4].map((a) => up(a.aux!))];
  }
}
