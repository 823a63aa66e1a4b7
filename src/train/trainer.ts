/**
 * The training loop of `segkit train`: iteration-based (epochs are converted to iterations), with
 * validation every N iterations, checkpoints written atomically, exact resumption, and a work dir per
 * run as mmsegmentation keeps one:
 *
 *   work_dirs/<config name>/
 *     config.json          the resolved config (after --set overrides)
 *     log.txt              every log line, timestamped
 *     scalars.jsonl        {iter, loss, lr, ...} per log interval and {iter, val/mIoU, ...} per validation
 *     curves.svg           loss, lr and validation metrics against iterations, redrawn at each validation
 *     iter_<N>.safetensors numbered checkpoints; last_checkpoint names the newest complete one
 *     best_<metric>_iter_<N>.safetensors
 *     wise-ft_iter_<N>.safetensors   with `wiseFt`: the last weights interpolated with loadFrom's
 *
 * Resuming (`resume: true`) restores weights, optimizer state and the iteration from the newest
 * checkpoint; the data order, augmentation and dropout masks are functions of (seed, iteration), so
 * the continued run computes exactly what the uninterrupted run would have.
 */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { HostTensor } from '../engine/host-tensor.js';
import { nodeRuntime } from '../engine/runtime/node.js';
import type { Runtime } from '../engine/runtime/runtime.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { formatMetricsTable, type SegmentationMetrics } from '../metrics/segmentation-metrics.js';
import type { SegmentationModel } from '../models/segmentation-model.js';
import { buildData, buildGroups, buildLoss, buildModel, buildOptimizer, buildSchedule, buildValPipeline, type RunData } from './build.js';
import { latestCheckpoint, loadCheckpoint, markLatest, pruneCheckpoints, removeStaleTemporaries, saveCheckpoint, type CheckpointMeta } from './checkpoint.js';
import type { TrainConfig } from './config.js';
import { renderCurves, type ScalarRecord } from './curves.js';
import { compileTrainStep, type TrainStep } from './step.js';
import { Validator } from './validate.js';

/** Where the trainer reports progress (the CLI passes a progress bar; the default prints lines). */
export interface TrainReporter {
  /** A line for humans (also written to log.txt by the trainer). */
  log(line: string): void;
  /** After each step. */
  step?(iteration: number, total: number, fields: Record<string, string | number>): void;
  done?(): void;
}

export interface TrainerOptions {
  config: TrainConfig;
  workDir: string;
  /** Continue from the work dir's newest checkpoint. */
  resume?: boolean;
  /** Initialise weights from this checkpoint (fine-tuning), in place of the config's `loadFrom`; tensors whose shapes differ are skipped and listed. */
  loadFrom?: string;
  runtime?: Runtime;
  reporter?: TrainReporter;
  /** Stop (saving a checkpoint) at the next step boundary once this is aborted — Ctrl-C. */
  signal?: AbortSignal;
}

export interface TrainResult {
  /** Iterations completed. */
  iteration: number;
  /** True when the run stopped early because `signal` was aborted. */
  interrupted: boolean;
  /** The last validation's metrics (null without validation). */
  metrics: SegmentationMetrics | null;
  best: CheckpointMeta['best'] | null;
  /** The newest checkpoint file. */
  checkpoint: string | null;
}

/** Thrown when the loss becomes NaN or infinite: training stops, the last checkpoint is intact. */
export class NonFiniteLossError extends Error {}

/** With `nonFiniteLoss: 'skip'`, this many skipped batches in a row mean the run has diverged: stop. */
const MAX_SKIPS_IN_A_ROW = 10;
/** Scalars of the WiSE-FT weights' validation are keyed wise-ft/mIoU etc., apart from the run's own val/…. */
const WISE_FT_PREFIX = 'wise-ft';

const ts = () => new Date().toISOString().replace('T', ' ').slice(0, 19);
const fmtLr = (v: number) => v.toExponential(3);

