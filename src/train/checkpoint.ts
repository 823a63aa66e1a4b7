/**
 * Training checkpoints on disk (the format is in checkpoint-format.ts) and the work dir's
 * `last_checkpoint` pointer. Files are written atomically: a crash leaves the previous file.
 */
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic-file.js';
import { readSafetensorsFile } from '../io/safetensors-node.js';
import { checkpointFromSafetensors, serializeCheckpoint, type Checkpoint } from './checkpoint-format.js';

export type { Checkpoint, CheckpointMeta } from './checkpoint-format.js';

/** Writes a checkpoint atomically (temporary file, fsync, rename). */
export async function saveCheckpoint(path: string, c: Checkpoint): Promise<void> {
  await writeFileAtomic(path, serializeCheckpoint(c));
}

/** Reads a checkpoint written by saveCheckpoint; errors name the file and what is wrong. */
export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  return checkpointFromSafetensors(await readSafetensorsFile(path));
}

/** The file that names the newest complete checkpoint of a work dir (mmseg's `last_checkpoint`). */
export const LAST_CHECKPOINT = 'last_checkpoint';

/** Points `last_checkpoint` at a checkpoint file (after the checkpoint itself is durable). */
export async function markLatest(workDir: string, fileName: string): Promise<void> {
  await writeFileAtomic(join(workDir, LAST_CHECKPOINT), `${fileName}\n`);
}

/** The newest complete checkpoint of a work dir, or null when there is none. */
export async function latestCheckpoint(workDir: string): Promise<string | null> {
  const text = await readFile(join(workDir, LAST_CHECKPOINT), 'utf8').catch(() => null);
  const name = text?.trim();
  return name ? join(workDir, name) : null;
}

/** Deletes numbered checkpoints beyond the newest `keep`, sparing the ones named in `spare`. */
export async function pruneCheckpoints(workDir: string, keep: number, spare: readonly string[]): Promise<void> {
  if (keep <= 0) return;
  const numbered = (await readdir(workDir))
    .map((f) => ({ f, m: /^iter_(\d+)\.safetensors$/.exec(f) }))
    .filter((x) => x.m)
    .sort((a, b) => Number(b.m![1]) - Number(a.m![1]));
  for (const { f } of numbered.slice(keep)) if (!spare.includes(f)) await rm(join(workDir, f), { force: true });
}

/** Whether a process id is alive (signal 0 tests without signalling). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files of checkpoint writes that a killed process left behind
 * (`.<name>.safetensors.<pid>.<random>.tmp`, see writeFileAtomic), when that process is gone.
 * They are never read (resume follows `last_checkpoint`), but each can be as large as a checkpoint.
 */
export async function removeStaleTemporaries(workDir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const f of await readdir(workDir).catch(() => [] as string[])) {
    const m = /^\..+\.(\d+)\.[0-9a-f]+\.tmp$/.exec(f);
    if (!m || alive(Number(m[1]))) continue;
    await rm(join(workDir, f), { force: true });
    removed.push(f);
  }
  return removed;
}
