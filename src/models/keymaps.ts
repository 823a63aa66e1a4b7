import type { KeyMap } from '../io/keymap.js';
import { S2FPN_KEY_MAPS } from './s2fpn/keymap.js';
import { SEGFORMER_KEY_MAPS } from './segformer/keymap.js';
import { SERSEG_FORMER_KEY_MAPS } from './serseg-former/keymap.js';
import { SETR_KEY_MAPS } from './setr/keymap.js';

/**
 * Checkpoint namings each registered model can import, by registry name. segkit's own names (the
 * PyTorch reference's: torchvision, HF transformers) need no map; these cover the other code bases
 * checkpoints come from (official/mmseg SegFormer, SETR, S2-FPN, FastSeg). Each family defines its
 * maps in src/models/<family>/keymap.ts.
 */
const KEY_MAPS: Record<string, readonly KeyMap[]> = {
  segformer: SEGFORMER_KEY_MAPS,
  'serseg-former': SERSEG_FORMER_KEY_MAPS,
  s2fpn: S2FPN_KEY_MAPS,
  setr: SETR_KEY_MAPS,
};

/** The key maps for a model (empty when checkpoints already use segkit's names). */
export function keyMapsFor(model: string): readonly KeyMap[] {
  return KEY_MAPS[model] ?? [];
}

/** Finds a key map by its name among a model's maps; the error lists the valid names. */
export function keyMapByName(model: string, name: string): KeyMap {
  const maps = keyMapsFor(model);
  const m = maps.find((k) => k.name === name);
  if (!m) throw new Error(`model '${model}' has no key map '${name}'; valid: ${maps.map((k) => k.name).join(', ') || '(none: checkpoints must use segkit names)'}`);
  return m;
}
