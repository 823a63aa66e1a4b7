import * as ort from 'onnxruntime-web';
import { createOrtRuntime } from './ort.js';
import type { Runtime } from './runtime.js';

/**
 * onnxruntime-web: WebGPU when asked for, else wasm. Threads come from `ort.env.wasm.numThreads`
 * and only work on cross-origin-isolated pages; configure them before the first session.
 */
export const webRuntime: Runtime = createOrtRuntime('onnxruntime-web', ort as never, 0, ['wasm']);

export { ort as onnxruntimeWeb };
