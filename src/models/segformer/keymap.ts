import { HostTensor } from '../../engine/host-tensor.js';
import type { KeyMap } from '../../io/keymap.js';

/**
 * Official SegFormer checkpoint names → segkit's (HF transformers') names (architectures.md §3.7).
 *
 * The official code stores keys and values in one fused `attn.kv` Linear ([2C, C], rows 0…C−1 =
 * keys); HF has separate `key` and `value`. A KeyMap renames one tensor to one tensor, so these
 * maps rename `kv` to an intermediate `…attention.self.kv.*` key and their `expand` splits it.
 */

const STAGES = [1, 2, 3, 4] as const;

/** Encoder rules for keys under `from` (official stage i = 1…4 → HF index i−1). */
function encoderRules(from: string): [RegExp, string][] {
  const src = from.replace(/\./g, '\\.');
  const to = 'segformer.encoder.';
  return STAGES.flatMap((i): [RegExp, string][] => {
    const block = `^${src}block${i}\\.(\\d+)\\.`;
    const dst = `${to}block.${i - 1}.$1.`;
    return [
      [new RegExp(`^${src}patch_embed${i}\\.proj\\.`), `${to}patch_embeddings.${i - 1}.proj.`],
      [new RegExp(`^${src}patch_embed${i}\\.norm\\.`), `${to}patch_embeddings.${i - 1}.layer_norm.`],
      [new RegExp(`${block}norm1\\.`), `${dst}layer_norm_1.`],
      [new RegExp(`${block}norm2\\.`), `${dst}layer_norm_2.`],
      [new RegExp(`${block}attn\\.q\\.`), `${dst}attention.self.query.`],
      [new RegExp(`${block}attn\\.kv\\.`), `${dst}attention.self.kv.`],
      [new RegExp(`${block}attn\\.sr\\.`), `${dst}attention.self.sr.`],
      [new RegExp(`${block}attn\\.norm\\.`), `${dst}attention.self.layer_norm.`],
      [new RegExp(`${block}attn\\.proj\\.`), `${dst}attention.output.dense.`],
      [new RegExp(`${block}mlp\\.fc1\\.`), `${dst}mlp.dense1.`],
      [new RegExp(`${block}mlp\\.dwconv\\.dwconv\\.`), `${dst}mlp.dwconv.dwconv.`],
      [new RegExp(`${block}mlp\\.fc2\\.`), `${dst}mlp.dense2.`],
      [new RegExp(`^${src}norm${i}\\.`), `${to}layer_norm.${i - 1}.`],
    ];
  });
}

/** Splits a fused [2C, …] `kv` tensor row-wise into `key` (first half) and `value`. */
function splitKeyValue(key: string, value: HostTensor): [string, HostTensor][] | null {
  const m = /^(.*\.attention\.self\.)kv\.(weight|bias)$/.exec(key);
  if (!m) return null;
  const rows = value.shape[0]!;
  if (rows % 2 !== 0) throw new Error(`SegFormer key map: fused '${key}' has ${rows} rows; expected an even number (keys then values)`);
  const half = value.size / 2;
  const shape = [rows / 2, ...value.shape.slice(1)];
  return [
    [`${m[1]}key.${m[2]}`, new HostTensor(value.f32.slice(0, half), shape)],
    [`${m[1]}value.${m[2]}`, new HostTensor(value.f32.slice(half), shape)],
  ];
}

/**
 * NVlabs/SegFormer (and mmseg 0.x) segmentation checkpoints, e.g. `segformer.b0.512x512.ade.160k.pth`
 * and `segformer.b0.1024x1024.city.160k.pth`: `backbone.*` + `decode_head.*` (SegFormerHead), to
 * the whole SegFormer. The unused `decode_head.conv_seg` is dropped. Load with the official
 * LayerNorm epsilons (`layerNormEps: 'official'`, the default).
 */
export const SEGFORMER_OFFICIAL: KeyMap = {
  name: 'segformer-official',
  description: 'NVlabs/SegFormer and mmseg 0.x SegFormer checkpoints (backbone.*, decode_head.*) to HF names',
  rules: [
    ...encoderRules('backbone.'),
    ...STAGES.map((i): [RegExp, string] => [new RegExp(`^decode_head\\.linear_c${i}\\.proj\\.`), `decode_head.linear_c.${i - 1}.proj.`]),
    [/^decode_head\.linear_fuse\.conv\./, 'decode_head.linear_fuse.'],
    [/^decode_head\.linear_fuse\.bn\./, 'decode_head.batch_norm.'],
    [/^decode_head\.linear_pred\./, 'decode_head.classifier.'],
  ],
  drop: [/^decode_head\.conv_seg\./],
  expand: splitKeyValue,
};

/**
 * NVlabs' ImageNet-1K-pretrained encoders `mit_b0.pth` … `mit_b5.pth` (keys `patch_embed1.*`,
 * `block1.0.*`, `norm1.*` without a prefix; the classification `head` is dropped), to a
 * SegFormer's `segformer.encoder.*`. The decoder is not in these files: load with
 * `{ strict: false }` and train the head.
 */
export const MIT_OFFICIAL: KeyMap = {
  name: 'mit-official',
  description: 'NVlabs ImageNet-pretrained mit_b*.pth encoders to a SegFormer encoder (segformer.encoder.*)',
  rules: encoderRules(''),
  drop: [/^head\./],
  expand: splitKeyValue,
};

/**
 * FastSeg's SegFormer checkpoints (its local copy of HF's model, e.g. the EasyPortrait fine-tune of
 * SegFormer-B0): HF names already, but the classifier is a per-pixel `nn.Linear` ([K, D]), which
 * becomes HF's 1×1 conv ([K, D, 1, 1]). LayerNorm eps 1e-5 everywhere: load into a SegFormer built
 * with `layerNormEps: 'hf'`.
 */
export const SEGFORMER_FASTSEG: KeyMap = {
  name: 'fastseg',
  description: "FastSeg SegFormer checkpoints (HF names, Linear classifier) to HF's conv classifier",
  rules: [],
  transform: (key, value) => (key === 'decode_head.classifier.weight' && value.shape.length === 2 ? new HostTensor(value.f32, [...value.shape, 1, 1]) : value),
};

/** The maps `segkit convert --from NAME` offers for 'segformer'. */
export const SEGFORMER_KEY_MAPS: readonly KeyMap[] = [SEGFORMER_OFFICIAL, MIT_OFFICIAL, SEGFORMER_FASTSEG];
