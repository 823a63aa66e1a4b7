// Training configs: the schema's errors, --set overrides, and every built-in recipe is valid and
// buildable (model name, loss spec, pipelines) and carries its paper's hyper-parameters.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildPipeline } from '../../src/data/transforms/registry.js';
import { segmentationLoss } from '../../src/losses/aux.js';
import { listModels } from '../../src/models/index.js';
import { buildSchedule } from '../../src/train/build.js';
import { checkTrainConfig, ConfigError, loadTrainConfig, type TrainConfig } from '../../src/train/config.js';
import { BUILTIN_CONFIGS, listConfigs } from '../../src/train/configs/index.js';
import { applyOverrides } from '../../src/train/schema.js';

const s2fpn = 's2fpn_r18_b8-20k_camvid-360x480';

function problems(cfg: unknown): string[] {
  try {
    checkTrainConfig(cfg);
    return [];
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.problems;
  }
}

describe('built-in configs', () => {
  test('every recipe validates and its parts build', () => {
    const models = new Set(listModels().map((m) => m.name));
    assert.ok(listConfigs().length >= 10);
    for (const c of listConfigs()) {
      assert.deepEqual(problems(structuredClone(c)), [], c.name);
      // A fine-tuning stage (a recipe with loadFrom), and only one, ends in -ft.
      assert.equal(c.name.endsWith('-ft'), Boolean(c.loadFrom), `${c.name}: -ft names the recipes with loadFrom`);
      assert.match(c.name.replace(/-ft$/, ''), /^[a-z0-9-]+_[a-z0-9-_.]+_b\d+-\d+(k|e)?_[a-z0-9]+-\d+x\d+$/, `${c.name}: not an mmseg-style name`);
      if (c.wiseFt !== undefined) assert.ok(c.loadFrom, `${c.name}: wiseFt averages with the start, so it needs loadFrom`);
      if (c.loadFrom) assert.ok(listConfigs().some((f) => c.loadFrom!.startsWith(`work_dirs/${f.name}/`)), `${c.name}: loadFrom ${c.loadFrom} is no recipe's work dir`);
      assert.ok(models.has(c.model.name), `${c.name}: unknown model ${c.model.name}`);
      segmentationLoss(c.loss);
      buildPipeline(c.data.trainPipeline);
      if (c.data.valPipeline) buildPipeline(c.data.valPipeline);
    }
  });

  test('recipes carry the published hyper-parameters (architectures.md §2.5, §3.4, §4.5, §5.9)', () => {
    const sf = BUILTIN_CONFIGS['segformer_mit-b0_b8-20k_camvid-360x480']!;
    assert.deepEqual([sf.optimizer.type, sf.optimizer.lr, sf.optimizer.weightDecay, sf.optimizer.headLrMult], ['adamw', 6e-5, 0.01, 10]);
    assert.deepEqual([sf.schedule.type, sf.schedule.power, sf.schedule.warmupIters], ['poly', 1, 1500]);
    const setr = BUILTIN_CONFIGS['setr_vit-t16_pup_b4-20k_camvid-352x480']!;
    assert.deepEqual([setr.optimizer.type, setr.optimizer.lr, setr.optimizer.momentum, setr.schedule.power, setr.schedule.minLr], ['sgd', 0.01, 0.9, 0.9, 1e-4]);
    const s = BUILTIN_CONFIGS[s2fpn]!;
    assert.deepEqual([s.optimizer.type, s.optimizer.lr, s.optimizer.weightDecay, s.schedule.warmupIters, s.schedule.power], ['adam', 3e-4, 2e-4, 500, 0.9]);
    assert.equal((s.loss.classWeights as number[]).length, 11);
    const sn = BUILTIN_CONFIGS['sernet-former_fastseg_b3-80e_camvid-352x480']!;
    assert.deepEqual([sn.optimizer.type, sn.optimizer.lr, sn.optimizer.momentum, sn.data.batchSize, sn.train.epochs], ['sgd', 1e-3, 0.9, 3, 80]);
    const p = BUILTIN_CONFIGS['serseg-former_mit-b0-upsample_b10-30e_eg1800-224x224']!;
    assert.deepEqual([p.optimizer.type, p.loss.type, p.loss.bceWeight, p.loss.diceWeight], ['adamw', 'bce+dice', 0.8, 0.2]);
  });

  test('the SegFormer schedule: linear warm-up from lr·1e-6, then poly 1.0 (hand-computed)', () => {
    const sf = BUILTIN_CONFIGS['segformer_mit-b0_b8-20k_camvid-360x480']!;
    const f = buildSchedule(sf.schedule, 6e-5, 20000);
    // mmseg: factor(i) = 1e-6 + (1 − 1e-6)·i/1500 for i < 1500, times poly (1 − i/20000).
    assert.ok(Math.abs(f(0) - 6e-5 * 1e-6) < 1e-18);
    assert.ok(Math.abs(f(750) - 6e-5 * (1e-6 + (1 - 1e-6) * 0.5) * (1 - 750 / 20000)) < 1e-15);
    assert.ok(Math.abs(f(10000) - 3e-5) < 1e-15);
    assert.equal(f(20000), 0);
  });

  test('built-ins are never mutated by loading with overrides', () => {
    const a = loadTrainConfig(s2fpn, BUILTIN_CONFIGS, ['train.iters=7', 'optimizer.lr=0.1']);
    assert.equal(a.train.iters, 7);
    assert.equal(BUILTIN_CONFIGS[s2fpn]!.train.iters, 20000);
    assert.throws(() => loadTrainConfig('s2fpn_nope', BUILTIN_CONFIGS), /unknown config 's2fpn_nope'.*\n.*s2fpn_r18_b8-20k_camvid-360x480/s);
  });
});

