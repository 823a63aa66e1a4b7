/**
 * Training configs: plain JSON-serialisable objects, typed here and validated against a schema, so a
 * config can live in a TypeScript file (the built-in recipes of ./configs), a JSON file, or be
 * edited with `--set key=value`. Names follow mmsegmentation:
 * `{model}_{encoder}_b{batch}-{iters}_{dataset}-{H}x{W}`.
 */
import { readFileSync } from 'node:fs';
import type { TransformSpec } from '../data/transforms/registry.js';
import { applyOverrides, validate, type Schema } from './schema.js';

export interface OptimizerConfig {
  type: 'sgd' | 'adam' | 'adamw';
  /** Base learning rate. */
  lr: number;
  weightDecay?: number;
  /** SGD. */
  momentum?: number;
  nesterov?: boolean;
  /** Adam/AdamW. */
  betas?: [number, number];
  eps?: number;
  /** Parameters whose name starts with one of these get `headLrMult` × lr (SegFormer 'decode_head.', SETR 'decode_head.' and 'auxiliary_head'). */
  headPrefixes?: string[];
  headLrMult?: number;
  /** No weight decay on 1-D parameters (norm weights, biases), as SegFormer's recipe. */
  noDecayOnNormsAndBiases?: boolean;
  /** Clip gradients to this global L2 norm. */
  clipGradNorm?: number;
}

export interface ScheduleConfig {
  type: 'poly' | 'cosine' | 'step' | 'constant';
  /** poly: (1 − iter/max)^power. */
  power?: number;
  minLr?: number;
  /** step: multiply by gamma at these iterations. */
  milestones?: number[];
  gamma?: number;
  /** Linear warm-up iterations (mmseg LinearLR), from `warmupStartFactor` × lr. */
  warmupIters?: number;
  warmupStartFactor?: number;
}

export interface DataConfig {
  /** Dataset registry name ('camvid', 'eg1800', 'cityscapes', 'folder', ...). */
  dataset: string;
  /** Dataset folder (relative paths are relative to the working directory). */
  root: string;
  /** Extra dataset options (e.g. folder layouts). */
  options?: Record<string, unknown>;
  trainSplit?: string;
  /** Validation split; null: no validation. */
  valSplit?: string | null;
  /** Hold out this fraction of the train split for validation (when the dataset has no val split). */
  holdOut?: number;
  trainPipeline: TransformSpec[];
  /** Applied to validation images before the model (the model's own normalisation if absent). */
  valPipeline?: TransformSpec[];
  batchSize: number;
  /** Loader worker threads (0 = decode on the training thread). */
  workers?: number;
}

export interface TrainLoopConfig {
  /** Total iterations; or give `epochs`. */
  iters?: number;
  epochs?: number;
  /** Validate every N iterations (and at the end); 0 = only at the end. */
  valInterval: number;
  /** Keep a numbered checkpoint every K iterations (latest is always kept); 0 = none. */
  checkpointInterval: number;
  /** Numbered checkpoints kept (oldest deleted first); 0 = all. */
  maxKeepCheckpoints?: number;
  /** Validation metric that picks the best checkpoint. */
  bestMetric?: 'mIoU' | 'mAcc' | 'aAcc' | 'mDice';
  /** Log line / scalars record every N iterations. */
  logInterval?: number;
  seed?: number;
  /** onnxruntime intra-op threads (default: all cores). */
  threads?: number;
  /**
   * A NaN or infinite loss: 'stop' (default) ends the run with an error naming the iteration, the
   * last checkpoint intact; 'skip' undoes that step's update and goes on (10 in a row stop the run).
   */
  nonFiniteLoss?: 'stop' | 'skip';
}

export interface EvalConfig {
  mode?: 'whole' | 'slide';
  /** Sliding-window crop and stride, [height, width]. */
  crop?: [number, number];
  stride?: [number, number];
}

