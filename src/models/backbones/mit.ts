import type { Tensor } from '../../engine/tensor.js';
import { cat } from '../../engine/tensor.js';
import { constant, normal, truncNormal } from '../../nn/init.js';
import { Module } from '../../nn/module.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { DropPath } from '../../nn/layers/dropout.js';
import { Linear } from '../../nn/layers/linear.js';
import { LayerNorm } from '../../nn/layers/norm.js';

/**
 * SegFormer's Mix Transformer (MiT) encoder (architectures.md §3.1–3.2) with HF transformers'
 * parameter names (`patch_embeddings.{i}`, `block.{i}.{j}`, `layer_norm.{i}`), so HF checkpoints
 * load as they are under a `segformer.encoder.` prefix.
 */

/** Hyper-parameters of one MiT size (§3.1). */
export interface MiTConfig {
  hiddenSizes: readonly [number, number, number, number];
  depths: readonly [number, number, number, number];
  heads: readonly [number, number, number, number];
  srRatios: readonly [number, number, number, number];
  /** The All-MLP decoder width the official configs pair with this encoder. */
  decoderHiddenSize: number;
}

const WIDE = [64, 128, 320, 512] as const;
const HEADS = [1, 2, 5, 8] as const;
const SR = [8, 4, 2, 1] as const;

/** MiT-B0 … B5 (§3.1). */
export const MIT_CONFIGS = {
  'mit-b0': { hiddenSizes: [32, 64, 160, 256], depths: [2, 2, 2, 2], heads: HEADS, srRatios: SR, decoderHiddenSize: 256 },
  'mit-b1': { hiddenSizes: WIDE, depths: [2, 2, 2, 2], heads: HEADS, srRatios: SR, decoderHiddenSize: 256 },
  'mit-b2': { hiddenSizes: WIDE, depths: [3, 4, 6, 3], heads: HEADS, srRatios: SR, decoderHiddenSize: 768 },
  'mit-b3': { hiddenSizes: WIDE, depths: [3, 4, 18, 3], heads: HEADS, srRatios: SR, decoderHiddenSize: 768 },
  'mit-b4': { hiddenSizes: WIDE, depths: [3, 8, 27, 3], heads: HEADS, srRatios: SR, decoderHiddenSize: 768 },
  'mit-b5': { hiddenSizes: WIDE, depths: [3, 6, 40, 3], heads: HEADS, srRatios: SR, decoderHiddenSize: 768 },
} as const satisfies Record<string, MiTConfig>;
export type MiTName = keyof typeof MIT_CONFIGS;
export const MIT_NAMES = Object.keys(MIT_CONFIGS) as MiTName[];

/** Overlapping patch embeddings (kernel, stride, padding) of stages 1..4 (§3.1). */
const PATCH = [
  [7, 4, 3],
  [3, 2, 1],
  [3, 2, 1],
  [3, 2, 1],
] as const;
const MLP_RATIO = 4;

/**
 * LayerNorm epsilons by checkpoint origin (§3.6 item 3): 'official' (NVlabs/SegFormer, mmseg 0.x):
 * 1e-6 in blocks and stage norms, 1e-5 after the patch embedding and the spatial reduction;
 * 'hf' (HF transformers, FastSeg): 1e-5 everywhere; 'mmseg' (mmseg ≥ 0.20 / 1.x): 1e-6 everywhere.
 */
export type LayerNormEps = 'official' | 'hf' | 'mmseg';
export const LAYER_NORM_EPS_CHOICES: readonly LayerNormEps[] = ['official', 'hf', 'mmseg'];
const EPS: Record<LayerNormEps, { embed: number; block: number; stage: number; sr: number }> = {
  official: { embed: 1e-5, block: 1e-6, stage: 1e-6, sr: 1e-5 },
  hf: { embed: 1e-5, block: 1e-5, stage: 1e-5, sr: 1e-5 },
  mmseg: { embed: 1e-6, block: 1e-6, stage: 1e-6, sr: 1e-6 },
};

export interface MixTransformerOptions {
  inChannels?: number;
  /** Stochastic-depth rate of the last block; block j of all ΣL gets dropPath·j/(ΣL−1). Default 0.1. */
  dropPath?: number;
  /** Default 'official'. */
  layerNormEps?: LayerNormEps;
  /**
   * FastSeg SERSegFormer's attention-boosting gate `t + t·σ(t)` after the patch-embedding LN, after
   * the spatial-reduction LN, and added to GELU in Mix-FFN (§2.4). Default false.
   */
  abg?: boolean;
  /**
   * Channels concatenated to every stage's input (FastSeg's depth map: 1); `features` then needs
   * one side input per stage. Default 0.
   */
  sideChannels?: number;
}

