/** PyTorch checkpoints and state-dict files on disk (Node only; the formats live in pth.ts and safetensors.ts). */
import { open, type FileHandle } from 'node:fs/promises';
import type { HostTensor } from '../engine/host-tensor.js';
import { CheckpointError } from './checkpoint-error.js';
import { extractStateDict, loadTorchCheckpoint, looksLikeTorchCheckpoint, type TorchCheckpoint, type TorchLoadOptions } from './pth.js';
import { parseSafetensors } from './safetensors.js';
import type { ByteSource } from './zip.js';

/** Reads from an open file at given offsets; a ZIP checkpoint is read entry by entry, never whole. */
function fileSource(fh: FileHandle, size: number, path: string): ByteSource {
  return {
    size,
    async read(offset, length) {
      const out = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        let bytesRead: number;
        try {
          ({ bytesRead } = await fh.read(out, got, Math.min(length - got, 1 << 30), offset + got));
        } catch (e) {
          throw new CheckpointError(path, `read failed at byte ${offset + got}: ${(e as Error).message}`, { cause: e });
        }
        if (bytesRead === 0) throw new CheckpointError(path, `file shrank while reading (wanted ${length} bytes at ${offset}, got ${got})`);
        got += bytesRead;
      }
      return out;
    },
  };
}

async function withFile<T>(path: string, fn: (src: ByteSource) => Promise<T>): Promise<T> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new CheckpointError(path, `cannot open: ${(e as Error).message}`, { cause: e });
  }
  try {
    const { size } = await fh.stat();
    return await fn(fileSource(fh, size, path));
  } finally {
    await fh.close().catch(() => {});
  }
}

/** Reads a .pth/.pt file written by torch.save (ZIP or legacy format); see loadTorchCheckpoint. */
export async function readTorchCheckpoint(path: string, options?: TorchLoadOptions): Promise<TorchCheckpoint> {
  return withFile(path, (src) => loadTorchCheckpoint(src, path, options));
}

export interface StateDictFile {
  format: 'zip' | 'legacy' | 'safetensors';
  tensors: Record<string, HostTensor>;
  /** Dtype conversions made while loading. */
  notes: string[];
  /** For .pth: where the state dict was found, what was dropped or ignored (see extractStateDict). */
  path: string[];
  dropped: string[];
  ignored: string[];
  strippedPrefix?: string;
  /** safetensors metadata ({} for .pth). */
  metadata: Record<string, string>;
}

/**
 * Reads the weights of a PyTorch checkpoint (.pth/.pt, state dict found inside common wrappers) or
 * of a safetensors file, told apart by content rather than by extension.
 */
export async function readStateDictFile(path: string, options?: TorchLoadOptions): Promise<StateDictFile> {
  return withFile(path, async (src) => {
    const head = await src.read(0, Math.min(src.size, 9));
    if (looksLikeTorchCheckpoint(head)) {
      const ck = await loadTorchCheckpoint(src, path, options);
      const sd = extractStateDict(ck.object, path);
      return { format: ck.format, notes: ck.notes, metadata: {}, ...sd };
    }
    if (head.length === 9 && head[8] === 0x7b /* '{' starts the JSON header */) {
      const st = parseSafetensors(await src.read(0, src.size), path);
      const tensors: Record<string, HostTensor> = {};
      const notes = new Set<string>();
      for (const name of st.names()) {
        const t = st.get(name);
        const dt = st.info(name).dtype;
        if (dt === 'F64' || dt === 'BF16' || dt === 'F16') notes.add(`${dt} tensors converted to float32`);
        Object.defineProperty(tensors, name, { value: t, enumerable: true, writable: true, configurable: true });
      }
      return { format: 'safetensors', tensors, notes: [...notes], metadata: st.metadata, path: [], dropped: [], ignored: [] };
    }
    throw new CheckpointError(path, 'is neither a PyTorch checkpoint (.pth/.pt: a ZIP archive or a pickle stream) nor a safetensors file');
  });
}