export interface TrainConfig {
  /** mmseg-style name; also the default work dir (work_dirs/<name>). */
  name: string;
  description?: string;
  model: { name: string; options?: Record<string, unknown> };
  data: DataConfig;
  /** A loss spec understood by `segmentationLoss` (src/losses/aux.ts). */
  loss: Record<string, unknown>;
  optimizer: OptimizerConfig;
  schedule: ScheduleConfig;
  train: TrainLoopConfig;
  eval?: EvalConfig;
  /**
   * mmseg's `load_from`: start from this checkpoint's weights (a fine-tuning stage of a recipe; the
   * optimizer and schedule start afresh). `segkit train --load-from` overrides it; `--resume` ignores it.
   */
  loadFrom?: string;
  /**
   * WiSE-FT (Wortsman et al. 2022) for a fine-tuning stage: after the last iteration the weights are
   * also interpolated with the starting checkpoint's, (1 − α)·start + α·fine-tuned, written as
   * wise-ft_iter_<N>.safetensors, validated, and made the best checkpoint when they score higher.
   * Needs `loadFrom` (or --load-from). α in (0, 1]; 0.5 is the paper's default.
   */
  wiseFt?: number;
}

const num = (doc: string, o: { min?: number; exclusiveMin?: boolean; optional?: boolean; max?: number } = {}): Schema => ({ type: 'number', doc, ...o });
const int = (doc: string, o: { min?: number; optional?: boolean } = {}): Schema => ({ type: 'integer', doc, ...o });
const str = (doc: string, o: { choices?: readonly string[]; optional?: boolean } = {}): Schema => ({ type: 'string', doc, ...o });
const opt = <S extends Schema>(s: S): S => ({ ...s, optional: true });
const pair = (doc: string): Schema => ({ type: 'array', items: { type: 'number', min: 0 }, minItems: 2, doc, optional: true });

export const TRAIN_CONFIG_SCHEMA: Schema = {
  type: 'object',
  fields: {
    name: str('run name, mmseg style'),
    description: opt(str('free text')),
    model: { type: 'object', fields: { name: str('model registry name (segkit models)'), options: { type: 'any', optional: true } } },
    data: {
      type: 'object',
      fields: {
        dataset: str('dataset registry name'),
        root: str('dataset folder'),
        options: { type: 'any', optional: true },
        trainSplit: opt(str('train split name')),
        valSplit: { type: 'any', optional: true, doc: 'validation split name or null' },
        holdOut: num('fraction of train held out for validation', { min: 0, max: 0.9, optional: true }),
        trainPipeline: { type: 'array', items: { type: 'any' }, doc: 'transform specs' },
        valPipeline: { type: 'array', items: { type: 'any' }, optional: true },
        batchSize: int('samples per step', { min: 1 }),
        workers: int('loader threads', { min: 0, optional: true }),
      },
    },
    loss: { type: 'any', doc: "loss spec, e.g. { type: 'ce' }" },
    optimizer: {
      type: 'object',
      fields: {
        type: str('optimizer', { choices: ['sgd', 'adam', 'adamw'] }),
        lr: num('base learning rate', { min: 0, exclusiveMin: true }),
        weightDecay: num('weight decay', { min: 0, optional: true }),
        momentum: num('SGD momentum', { min: 0, max: 1, optional: true }),
        nesterov: opt({ type: 'boolean' }),
        betas: pair('Adam betas'),
        eps: num('Adam eps', { min: 0, exclusiveMin: true, optional: true }),
        headPrefixes: { type: 'array', items: { type: 'string' }, optional: true },
        headLrMult: num('head lr multiplier', { min: 0, optional: true }),
        noDecayOnNormsAndBiases: opt({ type: 'boolean' }),
        clipGradNorm: num('global gradient norm limit', { min: 0, exclusiveMin: true, optional: true }),
      },
    },
    schedule: {
      type: 'object',
      fields: {
        type: str('lr schedule', { choices: ['poly', 'cosine', 'step', 'constant'] }),
        power: num('poly power', { min: 0, optional: true }),
        minLr: num('final lr', { min: 0, optional: true }),
        milestones: { type: 'array', items: { type: 'integer', min: 0 }, optional: true },
        gamma: num('step factor', { min: 0, optional: true }),
        warmupIters: int('linear warm-up iterations', { min: 0, optional: true }),
        warmupStartFactor: num('warm-up start factor', { min: 0, max: 1, optional: true }),
      },
    },
    train: {
      type: 'object',
      fields: {
        iters: int('total iterations', { min: 1, optional: true }),
        epochs: int('total epochs', { min: 1, optional: true }),
        valInterval: int('validate every N iterations (0: at the end)', { min: 0 }),
        checkpointInterval: int('numbered checkpoint every K iterations (0: none)', { min: 0 }),
        maxKeepCheckpoints: int('numbered checkpoints kept (0: all)', { min: 0, optional: true }),
        bestMetric: opt(str('metric for the best checkpoint', { choices: ['mIoU', 'mAcc', 'aAcc', 'mDice'] })),
        logInterval: int('log every N iterations', { min: 1, optional: true }),
        seed: int('seed of data order, augmentation and dropout', { min: 0, optional: true }),
        threads: int('onnxruntime threads', { min: 1, optional: true }),
        nonFiniteLoss: opt(str('on a NaN/Inf loss', { choices: ['stop', 'skip'] })),
      },
    },
    loadFrom: opt(str('checkpoint whose weights start the run (fine-tuning)')),
    wiseFt: num("WiSE-FT: weight of the fine-tuned weights against loadFrom's at the end", { min: 0, exclusiveMin: true, max: 1, optional: true }),
    eval: {
      type: 'object',
      optional: true,
      fields: { mode: opt(str('inference mode', { choices: ['whole', 'slide'] })), crop: pair('window [h, w]'), stride: pair('stride [h, w]') },
    },
  },
};

