/**
 * ADE20K (ADEChallengeData2016): `images/{training,validation}/*.jpg` and
 * `annotations/{training,validation}/*.png`. `root` may be ADEChallengeData2016 itself or its parent.
 * Splits 'train'/'training' and 'val'/'validation'. `reduceZeroLabel` (default true, as mmseg).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ade20kFullLabels, ade20kLabels } from '../labels/ade20k.js';
import { isImageFile, listDir, requireRoot } from './common.js';
import { ListDataset, stem } from './list-dataset.js';
import type { DatasetOptions } from './types.js';

export interface Ade20kOptions extends DatasetOptions {
  reduceZeroLabel?: boolean;
}

const SPLITS: Record<string, string> = { train: 'training', training: 'training', val: 'validation', validation: 'validation' };

export function createAde20k(opts: Ade20kOptions): ListDataset {
  let root = requireRoot('ade20k', opts, 'images/{training,validation}/*.jpg and annotations/{training,validation}/*.png');
  if (!existsSync(join(root, 'images')) && existsSync(join(root, 'ADEChallengeData2016'))) root = join(root, 'ADEChallengeData2016');
  const split = opts.split ?? 'train';
  const folder = SPLITS[split];
  if (!folder) throw new Error(`ade20k: unknown split '${split}'; valid splits: ${Object.keys(SPLITS).join(', ')}`);
  const imgDir = join(root, 'images', folder);
  const annDir = join(root, 'annotations', folder);
  const entries = listDir(imgDir, `ADE20K ${folder} images`)
    .filter(isImageFile)
    .map((f) => ({ id: stem(f), image: join(imgDir, f), label: join(annDir, `${stem(f)}.png`) }));
  const reduce = opts.reduceZeroLabel ?? true;
  return new ListDataset('ade20k', { name: 'ade20k', options: { ...opts, split, reduceZeroLabel: reduce } }, root, split, reduce ? ade20kLabels : ade20kFullLabels, entries);
}
