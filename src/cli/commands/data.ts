/**
 * `segkit data stats`, `segkit data browse` and `segkit prepare cityscapes`.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs, UsageError, type Command } from '../command.js';
import { isDataError } from '../../data/errors.js';
import { encodePng } from '../../data/image-node.js';
import { prepareCityscapes } from '../../data/sources/cityscapes.js';
import { createDataset, listDatasets } from '../../data/sources/registry.js';
import type { DatasetOptions, SegDataset } from '../../data/sources/types.js';
import { datasetStats, enetWeights, medianFrequencyWeights, pixelShares } from '../../data/stats.js';
import { buildPipeline, type TransformSpec } from '../../data/transforms/registry.js';
import { defaultTrainPipeline } from '../../data/transforms/presets.js';
import { sampleRng } from '../../data/loader-core.js';
import { blend, colorizeLabel, sideBySide, toDisplayRgb } from '../../data/visualize.js';

const datasetNames = (): string => listDatasets().map((d) => `  ${d.name.padEnd(13)} ${d.description}`).join('\n');

const DATASET_HELP = `Datasets (--root is the dataset folder):
${'{DATASETS}'}
Example roots: ../shared/datasets/camvid, ../shared/datasets/eg1800 (in a segkit checkout).
Dataset options: --set key=value (repeatable), e.g. --set binary=true (easyportrait),
  --set classes=bg,person --set reduceZeroLabel=true (folder), --set labelType=labelIds (cityscapes).`;

const help = (s: string): string => s.replace('{DATASETS}', datasetNames());

/** `--set k=v` values: JSON when it parses (true, 3, [..]), comma lists as arrays, else strings. */
function parseSets(sets: string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of sets ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set expects key=value, got '${kv}'`);
    const k = kv.slice(0, eq);
    const v = kv.slice(eq + 1);
    try {
      out[k] = JSON.parse(v);
    } catch {
      out[k] = v.includes(',') ? v.split(',').map((s) => s.trim()) : v;
    }
  }
  return out;
}

async function openDataset(positional: string[], options: Record<string, string | string[] | boolean>): Promise<SegDataset> {
  const name = positional[0];
  if (!name) throw new UsageError(`name a dataset; valid datasets: ${listDatasets().map((d) => d.name).join(', ')}`);
  if (positional.length > 1) throw new UsageError(`unexpected argument '${positional[1]}'`);
  const root = options.root;
  if (typeof root !== 'string') throw new UsageError('--root DIR is required (the dataset folder, e.g. ../shared/datasets/camvid)');
  const opts: DatasetOptions = { ...parseSets(options.set as string[] | undefined), root: resolve(root), split: (options.split as string | undefined) ?? 'train' };
  return createDataset(name, opts);
}

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');

export const dataStatsCommand: Command = {
  name: 'data stats',
  summary: 'pixel frequencies and class weights (ENet, median frequency) of a dataset split',
  usage: help(`Usage: segkit data stats <dataset> --root DIR [--split train] [--enet-c 1.10] [--json FILE] [--skip-invalid] [--set k=v ...]

Reads every label of the split (mapped to train ids) and prints, per class: pixel count, share of
all pixels, ENet weight 1/ln(c + p) (p = share of labelled pixels; S2-FPN uses c = 1.10) and
median-frequency weight (Eigen & Fergus / SegNet). Ignored pixels get their own row.

${DATASET_HELP}`),
  async run(args) {
    const { positional, options } = parseArgs(args, { options: ['root', 'split', 'enet-c', 'json'], flags: ['skip-invalid'], repeatable: ['set'] });
    const c = options['enet-c'] === undefined ? 1.1 : Number(options['enet-c']);
    if (!(c > 1)) throw new UsageError(`--enet-c must be a number > 1, got '${options['enet-c']}'`);
    const ds = await openDataset(positional, options);
    const t0 = performance.now();
    let warned = 0;
    const st = await datasetStats(ds, {
      skipInvalid: options['skip-invalid'] === true,
      onInvalid: (e) => {
        if (warned++ < 20) console.warn(`warning: ${e.message}`);
      },
    });
    const L = ds.labels;
    const shares = pixelShares(st);
    const enet = enetWeights(st, c);
    const mfw = medianFrequencyWeights(st);
    const sizes = Object.entries(st.sizes).map(([k, v]) => `${k}: ${v}`).join(', ');
    console.log(`${ds.name} ${ds.split}: ${st.images} images (${sizes}), ${fmtInt(st.total)} pixels; label set ${L.name}: ${L.numClasses} classes, ignore ${L.ignoreIndex}`);
    if (st.skipped) console.log(`skipped ${st.skipped} invalid sample(s)`);
    const ignoredNames = L.labels.filter((l) => l.id >= 0 && L.idToTrainId[l.id] === L.ignoreIndex).map((l) => l.name);
    const ign = `ignored${ignoredNames.length ? ` (${ignoredNames.slice(0, 3).join(', ')}${ignoredNames.length > 3 ? ', …' : ''})` : ''}`;
    const nameW = Math.max(12, ign.length, ...L.classes.map((s) => s.length));
    console.log(`${'id'.padStart(3)}  ${'class'.padEnd(nameW)}  ${'pixels'.padStart(13)}  ${'share'.padStart(7)}  ${`ENet w (c=${c.toFixed(2)})`.padStart(16)}  ${'median-freq w'.padStart(13)}`);
    for (let k = 0; k < L.numClasses; k++) {
      console.log(
        `${String(k).padStart(3)}  ${L.classes[k]!.padEnd(nameW)}  ${fmtInt(st.counts[k]!).padStart(13)}  ${(shares.classes[k]! * 100).toFixed(2).padStart(6)}%  ${enet[k]!.toFixed(4).padStart(16)}  ${mfw[k]!.toFixed(4).padStart(13)}`,
      );
    }
    console.log(`${String(L.ignoreIndex).padStart(3)}  ${ign.padEnd(nameW)}  ${fmtInt(st.ignored).padStart(13)}  ${(shares.ignored * 100).toFixed(2).padStart(6)}%`);
    console.log(`(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    if (typeof options.json === 'string') {
      const out = {
        dataset: ds.name,
        split: ds.split,
        root: ds.root,
        labelSet: L.name,
        images: st.images,
        sizes: st.sizes,
        totalPixels: st.total,
        ignoreIndex: L.ignoreIndex,
        ignoredPixels: st.ignored,
        skipped: st.skipped,
        enetC: c,
        classes: L.classes.map((name, k) => ({
          trainId: k,
          name,
          pixels: st.counts[k],
          share: shares.classes[k],
          images: st.imagesWithClass[k],
          enetWeight: enet[k],
          medianFrequencyWeight: mfw[k],
        })),
      };
      await writeFile(options.json, JSON.stringify(out, null, 2) + '\n');
      console.log(`wrote ${options.json}`);
    }
  },
};

