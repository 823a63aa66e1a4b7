/** segkit for the browser: the core plus onnxruntime-web (wasm, WebGPU). */
export * from './core.js';
export { webRuntime, onnxruntimeWeb } from './engine/runtime/web.js';
