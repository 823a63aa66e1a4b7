import type { Graph } from '../../engine/graph.js';
import type { Parameter } from '../../engine/parameter.js';
import type { Tensor } from '../../engine/tensor.js';
import { cat } from '../../engine/tensor.js';
import { constant, truncNormal } from '../../nn/init.js';
import { Module } from '../../nn/module.js';
import { GELU } from '../../nn/layers/activation.js';
import { Sequential } from '../../nn/layers/container.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { Dropout, DropPath } from '../../nn/layers/dropout.js';
import { Linear } from '../../nn/layers/linear.js';
import { LayerNorm } from '../../nn/layers/norm.js';

/**
 * The plain Vision Transformer encoder of SETR (architectures.md §4.1), with the parameter names of
 * SETR's `VisionTransformer` (timm's naming: `patch_embed.proj`, `cls_token`, `pos_embed`,
 * `blocks.{i}.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}`), so SETR and timm checkpoints
 * load under a `backbone.` prefix.
 */

/** Width, depth and heads of one ViT size; the patch is always 16×16 and the MLP ratio 4. */
export interface ViTConfig {
  embedDim: number;
  depth: number;
  numHeads: number;
}

/**
 * ViT-B/16 and ViT-L/16 (§4.1: SETR's "Base" and "T-Large") and the smaller DeiT/timm sizes
 * Ti/16 and S/16, which share the layout (pre-norm blocks, fused qkv with bias, MLP ratio 4).
 */
export const VIT_CONFIGS = {
  'vit-t16': { embedDim: 192, depth: 12, numHeads: 3 },
  'vit-s16': { embedDim: 384, depth: 12, numHeads: 6 },
  'vit-b16': { embedDim: 768, depth: 12, numHeads: 12 },
  'vit-l16': { embedDim: 1024, depth: 24, numHeads: 16 },
} as const satisfies Record<string, ViTConfig>;
export type ViTName = keyof typeof VIT_CONFIGS;
export const VIT_NAMES = Object.keys(VIT_CONFIGS) as ViTName[];

export const VIT_PATCH_SIZE = 16;
const MLP_RATIO = 4;
/** SETR's (and timm's) `partial(nn.LayerNorm, eps=1e-6)` in every block and head norm (§4.1). */
export const VIT_LAYER_NORM_EPS = 1e-6;

/** SETR's init_weights: Linear weights trunc_normal(std 0.02), biases 0. */
function linear(inF: number, outF: number): Linear {
  const l = new Linear(inF, outF);
  l.weight.set(truncNormal(l.weight.shape, 0.02).value);
  l.bias!.set(constant([outF], 0).value);
  return l;
}

/** Non-overlapping 16×16 patches projected to the embedding width by one strided conv (with bias). */
class PatchEmbed extends Module {
  readonly proj: Conv2d;

  constructor(inChannels: number, embedDim: number) {
    super();
    this.proj = this.module('proj', new Conv2d(inChannels, embedDim, VIT_PATCH_SIZE, { stride: VIT_PATCH_SIZE }));
  }

  forward(x: Tensor): Tensor {
    return this.proj.forward(x);
  }
}

/** Multi-head self-attention with a fused qkv projection ([3C, C], rows q, k, v) and scale d^−½. */
class Attention extends Module {
  readonly qkv: Linear;
  readonly attn_drop: Dropout;
  readonly proj: Linear;
  readonly proj_drop: Dropout;

  constructor(
    dim: number,
    readonly numHeads: number,
    attnDrop: number,
    projDrop: number,
  ) {
    super();
    this.qkv = this.module('qkv', linear(dim, 3 * dim));
    this.attn_drop = this.module('attn_drop', new Dropout(attnDrop));
    this.proj = this.module('proj', linear(dim, dim));
    this.proj_drop = this.module('proj_drop', new Dropout(projDrop));
  }

  forward(x: Tensor): Tensor {
    const [b, n, c] = x.shape as [number, number, number];
    const d = c / this.numHeads;
    // [B, N, 3, heads, d] → [3, B, heads, N, d]
    const qkv = this.qkv.forward(x).reshape([b, n, 3, this.numHeads, d]).permute([2, 0, 3, 1, 4]);
    const [q, k, v] = qkv.split(1, 0).map((t) => t.squeeze(0)) as [Tensor, Tensor, Tensor];
    const attn = this.attn_drop.forward(q.matmul(k.transpose(-2, -1)).mul(d ** -0.5).softmax(-1));
    return this.proj_drop.forward(this.proj.forward(attn.matmul(v).transpose(1, 2).reshape([b, n, c])));
  }
}

class Mlp extends Module {
  readonly fc1: Linear;
  readonly act: GELU;
  readonly fc2: Linear;
  readonly drop: Dropout;

