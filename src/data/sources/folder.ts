/**
 * A generic folder dataset: `images/<stem>.<jpg|png|webp>` + `masks/<stem>.png` and a split file.
 *
 * Split file: `splitFile`, else `<root>/splits/<split>.txt`, else `<root>/<split>.txt`; each line is
 * either a stem (mmseg's `ann_file` convention) or `image_path mask_path` relative to the root. With
 * `split: 'all'` and no split file, every image in `imageDir` is used. `imageDir`/`maskDir` may
 * contain `{split}` (mmseg's `img_dir/train` layout: `imageDir: 'img_dir/{split}'`).
 *
 * Classes: `classes` (names) or `numClasses`, else `<root>/classes.txt` (one name per line).
 * Mask values must be class indices (0..K−1) or `ignoreIndex`; `reduceZeroLabel` maps 0 → ignore and
 * k → k−1 first (mmseg).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../errors.js';
import { defineLabelSet, generatePalette, type Label, type RGB } from '../labels/types.js';
import { IMAGE_EXTS, isImageFile, listDir, requireRoot } from './common.js';
import { ListDataset, readPairList, resolveListed, stem } from './list-dataset.js';
import type { DatasetEntry, DatasetOptions } from './types.js';

export interface FolderOptions extends DatasetOptions {
  imageDir?: string;
  maskDir?: string;
  /** Mask file suffix appended to the stem (default '.png'). */
  maskSuffix?: string;
  splitFile?: string;
  classes?: readonly string[];
  numClasses?: number;
  palette?: readonly RGB[];
  ignoreIndex?: number;
  reduceZeroLabel?: boolean;
}

function classNames(root: string, opts: FolderOptions): string[] {
  if (opts.classes) return [...opts.classes];
  if (opts.numClasses !== undefined) {
    if (!(Number.isInteger(opts.numClasses) && opts.numClasses >= 1 && opts.numClasses <= 255)) throw new Error(`folder: numClasses must be 1–255, got ${opts.numClasses}`);
    return Array.from({ length: opts.numClasses }, (_, i) => `class ${i}`);
  }
  const f = join(root, 'classes.txt');
  if (existsSync(f)) {
    const names = readFileSync(f, 'utf8').split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
    if (names.length) return names;
  }
  throw new DataError(`folder: give the classes (option 'classes' or 'numClasses'), or put a classes.txt (one name per line) in ${root}`, 'layout', f);
}

export function createFolder(opts: FolderOptions): ListDataset {
  const root = requireRoot('folder', opts, 'images/<stem>.jpg|png|webp, masks/<stem>.png and a split file (splits/<split>.txt)');
  const split = opts.split ?? 'train';
  const sub = (d: string) => d.replaceAll('{split}', split);
  const imageDir = join(root, sub(opts.imageDir ?? 'images'));
  const maskDir = join(root, sub(opts.maskDir ?? 'masks'));
  const maskSuffix = opts.maskSuffix ?? '.png';
  const ignoreIndex = opts.ignoreIndex ?? 255;

  // Stem → image file, from one directory listing.
  let byStem: Map<string, string> | undefined;
  const imageFor = (s: string): string => {
    if (!byStem) {
      byStem = new Map();
      for (const f of listDir(imageDir, 'images')) if (isImageFile(f) && !byStem.has(stem(f))) byStem.set(stem(f), join(imageDir, f));
    }
    return byStem.get(s) ?? join(imageDir, `${s}${IMAGE_EXTS[0]}`);
  };

  const tried = opts.splitFile ? [opts.splitFile] : [join(root, 'splits', `${split}.txt`), join(root, `${split}.txt`)];
  const splitFile = tried.find((f) => existsSync(f));
  let entries: DatasetEntry[];
  if (splitFile) {
    const lines = readFileSync(splitFile, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    if (lines.some((l) => l.split(/\s+/).length === 2)) {
      entries = readPairList(root, splitFile);
    } else {
      entries = lines.map((l) => {
        if (l.split(/\s+/).length > 1) throw new DataError(`${splitFile}: expected a stem or 'image_path mask_path' per line, got '${l}'`, 'layout', splitFile);
        const img = /\.[a-z]+$/i.test(l) && isImageFile(l) ? resolveListed(imageDir, l) : imageFor(l);
        const s = stem(img);
        return { id: s, image: img, label: join(maskDir, `${s}${maskSuffix}`) };
      });
    }
  } else if (split === 'all') {
    entries = listDir(imageDir, 'images')
      .filter(isImageFile)
      .map((f) => ({ id: stem(f), image: join(imageDir, f), label: join(maskDir, `${stem(f)}${maskSuffix}`) }));
  } else {
    throw new DataError(`folder: no split file for split '${split}' (tried ${tried.join(', ')}); write one (a stem per line) or use split 'all'`, 'layout', tried[0]);
  }

  // An empty dataset would only fail later, as a loader or a metric dividing by zero samples.
  if (entries.length === 0) {
    const where = splitFile ? `split file ${splitFile} lists no samples (only blank or '#' lines)` : `${imageDir} holds no .jpg, .png or .webp images`;
    throw new DataError(`folder: split '${split}' is empty: ${where}; a dataset needs at least one image/mask pair`, 'layout', splitFile ?? imageDir);
  }

  const names = classNames(root, opts);
  const palette = opts.palette ?? generatePalette(names.length);
  if (palette.length < names.length) throw new Error(`folder: palette has ${palette.length} colours for ${names.length} classes`);
  const reduce = opts.reduceZeroLabel ?? false;
  const labels: Label[] = names.map((name, i) => ({
    name,
    id: reduce ? i + 1 : i,
    trainId: i,
    category: name,
    categoryId: i,
    hasInstances: false,
    ignoreInEval: false,
    color: palette[i]!,
  }));
  if (reduce) labels.unshift({ name: 'zero (ignored)', id: 0, trainId: ignoreIndex, category: 'void', categoryId: names.length, hasInstances: false, ignoreInEval: true, color: [0, 0, 0] });
  const labelSet = defineLabelSet(`folder:${root}`, labels, { ignoreIndex });
  return new ListDataset('folder', { name: 'folder', options: { ...opts, split, classes: names } }, root, split, labelSet, entries);
}
