// Runs traced engine code on onnxruntime-node for tests, converting to and from the float64
// reference arrays of test/reference.
import { compile, type TraceResult } from '../../src/engine/compile.js';
import type { DType } from '../../src/engine/dtype.js';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { type Arr, makeRng, randn } from '../reference/ndarray.js';

/** Rounds a reference array to float32 values, so the reference sees exactly what the engine sees. */
export function f32(a: Arr): Arr {
  return { data: Float64Array.from(Float32Array.from(a.data)), shape: [...a.shape] };
}

export const rng = makeRng(1234);

/** A random float32-representable reference array. */
export const rnd = (shape: number[], std = 1): Arr => f32(randn(shape, rng, std));

export interface IntInput {
  ints: number[];
  shape: number[];
  dtype?: DType;
}

export function toHost(a: Arr | IntInput): HostTensor {
  if ('ints' in a) {
    const dtype = a.dtype ?? 'int64';
    if (dtype === 'int64') return new HostTensor(BigInt64Array.from(a.ints, (v) => BigInt(v)), a.shape, 'int64');
    if (dtype === 'bool') return new HostTensor(Uint8Array.from(a.ints), a.shape, 'bool');
    return new HostTensor(Int32Array.from(a.ints), a.shape, 'int32');
  }
  return new HostTensor(Float32Array.from(a.data), a.shape);
}

/** Traces fn over inputs of the given arrays' shapes, runs it in onnxruntime, returns the outputs. */
export async function runTraced(fn: (...xs: Tensor[]) => TraceResult, inputs: (Arr | IntInput)[]): Promise<any> {
  const hosts = inputs.map(toHost);
  const c = compile(fn, { runtime: nodeRuntime, threads: 1 });
  try {
    return await c.run(...hosts);
  } finally {
    await c.dispose();
  }
}

/** Host tensor values as numbers (int64 included). */
export function values(t: HostTensor): { data: number[]; shape: number[] } {
  return { data: Array.from(t.data as ArrayLike<number | bigint>, Number), shape: t.shape };
}

/** Resize targets both the forward and the gradient tests sweep: up/down, by size and by scale. */
export const RESIZE_TARGETS: [string, { size: [number, number] } | { scale: [number, number] }][] = [
  ['up by size', { size: [11, 16] }],
  ['down by size', { size: [3, 4] }],
  ['up ×2 by scale', { scale: [2, 2] }],
  ['down ×0.5 by scale', { scale: [0.5, 0.5] }],
  ['non-integer scale 1.7', { scale: [1.7, 1.7] }],
  ['to 1×1', { size: [1, 1] }],
];
