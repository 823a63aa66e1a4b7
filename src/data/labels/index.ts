/** Every built-in label set, by name. */
import { ade20kFullLabels, ade20kLabels } from './ade20k.js';
import { camvidLabels, camvidVoidLabels } from './camvid.js';
import { cityscapesLabels, cityscapesTrainIdLabels } from './cityscapes.js';
import { easyPortraitLabels, easyPortraitPersonLabels } from './easyportrait.js';
import { portraitLabels } from './portrait.js';
import type { LabelSet } from './types.js';

export * from './types.js';
export * from './ade20k.js';
export * from './camvid.js';
export * from './cityscapes.js';
export * from './easyportrait.js';
export * from './portrait.js';

const SETS = new Map<string, LabelSet>(
  [
    camvidLabels,
    camvidVoidLabels,
    cityscapesLabels,
    cityscapesTrainIdLabels,
    portraitLabels,
    easyPortraitLabels,
    easyPortraitPersonLabels,
    ade20kLabels,
    ade20kFullLabels,
  ].map((s) => [s.name, s]),
);

/** Names of the built-in label sets. */
export function listLabelSets(): string[] {
  return [...SETS.keys()];
}

/** A built-in label set by name; the error lists the valid names. */
export function getLabelSet(name: string): LabelSet {
  const s = SETS.get(name);
  if (!s) throw new Error(`unknown label set '${name}'; valid label sets: ${listLabelSets().join(', ')}`);
  return s;
}
