/** safetensors files on disk (Node only; the format itself lives in safetensors.ts). */
import { open } from 'node:fs/promises';
import type { HostTensor } from '../engine/host-tensor.js';
import { writeFileAtomic } from './atomic-file.js';
import { parseSafetensors, serializeSafetensors, type SafetensorsFile } from './safetensors.js';

/**
 * Reads and validates a safetensors file; every error message starts with the path.
 * The file is read whole into memory (fs.readFile caps at 2 GiB, so this reads by chunks into one
 * buffer, which allows files up to the typed-array limit, 4 GiB on 64-bit Node 20).
 */
export async function readSafetensorsFile(path: string): Promise<SafetensorsFile> {
  let bytes: Uint8Array;
  try {
    const fh = await open(path, 'r');
    try {
      const { size } = await fh.stat();
      bytes = new Uint8Array(size);
      let got = 0;
      while (got < size) {
        const { bytesRead } = await fh.read(bytes, got, Math.min(size - got, 1 << 30), got);
        if (bytesRead === 0) throw new Error(`file shrank while reading (${got} of ${size} bytes)`);
        got += bytesRead;
      }
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new Error(`${path}: cannot read safetensors file: ${(err as Error).message}`, { cause: err });
  }
  return parseSafetensors(bytes, path);
}

/** Writes tensors (and optional string metadata) as a safetensors file, atomically. */
export async function writeSafetensorsFile(
  path: string,
  tensors: Record<string, HostTensor> | Map<string, HostTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}
