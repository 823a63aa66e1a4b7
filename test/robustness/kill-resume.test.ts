// Crash-safety of `segkit train` (the short CI version of scripts/kill-resume.ts): two runs of a tiny
// job are SIGKILLed at seeded moments and resumed until they complete; after every kill each
// checkpoint must parse completely and `last_checkpoint` must name one, and the final loss curve must
// equal an uninterrupted run's. The checkers themselves are first shown to catch a half-written
// checkpoint, a dangling `last_checkpoint` and a wrong curve, so a pass means something.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { saveCheckpoint } from '../../src/train/checkpoint.js';
import { checkWorkDir, compareScalars, formatTable, killResume } from '../../scripts/kill-resume.js';
import { tempDir } from '../data/helpers.js';

describe('kill -9 and --resume', () => {
  test('the checkers catch a half-written checkpoint, a dangling last_checkpoint and a wrong curve', async () => {
    const tmp = tempDir('segkit-kill-check-');
    try {
      const meta = (iteration: number) => ({ format: 'segkit-checkpoint/1' as const, iteration, model: { name: 'segformer', options: {} }, classes: ['a', 'b'] });
      const w = new HostTensor(Float32Array.from({ length: 64 }, (_, i) => i), [8, 8]);
      await saveCheckpoint(join(tmp.dir, 'iter_4.safetensors'), { meta: meta(4), model: { w }, optimizer: { 'w.m': w } });
      writeFileSync(join(tmp.dir, 'last_checkpoint'), 'iter_4.safetensors\n');
      const clean = await checkWorkDir(tmp.dir);
      assert.deepEqual(clean, { latest: 'iter_4.safetensors', tmp: [], failures: [] });

      const bytes = readFileSync(join(tmp.dir, 'iter_4.safetensors'));
      writeFileSync(join(tmp.dir, 'iter_6.safetensors'), bytes.subarray(0, bytes.length - 10)); // the tensor data cut short
      writeFileSync(join(tmp.dir, 'iter_8.safetensors'), bytes); // holds iteration 4
      writeFileSync(join(tmp.dir, '.iter_10.safetensors.1234.0a1b2c3d4e5f.tmp'), bytes.subarray(0, 100));
      writeFileSync(join(tmp.dir, 'last_checkpoint'), 'iter_10.safetensors\n');
      const bad = await checkWorkDir(tmp.dir);
      assert.equal(bad.latest, 'iter_10.safetensors');
      assert.deepEqual(bad.tmp, [{ name: '.iter_10.safetensors.1234.0a1b2c3d4e5f.tmp', bytes: 100 }]);
      assert.equal(bad.failures.length, 3, bad.failures.join('\n'));
      assert.match(bad.failures[0]!, /^iter_6\.safetensors \(\d+ bytes\) does not parse/);
      assert.match(bad.failures[1]!, /^iter_8\.safetensors: holds iteration 4, its name says 8/);
      assert.match(bad.failures[2]!, /last_checkpoint names iter_10\.safetensors, which does not exist/);
    } finally {
      tmp.cleanup();
    }

    const ref: Record<string, number>[] = [{ iter: 1, loss: 1.25 }, { iter: 2, loss: 0.5 }, { iter: 2, 'val/mIoU': 0.75 }];
    assert.deepEqual(compareScalars(ref.map((r) => ({ ...r })), ref), { failures: [], maxRelDiff: 0 });
    const off = compareScalars([{ iter: 1, loss: 1.25 * (1 + 2e-6) }, ref[1]!, ref[2]!], ref);
    assert.equal(off.failures.length, 1);
    assert.ok(Math.abs(off.maxRelDiff - 2e-6) < 1e-9, `${off.maxRelDiff}`);
    assert.deepEqual(compareScalars([{ iter: 1, loss: 1.25 * (1 + 5e-7) }, ref[1]!, ref[2]!], ref).failures, []);
    // An iteration logged twice (a resume that did not drop what followed its checkpoint).
    assert.match(compareScalars([ref[0]!, ref[1]!, ref[1]!, ref[2]!], ref).failures.join('\n'), /loss logged at iterations \[1,2,2\], the reference at \[1,2\]/);
  });

  test('a run killed twice and a run killed once resume from the last complete checkpoint and reproduce the curve', { timeout: 120_000 }, async () => {
    // 4 iterations (resumes land mid-epoch), a checkpoint after each and a validation (best_* checkpoint)
    // every 2; kills fall after the reference run's first checkpoint so each run has something to
    // resume from. Seed 2 draws 2 kills for run 1 and 1 for run 2: seven trainer processes in all.
    const rep = await killResume({ runs: 2, seed: 2, iters: 4, maxKills: 2, checkpointInterval: 1, valInterval: 2, window: 'after-first-checkpoint' });
    const table = formatTable(rep);
    assert.deepEqual(rep.failures, [], table);
    for (const r of rep.runs) {
      assert.ok(r.killMoments.length >= 1, `run ${r.run} was never killed:\n${table}`);
      assert.ok(r.curveEqual, table);
    }
    assert.ok(
      rep.runs.some((r) => r.resumes > 0 && r.checkpointsSeen.some((c) => c !== null)),
      `no kill left a checkpoint to resume from:\n${table}`,
    );
  });
});