/** x + x·σ(x): FastSeg's in-encoder gate (§2.4). */
const boost = (t: Tensor): Tensor => t.add(t.silu());

/** Token layout helpers: B×C×H×W ⇄ B×(H·W)×C. */
function toTokens(x: Tensor): Tensor {
  const [b, c, h, w] = x.shape as [number, number, number, number];
  return x.reshape([b, c, h * w]).transpose(1, 2);
}
function toMap(x: Tensor, h: number, w: number): Tensor {
  const [b, , c] = x.shape as [number, number, number];
  return x.transpose(1, 2).reshape([b, c, h, w]);
}

/** The official init (mix_transformer.py `_init_weights`): trunc-normal Linear, N(0, √(2/fan_out)) conv, zero biases. */
function initLinear(l: Linear): Linear {
  l.weight.set(truncNormal(l.weight.shape, 0.02).value);
  l.bias?.set(constant(l.bias.shape, 0).value);
  return l;
}
function initConv(c: Conv2d, groups = 1): Conv2d {
  const [out, , kh, kw] = c.weight.shape as [number, number, number, number];
  c.weight.set(normal(c.weight.shape, Math.sqrt(2 / ((kh * kw * out) / groups))).value);
  c.bias?.set(constant(c.bias.shape, 0).value);
  return c;
}

/** Overlapping patch merging: strided conv (with bias) → tokens → LayerNorm. */
class OverlapPatchEmbed extends Module<[Tensor], Tensor> {
  readonly proj: Conv2d;
  readonly layer_norm: LayerNorm;

  constructor(inC: number, outC: number, [k, s, p]: readonly [number, number, number], eps: number, readonly abg: boolean) {
    super();
    this.proj = this.module('proj', initConv(new Conv2d(inC, outC, k, { stride: s, padding: p })));
    this.layer_norm = this.module('layer_norm', new LayerNorm(outC, eps));
  }

  /** Returns the B×C×h×w conv output's tokens, normalised. */
  forward(x: Tensor): Tensor {
    const t = this.layer_norm.forward(toTokens(this.proj.forward(x)));
    return this.abg ? boost(t) : t;
  }
}

/** Efficient self-attention: keys and values from a sequence shortened by a stride-r conv (§3.2). */
class EfficientSelfAttention extends Module<[Tensor, number, number], Tensor> {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly sr: Conv2d | null;
  readonly layer_norm: LayerNorm | null;

  constructor(readonly dim: number, readonly heads: number, readonly srRatio: number, eps: number, readonly abg: boolean) {
    super();
    if (dim % heads !== 0) throw new Error(`EfficientSelfAttention: hidden size ${dim} is not a multiple of the number of heads ${heads}`);
    this.query = this.module('query', initLinear(new Linear(dim, dim)));
    this.key = this.module('key', initLinear(new Linear(dim, dim)));
    this.value = this.module('value', initLinear(new Linear(dim, dim)));
    this.sr = srRatio > 1 ? this.module('sr', initConv(new Conv2d(dim, dim, srRatio, { stride: srRatio }))) : null;
    this.layer_norm = srRatio > 1 ? this.module('layer_norm', new LayerNorm(dim, eps)) : null;
  }

  forward(x: Tensor, h: number, w: number): Tensor {
    const [b, n, c] = x.shape as [number, number, number];
    let kv = x;
    if (this.sr && this.layer_norm) {
      kv = this.layer_norm.forward(toTokens(this.sr.forward(toMap(x, h, w))));
      if (this.abg) kv = boost(kv);
    }
    const m = kv.shape[1]!;
    const d = c / this.heads;
    const q = this.query.forward(x);
    const k = this.key.forward(kv);
    const v = this.value.forward(kv);
    // One head needs no head axis: plain batched B×N×C products.
    if (this.heads === 1) return q.matmul(k.transpose(1, 2)).mul(d ** -0.5).softmax(-1).matmul(v);
    const split = (t: Tensor, len: number, perm: number[]) => t.reshape([b, len, this.heads, d]).permute(perm);
    const scores = split(q, n, [0, 2, 1, 3]).matmul(split(k, m, [0, 2, 3, 1])).mul(d ** -0.5);
    const ctx = scores.softmax(-1).matmul(split(v, m, [0, 2, 1, 3]));
    return ctx.permute([0, 2, 1, 3]).reshape([b, n, c]);
  }
}

