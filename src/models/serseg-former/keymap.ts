import type { KeyMap } from '../../io/keymap.js';

/**
 * FastSeg SERSegFormer checkpoints (e.g. its "+ AbG, DbN, DAM" runs): segkit uses FastSeg's names,
 * so only the two 3×3 convs FastSeg's DAM allocates and never uses (`conv_cam`, `conv_sam`,
 * architectures.md §6.2) are dropped. Checkpoints without DAM load as they are.
 */
export const SERSEG_FASTSEG: KeyMap = {
  name: 'fastseg',
  description: "FastSeg SERSegFormer checkpoints: drops DAM's unused conv_cam / conv_sam",
  rules: [],
  drop: [/^decode_head\.dam\.conv_(cam|sam)\./],
};

/**
 * An HF (or FastSeg) SegFormer checkpoint's encoder into a SERSegFormer of the same MiT size —
 * FastSeg's own starting point (its training script renames `segformer` → `sersegformer`). The
 * decode head is dropped because its shapes depend on the switches: load with `{ strict: false }`
 * and train the head. Not for `depthChannel` (its patch embeddings take one more input channel);
 * with `abg` the weights load but the encoder computes a different function.
 */
export const SERSEG_FROM_SEGFORMER: KeyMap = {
  name: 'segformer-encoder',
  description: 'HF/FastSeg SegFormer encoder weights (segformer.encoder.*) into sersegformer.encoder.*',
  rules: [[/^segformer\.encoder\./, 'sersegformer.encoder.']],
  drop: [/^decode_head\./],
};

/** The maps `segkit convert --from NAME` offers for 'serseg-former'. */
export const SERSEG_FORMER_KEY_MAPS: readonly KeyMap[] = [SERSEG_FASTSEG, SERSEG_FROM_SEGFORMER];
