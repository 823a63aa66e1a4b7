/**
 * Writes an export to disk (Node): the .onnx file and, beside it, transformers.js's
 * `config.json` and `preprocessor_config.json`, each written atomically (a crash leaves the old
 * file or the new one, never a truncated mix).
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../io/atomic-file.js';
import type { ExportedModel } from './export-model.js';
import { CONFIG_FILE, PREPROCESSOR_FILE, configJson, preprocessorJson } from './sidecars.js';

export interface WrittenFiles {
  onnx: string;
  config: string;
  preprocessor: string;
}

export async function writeExport(path: string, e: ExportedModel): Promise<WrittenFiles> {
  if (!path.endsWith('.onnx')) throw new Error(`--out ${path}: expected a file name ending in .onnx`);
  const dir = dirname(resolve(path));
  await mkdir(dir, { recursive: true });
  const files = { onnx: path, config: join(dir, CONFIG_FILE), preprocessor: join(dir, PREPROCESSOR_FILE) };
  await writeFileAtomic(files.onnx, e.bytes);
  await writeFileAtomic(files.config, `${JSON.stringify(configJson(e.contract), null, 2)}\n`);
  await writeFileAtomic(files.preprocessor, `${JSON.stringify(preprocessorJson(e.contract), null, 2)}\n`);
  return files;
}
