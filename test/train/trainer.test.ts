// The trainer end to end, through `segkit train` in child processes: a tiny SegFormer on a synthetic
// three-class folder dataset. An uninterrupted run is the reference; a run killed with SIGKILL after
// a checkpoint and resumed, and a run stopped with Ctrl-C (SIGINT) and resumed, must reproduce its
// loss curve (the data order, augmentation and dropout masks are functions of seed and iteration).
// Checkpoints every 3 iterations with 4 iterations per epoch, so resumes start mid-epoch.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { REPO, tempDir, tinyTrainConfig, writeBandsDataset } from '../data/helpers.js';

const SEGKIT = join(REPO, 'bin', 'segkit.js');
const ITERS = 24;

const config = (root: string) => tinyTrainConfig(root, { iters: ITERS, valInterval: 8, checkpointInterval: 3 });

const readScalars = (dir: string) =>
  readFileSync(join(dir, 'scalars.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, number>);
const lossCurve = (dir: string) => readScalars(dir).filter((r) => r.loss !== undefined).map((r) => [r.iter!, r.loss!] as const);

function train(cfgPath: string, workDir: string, ...extra: string[]) {
  return spawnSync(process.execPath, [SEGKIT, 'train', cfgPath, '--work-dir', workDir, ...extra], { encoding: 'utf8', env: { ...process.env, SEGKIT_ORT_SPIN: '0' } });
}

/** Starts a run, sends `signal` once `last_checkpoint` names a checkpoint; returns the exit code and the checkpoint seen. */
function interrupt(cfgPath: string, workDir: string, signal: NodeJS.Signals): Promise<{ code: number | null; sawCheckpoint: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SEGKIT, 'train', cfgPath, '--work-dir', workDir], { env: { ...process.env, SEGKIT_ORT_SPIN: '0' } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    let saw = '';
    const poll = setInterval(() => {
      const f = join(workDir, 'last_checkpoint');
      if (!saw && existsSync(f)) {
        saw = readFileSync(f, 'utf8').trim();
        child.kill(signal);
      }
    }, 10);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(poll);
      resolve({ code, sawCheckpoint: saw, stderr });
    });
  });
}

