import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { createOrtRuntime } from './ort.js';
import type { Runtime } from './runtime.js';

/** onnxruntime-node on the CPU, one intra-op thread per core by default. */
export const nodeRuntime: Runtime = createOrtRuntime('onnxruntime-node', ort as never, availableParallelism(), ['cpu']);
