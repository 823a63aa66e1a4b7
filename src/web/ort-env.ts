/**
 * onnxruntime-web's global settings, which it reads once, when the first session starts its wasm
 * module: the thread count and where the .wasm/.mjs files are. Later changes are ignored by
 * onnxruntime, so this module applies the first request and reports what is in force afterwards.
 */
import { onnxruntimeWeb as ort } from '../engine/runtime/web.js';

export interface WasmSettings {
  /** Intra-op threads asked for (default: the browser's core count, at most 4). */
  threads?: number;
  /**
   * Where onnxruntime-web's `ort-wasm-simd-threaded.jsep.{mjs,wasm}` are served: a URL prefix
   * ending in '/', relative to the page (or absolute). Default: next to the script that bundles onnxruntime-web
   * (onnxruntime-web's own rule). Never a CDN.
   */
  wasmPaths?: string;
}

/** What onnxruntime-web runs with: the threads in force and whether the page can use threads at all. */
export interface WasmState {
  threads: number;
  crossOriginIsolated: boolean;
}

let applied: WasmState | undefined;

/**
 * A prefix made absolute against the page: onnxruntime-web `import()`s its loader from it, and a
 * relative specifier there would resolve against the bundle's folder, not the page.
 */
function absoluteUrl(prefix: string): string {
  const g = globalThis as { document?: { baseURI?: string }; location?: { href?: string } };
  const base = g.document?.baseURI ?? g.location?.href;
  return base ? new URL(prefix, base).href : prefix;
}

const MAX_DEFAULT_THREADS = 4;

function defaultThreads(): number {
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  return Math.max(1, Math.min(MAX_DEFAULT_THREADS, cores));
}

/**
 * Sets `ort.env.wasm.numThreads` and `wasmPaths` before the first session. Threads need
 * SharedArrayBuffer, which browsers give only to cross-origin-isolated pages (COOP: same-origin and
 * COEP: require-corp headers); elsewhere the count is 1, so onnxruntime does not warn and fall back.
 */
export function configureWasm(s: WasmSettings = {}): WasmState {
  if (s.threads !== undefined && !(Number.isInteger(s.threads) && s.threads >= 1)) {
    throw new Error(`createSegmenter: threads must be a positive integer, got ${s.threads}`);
  }
  if (s.wasmPaths !== undefined && (typeof s.wasmPaths !== 'string' || !s.wasmPaths.endsWith('/'))) {
    throw new Error(`createSegmenter: wasmPaths must be a URL prefix ending in '/', got ${JSON.stringify(s.wasmPaths)}`);
  }
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const threads = isolated ? (s.threads ?? defaultThreads()) : 1;
  if (applied) {
    if (threads !== applied.threads) {
      console.warn(`segkit: onnxruntime-web already runs with ${applied.threads} thread(s) in this page; the request for ${threads} is ignored (reload the page to change it)`);
    }
    return applied;
  }
  ort.env.wasm.numThreads = threads;
  if (s.wasmPaths !== undefined) ort.env.wasm.wasmPaths = absoluteUrl(s.wasmPaths);
  applied = { threads, crossOriginIsolated: isolated };
  return applied;
}
