import type { Tensor } from '../../engine/tensor.js';
import { kaimingNormalFanOut } from '../../nn/init.js';
import { Module } from '../../nn/module.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { Dropout2d } from '../../nn/layers/dropout.js';
import { Linear } from '../../nn/layers/linear.js';
import { BatchNorm2d } from '../../nn/layers/norm.js';

/**
 * A per-pixel Linear applied to an N×C×H×W map, as a 1×1 conv with the Linear's [out, in] weight
 * viewed as [out, in, 1, 1]: the same as HF's flatten → Linear → reshape without the two
 * token-layout transposes.
 */
export function pixelLinear(x: Tensor, l: Linear): Tensor {
  const w = x.graph.lift(l.weight).reshape([l.outFeatures, l.inFeatures, 1, 1]);
  return x.conv2d(w, { bias: l.bias });
}

/** HF's SegformerMLP: the per-stage channel unification (`linear_c.{i}.proj`). */
class SegformerMLP extends Module {
  readonly proj: Linear;
  constructor(inChannels: number, hidden: number) {
    super();
    this.proj = this.module('proj', new Linear(inChannels, hidden));
  }
  forward(x: Tensor): Tensor {
    return pixelLinear(x, this.proj);
  }
}

/**
 * The All-MLP fusion shared by SegFormer's and SERSegFormer's decode heads (§3.3): per-input
 * Linear to `hidden`, bilinear resize (align_corners false) to the first input's size, concat
 * deepest first, Conv1×1 (no bias) → BN → ReLU → dropout. Children: `linear_c.{i}`,
 * `linear_fuse`, `batch_norm` (HF/FastSeg names); subclasses add their classifier.
 */
export abstract class AllMlpFusionHead extends Module<[Tensor[]], Tensor> {
  private readonly mlps: SegformerMLP[];
  readonly linear_fuse: Conv2d;
  readonly batch_norm: BatchNorm2d;
  readonly dropout: Module;

  protected constructor(inChannels: readonly number[], readonly hidden: number, dropout: Module) {
    super();
    this.mlps = inChannels.map((c, i) => this.module(`linear_c.${i}`, new SegformerMLP(c, hidden)));
    this.linear_fuse = this.module('linear_fuse', new Conv2d(hidden * inChannels.length, hidden, 1, { bias: false }));
    // mmcv ConvModule's init of the fuse conv: Kaiming-normal, fan_out, ReLU.
    this.linear_fuse.weight.set(kaimingNormalFanOut(this.linear_fuse.weight.shape).value);
    this.batch_norm = this.module('batch_norm', new BatchNorm2d(hidden));
    this.dropout = this.module('dropout', dropout);
  }

  /**
   * The fused N×hidden×h₁×w₁ map (before the classifier).
   *
   * Computed as Σᵢ resize(F_i · (W_fuse,i·W_c,i)ᵀ) + Σᵢ W_fuse,i·b_c,i instead of the literal
   * fuse(cat[resize(linear_c(F_i))]): the per-stage Linear, the bilinear resize (weights summing to
   * 1) and the fuse conv's slice for that stage are all linear, so they commute and the two Linears
   * compose into one C_i→hidden 1×1 conv run at stage i's own resolution. Same function and
   * parameters (the products are taken in the graph, so training sees the same gradients), but the
   * 4·hidden→hidden conv at stride 4 — most of SegFormer-B0's MACs — and the 4·hidden-channel concat
   * are gone.
   */
  protected fuse(features: readonly Tensor[]): Tensor {
    const n = this.mlps.length;
    if (features.length !== n) throw new Error(`${this.constructor.name}: expected ${n} feature maps, got ${features.length}`);
    const [h, w] = features[0]!.shape.slice(2) as [number, number];
    const d = this.hidden;
    const g = features[0]!.graph;
    const fuseW = g.lift(this.linear_fuse.weight).reshape([d, n * d]);
    const weights: Tensor[] = [];
    let bias: Tensor | null = null;
    for (let i = 0; i < n; i++) {
      const { proj } = this.mlps[i]!;
      // The concat is deepest first, so stage i owns fuse-weight column block n−1−i.
      const slot = fuseW.slice(1, (n - 1 - i) * d, (n - i) * d);
      weights.push(slot.matmul(g.lift(proj.weight)).reshape([d, features[i]!.shape[1]!, 1, 1]));
      if (proj.bias) {
        const b = slot.matmul(g.lift(proj.bias).reshape([d, 1])).reshape([d]);
        bias = bias ? bias.add(b) : b;
      }
    }
    // The summed bias rides on the first stage's conv, which is never resized.
    let sum = features[0]!.conv2d(weights[0]!, { bias });
    for (let i = 1; i < n; i++) sum = sum.add(features[i]!.conv2d(weights[i]!).resize({ size: [h, w], mode: 'bilinear', alignCorners: false }));
    return this.dropout.forward(this.batch_norm.forward(sum).relu());
  }
}

/**
 * SegFormer's decode head with HF `SegformerDecodeHead` names: the All-MLP fusion plus
 * `classifier` (Conv1×1 with bias) → K logits at the first feature map's size (stride 4).
 * Dropout before the classifier is Dropout2d as in the official head (HF uses Dropout; the two
 * differ in training only).
 */
export class SegformerDecodeHead extends AllMlpFusionHead {
  readonly classifier: Conv2d;

  constructor(inChannels: readonly number[], hidden: number, numClasses: number, classifierDropout: number) {
    super(inChannels, hidden, new Dropout2d(classifierDropout));
    this.classifier = this.module('classifier', new Conv2d(hidden, numClasses, 1));
  }

  forward(features: Tensor[]): Tensor {
    return this.classifier.forward(this.fuse(features));
  }
}