/** Thrown for an invalid config: every problem listed, each with its dotted path. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: invalid training config:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Validates a config object (after overrides); throws ConfigError listing every problem. */
export function checkTrainConfig(cfg: unknown, source = 'config'): TrainConfig {
  const problems = validate(cfg, TRAIN_CONFIG_SCHEMA);
  const c = cfg as TrainConfig;
  if (!problems.length) {
    if ((c.train.iters == null) === (c.train.epochs == null)) {
      problems.push(`train: give exactly one of iters and epochs (got ${c.train.iters == null ? 'neither' : 'both'}; with --set, clear the other one, e.g. --set train.epochs=null)`);
    }
    if (c.data.valSplit !== undefined && c.data.valSplit !== null && typeof c.data.valSplit !== 'string') problems.push(`data.valSplit: expected a split name or null, got ${JSON.stringify(c.data.valSplit)}`);
    if (c.eval?.mode === 'slide' && !(c.eval.crop && c.eval.stride)) problems.push("eval: mode 'slide' needs crop and stride");
  }
  if (problems.length) throw new ConfigError(source, problems);
  return c;
}

/**
 * A config by built-in name (see `listConfigs`) or JSON file path, with `--set` overrides applied,
 * validated. The result is a fresh object (built-ins are never mutated).
 */
export function loadTrainConfig(nameOrPath: string, builtins: Record<string, TrainConfig>, overrides: readonly string[] = []): TrainConfig {
  let raw: unknown;
  let source = nameOrPath;
  if (nameOrPath in builtins) {
    raw = structuredClone(builtins[nameOrPath]);
    source = `config '${nameOrPath}'`;
  } else if (nameOrPath.endsWith('.json')) {
    let text: string;
    try {
      text = readFileSync(nameOrPath, 'utf8');
    } catch (e) {
      throw new Error(`${nameOrPath}: cannot read config: ${(e as Error).message}`);
    }
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new Error(`${nameOrPath}: not valid JSON: ${(e as Error).message}`);
    }
  } else {
    const names = Object.keys(builtins);
    throw new Error(`unknown config '${nameOrPath}': give a .json file or one of the built-in configs:\n  ${names.join('\n  ')}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(source, [`expected a JSON object, got ${JSON.stringify(raw)?.slice(0, 40)}`]);
  applyOverrides(raw as Record<string, unknown>, overrides);
  return checkTrainConfig(raw, source);
}
