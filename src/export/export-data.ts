/**
 * The images an export uses (Node): calibration images for static int8 from the checkpoint
 * config's training split, evaluation images from its validation split (or a dataset named on the
 * command line). A dataset whose folder is missing is reported as absent rather than thrown, so
 * the default evaluation can be skipped with a message when ../shared is not there.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DecodedImage } from '../data/image.js';
import { createDataset } from '../data/sources/registry.js';
import type { SegDataset } from '../data/sources/types.js';
import type { TrainConfig } from '../train/config.js';

export interface DataChoice {
  /** Dataset registry name (default: the config's). */
  dataset?: string;
  /** Its folder (default: the config's root for the config's dataset, else ../shared/datasets/<name>). */
  root?: string;
  /** Split (default: the config's validation split for evaluation, its training split for calibration). */
  split?: string;
}

export type DatasetLookup = { dataset: SegDataset } | { dataset: null; why: string };

/** The dataset for `purpose`, or why there is none. Errors only for a dataset that exists but cannot be read. */
export async function exportDataset(config: TrainConfig | undefined, purpose: 'calibration' | 'evaluation', o: DataChoice = {}): Promise<DatasetLookup> {
  const name = o.dataset ?? config?.data?.dataset;
  if (!name) return { dataset: null, why: 'the checkpoint stores no training config naming its dataset; give --data and --data-root' };
  const sameData = config?.data?.dataset === name;
  const root = o.root ?? (sameData ? config!.data.root : join('..', 'shared', 'datasets', name));
  if (!existsSync(root)) return { dataset: null, why: `dataset folder ${root} (${name}) does not exist; give --data-root` };
  const d = sameData ? config!.data : undefined;
  const base = { ...(d?.options ?? {}), root };
  const seed = config?.train?.seed ?? 0;
  if (o.split) return { dataset: await createDataset(name, { ...base, split: o.split }) };
  if (purpose === 'calibration') {
    const split = d?.trainSplit ?? 'train';
    // A config that holds part of train out for validation calibrates on the rest, never on the held part.
    return { dataset: await createDataset(name, { ...base, split, ...(d?.holdOut ? { holdOut: { fraction: d.holdOut, seed, part: 'rest' } } : {}) }) };
  }
  if (d?.holdOut) return { dataset: await createDataset(name, { ...base, split: d.trainSplit ?? 'train', holdOut: { fraction: d.holdOut, seed, part: 'held' } }) };
  if (d && d.valSplit === null) return { dataset: null, why: `the config validates on nothing (data.valSplit null); give --split` };
  return { dataset: await createDataset(name, { ...base, split: d?.valSplit ?? 'val' }) };
}

/** `count` images spread evenly over the dataset (deterministic, covering all of it). */
export async function* spreadImages(ds: SegDataset, count: number): AsyncGenerator<DecodedImage> {
  const n = Math.min(count, ds.length);
  for (let k = 0; k < n; k++) {
    const s = await ds.load(Math.floor((k * ds.length) / n));
    yield { data: s.image as Uint8Array, width: s.width, height: s.height, channels: 3 };
  }
}