describe('segkit train', () => {
  const tmp = tempDir('segkit-train-');
  const root = join(tmp.dir, 'data');
  const cfgPath = join(tmp.dir, 'tiny.json');
  const ref = join(tmp.dir, 'ref');
  before(async () => {
    await writeBandsDataset(root);
    writeFileSync(cfgPath, JSON.stringify(config(root)));
  });
  after(() => tmp.cleanup());

  test('an uninterrupted run writes the work dir and learns', () => {
    const r = train(cfgPath, ref);
    assert.equal(r.status, 0, r.stderr);
    const files = readdirSync(ref);
    for (const f of ['config.json', 'log.txt', 'scalars.jsonl', 'curves.svg', 'last_checkpoint']) assert.ok(files.includes(f), `${f} missing from ${files.join(', ')}`);
    // maxKeepCheckpoints 2: iter_21 and iter_24 remain of the eight numbered checkpoints.
    assert.deepEqual(files.filter((f) => f.startsWith('iter_')).sort(), ['iter_21.safetensors', 'iter_24.safetensors']);
    assert.ok(files.some((f) => /^best_mIoU_iter_\d+\.safetensors$/.test(f)), 'best checkpoint missing');
    const curve = lossCurve(ref);
    assert.deepEqual(curve.map(([i]) => i), Array.from({ length: ITERS }, (_, i) => i + 1));
    const head = curve.slice(0, 4).reduce((a, [, l]) => a + l, 0) / 4;
    const tail = curve.slice(-4).reduce((a, [, l]) => a + l, 0) / 4;
    assert.ok(tail < 0.7 * head, `loss did not fall: first 4 mean ${head}, last 4 mean ${tail}`);
    const vals = readScalars(ref).filter((r) => r['val/mIoU'] !== undefined);
    assert.deepEqual(vals.map((r) => r.iter), [8, 16, 24]);
    assert.match(readFileSync(join(ref, 'curves.svg'), 'utf8'), /^<svg|<\?xml/);
  });

  test('SIGKILL after a checkpoint, then --resume, reproduces the loss curve', async () => {
    const dir = join(tmp.dir, 'killed');
    const k = await interrupt(cfgPath, dir, 'SIGKILL');
    assert.equal(k.code, null, 'killed by a signal');
    assert.match(k.sawCheckpoint, /^iter_\d+\.safetensors$/);
    const at = Number(/\d+/.exec(k.sawCheckpoint)![0]);
    assert.ok(at < ITERS, `the run finished (${k.sawCheckpoint}) before it could be killed`);
    const r = train(cfgPath, dir, '--resume');
    assert.equal(r.status, 0, r.stderr);
    assert.match(readFileSync(join(dir, 'log.txt'), 'utf8'), /resumed from .*iter_\d+\.safetensors at iteration \d+/);
    const want = lossCurve(ref);
    const got = lossCurve(dir);
    assert.deepEqual(got.map(([i]) => i), want.map(([i]) => i), 'each iteration logged once');
    got.forEach(([i, l], j) => assert.ok(Math.abs(l - want[j]![1]) <= 1e-6 * Math.max(1, Math.abs(want[j]![1])), `iteration ${i}: loss ${l} after resume, ${want[j]![1]} uninterrupted`));
  });

  test('Ctrl-C saves a checkpoint and exits 130; --resume finishes the same run', async () => {
    const dir = join(tmp.dir, 'sigint');
    const k = await interrupt(cfgPath, dir, 'SIGINT');
    assert.equal(k.code, 130, k.stderr);
    const latest = readFileSync(join(dir, 'last_checkpoint'), 'utf8').trim();
    const c = await loadCheckpoint(join(dir, latest));
    assert.ok(c.meta.iteration > 0 && c.meta.iteration < ITERS, `checkpoint at iteration ${c.meta.iteration}`);
    assert.ok(Object.keys(c.optimizer).length > 0, 'optimizer state saved');
    const r = train(cfgPath, dir, '--resume');
    assert.equal(r.status, 0, r.stderr);
    const want = lossCurve(ref);
    lossCurve(dir).forEach(([i, l], j) => assert.ok(Math.abs(l - want[j]![1]) <= 1e-6 * Math.max(1, Math.abs(want[j]![1])), `iteration ${i}: ${l} vs ${want[j]![1]}`));
  });

  test('--load-from starts a new run from the weights of a checkpoint', () => {
    const dir = join(tmp.dir, 'finetune');
    const r = train(cfgPath, dir, '--load-from', join(ref, 'iter_24.safetensors'), '--set', 'train.iters=2', '--set', 'train.valInterval=2');
    assert.equal(r.status, 0, r.stderr);
    assert.match(readFileSync(join(dir, 'log.txt'), 'utf8'), /loaded \d+ tensors from .*iter_24\.safetensors/);
    const start = lossCurve(dir)[0]![1];
    const scratch = lossCurve(ref)[0]![1];
    assert.ok(start < 0.7 * scratch, `first loss ${start} from trained weights, ${scratch} from scratch`);
    // The same start written into the config (a recipe's fine-tuning stage) gives the same first loss.
    const viaConfig = join(tmp.dir, 'finetune-config');
    const c = train(cfgPath, viaConfig, '--set', `loadFrom=${JSON.stringify(join(ref, 'iter_24.safetensors'))}`, '--set', 'train.iters=2', '--set', 'train.valInterval=2');
    assert.equal(c.status, 0, c.stderr);
    assert.equal(lossCurve(viaConfig)[0]![1], start);
    const missing = train(cfgPath, join(tmp.dir, 'finetune-missing'), '--set', 'loadFrom="nowhere/iter_9.safetensors"', '--set', 'train.iters=2');
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /loadFrom: nowhere\/iter_9\.safetensors does not exist; .* train the run that writes it first/);
  });

  test('wiseFt interpolates the last weights with the start checkpoint, validates them and keeps them if best', async () => {
    const dir = join(tmp.dir, 'wise-ft');
    const from = join(ref, 'iter_24.safetensors');
    const r = train(cfgPath, dir, '--load-from', from, '--set', 'wiseFt=0.25', '--set', 'train.iters=2', '--set', 'train.valInterval=2');
    assert.equal(r.status, 0, r.stderr);
    const [start, end, wise] = await Promise.all([from, join(dir, 'iter_2.safetensors'), join(dir, 'wise-ft_iter_2.safetensors')].map(loadCheckpoint));
    assert.deepEqual(wise!.meta.wiseFt, { alpha: 0.25, from });
    let floats = 0;
    for (const [k, t] of Object.entries(end!.model)) {
      const got = wise!.model[k]!;
      if (t.dtype !== 'float32') {
        assert.deepEqual([...got.data], [...t.data], `${k}: a ${t.dtype} tensor keeps its fine-tuned value`);
        continue;
      }
      floats++;
      const a = start!.model[k]!.f32;
      t.f32.forEach((v, i) => {
        const want = 0.75 * a[i]! + 0.25 * v;
        assert.ok(Math.abs(got.f32[i]! - want) <= 1e-6 * Math.max(1, Math.abs(want)), `${k}[${i}]: ${got.f32[i]} != 0.75·${a[i]} + 0.25·${v}`);
      });
    }
    assert.ok(floats > 10, `only ${floats} float tensors compared`);
    // Validated after the run's own last validation; the best checkpoint holds whichever scored higher.
    const scalars = readScalars(dir);
    const own = scalars.find((s) => s['val/mIoU'] !== undefined)!['val/mIoU']!;
    const mixed = scalars.find((s) => s['wise-ft/mIoU'] !== undefined)!['wise-ft/mIoU']!;
    assert.match(readFileSync(join(dir, 'log.txt'), 'utf8'), /validation of the WiSE-FT weights at iteration 2 /);
    const best = await loadCheckpoint(join(dir, 'best_mIoU_iter_2.safetensors'));
    assert.equal(best.meta.best!.value, Math.max(own, mixed));
    assert.equal(best.meta.wiseFt !== undefined, mixed > own, `best holds the WiSE-FT weights iff they scored higher (${mixed} against ${own})`);
    // Resuming the finished run (the start now named by the config's loadFrom, as recipes name it)
    // recomputes the same file: the step is deterministic.
    rmSync(join(dir, 'wise-ft_iter_2.safetensors'));
    const resumed = train(cfgPath, dir, '--resume', '--set', `loadFrom=${JSON.stringify(from)}`, '--set', 'wiseFt=0.25', '--set', 'train.iters=2', '--set', 'train.valInterval=2');
    assert.equal(resumed.status, 0, resumed.stderr);
    const again = await loadCheckpoint(join(dir, 'wise-ft_iter_2.safetensors'));
    for (const [k, t] of Object.entries(wise!.model)) assert.deepEqual([...again.model[k]!.data], [...t.data], k);
    assert.equal(readScalars(dir).filter((s) => s['wise-ft/mIoU'] !== undefined).length, 1, 'the resumed run replaces the WiSE-FT record, not adds a second');
    const alone = train(cfgPath, join(tmp.dir, 'wise-ft-no-start'), '--set', 'wiseFt=0.5', '--set', 'train.iters=2');
    assert.equal(alone.status, 1);
    assert.match(alone.stderr, /wiseFt 0\.5 interpolates with the checkpoint the run starts from; give loadFrom in the config or --load-from/);
  });

  test('a diverging run stops naming the iteration; the last checkpoint holds finite weights', async () => {
    const dir = join(tmp.dir, 'diverged');
    const r = train(cfgPath, dir, '--set', 'optimizer={"type":"sgd","lr":1e12}', '--set', 'schedule={"type":"constant"}', '--set', 'train.checkpointInterval=1');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /(loss is (NaN|-?Infinity)|weights became non-finite) at iteration \d+/);
    assert.match(r.stderr, /The last checkpoint \(.*iter_\d+\.safetensors\) is intact/);
    const c = await loadCheckpoint(join(dir, readFileSync(join(dir, 'last_checkpoint'), 'utf8').trim()));
    for (const [k, t] of Object.entries(c.model)) if (t.dtype === 'float32') assert.ok(t.f32.every(Number.isFinite), `${k} is not finite in the last checkpoint`);
  });

  test('--resume without a checkpoint and a bad config are clear errors', () => {
    const r = train(cfgPath, join(tmp.dir, 'empty'), '--resume');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--resume: no checkpoint in .*empty/);
    const bad = join(tmp.dir, 'bad.json');
    const { optimizer, ...rest } = config(root) as Record<string, unknown>;
    writeFileSync(bad, JSON.stringify({ ...rest, optimzer: optimizer }));
    const b = train(bad, join(tmp.dir, 'bad'));
    assert.notEqual(b.status, 0);
    assert.match(b.stderr, /optimzer: unknown key \(did you mean 'optimizer'\?\)/);
    assert.match(b.stderr, /optimizer: required/);
  });
});
