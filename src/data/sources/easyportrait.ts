/**
 * EasyPortrait (hukenovs/easyportrait): `images/{train,val,test}/*.jpg` and
 * `annotations/{train,val,test}/*.png` with 9 classes; `binary: true` gives person/background
 * (raw 0 → 0, 1..8 → 1 person).
 */
import { join } from 'node:path';
import { easyPortraitLabels, easyPortraitPersonLabels } from '../labels/easyportrait.js';
import { isImageFile, listDir, requireRoot } from './common.js';
import { ListDataset, stem } from './list-dataset.js';
import type { DatasetOptions } from './types.js';

export interface EasyPortraitOptions extends DatasetOptions {
  /** Person/background form instead of 9 classes. */
  binary?: boolean;
}

export function createEasyPortrait(opts: EasyPortraitOptions): ListDataset {
  const root = requireRoot('easyportrait', opts, 'images/{train,val,test}/*.jpg and annotations/{train,val,test}/*.png');
  const split = opts.split ?? 'train';
  const imgDir = join(root, 'images', split);
  const annDir = join(root, 'annotations', split);
  const entries = listDir(imgDir, `EasyPortrait ${split} images`)
    .filter(isImageFile)
    .map((f) => ({ id: stem(f), image: join(imgDir, f), label: join(annDir, `${stem(f)}.png`) }));
  const binary = opts.binary ?? false;
  return new ListDataset(
    'easyportrait',
    { name: 'easyportrait', options: { ...opts, split, binary } },
    root,
    split,
    binary ? easyPortraitPersonLabels : easyPortraitLabels,
    entries,
  );
}