  constructor(dim: number, hidden: number, drop: number) {
    super();
    this.fc1 = this.module('fc1', linear(dim, hidden));
    this.act = this.module('act', new GELU());
    this.fc2 = this.module('fc2', linear(hidden, dim));
    this.drop = this.module('drop', new Dropout(drop));
  }

  forward(x: Tensor): Tensor {
    return this.drop.forward(this.fc2.forward(this.drop.forward(this.act.forward(this.fc1.forward(x)))));
  }
}

/** Pre-norm Transformer block: x += DropPath(Attn(LN(x))); x += DropPath(MLP(LN(x))). */
class Block extends Module {
  readonly norm1: LayerNorm;
  readonly attn: Attention;
  readonly drop_path: DropPath;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;

  constructor(cfg: ViTConfig, o: { drop: number; attnDrop: number; dropPath: number }) {
    super();
    const c = cfg.embedDim;
    this.norm1 = this.module('norm1', new LayerNorm(c, VIT_LAYER_NORM_EPS));
    this.attn = this.module('attn', new Attention(c, cfg.numHeads, o.attnDrop, o.drop));
    this.drop_path = this.module('drop_path', new DropPath(o.dropPath));
    this.norm2 = this.module('norm2', new LayerNorm(c, VIT_LAYER_NORM_EPS));
    this.mlp = this.module('mlp', new Mlp(c, c * MLP_RATIO, o.drop));
  }

  forward(x: Tensor): Tensor {
    const y = x.add(this.drop_path.forward(this.attn.forward(this.norm1.forward(x))));
    return y.add(this.drop_path.forward(this.mlp.forward(this.norm2.forward(y))));
  }
}

export interface VisionTransformerOptions {
  inChannels?: number;
  /**
   * The image size whose 16×16-patch grid the position embedding is stored at (square, or
   * [height, width]); other input sizes resize that grid bilinearly in the graph. Checkpoints fix
   * it: SETR's 768 (Cityscapes), 512 (ADE20K), 480 (Pascal-Context); timm ViT-*-384: 384; DeiT: 224.
   * Default 224.
   */
  imgSize?: number | [number, number];
  /** Blocks (0-based) whose outputs `forward` returns, in this order. Default: the last block. */
  outIndices?: readonly number[];
  /**
   * false: drop the cls token right after adding the position embedding, so the blocks run on the
   * patch tokens only (SETR-MLA's `VIT_MLA`, §4.1). Default true (the cls token stays at index 0).
   */
  clsTokenInBlocks?: boolean;
  /** Dropout after the position embedding, in attention's projection and the MLP. Default 0 (all released SETR configs). */
  dropRate?: number;
  /** Dropout on the attention weights. Default 0. */
  attnDropRate?: number;
  /** Stochastic depth of the last block; block i of L gets dropPathRate·i/(L−1) (timm's linspace rule). Default 0. */
  dropPathRate?: number;
}

/**
 * ViT encoder: 16×16 patch embedding, cls token, learned position embedding, pre-norm blocks,
 * no final norm (SETR's heads own their LayerNorms). `forward(x)` returns the token sequences
 * (B×(1+N)×C with the cls token first, or B×N×C without it) after the blocks in `outIndices`;
 * N = (H/16)·(W/16) in row-major patch order, so `tokensToMap` turns them back into maps.
 * H and W must be multiples of 16; they may differ from each other and from `imgSize`.
 */
export class VisionTransformer extends Module<[Tensor], Tensor[]> {
  readonly cls_token: Parameter;
  readonly pos_embed: Parameter;
  readonly patch_embed: PatchEmbed;
  readonly pos_drop: Dropout;
  readonly blocks: Sequential;
  readonly config: ViTConfig;
  /** Patch grid [rows, cols] the position embedding is stored at. */
  readonly posGrid: [number, number];
  readonly outIndices: readonly number[];
  readonly clsTokenInBlocks: boolean;