/** HF's SegformerAttention: `self` (the attention) and `output.dense` (the output projection). */
class AttentionOutput extends Module {
  readonly dense: Linear;
  constructor(dim: number) {
    super();
    this.dense = this.module('dense', initLinear(new Linear(dim, dim)));
  }
  forward(x: Tensor): Tensor {
    return this.dense.forward(x);
  }
}

class Attention extends Module<[Tensor, number, number], Tensor> {
  readonly self: EfficientSelfAttention;
  readonly output: AttentionOutput;
  constructor(dim: number, heads: number, srRatio: number, eps: number, abg: boolean) {
    super();
    this.self = this.module('self', new EfficientSelfAttention(dim, heads, srRatio, eps, abg));
    this.output = this.module('output', new AttentionOutput(dim));
  }
  forward(x: Tensor, h: number, w: number): Tensor {
    return this.output.forward(this.self.forward(x, h, w));
  }
}

/** The depth-wise 3×3 conv of Mix-FFN, on the token sequence laid back out as a map. */
class DWConv extends Module<[Tensor, number, number], Tensor> {
  readonly dwconv: Conv2d;
  constructor(dim: number) {
    super();
    this.dwconv = this.module('dwconv', initConv(new Conv2d(dim, dim, 3, { padding: 1, groups: dim }), dim));
  }
  forward(x: Tensor, h: number, w: number): Tensor {
    return toTokens(this.dwconv.forward(toMap(x, h, w)));
  }
}

/** Mix-FFN: Linear C→4C → depth-wise 3×3 → GELU (+ d·σ(d) with AbG) → Linear 4C→C. */
class MixFFN extends Module<[Tensor, number, number], Tensor> {
  readonly dense1: Linear;
  readonly dwconv: DWConv;
  readonly dense2: Linear;
  constructor(dim: number, hidden: number, readonly abg: boolean) {
    super();
    this.dense1 = this.module('dense1', initLinear(new Linear(dim, hidden)));
    this.dwconv = this.module('dwconv', new DWConv(hidden));
    this.dense2 = this.module('dense2', initLinear(new Linear(hidden, dim)));
  }
  forward(x: Tensor, h: number, w: number): Tensor {
    const d = this.dwconv.forward(this.dense1.forward(x), h, w);
    return this.dense2.forward(this.abg ? d.gelu().add(d.silu()) : d.gelu());
  }
}

/** Pre-norm transformer block with drop-path on both residual branches. */
class MiTLayer extends Module<[Tensor, number, number], Tensor> {
  readonly layer_norm_1: LayerNorm;
  readonly attention: Attention;
  readonly drop_path: DropPath;
  readonly layer_norm_2: LayerNorm;
  readonly mlp: MixFFN;
  constructor(dim: number, heads: number, srRatio: number, dropPath: number, eps: { block: number; sr: number }, abg: boolean) {
    super();
    this.layer_norm_1 = this.module('layer_norm_1', new LayerNorm(dim, eps.block));
    this.attention = this.module('attention', new Attention(dim, heads, srRatio, eps.sr, abg));
    this.drop_path = this.module('drop_path', new DropPath(dropPath));
    this.layer_norm_2 = this.module('layer_norm_2', new LayerNorm(dim, eps.block));
    this.mlp = this.module('mlp', new MixFFN(dim, dim * MLP_RATIO, abg));
  }
  forward(x: Tensor, h: number, w: number): Tensor {
    const y = x.add(this.drop_path.forward(this.attention.forward(this.layer_norm_1.forward(x), h, w)));
    return y.add(this.drop_path.forward(this.mlp.forward(this.layer_norm_2.forward(y), h, w)));
  }
}

/**
 * Mix Transformer encoder with the feature-pyramid contract decoders consume (as ResNet's):
 * `features(x)` returns the four stage outputs, B×C_i×h_i×w_i at strides 4, 8, 16, 32, where each
 * h_i follows the patch-embedding convs' arithmetic (⌈H/4⌉, then ⌈·/2⌉ three times), so any input
 * size works. `outChannels` and `strides` describe them.
 */
