/**
 * The files the web app serves beside its bundle, copied at build time (and served from where they
 * are by the dev server): onnxruntime-web's wasm module and its loader, and the shipped models. The
 * app sets `wasmPaths: 'ort/'` and `modelBaseUrl: 'models/'`, so nothing is fetched from a CDN.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** onnxruntime-web's JSEP build (wasm and WebGPU in one module), which `import 'onnxruntime-web'` loads. */
export const ORT_FILES = ['ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'];

export interface ServedFile {
  /** Absolute source path. */
  from: string;
  /** Path under the served folder, '/'-separated. */
  to: string;
}

/** onnxruntime-web's dist folder, wherever npm put the package. */
export function ortDistDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve(`onnxruntime-web/${ORT_FILES[1]}`));
}

/** Every file to serve: `ort/<file>` and `models/<name>/model.safetensors`. */
export function servedFiles(repoRoot: string): ServedFile[] {
  const ort = ortDistDir();
  const files = ORT_FILES.map((f) => ({ from: join(ort, f), to: `ort/${f}` }));
  const models = join(repoRoot, 'models');
  if (existsSync(models)) {
    for (const name of readdirSync(models).sort()) {
      const from = join(models, name, 'model.safetensors');
      if (existsSync(from)) files.push({ from, to: `models/${name}/model.safetensors` });
    }
  }
  return files;
}

/** The headers that make a page cross-origin isolated, so onnxruntime-web may use threads. */
export const ISOLATION_HEADERS: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.safetensors': 'application/octet-stream',
};