  constructor(
    encoder: ViTName | ViTConfig,
    options: VisionTransformerOptions = {},
  ) {
    super();
    const cfg = typeof encoder === 'string' ? VIT_CONFIGS[encoder] : encoder;
    if (!cfg) throw new Error(`VisionTransformer: encoder must be one of ${VIT_NAMES.join(', ')}, got '${String(encoder)}'`);
    if (cfg.embedDim % cfg.numHeads !== 0) throw new Error(`VisionTransformer: embedDim ${cfg.embedDim} is not divisible by numHeads ${cfg.numHeads}`);
    this.config = cfg;
    const size = options.imgSize ?? 224;
    const [ih, iw] = typeof size === 'number' ? [size, size] : size;
    if (!(ih >= VIT_PATCH_SIZE && iw >= VIT_PATCH_SIZE && ih % VIT_PATCH_SIZE === 0 && iw % VIT_PATCH_SIZE === 0)) {
      throw new Error(`VisionTransformer: imgSize must be a positive multiple of ${VIT_PATCH_SIZE}, got ${JSON.stringify(size)}`);
    }
    this.posGrid = [ih / VIT_PATCH_SIZE, iw / VIT_PATCH_SIZE];
    this.outIndices = options.outIndices ?? [cfg.depth - 1];
    if (this.outIndices.length === 0 || !this.outIndices.every((i) => Number.isInteger(i) && i >= 0 && i < cfg.depth)) {
      throw new Error(`VisionTransformer: outIndices must be block indices in 0..${cfg.depth - 1}, got [${this.outIndices.join(', ')}]`);
    }
    this.clsTokenInBlocks = options.clsTokenInBlocks ?? true;

    const c = cfg.embedDim;
    const n = this.posGrid[0] * this.posGrid[1];
    this.cls_token = this.param('cls_token', truncNormal([1, 1, c], 0.02));
    this.pos_embed = this.param('pos_embed', truncNormal([1, n + 1, c], 0.02));
    this.patch_embed = this.module('patch_embed', new PatchEmbed(options.inChannels ?? 3, c));
    const drop = options.dropRate ?? 0;
    this.pos_drop = this.module('pos_drop', new Dropout(drop));
    const dpr = options.dropPathRate ?? 0;
    const blocks = Array.from(
      { length: cfg.depth },
      (_, i) => new Block(cfg, { drop, attnDrop: options.attnDropRate ?? 0, dropPath: cfg.depth > 1 ? (dpr * i) / (cfg.depth - 1) : 0 }),
    );
    this.blocks = this.module('blocks', new Sequential(...blocks));
  }

  /** The patch grid [H/16, W/16] of an N×C×H×W input; throws unless H and W are multiples of 16. */
  grid(x: Tensor): [number, number] {
    if (x.rank !== 4) throw new Error(`VisionTransformer: expected an N×C×H×W input, got shape [${x.shape.join(', ')}]`);
    const [, , h, w] = x.shape as [number, number, number, number];
    const p = VIT_PATCH_SIZE;
    if (h % p !== 0 || w % p !== 0) {
      const up = (v: number) => Math.max(p, Math.ceil(v / p) * p);
      throw new Error(`VisionTransformer: input height and width must be multiples of the patch size ${p}, got ${h}×${w} (pad or resize to e.g. ${up(h)}×${up(w)})`);
    }
    return [h / p, w / p];
  }

  /**
   * The position embedding for a gh×gw patch grid, 1×(1+gh·gw)×C: the stored one, or its patch
   * part resized bilinearly with align_corners=False (SETR's load-time resize, helpers.py
   * `load_pretrained(pos_embed_interp=True)` with the configs' align_corners=False, §4.1) with the
   * cls slot kept. Done in the graph, so training at any size updates the stored grid.
   */
  positionEmbedding(graph: Graph, gh: number, gw: number): Tensor {
    const [sh, sw] = this.posGrid;
    const c = this.config.embedDim;
    const pos = graph.param(this.pos_embed);
    if (gh === sh && gw === sw) return pos;
    const patches = pos
      .slice(1, 1)
      .reshape([1, sh, sw, c])
      .permute([0, 3, 1, 2])
      .resize({ size: [gh, gw], mode: 'bilinear', alignCorners: false })
      .permute([0, 2, 3, 1])
      .reshape([1, gh * gw, c]);
    return cat([pos.slice(1, 0, 1), patches], 1);
  }

  forward(x: Tensor): Tensor[] {
    const [gh, gw] = this.grid(x);
    const b = x.shape[0]!;
    const c = this.config.embedDim;
    const patches = this.patch_embed.forward(x).flatten(2).transpose(1, 2); // B×N×C, row-major patches
    const cls = x.graph.param(this.cls_token).expand([b, 1, c]);
    let t = cat([cls, patches], 1).add(this.positionEmbedding(x.graph, gh, gw));
    if (!this.clsTokenInBlocks) t = t.slice(1, 1);
    t = this.pos_drop.forward(t);
    // Blocks past the last requested output would be dead code in the graph: stop there.
    const outs: Tensor[] = [];
    for (let i = 0; i <= Math.max(...this.outIndices); i++) outs.push((t = this.blocks.layers[i]!.forward(t)));
    return this.outIndices.map((i) => outs[i]!);
  }
}

/** B×N×C patch tokens (no cls token) in row-major order → B×C×gh×gw. */
export function tokensToMap(tokens: Tensor, [gh, gw]: readonly [number, number]): Tensor {
  const [b, n, c] = tokens.shape as [number, number, number];
  if (n !== gh * gw) throw new Error(`tokensToMap: ${n} tokens do not fill a ${gh}×${gw} patch grid`);
  return tokens.transpose(1, 2).reshape([b, c, gh, gw]);
}
