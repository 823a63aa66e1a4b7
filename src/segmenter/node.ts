/**
 * `createSegmenter` for Node.js: a shipped model by name (`models/<name>/model.safetensors` in the
 * package; 'camvid' road scenes, 'portrait' person/background) or a segkit checkpoint file, run on
 * onnxruntime-node with sharp decoding images.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeCodec } from '../data/image-node.js';
import { nodeRuntime } from '../engine/runtime/node.js';
import { loadCheckpoint } from '../train/checkpoint.js';
import { Segmenter, type SegmenterOptions } from './segmenter.js';

/** The package's root folder (works from src/ under tsx and from dist/src/ when built). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('segkit: cannot find the package root (no package.json above the module)');
    dir = up;
  }
  return dir;
}

/** Names of the models shipped in the package's models/ folder. */
export function shippedModels(): string[] {
  const dir = join(packageRoot(), 'models');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((n) => existsSync(join(dir, n, 'model.safetensors'))).sort();
}

/** The checkpoint file a name or path stands for; errors list the shipped names. */
export function resolveModelFile(nameOrPath: string): string {
  const shipped = join(packageRoot(), 'models', nameOrPath, 'model.safetensors');
  if (/^[a-z0-9-]+$/.test(nameOrPath) && existsSync(shipped)) return shipped;
  if (existsSync(nameOrPath)) return nameOrPath;
  const names = shippedModels();
  throw new Error(`no model '${nameOrPath}': not a shipped model (${names.length ? names.join(', ') : 'none shipped in this build'}) and no such checkpoint file`);
}

/** Loads a shipped model or a checkpoint and compiles it for inference on onnxruntime-node. */
export async function createSegmenter(nameOrPath: string, o: SegmenterOptions = {}): Promise<Segmenter> {
  const file = resolveModelFile(nameOrPath);
  return Segmenter.fromCheckpoint(await loadCheckpoint(file), nodeCodec, nodeRuntime, o, file);
}