async function loadPipeline(arg: string | undefined, dataset: string): Promise<TransformSpec[]> {
  if (arg === undefined || arg === 'default') return defaultTrainPipeline(dataset, { normalize: false });
  if (arg === 'none') return [];
  let specs: unknown;
  try {
    specs = JSON.parse(await readFile(arg, 'utf8'));
  } catch (e) {
    throw new UsageError(`--pipeline must be 'default', 'none' or a JSON file of transform specs; cannot read '${arg}': ${(e as Error).message}`);
  }
  if (!Array.isArray(specs)) throw new UsageError(`--pipeline ${arg}: expected a JSON array of transform specs`);
  return specs as TransformSpec[];
}

export const dataBrowseCommand: Command = {
  name: 'data browse',
  summary: 'write augmented samples with coloured labels as PNGs, to look at',
  usage: help(`Usage: segkit data browse <dataset> --root DIR --out DIR [--split train] [--count 8] [--start 0]
                           [--seed 0] [--epoch 0] [--pipeline default|none|FILE.json] [--alpha 0.5] [--set k=v ...]

Runs the training augmentation (default: the dataset's default pipeline without Normalize) on
samples start..start+count-1 and writes, per sample, <out>/<n>_<id>.png with three panels:
augmented image | coloured label | overlay. Ignored pixels are drawn in the label set's ignore
colour. Augmentation is the one the loader would apply with that seed and epoch.

${DATASET_HELP}`),
  async run(args) {
    const { positional, options } = parseArgs(args, {
      options: ['root', 'split', 'out', 'count', 'start', 'seed', 'epoch', 'pipeline', 'alpha'],
      repeatable: ['set'],
    });
    if (typeof options.out !== 'string') throw new UsageError('--out DIR is required');
    const int = (k: string, d: number): number => {
      const v = options[k] === undefined ? d : Number(options[k]);
      if (!Number.isInteger(v) || v < 0) throw new UsageError(`--${k} must be a non-negative integer, got '${options[k]}'`);
      return v;
    };
    const count = int('count', 8);
    const start = int('start', 0);
    const epoch = int('epoch', 0);
    const seed = options.seed === undefined ? 0 : Number.isFinite(Number(options.seed)) ? Number(options.seed) : String(options.seed);
    const alpha = options.alpha === undefined ? 0.5 : Number(options.alpha);
    if (!(alpha >= 0 && alpha <= 1)) throw new UsageError(`--alpha must be in [0, 1], got '${options.alpha}'`);
    const ds = await openDataset(positional, options);
    const specs = await loadPipeline(options.pipeline as string | undefined, ds.name);
    const dropped = specs.filter((s) => s.type === 'Normalize').length;
    const pipeline = buildPipeline(specs.filter((s) => s.type !== 'Normalize'));
    const out = resolve(options.out);
    await mkdir(out, { recursive: true });
    const end = Math.min(ds.length, start + count);
    if (start >= ds.length) throw new UsageError(`--start ${start} is past the end of ${ds.name} ${ds.split} (${ds.length} samples)`);
    console.log(`${ds.name} ${ds.split}: writing samples ${start}..${end - 1} to ${out}`);
    console.log(`pipeline: ${specs.map((s) => s.type).join(' → ') || '(none)'}${dropped ? ' (Normalize skipped for display)' : ''}`);
    let written = 0;
    for (let i = start; i < end; i++) {
      let s;
      try {
        s = pipeline(await ds.load(i), sampleRng(seed, epoch, i));
      } catch (e) {
        if (isDataError(e)) {
          console.warn(`warning: sample ${i}: ${e.message}`);
          continue;
        }
        throw e;
      }
      const img = toDisplayRgb(s.image, s.width, s.height, s.channels);
      const lab = colorizeLabel(s.label, s.width, s.height, ds.labels);
      const panel = sideBySide([img, lab, blend(img, lab, alpha)]);
      const file = join(out, `${String(i).padStart(4, '0')}_${(s.meta.id ?? String(i)).replace(/[^\w.-]+/g, '_')}.png`);
      await writeFile(file, await encodePng(panel));
      written++;
    }
    console.log(`wrote ${written} file(s): image | label | overlay`);
    const L = ds.labels;
    console.log(`legend: ${L.classes.map((n, k) => `${k} ${n} (${L.palette[k]!.join(',')})`).join('; ')}; ignore ${L.ignoreIndex} (${L.ignoreColor.join(',')})`);
  },
};

