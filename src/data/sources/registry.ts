/**
 * Datasets by name: `createDataset('camvid', { root, split })`. Unknown names are an error listing
 * the valid ones. Custom layouts register with `registerDataset` (in the loader's `setup` module too,
 * so worker threads know them).
 */
import { createAde20k } from './ade20k.js';
import { createCamvid } from './camvid.js';
import { createCityscapes } from './cityscapes.js';
import { createEasyPortrait } from './easyportrait.js';
import { createEg1800 } from './eg1800.js';
import { createFolder } from './folder.js';
import { Rng } from '../rng.js';
import { ListDataset } from './list-dataset.js';
import type { DatasetOptions, DatasetSpec, SegDataset } from './types.js';

export interface DatasetFactory {
  create(opts: DatasetOptions): SegDataset | Promise<SegDataset>;
  /** One line for help texts. */
  description: string;
}

const REGISTRY = new Map<string, DatasetFactory>();

export function registerDataset(name: string, factory: DatasetFactory): void {
  REGISTRY.set(name, factory);
}

export function listDatasets(): { name: string; description: string }[] {
  return [...REGISTRY.entries()].map(([name, f]) => ({ name, description: f.description }));
}

/**
 * Holds out a seeded random part of a split for validation (datasets that ship only a train list,
 * such as EG1800): `part: 'held'` is the held-out fraction, `'rest'` everything else. Being a
 * dataset option, it survives the trip to loader workers.
 */
export interface HoldOut {
  fraction: number;
  part: 'held' | 'rest';
  seed?: number;
}

/** Builds a registered dataset (`opts.holdOut` selects part of the split, see {@link HoldOut}). */
export async function createDataset(name: string, opts: DatasetOptions): Promise<SegDataset> {
  const f = REGISTRY.get(name);
  if (!f) throw new Error(`unknown dataset '${name}'; valid datasets: ${[...REGISTRY.keys()].join(', ')}`);
  const { holdOut, ...rest } = opts;
  const ds = await f.create(rest);
  return holdOut === undefined ? ds : holdOutPart(ds, holdOut as HoldOut, { name, options: opts });
}

function holdOutPart(ds: SegDataset, h: HoldOut, spec: DatasetSpec): SegDataset {
  if (!(typeof h === 'object' && h !== null && h.fraction > 0 && h.fraction < 1 && (h.part === 'held' || h.part === 'rest'))) {
    throw new Error(`${spec.name}: holdOut must be { fraction: 0 < f < 1, part: 'held' | 'rest', seed? }, got ${JSON.stringify(h)}`);
  }
  if (!(ds instanceof ListDataset)) throw new Error(`${spec.name}: holdOut needs a list-based dataset`);
  const order = new Rng(h.seed ?? 0).fork('holdout').permutation(ds.length);
  const held = new Set(order.slice(0, Math.round(ds.length * h.fraction)));
  const entries = ds.entries.filter((_, i) => held.has(i) === (h.part === 'held'));
  return new ListDataset(ds.name, spec, ds.root, `${ds.split}-${h.part}`, ds.labels, entries);
}

/** Rebuilds a dataset from its spec (what loader workers do). */
export function datasetFromSpec(spec: DatasetSpec): Promise<SegDataset> {
  return createDataset(spec.name, spec.options);
}

registerDataset('camvid', { create: createCamvid, description: 'CamVid 11 classes, SegNet layout and lists (void → ignore)' });
registerDataset('cityscapes', { create: createCityscapes, description: 'Cityscapes leftImg8bit/ + gtFine/ (label ids → 19 train ids)' });
registerDataset('ade20k', { create: createAde20k, description: 'ADE20K ADEChallengeData2016, 150 classes (reduceZeroLabel)' });
registerDataset('eg1800', { create: createEg1800, description: 'EG1800 portraits, images/ + masks/ + list files (background, person)' });
registerDataset('easyportrait', { create: createEasyPortrait, description: 'EasyPortrait images/ + annotations/, 9 classes or binary person' });
registerDataset('folder', { create: createFolder, description: 'generic images/ + masks/ folder with a split file' });
