/**
 * The browser's two onnxruntime-web backends, shared by `createSegmenter` and
 * `loadExportedSegmenter`: wasm (CPU, the default) and WebGPU, checked before any session starts.
 */
import { onnxruntimeWeb as ort, webRuntime } from '../engine/runtime/web.js';
import { createOrtRuntime } from '../engine/runtime/ort.js';
import type { Runtime } from '../engine/runtime/runtime.js';

export type WebBackend = 'wasm' | 'webgpu';

/**
 * WebGPU first; onnxruntime-web places the nodes WebGPU cannot run on its wasm CPU provider. That
 * placement is by design (shape arithmetic stays on the CPU), and onnxruntime's warning about it,
 * printed as a console error at every session, is turned off: errors still show.
 */
const webgpuRuntime: Runtime = createOrtRuntime('onnxruntime-web (webgpu)', ort as never, 0, ['webgpu', 'wasm'], 3);

/**
 * The runtime for `backend` (default wasm). Fails early, with the reason, where WebGPU cannot run:
 * sessions start at the first run, and onnxruntime's own error there does not say that the GPU
 * was the problem. `who` starts the messages.
 */
export async function webBackendRuntime(backend: WebBackend | undefined, who: string): Promise<{ backend: WebBackend; runtime: Runtime }> {
  const b = backend ?? 'wasm';
  if (b !== 'wasm' && b !== 'webgpu') throw new Error(`${who}: backend must be 'wasm' or 'webgpu', got ${JSON.stringify(b)}`);
  if (b === 'wasm') return { backend: b, runtime: webRuntime };
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
  if (!gpu) throw new Error(`${who}: backend 'webgpu' needs WebGPU, and this browser has none (navigator.gpu is undefined; it also needs a secure context, https or localhost); use backend: 'wasm'`);
  if (!(await gpu.requestAdapter())) throw new Error(`${who}: backend 'webgpu': navigator.gpu.requestAdapter() found no usable GPU adapter (WebGPU disabled or no supported GPU); use backend: 'wasm'`);
  return { backend: b, runtime: webgpuRuntime };
}
