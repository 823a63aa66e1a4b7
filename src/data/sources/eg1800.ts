/**
 * EG1800 portraits (`../shared/datasets/eg1800`): `images/NNNNN.jpg`, `masks/NNNNN.png` (0
 * background, 1 person) and list files `<split>.txt` with `image_path mask_path` per line.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../errors.js';
import { portraitLabels } from '../labels/portrait.js';
import { requireRoot } from './common.js';
import { availableLists, ListDataset, readPairList } from './list-dataset.js';
import type { DatasetOptions } from './types.js';

export interface Eg1800Options extends DatasetOptions {
  listFile?: string;
}

export function createEg1800(opts: Eg1800Options): ListDataset {
  const root = requireRoot('eg1800', opts, 'images/, masks/ and train.txt with "image_path mask_path" lines');
  const split = opts.split ?? 'train';
  const list = opts.listFile ?? join(root, `${split}.txt`);
  if (!existsSync(list)) {
    const have = availableLists(root, ['train', 'val', 'test']);
    throw new DataError(`eg1800: no list file for split '${split}' (${list} not found); this copy has: ${have.join(', ') || 'no list files'}`, 'layout', list);
  }
  return new ListDataset('eg1800', { name: 'eg1800', options: { ...opts, split } }, root, split, portraitLabels, readPairList(root, list));
}
