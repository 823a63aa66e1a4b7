import type { Tensor } from '../../engine/tensor.js';
import { constant, normal } from '../../nn/init.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { Linear } from '../../nn/layers/linear.js';
import { MIT_CONFIGS, MIT_NAMES, MixTransformer, type MiTName } from '../backbones/mit.js';
import { SegformerBackbone } from '../segformer/model.js';
import { SegmentationModel } from '../segmentation-model.js';
import { SersegformerDecodeHead } from './head.js';

export interface SERSegFormerOptions {
  numClasses: number;
  /** Image channels (the depth channel, when on, comes on top). Default 3. */
  inChannels?: number;
  /** Default 'mit-b0' (FastSeg's only encoder). */
  encoder?: MiTName;
  /** Attention-boosting gate t + t·σ(t) in the encoder (patch embeddings, K/V reduction, Mix-FFN). */
  abg?: boolean;
  /** DbN on decoder inputs 0 and 1, concatenated to them. */
  dbn?: boolean;
  /** Attention-fusion networks on all four decoder inputs (and after the first ×2 with upsample). */
  afn?: boolean;
  /** DAM (FastSeg's reading of HSNet) on the stride-4 decoder input. */
  dam?: boolean;
  /** Two learned ×2 upsampling blocks after the fusion: logits at the input size instead of stride 4. */
  upsample?: boolean;
  /** A depth map as the input's last channel, fed to every encoder stage and decoder inputs 0–2. */
  depthChannel?: boolean;
  /** All-MLP width; default 256 (FastSeg's, for any encoder). */
  decoderHiddenSize?: number;
  /** Default 0.1. */
  dropPath?: number;
  /** Default 0.1. */
  classifierDropout?: number;
}

/**
 * FastSeg's SERSegFormer (architectures.md §2.4): SegFormer with SERNet-Former's blocks switched in
 * (all off by default, which is SegFormer with FastSeg's head: a per-pixel Linear classifier and
 * LayerNorm eps 1e-5 everywhere). "SERSegFormer w DConv decoder", FastSeg's best, is
 * `{ upsample: true }`.
 *
 * Parameter names are FastSeg's (`sersegformer.encoder.…`, `decode_head.…`): FastSeg is the only
 * implementation and its published checkpoint uses them, and the encoder part equals HF SegFormer's
 * under another prefix, so HF/FastSeg SegFormer weights load by renaming `segformer.` →
 * `sersegformer.` (what FastSeg's own training script does) — no table needed.
 *
 * With `depthChannel`, the input is N×(inChannels+1)×H×W and its **last channel is the depth map**
 * (FastSeg: the MiDaS-small prediction ÷ 1000, not normalised); the model resizes it (bilinear,
 * align_corners false) to each stage's input size and concatenates it there and to decoder
 * inputs 0–2, so the model keeps the one-input contract.
 *
 * Output: K × ⌈H/4⌉ × ⌈W/4⌉ logits (outputStride 4), or K × H × W with `upsample`.
 */
export class SERSegFormer extends SegmentationModel {
  readonly numClasses: number;
  override readonly outputStride: number;
  readonly inChannels: number;
  readonly depthChannel: boolean;
  readonly sersegformer: SegformerBackbone;
  readonly decode_head: SersegformerDecodeHead;

  constructor(options: SERSegFormerOptions) {
    super();
    const name = options.encoder ?? 'mit-b0';
    if (!MIT_CONFIGS[name]) throw new Error(`SERSegFormer: encoder must be one of ${MIT_NAMES.join(', ')}, got '${name}'`);
    const hidden = options.decoderHiddenSize ?? 256;
    if (!Number.isInteger(hidden) || hidden < 1) throw new Error(`SERSegFormer: decoderHiddenSize must be a positive integer, got ${hidden}`);
    const p = options.classifierDropout ?? 0.1;
    if (!(p >= 0 && p < 1)) throw new Error(`SERSegFormer: classifierDropout must be in [0, 1), got ${p}`);
    this.numClasses = options.numClasses;
    this.inChannels = options.inChannels ?? 3;
    this.depthChannel = options.depthChannel ?? false;
    const upsample = options.upsample ?? false;
    this.outputStride = upsample ? 1 : 4;
    const encoder = new MixTransformer(name, {
      inChannels: this.inChannels,
      dropPath: options.dropPath,
      layerNormEps: 'hf',
      abg: options.abg ?? false,
      sideChannels: this.depthChannel ? 1 : 0,
    });
    this.sersegformer = this.module('sersegformer', new SegformerBackbone(encoder));
    const switches = { dbn: options.dbn ?? false, afn: options.afn ?? false, dam: options.dam ?? false, upsample, depth: this.depthChannel };
    this.decode_head = this.module('decode_head', new SersegformerDecodeHead(encoder.outChannels, hidden, options.numClasses, p, switches));
    // FastSeg (HF PreTrainedModel._init_weights): every Linear and Conv2d N(0, 0.02) with zero bias.
    for (const [, m] of this.namedModules()) {
      if (m instanceof Linear || m instanceof Conv2d) {
        m.weight.set(normal(m.weight.shape, 0.02).value);
        m.bias?.set(constant(m.bias.shape, 0).value);
      }
    }
  }

  forward(x: Tensor): Tensor {
    this.checkInputSize(x, 'SERSegFormer');
    const want = this.inChannels + (this.depthChannel ? 1 : 0);
    if (x.shape[1] !== want) {
      const what = this.depthChannel ? `${this.inChannels} image channels + 1 depth channel (last)` : `${this.inChannels} channels`;
      throw new Error(`SERSegFormer: expected an N×${want}×H×W input (${what}), got [${x.shape.join(', ')}]`);
    }
    const [h, w] = [x.shape[2]!, x.shape[3]!];
    const encoder = this.sersegformer.encoder;
    if (!this.depthChannel) return this.decode_head.forward(encoder.features(x), [], [h, w]);
    const image = x.slice(1, 0, this.inChannels);
    const depth = x.slice(1, this.inChannels, want);
    // The depth map at each stage's input size: the input, then strides 4, 8, 16 (FastSeg's
    // downsampling_rates 1, 4, 8, 16), as the patch-embedding convs round.
    const sides = [depth];
    let size = { h, w };
    for (let i = 0; i < 3; i++) {
      size = encoder.stageSize(i, size.h, size.w);
      sides.push(depth.resize({ size: [size.h, size.w], mode: 'bilinear', alignCorners: false }));
    }
    return this.decode_head.forward(encoder.features(image, sides), sides.slice(1), [h, w]);
  }
}
