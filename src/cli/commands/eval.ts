/**
 * `segkit eval`: a checkpoint on a dataset split, mmseg-style — one confusion matrix over the split,
 * the per-class table and summary, `eval.json`, a normalised confusion-matrix heatmap, and with
 * `--out` the predicted label maps and coloured overlays.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { encodeImage, encodePng, nodeCodec, readBytes } from '../../data/image-node.js';
import { decodePngIndices } from '../../data/png.js';
import { cityscapesTrainIdToId } from '../../data/labels/cityscapes.js';
import { createDataset } from '../../data/sources/registry.js';
import type { SegDataset } from '../../data/sources/types.js';
import { blend, colorizeLabel } from '../../data/visualize.js';
import { nodeRuntime } from '../../engine/runtime/node.js';
import { MMSEG_TTA_RATIOS, type SlideMode, type WholeMode } from '../../inference/run.js';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { CityscapesEvaluator, formatCityscapesResult, type CityscapesResult } from '../../metrics/cityscapes.js';
import { bootstrapMIoU } from '../../metrics/bootstrap.js';
import { ConfusionMatrix } from '../../metrics/confusion.js';
import { writeConfusionHeatmap } from '../../metrics/heatmap-node.js';
import { computeMetrics, formatMetricsTable } from '../../metrics/segmentation-metrics.js';
import { resolveModelFile } from '../../segmenter/node.js';
import { Segmenter } from '../../segmenter/segmenter.js';
import { loadCheckpoint } from '../../train/checkpoint.js';
import { buildValDataset } from '../../train/build.js';
import { loadTrainConfig, type TrainConfig } from '../../train/config.js';
import { BUILTIN_CONFIGS } from '../../train/configs/index.js';
import { parseArgs, UsageError, type Command } from '../command.js';
import { parseRefine } from '../refine-option.js';
import { Progress } from '../progress.js';

/**
 * The raw Cityscapes ground truth of a dataset entry (whichever label file it reads): label ids and,
 * when the file exists, instance ids — what cityscapesScripts evaluates against.
 */
async function cityscapesGroundTruth(labelPath: string): Promise<{ labelIds: ArrayLike<number>; instanceIds?: ArrayLike<number> }> {
  const prefix = labelPath.replace(/_(labelTrainIds|labelIds)\.png$/, '');
  const read = async (path: string) => {
    const png = await decodePngIndices(await readBytes(path), (z) => inflateSync(z));
    if (!png) throw new Error(`${path}: expected a grey PNG of Cityscapes ids`);
    return png.data;
  };
  const instancePath = `${prefix}_instanceIds.png`;
  return { labelIds: await read(`${prefix}_labelIds.png`), ...(existsSync(instancePath) ? { instanceIds: await read(instancePath) } : {}) };
}


function parseHW(v: string, flag: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(v);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new UsageError(`${flag} must be HxW (e.g. 512x512), got '${v}'`);
  return [Number(m[1]), Number(m[2])];
}

