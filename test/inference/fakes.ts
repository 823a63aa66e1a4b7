// Fake models for the inference tests: `forward` functions with known behaviour, and float64
// reference versions of the same maps built from test/reference (independent of src/inference).
import { HostTensor } from '../../src/engine/host-tensor.js';
import type { ForwardFn } from '../../src/inference/index.js';
import { arr, type Arr } from '../reference/ndarray.js';
import { avgPool2d, conv2d } from '../reference/ops.js';

/** K×C weights and K biases of a per-pixel linear map (a 1×1 convolution). */
export const WEIGHTS = [
  [0.5, -1.0, 0.25],
  [1.5, 0.3, -0.7],
  [-0.2, 0.8, 1.1],
  [0.1, 0.1, -0.4],
];
export const BIAS = [0.1, -0.3, 0.2, 0.05];

/** What a fake forward saw: the shape of every batch, and the batches themselves. */
export interface Recorder {
  shapes: number[][];
  batches: Float32Array[];
}

/**
 * A model computing the per-pixel linear map, then averaging `pool`×`pool` blocks (a decoder at
 * stride `pool`); the input size must be a multiple of `pool`, as a real model's would.
 */
export function linearForward(pool = 1, rec?: Recorder, weights = WEIGHTS, bias = BIAS): ForwardFn {
  return async (x) => {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    rec?.shapes.push([...x.shape]);
    rec?.batches.push(x.f32.slice());
    if (h % pool || w % pool) throw new Error(`fake model: ${h}×${w} is not a multiple of ${pool}`);
    const k = weights.length;
    const oh = h / pool;
    const ow = w / pool;
    const out = new Float32Array(n * k * oh * ow);
    const src = x.f32;
    for (let b = 0; b < n; b++)
      for (let kc = 0; kc < k; kc++)
        for (let y = 0; y < oh; y++)
          for (let xx = 0; xx < ow; xx++) {
            let s = 0;
            for (let dy = 0; dy < pool; dy++)
              for (let dx = 0; dx < pool; dx++) {
                let v = bias[kc]!;
                for (let ci = 0; ci < c; ci++) v += weights[kc]![ci]! * src[((b * c + ci) * h + y * pool + dy) * w + xx * pool + dx]!;
                s += v;
              }
            out[((b * k + kc) * oh + y) * ow + xx] = s / (pool * pool);
          }
    return new HostTensor(out, [n, k, oh, ow]);
  };
}

/** Float64 reference of linearForward: 1×1 conv, then pool×pool average pooling. */
export function linearRef(x: Arr, pool = 1, weights = WEIGHTS, bias = BIAS): Arr {
  const k = weights.length;
  const c = weights[0]!.length;
  const y = conv2d(x, arr([k, c, 1, 1], weights.flat()), arr([k], bias));
  return pool === 1 ? y : avgPool2d(y, { kernel: [pool, pool] });
}

/** Mirror the last axis of an N×C×H×W reference array. */
export function flipRef(x: Arr): Arr {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const out = arr(x.shape);
  for (let p = 0; p < n * c * h; p++) for (let j = 0; j < w; j++) out.data[p * w + j] = x.data[p * w + w - 1 - j]!;
  return out;
}

/** A float32 HostTensor and its float64 reference twin with the same values. */
export function randomImage(shape: number[], seed: number): { t: HostTensor; a: Arr } {
  let s = seed >>> 0;
  const n = shape.reduce((p, d) => p * d, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 4294967296) * 4 - 2;
  }
  return { t: new HostTensor(data, shape), a: arr(shape, data) };
}