describe('schema errors', () => {
  const good = (): TrainConfig => structuredClone(BUILTIN_CONFIGS[s2fpn]!);

  test('wrong types, bounds and choices name the path, the value and what is valid', () => {
    const c = good() as unknown as Record<string, Record<string, unknown>>;
    c.optimizer!.lr = 'fast';
    c.optimizer!.type = 'rmsprop';
    c.data!.batchSize = 0;
    c.train!.seed = 1.5;
    const p = problems(c);
    assert.ok(p.includes('optimizer.lr: expected a number, got "fast"'), p.join('\n'));
    assert.ok(p.includes("optimizer.type: \"rmsprop\" is not one of 'sgd', 'adam', 'adamw'"), p.join('\n'));
    assert.ok(p.includes('data.batchSize: expected an integer ≥ 1, got 0'), p.join('\n'));
    assert.ok(p.includes('train.seed: expected an integer, got 1.5'), p.join('\n'));
  });

  test('unknown keys suggest the nearest valid one; missing ones are required', () => {
    const c = good() as unknown as Record<string, unknown>;
    c.schedul = c.schedule;
    delete c.schedule;
    const p = problems(c);
    assert.ok(p.some((x) => /^schedul: unknown key \(did you mean 'schedule'\?\); valid keys here: name, description, model/.test(x)), p.join('\n'));
    assert.ok(p.some((x) => x.startsWith('schedule: required')), p.join('\n'));
  });

  test('exactly one of iters and epochs; null clears an optional value', () => {
    const c = good();
    c.train.epochs = 3;
    assert.deepEqual(problems(c), ['train: give exactly one of iters and epochs (got both; with --set, clear the other one, e.g. --set train.epochs=null)']);
    const d = loadTrainConfig('serseg-former_mit-b0-upsample_b10-30e_eg1800-224x224', BUILTIN_CONFIGS, ['train.epochs=null', 'train.iters=30']);
    assert.deepEqual([d.train.iters, d.train.epochs], [30, null]);
  });
});

describe('--set overrides', () => {
  test('values parse as JSON when they can, else stay strings; paths are created', () => {
    const o: Record<string, unknown> = { a: { b: 1 } };
    applyOverrides(o, ['a.b=2.5', 'a.c=true', 'a.d=[1,2]', 'e.f=hello', 'a.g={"x":null}']);
    assert.deepEqual(o, { a: { b: 2.5, c: true, d: [1, 2], g: { x: null } }, e: { f: 'hello' } });
  });

  test('bad overrides are errors', () => {
    assert.throws(() => applyOverrides({}, ['novalue']), /--set novalue: expected key.path=value/);
    assert.throws(() => applyOverrides({ a: 3 }, ['a.b=1']), /--set a.b=1: 'a' is 3, not an object/);
  });
});
