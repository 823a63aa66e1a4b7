/** Small helpers shared by the layout files. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { DataError } from '../errors.js';
import type { DatasetOptions } from './types.js';

/** Resolves and checks the dataset root; the error says what the folder should contain. */
export function requireRoot(name: string, opts: DatasetOptions, expected: string): string {
  if (typeof opts.root !== 'string' || opts.root === '') {
    throw new DataError(`${name}: the dataset needs a root folder (option 'root'; expected layout: ${expected})`, 'layout');
  }
  const root = resolve(opts.root);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new DataError(`${name}: root ${root} is not a folder (expected layout: ${expected})`, 'layout', root);
  }
  return root;
}

/** Sorted names in a folder, or a layout error naming the folder and what belongs in it. */
export function listDir(dir: string, what: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new DataError(`expected folder ${dir} (${what}) does not exist`, 'layout', dir);
  return readdirSync(dir).sort();
}

/** Checks an option against its accepted values. */
export function oneOfOption<T extends string>(dataset: string, key: string, value: unknown, valid: readonly T[]): T {
  if (typeof value !== 'string' || !valid.includes(value as T)) {
    throw new Error(`${dataset}: option '${key}' must be one of ${valid.map((v) => `'${v}'`).join(', ')}; got ${JSON.stringify(value)}`);
  }
  return value as T;
}

export const IMAGE_EXTS = ['.jpg', '.jpeg', '.png', '.webp'] as const;

export function isImageFile(name: string): boolean {
  const l = name.toLowerCase();
  return IMAGE_EXTS.some((e) => l.endsWith(e));
}
