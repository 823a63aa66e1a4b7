/**
 * Cityscapes: `leftImg8bit/<split>/<city>/<city>_<seq>_<frame>_leftImg8bit.png` with labels
 * `gtFine/<split>/<city>/…_gtFine_labelTrainIds.png` (already train ids) or
 * `…_gtFine_labelIds.png` (label ids, converted to train ids on load through cityscapesScripts'
 * table). `prepareCityscapes` writes the `labelTrainIds` files once, like
 * `createTrainIdLabelImgs.py`.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError } from '../errors.js';
import { decodeLabel, encodePng } from '../image-node.js';
import { cityscapesLabels, cityscapesTrainIdLabels } from '../labels/cityscapes.js';
import { listDir, oneOfOption, requireRoot } from './common.js';
import { ListDataset, mapLabel } from './list-dataset.js';
import type { DatasetEntry, DatasetOptions } from './types.js';

export interface CityscapesOptions extends DatasetOptions {
  /**
   * Which ground truth to read: 'labelTrainIds' files, 'labelIds' files (mapped on load), or 'auto'
   * (default: train-id files when the first one exists, else label ids).
   */
  labelType?: 'auto' | 'labelIds' | 'labelTrainIds';
  /** Annotation set folder, default 'gtFine' ('gtCoarse' also works). */
  gtDir?: string;
}

const IMG_SUFFIX = '_leftImg8bit.png';
const LAYOUT = 'leftImg8bit/<split>/<city>/*_leftImg8bit.png and gtFine/<split>/<city>/*_gtFine_labelIds.png';

function scan(root: string, split: string, gtDir: string): { stem: string; image: string; gtBase: string }[] {
  const imgSplit = join(root, 'leftImg8bit', split);
  const out: { stem: string; image: string; gtBase: string }[] = [];
  for (const city of listDir(imgSplit, `Cityscapes images of split '${split}', one folder per city`)) {
    const cityDir = join(imgSplit, city);
    for (const f of listDir(cityDir, 'Cityscapes images')) {
      if (!f.endsWith(IMG_SUFFIX)) continue;
      const stem = f.slice(0, -IMG_SUFFIX.length);
      out.push({ stem, image: join(cityDir, f), gtBase: join(root, gtDir, split, city, `${stem}_${gtDir}`) });
    }
  }
  if (out.length === 0) throw new DataError(`cityscapes: no *${IMG_SUFFIX} images under ${imgSplit}`, 'layout', imgSplit);
  return out;
}

export function createCityscapes(opts: CityscapesOptions): ListDataset {
  const root = requireRoot('cityscapes', opts, LAYOUT);
  const split = opts.split ?? 'train';
  const gtDir = opts.gtDir ?? 'gtFine';
  let labelType = oneOfOption('cityscapes', 'labelType', opts.labelType ?? 'auto', ['auto', 'labelIds', 'labelTrainIds'] as const);
  const files = scan(root, split, gtDir);
  if (labelType === 'auto') labelType = existsSync(`${files[0]!.gtBase}_labelTrainIds.png`) ? 'labelTrainIds' : 'labelIds';
  const entries: DatasetEntry[] = files.map((f) => ({ id: f.stem, image: f.image, label: `${f.gtBase}_${labelType}.png` }));
  const labels = labelType === 'labelTrainIds' ? cityscapesTrainIdLabels : cityscapesLabels;
  return new ListDataset('cityscapes', { name: 'cityscapes', options: { ...opts, split, labelType } }, root, split, labels, entries);
}

/**
 * Writes `*_gtFine_labelTrainIds.png` next to every `*_gtFine_labelIds.png` of the given splits
 * (cityscapesScripts' `createTrainIdLabelImgs.py`). Existing files are kept unless `overwrite`.
 * Returns how many files were written and skipped.
 */
export async function prepareCityscapes(
  rootDir: string,
  opts: { splits?: readonly string[]; gtDir?: string; overwrite?: boolean; onProgress?: (done: number, total: number) => void } = {},
): Promise<{ written: number; skipped: number }> {
  const root = requireRoot('cityscapes', { root: rootDir }, LAYOUT);
  const gtDir = opts.gtDir ?? 'gtFine';
  const splits = opts.splits ?? ['train', 'val', 'test'].filter((s) => existsSync(join(root, gtDir, s)));
  if (splits.length === 0) throw new DataError(`cityscapes: no split folders under ${join(root, gtDir)}`, 'layout', join(root, gtDir));
  const jobs: { src: string; dst: string }[] = [];
  const suffix = `_${gtDir}_labelIds.png`;
  for (const split of splits) {
    const dir = join(root, gtDir, split);
    for (const city of listDir(dir, `${gtDir} split '${split}'`)) {
      for (const f of listDir(join(dir, city), 'Cityscapes annotations')) {
        if (f.endsWith(suffix)) jobs.push({ src: join(dir, city, f), dst: join(dir, city, f.slice(0, -'labelIds.png'.length) + 'labelTrainIds.png') });
      }
    }
  }
  let written = 0;
  let skipped = 0;
  for (let i = 0; i < jobs.length; i++) {
    const { src, dst } = jobs[i]!;
    if (!opts.overwrite && existsSync(dst)) {
      skipped++;
    } else {
      const raw = await decodeLabel(src);
      const train = mapLabel(raw.data, raw.width, cityscapesLabels, src);
      await writeFile(dst, await encodePng({ data: train, width: raw.width, height: raw.height, channels: 1 }));
      written++;
    }
    opts.onProgress?.(i + 1, jobs.length);
  }
  return { written, skipped };
}