export class MixTransformer extends Module<[Tensor], Tensor[]> {
  readonly config: MiTConfig;
  readonly outChannels: number[];
  readonly strides = [4, 8, 16, 32];
  readonly inChannels: number;
  readonly sideChannels: number;
  private readonly embeds: OverlapPatchEmbed[];
  private readonly stages: MiTLayer[][];
  private readonly norms: LayerNorm[];

  constructor(readonly name: MiTName, options: MixTransformerOptions = {}) {
    super();
    const config = MIT_CONFIGS[name];
    if (!config) throw new Error(`MixTransformer: unknown encoder '${name}'; valid: ${MIT_NAMES.join(', ')}`);
    this.config = config;
    const dropPath = options.dropPath ?? 0.1;
    if (!(dropPath >= 0 && dropPath < 1)) throw new Error(`MixTransformer: dropPath must be in [0, 1), got ${dropPath}`);
    const epsName = options.layerNormEps ?? 'official';
    const eps = EPS[epsName];
    if (!eps) throw new Error(`MixTransformer: layerNormEps must be one of ${LAYER_NORM_EPS_CHOICES.join(', ')}, got '${epsName}'`);
    const abg = options.abg ?? false;
    this.inChannels = options.inChannels ?? 3;
    this.sideChannels = options.sideChannels ?? 0;
    const sizes = config.hiddenSizes;
    this.outChannels = [...sizes];
    this.embeds = sizes.map((c, i) =>
      this.module(`patch_embeddings.${i}`, new OverlapPatchEmbed((i === 0 ? this.inChannels : sizes[i - 1]!) + this.sideChannels, c, PATCH[i]!, eps.embed, abg)),
    );
    // Stochastic depth grows linearly over all blocks of all stages (torch.linspace(0, rate, ΣL)).
    const total = config.depths.reduce((a, b) => a + b, 0);
    let j = 0;
    this.stages = sizes.map((c, i) =>
      Array.from({ length: config.depths[i]! }, (_, k) => {
        const rate = total > 1 ? (dropPath * j++) / (total - 1) : 0;
        return this.module(`block.${i}.${k}`, new MiTLayer(c, config.heads[i]!, config.srRatios[i]!, rate, eps, abg));
      }),
    );
    this.norms = sizes.map((c, i) => this.module(`layer_norm.${i}`, new LayerNorm(c, eps.stage)));
  }

  /**
   * The four stage outputs (strides 4, 8, 16, 32). With `sideChannels`, `side[i]` (B×sideChannels×
   * h×w at stage i's input size) is concatenated to stage i's input, as FastSeg does with depth.
   */
  features(x: Tensor, side: readonly Tensor[] = []): Tensor[] {
    if (x.rank !== 4 || x.shape[1] !== this.inChannels) {
      throw new Error(`MixTransformer: expected an N×${this.inChannels}×H×W input, got [${x.shape.join(', ')}]`);
    }
    if (side.length !== (this.sideChannels > 0 ? 4 : 0)) {
      throw new Error(`MixTransformer: built with sideChannels=${this.sideChannels}, so features() needs ${this.sideChannels > 0 ? 4 : 0} side inputs, got ${side.length}`);
    }
    const out: Tensor[] = [];
    let y = x;
    for (let i = 0; i < 4; i++) {
      const input = side.length ? cat([y, side[i]!], 1) : y;
      const { h, w } = this.stageSize(i, input.shape[2]!, input.shape[3]!);
      const r = this.config.srRatios[i]!;
      if (h < r || w < r) {
        throw new Error(`MixTransformer: input ${x.shape[2]}×${x.shape[3]} is too small: stage ${i + 1} is ${h}×${w}, smaller than its spatial-reduction kernel ${r}×${r}; inputs need at least 29×29`);
      }
      let t = this.embeds[i]!.forward(input);
      for (const layer of this.stages[i]!) t = layer.forward(t, h, w);
      y = toMap(this.norms[i]!.forward(t), h, w);
      out.push(y);
    }
    return out;
  }

  /** The output size of stage i's patch embedding for an h×w input (PyTorch's conv arithmetic). */
  stageSize(i: number, h: number, w: number): { h: number; w: number } {
    const [k, s, p] = PATCH[i]!;
    const f = (n: number) => Math.floor((n + 2 * p - k) / s) + 1;
    return { h: f(h), w: f(w) };
  }

  forward(x: Tensor): Tensor[] {
    return this.features(x);
  }
}
