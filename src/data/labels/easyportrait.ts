/**
 * EasyPortrait (hukenovs/easyportrait): 9 classes in `annotations/*.png`, names and colours as in
 * its mmseg dataset class; and the binary portrait form used for person/background segmentation.
 */
import { defineLabelSet, flatLabelSet, type LabelSet, type RGB } from './types.js';

export const EASYPORTRAIT_CLASSES: readonly { name: string; color: RGB }[] = [
  { name: 'background', color: [0, 0, 0] },
  { name: 'person', color: [223, 87, 188] },
  { name: 'skin', color: [160, 221, 255] },
  { name: 'left brow', color: [130, 106, 237] },
  { name: 'right brow', color: [200, 121, 255] },
  { name: 'left eye', color: [255, 183, 255] },
  { name: 'right eye', color: [0, 144, 193] },
  { name: 'lips', color: [113, 137, 255] },
  { name: 'teeth', color: [230, 232, 230] },
];

/** The 9-class face-parsing + portrait table. */
export const easyPortraitLabels: LabelSet = flatLabelSet('easyportrait', EASYPORTRAIT_CLASSES, { ignoreColor: [255, 255, 255] });

/**
 * Binary person/background form of EasyPortrait: raw 0 → 0 background, raw 1..8 (person and every
 * face part) → 1 person. Note: FastSeg trains the *inverse* (background = positive class 1); segkit
 * keeps person = 1 and says so.
 */
export const easyPortraitPersonLabels: LabelSet = defineLabelSet(
  'easyportrait-person',
  EASYPORTRAIT_CLASSES.map((c, id) => ({
    name: id === 0 ? 'background' : id === 1 ? 'person' : `person (${c.name})`,
    id,
    trainId: id === 0 ? 0 : 1,
    category: id === 0 ? 'background' : 'person',
    categoryId: id === 0 ? 0 : 1,
    hasInstances: false,
    ignoreInEval: false,
    color: id === 0 ? ([0, 0, 0] as const) : ([223, 87, 188] as const),
  })),
  { ignoreColor: [255, 255, 255] },
);
