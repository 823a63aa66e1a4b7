/** Turns a validated TrainConfig into the objects a run needs: model, data, optimizer, schedule, loss. */
import { createDataset } from '../data/sources/registry.js';
import type { SegDataset } from '../data/sources/types.js';
import { DataLoader } from '../data/loader.js';
import type { TransformSpec } from '../data/transforms/registry.js';
import type { Tensor } from '../engine/tensor.js';
import { auxiliaryLoss, segmentationLoss } from '../losses/aux.js';
import { createModel } from '../models/index.js';
import type { SegmentationModel } from '../models/segmentation-model.js';
import { adam, adamw } from '../optim/adam.js';
import { paramGroups } from '../optim/groups.js';
import type { Optimizer, ParamGroup } from '../optim/optimizer.js';
import { constantLr, cosine, poly, step, withWarmup, type Schedule } from '../optim/schedules.js';
import { sgd } from '../optim/sgd.js';
import type { OptimizerConfig, ScheduleConfig, TrainConfig } from './config.js';

export function buildOptimizer(o: OptimizerConfig): Optimizer {
  switch (o.type) {
    case 'sgd':
      return sgd({ momentum: o.momentum ?? 0, nesterov: o.nesterov ?? false, weightDecay: o.weightDecay ?? 0 });
    case 'adam':
      return adam({ betas: o.betas, eps: o.eps, weightDecay: o.weightDecay ?? 0 });
    case 'adamw':
      return adamw({ betas: o.betas, eps: o.eps, weightDecay: o.weightDecay ?? 0.01 });
  }
}

/** The parameter groups of the config's rules, or undefined for one group. */
export function buildGroups(model: SegmentationModel, o: OptimizerConfig): ParamGroup[] | undefined {
  if (!o.headPrefixes?.length && !o.noDecayOnNormsAndBiases) return undefined;
  return paramGroups(model, { headPrefixes: o.headPrefixes, headLrMult: o.headLrMult, noDecayOnNormsAndBiases: o.noDecayOnNormsAndBiases });
}

export function buildSchedule(s: ScheduleConfig, lr: number, maxIters: number): Schedule {
  let f: Schedule;
  switch (s.type) {
    case 'poly':
      f = poly(lr, maxIters, { power: s.power ?? 1, minLr: s.minLr ?? 0 });
      break;
    case 'cosine':
      f = cosine(lr, maxIters, { minLr: s.minLr ?? 0 });
      break;
    case 'step':
      f = step(lr, s.milestones ?? [], s.gamma ?? 0.1);
      break;
    case 'constant':
      f = constantLr(lr);
      break;
  }
  return s.warmupIters ? withWarmup(f, { iters: s.warmupIters, startFactor: s.warmupStartFactor }) : f;
}

/** The model's training loss: the config's loss on the main output plus its weighted auxiliary outputs. */
export function buildLoss(cfg: TrainConfig): (model: SegmentationModel, images: Tensor, labels: Tensor) => Tensor {
  const perOutput = segmentationLoss(cfg.loss);
  return (model, images, labels) => auxiliaryLoss(model.forward(images), model.auxWeights, labels, perOutput);
}

/**
 * The config's model for a dataset of `numClasses` classes. A two-class dataset may be learned by a
 * one-channel (binary) model, `numClasses: 1`, whose positive class is label 1 (FastSeg's BCE form).
 */
export function buildModel(cfg: TrainConfig, numClasses: number): SegmentationModel {
  const options = { numClasses, ...(cfg.model.options ?? {}) };
  const model = createModel(cfg.model.name, options);
  if (model.numClasses !== numClasses && !(model.numClasses === 1 && numClasses === 2)) {
    throw new Error(`config ${cfg.name}: model.options.numClasses is ${model.numClasses} but dataset ${cfg.data.dataset} has ${numClasses} classes`);
  }
  return model;
}

export interface RunData {
  train: SegDataset;
  val: SegDataset | null;
  loader: DataLoader;
}

/** The datasets and the training loader of a config (dropLast, so every step has the same batch shape). */
export async function buildData(cfg: TrainConfig, seed: number): Promise<RunData> {
  const d = cfg.data;
  const base = { ...(d.options ?? {}), root: d.root };
  const trainSplit = d.trainSplit ?? 'train';
  const hold = d.holdOut ? { fraction: d.holdOut, seed } : null;
  const train = await createDataset(d.dataset, { ...base, split: trainSplit, ...(hold ? { holdOut: { ...hold, part: 'rest' } } : {}) });
  const val = await buildValDataset(cfg, seed);
  if (train.length < d.batchSize) throw new Error(`config ${cfg.name}: ${d.dataset} ${train.split} has ${train.length} samples, fewer than one batch of ${d.batchSize}`);
  const loader = new DataLoader({ dataset: train, pipeline: d.trainPipeline, batchSize: d.batchSize, workers: d.workers ?? 1, seed, dropLast: true, shuffle: true });
  return { train, val, loader };
}

/**
 * The images a config validates on: its held-out part of train (`data.holdOut`, drawn with the run's
 * seed), its val split, or none (`valSplit: null`).
 */
export async function buildValDataset(cfg: TrainConfig, seed: number): Promise<SegDataset | null> {
  const d = cfg.data;
  const base = { ...(d.options ?? {}), root: d.root };
  if (d.holdOut) return createDataset(d.dataset, { ...base, split: d.trainSplit ?? 'train', holdOut: { fraction: d.holdOut, seed, part: 'held' } });
  return d.valSplit === null ? null : createDataset(d.dataset, { ...base, split: d.valSplit ?? 'val' });
}

/** The validation pipeline: the config's, or the model's own normalisation. */
export function buildValPipeline(cfg: TrainConfig, model: SegmentationModel): TransformSpec[] {
  const { mean, std } = model.normalization;
  // Model normalisations are on 0..1 (torchvision style), Normalize works on 0..255 (mmseg style).
  return cfg.data.valPipeline ?? [{ type: 'Normalize', mean: mean.map((v) => v * 255), std: std.map((v) => v * 255) }];
}
