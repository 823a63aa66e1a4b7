// Checkpoint files of a work dir: partial writes left by a killed process are removed, live ones and
// real checkpoints are kept.
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { removeStaleTemporaries } from '../../src/train/checkpoint.js';
import { tempDir } from '../data/helpers.js';

test('removeStaleTemporaries deletes the partial writes of dead processes only', async () => {
  const { dir, cleanup } = tempDir('segkit-ckpt-');
  try {
    // pid 2^31−2 is above any Linux pid_max: that process cannot exist.
    const dead = '.iter_4.safetensors.2147483646.a1b2c3.tmp';
    const live = `.iter_6.safetensors.${process.pid}.d4e5f6.tmp`;
    for (const f of [dead, live, 'iter_4.safetensors', 'last_checkpoint', '.notes.txt']) writeFileSync(join(dir, f), 'x');
    assert.deepEqual(await removeStaleTemporaries(dir), [dead]);
    assert.deepEqual(readdirSync(dir).sort(), [live, '.notes.txt', 'iter_4.safetensors', 'last_checkpoint'].sort());
  } finally {
    cleanup();
  }
});
