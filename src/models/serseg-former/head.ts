import type { Tensor } from '../../engine/tensor.js';
import { cat } from '../../engine/tensor.js';
import { Sequential } from '../../nn/layers/container.js';
import { Dropout } from '../../nn/layers/dropout.js';
import { Linear } from '../../nn/layers/linear.js';
import { ContextAFN, SpatialAFN } from '../blocks/afn.js';
import { DAM } from '../blocks/dam.js';
import { DbN } from '../blocks/dbn.js';
import { UpsampleBlock } from '../blocks/upsample.js';
import { AllMlpFusionHead, pixelLinear } from '../segformer/head.js';

/** FastSeg SERSegFormer's decoder switches (architectures.md §2.4); all default off. */
export interface SersegSwitches {
  dbn: boolean;
  afn: boolean;
  dam: boolean;
  upsample: boolean;
  /** Concatenate the depth map (at strides 4, 8, 16) to decoder inputs 0, 1, 2. */
  depth: boolean;
}

/**
 * Widths of the four decoder inputs after the switches (§2.4's table for B0: 32/64/160/256, with
 * DbN 64/128/…, with AfN 64/128/384/640, both 128/256/448/768; +1 on the first three with depth).
 */
export function decoderInputWidths(c: readonly number[], s: SersegSwitches): number[] {
  const d = [...c];
  if (s.dbn) [d[0], d[1]] = [2 * d[0]!, 2 * d[1]!];
  if (s.afn) {
    [d[0], d[1]] = [2 * d[0]!, 2 * d[1]!];
    d[2] = 2 * d[2]! + d[0];
    d[3] = 2 * d[3]! + d[1];
  }
  if (s.depth) for (let i = 0; i < 3; i++) d[i]! += 1;
  return d;
}

/**
 * FastSeg's `SersegformerDecodeHead` with its child names (`linear_c`, `linear_fuse`,
 * `batch_norm`, `classifier` (a per-pixel Linear), `upsample1`/`upsample2`, `dbn1`/`dbn2`,
 * `afn11`/`afn13`/`afn22`/`afn24`/`afn33`/`afn44`, `afn_final`, `dam`), so FastSeg checkpoints load
 * by name. `forward(features, depths, inputSize)`: `depths` are the depth map at the sizes of
 * features 0, 1, 2 (empty without the depth switch).
 *
 * Resizes go to explicit sizes where FastSeg uses scale factors, so any input size works; where
 * FastSeg runs (H, W multiples of 16) they agree with FastSeg's. With `upsample` the logits are at
 * the input size exactly: the first ×2 lands on ⌈H/2⌉×⌈W/2⌉, the second on H×W.
 */
export class SersegformerDecodeHead extends AllMlpFusionHead {
  readonly classifier: Linear;
  private readonly up: { upsample1: UpsampleBlock; upsample2: UpsampleBlock } | null;
  private readonly finalAfn: { context: ContextAFN; up: UpsampleBlock } | null;
  private readonly dbns: [DbN, DbN] | null;
  private readonly afns: { afn11: SpatialAFN; afn13: ContextAFN; afn22: SpatialAFN; afn24: ContextAFN; afn33: SpatialAFN; afn44: SpatialAFN } | null;
  readonly dam: DAM | null;

  constructor(
    encoderChannels: readonly number[],
    hidden: number,
    numClasses: number,
    classifierDropout: number,
    readonly switches: SersegSwitches,
  ) {
    const widths = decoderInputWidths(encoderChannels, switches);
    super(widths, hidden, new Dropout(classifierDropout));
    const [c0, c1, c2, c3] = encoderChannels as [number, number, number, number];
    const quarter = Math.floor(hidden / 4);
    if (switches.upsample && quarter < 1) throw new Error(`SERSegFormer: decoderHiddenSize must be ≥ 4 with upsample (its blocks are decoderHiddenSize/4 wide), got ${hidden}`);
    this.up = switches.upsample
      ? { upsample1: this.module('upsample1', new UpsampleBlock(hidden, quarter, 2)), upsample2: this.module('upsample2', new UpsampleBlock(quarter, quarter, 2)) }
      : null;
    this.classifier = this.module('classifier', new Linear(switches.upsample ? quarter : hidden, numClasses));
    this.dam = switches.dam ? this.module('dam', new DAM(widths[0]!)) : null;
    this.dbns = switches.dbn ? [this.module('dbn1', new DbN(c0)), this.module('dbn2', new DbN(c1))] : null;
    const a0 = switches.dbn ? 2 * c0 : c0;
    const a1 = switches.dbn ? 2 * c1 : c1;
    this.afns = switches.afn
      ? {
          afn11: this.module('afn11', new SpatialAFN(a0)),
          afn13: this.module('afn13', new ContextAFN(2 * a0)),
          afn22: this.module('afn22', new SpatialAFN(a1)),
          afn24: this.module('afn24', new ContextAFN(2 * a1)),
          afn33: this.module('afn33', new SpatialAFN(c2)),
          afn44: this.module('afn44', new SpatialAFN(c3)),
        }
      : null;
    if (switches.afn && switches.upsample) {
      const context = new ContextAFN(quarter);
      const up = new UpsampleBlock(quarter, quarter, 4);
      this.module('afn_final', new Sequential(context, up));
      this.finalAfn = { context, up };
    } else this.finalAfn = null;
  }

  forward(features: Tensor[], depths: readonly Tensor[] = [], inputSize?: [number, number]): Tensor {
    let [f0, f1, f2, f3] = features as [Tensor, Tensor, Tensor, Tensor];
    if (this.dbns) {
      f0 = cat([this.dbns[0].forward(f0), f0], 1);
      f1 = cat([this.dbns[1].forward(f1), f1], 1);
    }
    if (this.afns) {
      const a = this.afns;
      const g0 = cat([a.afn11.forward(f0), f0], 1);
      const g1 = cat([a.afn22.forward(f1), f1], 1);
      // The stride-4 context AfNs land exactly on the next-but-one stage's size: their 3×3
      // stride-2 pad-1 convs round as the patch embeddings do (⌈n/2⌉).
      f2 = cat([a.afn13.forward(g0), a.afn33.forward(f2), f2], 1);
      f3 = cat([a.afn24.forward(g1), a.afn44.forward(f3), f3], 1);
      [f0, f1] = [g0, g1];
    }
    if (this.switches.depth) {
      if (depths.length !== 3) throw new Error(`SersegformerDecodeHead: the depth switch needs the depth map at 3 sizes, got ${depths.length}`);
      [f0, f1, f2] = [cat([f0, depths[0]!], 1), cat([f1, depths[1]!], 1), cat([f2, depths[2]!], 1)];
    }
    if (this.dam) f0 = this.dam.forward(f0);
    let x = this.fuse([f0, f1, f2, f3]);
    if (this.up) {
      const [h, w] = inputSize ?? [4 * x.shape[2]!, 4 * x.shape[3]!];
      x = this.up.upsample1.forward(x, [Math.ceil(h / 2), Math.ceil(w / 2)]);
      if (this.finalAfn) x = x.add(this.finalAfn.up.forward(this.finalAfn.context.forward(x), [x.shape[2]!, x.shape[3]!]));
      x = this.up.upsample2.forward(x, [h, w]);
    }
    return pixelLinear(x, this.classifier);
  }
}
