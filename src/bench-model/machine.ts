/** The machine a benchmark ran on, recorded beside its numbers so results can be compared fairly. */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, cpus, platform } from 'node:os';

/** CPU, core count, Node and platform. */
export interface MachineInfo {
  /** Model name of the first logical CPU (`os.cpus()[0].model`); null where the OS does not say. */
  cpu: string | null;
  /** Logical CPUs (`os.cpus().length`). */
  cores: number;
  /** Node.js version, e.g. 'v20.11.1'. */
  node: string;
  platform: string;
  arch: string;
}

/** Describes this machine. */
export function machineInfo(): MachineInfo {
  const list = cpus();
  return { cpu: list[0]?.model.trim() || null, cores: list.length, node: process.version, platform: platform(), arch: arch() };
}

/**
 * The installed onnxruntime-node's version, from its package.json; null when that file cannot be
 * found or read (the version is informative, not needed to benchmark).
 */
export async function onnxruntimeNodeVersion(): Promise<string | null> {
  try {
    const path = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
    const version = (JSON.parse(await readFile(path, 'utf8')) as { version?: unknown }).version;
    return typeof version === 'string' ? version : null;
  } catch {
    return null;
  }
}