export class Trainer {
  private readonly cfg: TrainConfig;
  private readonly dir: string;
  private readonly reporter: TrainReporter;
  private model!: SegmentationModel;
  private data!: RunData;
  private step!: TrainStep<SegmentationModel>;
  private validator: Validator | null = null;
  private maxIters = 0;
  private best: CheckpointMeta['best'] | null = null;
  private scalars: ScalarRecord[] = [];
  private lastCheckpoint: string | null = null;

  constructor(private readonly o: TrainerOptions) {
    this.cfg = o.config;
    this.dir = o.workDir;
    this.reporter = o.reporter ?? { log: (l) => console.log(l) };
  }

  private async log(line: string): Promise<void> {
    this.reporter.log(line);
    await appendFile(join(this.dir, 'log.txt'), `${ts()} ${line}\n`);
  }

  private async record(r: ScalarRecord): Promise<void> {
    this.scalars.push(r);
    await appendFile(join(this.dir, 'scalars.jsonl'), `${JSON.stringify(r)}\n`);
  }

  private get bestMetric(): 'mIoU' | 'mAcc' | 'aAcc' | 'mDice' {
    return this.cfg.train.bestMetric ?? 'mIoU';
  }

  private meta(iteration: number, wiseFt?: CheckpointMeta['wiseFt']): CheckpointMeta {
    const labels = this.data.train.labels;
    return {
      format: 'segkit-checkpoint/1',
      iteration,
      model: { name: this.cfg.model.name, options: { ...(this.cfg.model.options ?? {}), numClasses: this.model.numClasses } },
      classes: [...labels.classes],
      palette: labels.palette.map((c) => [...c] as [number, number, number]),
      config: this.cfg,
      ...(this.best ? { best: this.best } : {}),
      ...(wiseFt ? { wiseFt } : {}),
    };
  }

  /** The checkpoint a fine-tuning run starts from: --load-from, else the config's loadFrom. */
  private get startCheckpoint(): string | undefined {
    return this.o.loadFrom ?? this.cfg.loadFrom;
  }