export const evalCommand: Command = {
  name: 'eval',
  summary: 'evaluate a checkpoint on a dataset split: per-class IoU table, eval.json, confusion heatmap',
  usage: `Usage: segkit eval [config] <checkpoint|model-name> [--data DATASET] [--data-root DIR] [--split val]
                   [--mode whole|slide] [--crop HxW] [--stride HxW] [--tta] [--crf] [--out DIR] [--label-ids]
                   [--refine R,EPS|on|off] [--bootstrap N] [--threads N] [--limit N]

  config       a built-in config name or JSON file (default: the config stored in the checkpoint)
  checkpoint   a segkit checkpoint (.safetensors written by segkit train) or a shipped model name
  --data       dataset registry name (default: the config's); --data-root its folder
  --split      the split to evaluate (default: the config's validation images: its val split, or
               'held', the part of train it held out for choosing, as for the portrait model)
  --mode       whole image (default; padded to the model's input multiple) or sliding window
               (--crop and --stride, default the config's eval settings)
  --tta        multi-scale (${MMSEG_TTA_RATIOS.join(', ')}) + flip, averaging probabilities
  --crf        post-process logits with the mean-field CRF (FastSeg's crfseg layer, its defaults)
  --refine     guided-filter edge refinement of two-class models: R,EPS (radius in the model's
               pixels, e.g. 8,1e-3), 'on' or 'off' (default: what the model was shipped with)
  --bootstrap  also give the 95 % interval of mIoU over the images: N resamples of the split's images
               drawn with replacement (seed 0), e.g. 2000; how far a score on a small split can move
  --out        also write labels/<stem>.png (train ids; Cityscapes label ids with --label-ids) and
               overlay/<stem>.jpg; eval.json and confusion.png go there too (default: beside the checkpoint)
  --limit      evaluate only the first N images (a quick look)`,
  async run(args) {
    const { positional, options } = parseArgs(args, {
      options: ['data', 'data-root', 'split', 'mode', 'crop', 'stride', 'out', 'threads', 'limit', 'refine', 'bootstrap'],
      flags: ['tta', 'crf', 'label-ids'],
    });
    if (positional.length < 1 || positional.length > 2) throw new UsageError(`expected [config] <checkpoint>, got ${positional.length} arguments`);
    const ckptPath = resolveModelFile(positional.at(-1)!);
    const ckpt = await loadCheckpoint(ckptPath);
    const config: TrainConfig | undefined = positional.length === 2 ? loadTrainConfig(positional[0]!, BUILTIN_CONFIGS) : (ckpt.meta.config as TrainConfig | undefined);
    const dataset = (options.data as string | undefined) ?? config?.data.dataset;
    if (!dataset) throw new UsageError('--data is required: the checkpoint stores no training config to take the dataset from');
    const root = (options['data-root'] as string | undefined) ?? (config?.data.dataset === dataset ? config.data.root : join('..', 'shared', 'datasets', dataset));
    const sameData = config?.data.dataset === dataset;
    const split = (options.split as string | undefined) ?? (sameData && config.data.holdOut ? 'held' : sameData && config.data.valSplit ? config.data.valSplit : 'val');
    let ds: SegDataset;
    if (split === 'held') {
      if (!sameData || !config.data.holdOut) throw new UsageError(`--split held needs a config that holds part of ${dataset} train out (data.holdOut)`);
      ds = (await buildValDataset({ ...config, data: { ...config.data, root } }, config.train.seed ?? 0))!;
    } else ds = await createDataset(dataset, { ...(sameData ? config.data.options : {}), root, split });

    const modeName = (options.mode as string | undefined) ?? config?.eval?.mode ?? 'whole';
    let mode: WholeMode | SlideMode;
    if (modeName === 'whole') mode = { mode: 'whole', fit: 'pad' };
    else if (modeName === 'slide') {
      const crop = options.crop ? parseHW(options.crop as string, '--crop') : config?.eval?.crop;
      const stride = options.stride ? parseHW(options.stride as string, '--stride') : config?.eval?.stride;
      if (!crop || !stride) throw new UsageError('--mode slide needs --crop and --stride (or a config with eval.crop and eval.stride)');
      mode = { mode: 'slide', crop: [crop[0], crop[1]], stride: [stride[0], stride[1]] };
    } else throw new UsageError(`--mode must be 'whole' or 'slide', got '${modeName}'`);
    const threads = options.threads === undefined ? undefined : Number(options.threads);
    const segmenter = Segmenter.fromCheckpoint(ckpt, nodeCodec, nodeRuntime, { mode, threads, crf: options.crf === true, refine: parseRefine(options.refine as string | undefined), ...(options.tta ? { ratios: MMSEG_TTA_RATIOS, flip: true } : {}) }, ckptPath);

    const labels = ds.labels;
    if (labels.numClasses !== ckpt.meta.classes.length) {
      throw new Error(`${ckptPath} predicts ${ckpt.meta.classes.length} classes (${ckpt.meta.classes.join(', ')}) but ${dataset} has ${labels.numClasses}`);
    }
    if (options['label-ids'] && labels.name !== 'cityscapes') throw new UsageError(`--label-ids maps train ids back to Cityscapes label ids; dataset ${dataset} is not Cityscapes`);
    const toId = options['label-ids'] ? cityscapesTrainIdToId() : null;
    const out = options.out as string | undefined;
    if (out) await Promise.all(['labels', 'overlay'].map((d) => mkdir(join(out, d), { recursive: true })));

    const limit = options.limit === undefined ? ds.length : Math.min(ds.length, Number(options.limit));
    const cm = new ConfusionMatrix(labels.numClasses, labels.ignoreIndex);
    // With --bootstrap, one matrix per image as well, to resample.
    const resamples = options.bootstrap === undefined ? undefined : Number(options.bootstrap);
    if (resamples !== undefined && !(Number.isInteger(resamples) && resamples >= 1)) throw new UsageError(`--bootstrap must be a positive whole number of resamples (e.g. 2000), got '${options.bootstrap}'`);
    const perImage: ConfusionMatrix[] | null = resamples ? [] : null;
    // Cityscapes also gets the official protocol (label ids, void never a false positive, iIoU).
    let cityscapes: CityscapesEvaluator | null = null;
    const progress = new Progress({ label: `eval ${dataset} ${split}`, total: limit, logEvery: 20 });
    const t0 = performance.now();
    try {
      let next = ds.load(0);
      for (let i = 0; i < limit; i++) {
        const sample = await next;
        if (i + 1 < limit) next = ds.load(i + 1); // decode the next image while this one runs
        // Datasets decode to uint8 RGB (only Normalize makes float pixels, and no pipeline runs here).
        const image = { data: sample.image as Uint8Array, width: sample.width, height: sample.height, channels: 3 };
        const r = await segmenter.segment(image);
        if (perImage) {
          const one = new ConfusionMatrix(labels.numClasses, labels.ignoreIndex).update(r.labels, sample.label);
          perImage.push(one);
          cm.merge(one);
        } else cm.update(r.labels, sample.label);
        if (labels.name === 'cityscapes') {
          const gt = await cityscapesGroundTruth(ds.entries[i]!.label);
          cityscapes ??= new CityscapesEvaluator({ instanceLevel: gt.instanceIds !== undefined });
          cityscapes.updateTrainIds(r.labels, gt.labelIds, gt.instanceIds);
        }
        if (out) {
          const stem = ds.entries[i]!.id;
          const ids = toId ? r.labels.map((v) => toId[v]!) : r.labels;
          await writeFileAtomic(join(out, 'labels', `${stem}.png`), await encodePng({ data: ids, width: r.width, height: r.height, channels: 1 }));
          const color = colorizeLabel(r.labels, r.width, r.height, labels);
          const overlay = blend(image, color, 0.5);
          await writeFileAtomic(join(out, 'overlay', `${stem}.jpg`), await encodeImage(overlay, 'jpeg'));
        }
        progress.tick();
      }
    } finally {
      progress.done();
      await segmenter.dispose();
    }
    const seconds = (performance.now() - t0) / 1000;
    const m = computeMetrics(cm, labels.classes);
    console.log(formatMetricsTable(m));
    const bootstrap = perImage ? bootstrapMIoU(perImage, { resamples }) : null;
    if (bootstrap) console.log(`mIoU 95 % bootstrap interval over the ${limit} images (${bootstrap.resamples} resamples, seed ${bootstrap.seed}): ${(bootstrap.low * 100).toFixed(2)} to ${(bootstrap.high * 100).toFixed(2)} %`);
    const cs: CityscapesResult | null = cityscapes?.result() ?? null;
    if (cs) console.log(`\ncityscapesScripts protocol:\n${formatCityscapesResult(cs)}`);
    const dir = out ?? dirname(ckptPath);
    const stem = out ? '' : `${basename(ckptPath).replace(/\.safetensors$/, '')}_${dataset}-${split}_`;
    const jsonPath = join(dir, `${stem}eval.json`);
    const heatmapPath = join(dir, `${stem}confusion.png`);
    const report = {
      checkpoint: ckptPath,
      model: ckpt.meta.model,
      dataset,
      split,
      images: limit,
      mode,
      tta: Boolean(options.tta),
      seconds,
      convention: m.convention,
      aAcc: m.aAcc,
      mIoU: m.mIoU,
      mAcc: m.mAcc,
      mDice: m.mDice,
      mFscore: m.mFscore,
      perClass: m.perClass,
      ...(bootstrap ? { bootstrap } : {}),
      confusion: { rows: 'ground truth', columns: 'prediction', classes: labels.classes, counts: Array.from(cm.counts) },
      ...(cs ? { cityscapes: cs } : {}),
    };
    await writeFileAtomic(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    await writeConfusionHeatmap(heatmapPath, cm.normalized(), labels.classes, { title: `${basename(ckptPath)} on ${dataset} ${split} (row-normalised, %)` });
    console.log(`${limit} images in ${seconds.toFixed(1)} s; wrote ${jsonPath} and ${heatmapPath}${out ? ` and predictions under ${out}` : ''}`);
    return 0;
  },
};
