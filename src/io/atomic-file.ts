/**
 * Crash-safe file replacement (Node only). Checkpoints and exported weights are written with this so
 * that an interrupted run (crash, Ctrl-C, full disk) leaves either the old file or the new one, never
 * a truncated mix.
 */
import { randomBytes } from 'node:crypto';
import { open, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `data` to `path` atomically: the bytes go to a temporary file in the same directory (rename is
 * only atomic within one filesystem), are fsynced, and the temporary file is renamed over the target;
 * then the directory is fsynced so the rename itself survives a power loss. On any failure the temporary
 * file is removed and the old target is left untouched.
 * A symlinked target has the file it points to replaced, and an existing target keeps its permissions.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const target = await realpath(path).catch(() => path);
  const dir = dirname(target);
  // Hidden, unique name: concurrent writers of the same target never share a temporary file.
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const mode = await stat(target).then((s) => s.mode & 0o7777, () => undefined);
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(tmp, 'wx'); // 'x': fail rather than clobber a file that happens to have the name
    if (mode !== undefined) await fh.chmod(mode);
    await fh.writeFile(data);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, target);
  } catch (err) {
    await fh?.close().catch(() => {});
    await rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
  await syncDir(dir);
}

/** fsyncs a directory; some platforms (Windows) and filesystems refuse, which is not an error here. */
async function syncDir(dir: string): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // best effort: the data itself is already durable, only the rename's durability is at stake
  } finally {
    await fh?.close().catch(() => {});
  }
}