export const prepareCityscapesCommand: Command = {
  name: 'prepare cityscapes',
  summary: 'write *_gtFine_labelTrainIds.png from *_gtFine_labelIds.png (cityscapesScripts)',
  usage: `Usage: segkit prepare cityscapes --root DIR [--split train,val] [--overwrite]

Converts every gtFine/<split>/<city>/*_gtFine_labelIds.png to *_gtFine_labelTrainIds.png with the
cityscapesScripts table (19 train ids, 255 = ignore), like createTrainIdLabelImgs.py. The cityscapes
dataset reads label ids directly too (mapping on load); preparing once saves that work per epoch.`,
  async run(args) {
    const { positional, options } = parseArgs(args, { options: ['root', 'split'], flags: ['overwrite'] });
    if (positional.length) throw new UsageError(`unexpected argument '${positional[0]}'`);
    if (typeof options.root !== 'string') throw new UsageError('--root DIR is required (the folder with leftImg8bit/ and gtFine/)');
    const splits = typeof options.split === 'string' ? options.split.split(',') : undefined;
    let last = 0;
    const r = await prepareCityscapes(options.root, {
      splits,
      overwrite: options.overwrite === true,
      onProgress: (done, total) => {
        if (done === total || performance.now() - last > 2000) {
          last = performance.now();
          console.log(`${done}/${total}`);
        }
      },
    });
    console.log(`wrote ${r.written} labelTrainIds file(s), kept ${r.skipped} existing (use --overwrite to redo)`);
  },
};