  private async checkpoint(iteration: number): Promise<string> {
    // A finite loss can still come with an update that overflows: never let such weights replace
    // the last good checkpoint.
    for (const [k, p] of this.model.namedParameters()) {
      const bad = p.value.f32.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) {
        throw new NonFiniteLossError(
          `weights became non-finite at iteration ${iteration} ('${k}' holds ${p.value.f32[bad]}); not saved. ` +
            `The last checkpoint (${this.lastCheckpoint ?? 'none'}) is intact: lower the learning rate or add clipGradNorm, then --resume`,
        );
      }
    }
    const name = `iter_${iteration}.safetensors`;
    const path = join(this.dir, name);
    await saveCheckpoint(path, { meta: this.meta(iteration), model: this.model.stateDict(), optimizer: this.step.optimizerState() });
    await markLatest(this.dir, name);
    this.lastCheckpoint = path;
    await pruneCheckpoints(this.dir, this.cfg.train.maxKeepCheckpoints ?? 0, [name]);
    return path;
  }

  private async setup(): Promise<number> {
    const { cfg, dir } = this;
    await mkdir(dir, { recursive: true });
    const stale = await removeStaleTemporaries(dir);
    const seed = cfg.train.seed ?? 0;
    // Datasets first: the class count comes from the label set.
    this.data = await buildData(cfg, seed);
    this.model = buildModel(cfg, this.data.train.labels.numClasses);
    const ipe = this.data.loader.length;
    this.maxIters = cfg.train.iters ?? cfg.train.epochs! * ipe;
    const runtime = this.o.runtime ?? nodeRuntime;
    const threads = cfg.train.threads;
    this.step = compileTrainStep(this.model, buildLoss(cfg), {
      runtime,
      threads,
      optimizer: buildOptimizer(cfg.optimizer),
      schedule: buildSchedule(cfg.schedule, cfg.optimizer.lr, this.maxIters),
      groups: buildGroups(this.model, cfg.optimizer),
      clipGradNorm: cfg.optimizer.clipGradNorm,
      seed,
    });
    if (this.data.val) this.validator = new Validator(this.model, this.data.val, buildValPipeline(cfg, this.model), { runtime, threads });

    let start = 0;
    if (this.o.resume) {
      const latest = await latestCheckpoint(dir);
      if (!latest) throw new Error(`--resume: no checkpoint in ${dir} (no ${join(dir, 'last_checkpoint')}); start without --resume`);
      const c = await loadCheckpoint(latest);
      this.model.loadStateDict(c.model);
      this.step.loadOptimizerState(c.optimizer);
      start = c.meta.iteration;
      this.best = c.meta.best ?? null;
      this.lastCheckpoint = latest;
      // Drop what was logged after the checkpoint: the resumed run logs those iterations again. The
      // WiSE-FT record goes too: the step runs again at the end of every run that completes.
      const text = await readFile(join(dir, 'scalars.jsonl'), 'utf8').catch(() => '');
      this.scalars = text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as ScalarRecord)
        .filter((r) => r.iter <= start && !(`${WISE_FT_PREFIX}/mIoU` in r));
      await writeFileAtomic(join(dir, 'scalars.jsonl'), this.scalars.map((r) => `${JSON.stringify(r)}\n`).join(''));
      await this.log(`resumed from ${latest} at iteration ${start}${stale.length ? `; removed ${stale.length} partial checkpoint write(s) of a killed run` : ''}`);
    } else {
      await rm(join(dir, 'scalars.jsonl'), { force: true });
      if (this.startCheckpoint) await this.loadWeights(this.startCheckpoint);
    }
    this.step.iteration = start;
    await writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(cfg, null, 2)}\n`);
    const d = this.data;
    await this.log(
      `${cfg.name}: ${cfg.model.name} (${(this.model.numParameters() / 1e6).toFixed(2)} M parameters), ${d.train.name} ${d.train.split} ${d.train.length} images, ` +
        `batch ${cfg.data.batchSize}, ${ipe} iterations/epoch, ${this.maxIters} iterations${d.val ? `, validation on ${d.val.split} (${d.val.length} images)` : ''}; work dir ${dir}`,
    );
    return start;
  }

  /** mmseg's `load_from`: weights only, what matches by name and shape; the rest is listed. */
  private async loadWeights(path: string): Promise<void> {
    if (!existsSync(path)) throw new Error(`loadFrom: ${path} does not exist; ${this.o.config.name} starts from that checkpoint's weights, so train the run that writes it first (or pass --load-from)`);
    const c = await loadCheckpoint(path);
    const own = new Map(this.model.namedState());
    const fits = Object.fromEntries(Object.entries(c.model).filter(([k, t]) => own.get(k)?.shape.join() === t.shape.join()));
    const skipped = Object.keys(c.model).filter((k) => !(k in fits));
    const r = this.model.loadStateDict(fits, { strict: false });
    await this.log(`loaded ${Object.keys(fits).length} tensors from ${path}` + (skipped.length ? `; skipped (unknown or other shape): ${skipped.join(', ')}` : '') + (r.missing.length ? `; not in the checkpoint (kept initial): ${r.missing.join(', ')}` : ''));
  }

  /** Validates the model's weights now; `wiseFt` marks them as the interpolated ones (scalars under wise-ft/…). */
  private async validate(iteration: number, wiseFt?: CheckpointMeta['wiseFt']): Promise<SegmentationMetrics | null> {
    if (!this.validator) return null;
    const t0 = performance.now();
    const m = await this.validator.run();
    const secs = (performance.now() - t0) / 1000;
    const p = wiseFt ? WISE_FT_PREFIX : 'val';
    await this.record({ iter: iteration, [`${p}/mIoU`]: m.mIoU, [`${p}/mAcc`]: m.mAcc, [`${p}/aAcc`]: m.aAcc, [`${p}/mDice`]: m.mDice });
    await this.log(`validation ${wiseFt ? 'of the WiSE-FT weights ' : ''}at iteration ${iteration} (${secs.toFixed(1)} s):\n${formatMetricsTable(m)}`);
    await this.keepIfBest(iteration, m, wiseFt);
    await this.drawCurves();
    return m;
  }

  /** Saves the model's weights as best_<metric>_iter_<N> when they beat the best so far (replacing it). */
  private async keepIfBest(iteration: number, m: SegmentationMetrics, wiseFt?: CheckpointMeta['wiseFt']): Promise<void> {
    const key = this.bestMetric;
    const value = m[key];
    if (Number.isNaN(value) || (this.best && value <= this.best.value)) return;
    const old = this.best && join(this.dir, `best_${key}_iter_${this.best.iteration}.safetensors`);
    this.best = { metric: key, value, iteration };
    const path = join(this.dir, `best_${key}_iter_${iteration}.safetensors`);
    await saveCheckpoint(path, { meta: this.meta(iteration, wiseFt), model: this.model.stateDict(), optimizer: {} });
    if (old && old !== path) await rm(old, { force: true });
    await this.log(`best ${key} ${(value * 100).toFixed(2)} at iteration ${iteration}${wiseFt ? ' (WiSE-FT weights)' : ''}: ${path}`);
  }

  /**
   * WiSE-FT: every floating-point tensor becomes (1 − α)·start + α·its value now (BatchNorm's
   * running statistics included, as the paper interpolates whole state dicts); integer tensors and
   * tensors the start lacks keep their fine-tuned values. The interpolated weights are saved, then
   * validated like any checkpoint, so they become the best one only if they score higher. Runs
   * after the last iteration, also when a finished run is resumed (it is deterministic).
   */
  private async interpolateWithStart(iteration: number): Promise<void> {
    const alpha = this.cfg.wiseFt!;
    const from = this.startCheckpoint!;
    if (!existsSync(from)) throw new Error(`wiseFt: ${from} (the checkpoint this run started from) no longer exists; the interpolation needs its weights`);
    const start = (await loadCheckpoint(from)).model;
    const mixed = Object.fromEntries(
      Object.entries(this.model.stateDict()).map(([k, t]) => {
        const s = start[k];
        if (t.dtype !== 'float32' || !s || s.dtype !== 'float32' || s.shape.join() !== t.shape.join()) return [k, t];
        const a = s.f32;
        return [k, new HostTensor(t.f32.map((v, i) => (1 - alpha) * a[i]! + alpha * v), t.shape)];
      }),
    );
    this.model.loadStateDict(mixed);
    const wiseFt = { alpha, from };
    const path = join(this.dir, `wise-ft_iter_${iteration}.safetensors`);
    await saveCheckpoint(path, { meta: this.meta(iteration, wiseFt), model: mixed, optimizer: {} });
    await this.log(`WiSE-FT: ${(1 - alpha).toFixed(2)} × ${from} + ${alpha.toFixed(2)} × iteration ${iteration}: ${path}`);
    await this.validate(iteration, wiseFt);
  }

  private async drawCurves(): Promise<void> {
    await writeFileAtomic(join(this.dir, 'curves.svg'), renderCurves(this.scalars, { title: this.cfg.name }));
  }

  async run(): Promise<TrainResult> {
    if (this.cfg.wiseFt !== undefined && !this.startCheckpoint) {
      throw new Error(`${this.cfg.name}: wiseFt ${this.cfg.wiseFt} interpolates with the checkpoint the run starts from; give loadFrom in the config or --load-from`);
    }
    const start = await this.setup();
    const { cfg } = this;
    const ipe = this.data.loader.length;
    const logEvery = cfg.train.logInterval ?? 10;
    let metrics: SegmentationMetrics | null = null;
    let it = start;
    let interrupted = false;
    let lossSum = 0;
    let lossN = 0;
    let skippedInARow = 0;
    let tLog = performance.now();
    try {
      outer: while (it < this.maxIters) {
        const epoch = Math.floor(it / ipe);
        for await (const b of this.data.loader.epoch(epoch, it % ipe)) {
          const x = new HostTensor(b.images, b.imageShape);
          const y = new HostTensor(Int32Array.from(b.labels), b.labelShape, 'int32');
          const r = await this.step.step(x, y);
          it++;
          if (!Number.isFinite(r.loss)) {
            const where = `loss is ${r.loss} at iteration ${it} (lr ${fmtLr(r.lr)}, images ${b.ids.join(', ')})`;
            if (cfg.train.nonFiniteLoss !== 'skip' || skippedInARow >= MAX_SKIPS_IN_A_ROW) {
              throw new NonFiniteLossError(
                `${where}${skippedInARow ? ` after ${skippedInARow} skipped batches in a row` : ''}; training stopped. ` +
                  `The last checkpoint (${this.lastCheckpoint ?? 'none'}) is intact: lower the learning rate or add clipGradNorm, then --resume`,
              );
            }
            this.step.revertLastStep();
            skippedInARow++;
            await this.log(`${where}: batch skipped, its update undone (${skippedInARow} in a row)`);
          } else {
            skippedInARow = 0;
            lossSum += r.loss;
            lossN++;
            this.reporter.step?.(it, this.maxIters, { loss: r.loss.toFixed(4), lr: fmtLr(r.lr), epoch });
          }
          if ((it % logEvery === 0 || it === this.maxIters) && lossN > 0) {
            const now = performance.now();
            const rec: ScalarRecord = { iter: it, loss: lossSum / lossN, lr: r.lr, time: (now - tLog) / 1000 / lossN };
            await this.record(rec);
            await appendFile(join(this.dir, 'log.txt'), `${ts()} iter ${it}/${this.maxIters} epoch ${epoch} loss ${rec.loss!.toFixed(4)} lr ${fmtLr(r.lr)} ${rec.time!.toFixed(2)} s/iter\n`);
            lossSum = lossN = 0;
            tLog = now;
          }
          const validateNow = (cfg.train.valInterval > 0 && it % cfg.train.valInterval === 0) || it === this.maxIters;
          if (validateNow) metrics = await this.validate(it);
          const ckptNow = (cfg.train.checkpointInterval > 0 && it % cfg.train.checkpointInterval === 0) || it === this.maxIters;
          if (ckptNow) await this.checkpoint(it);
          if (this.o.signal?.aborted && it < this.maxIters) {
            if (!ckptNow) await this.checkpoint(it);
            await this.log(`interrupted at iteration ${it}; checkpoint ${this.lastCheckpoint}; continue with --resume`);
            interrupted = true;
            break outer;
          }
          if (validateNow || ckptNow) tLog = performance.now();
          if (it >= this.maxIters) break outer;
        }
      }
      if (!interrupted) {
        if (this.cfg.wiseFt !== undefined) await this.interpolateWithStart(it);
        if (metrics === null && this.validator === null) await this.drawCurves();
        await this.log(`done: ${it} iterations${this.best ? `; best ${this.best.metric} ${(this.best.value * 100).toFixed(2)} at iteration ${this.best.iteration}` : ''}`);
      }
    } catch (e) {
      await this.log(`error at iteration ${it}: ${(e as Error).message}`).catch(() => {});
      throw e;
    } finally {
      this.reporter.done?.();
      await this.data.loader.close();
      await this.validator?.dispose();
      await this.step.dispose();
    }
    return { iteration: it, interrupted, metrics, best: this.best, checkpoint: this.lastCheckpoint };
  }
}
