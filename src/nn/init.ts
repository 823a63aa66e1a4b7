import { Rng } from '../data/rng.js';
import { HostTensor } from '../engine/host-tensor.js';
import { Parameter } from '../engine/parameter.js';
import { numel } from '../engine/shape.js';

/**
 * Weight initialisers matching PyTorch's defaults, drawing from a seeded generator.
 * Like torch.manual_seed, `manualSeed` resets the default generator layers use when none is given.
 */
let defaultRng = new Rng(0);

export function manualSeed(seed: number): void {
  defaultRng = new Rng(seed);
}

export function getDefaultRng(): Rng {
  return defaultRng;
}

/** fan_in and fan_out of a weight of shape [out, in, ...kernel] (PyTorch's _calculate_fan_in_and_fan_out). */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new Error(`fans: need a weight of rank ≥ 2, got [${shape}]`);
  const receptive = numel(shape.slice(2));
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

function filled(shape: readonly number[], f: (i: number) => number): Parameter {
  const d = new Float32Array(numel(shape));
  for (let i = 0; i < d.length; i++) d[i] = f(i);
  return new Parameter(new HostTensor(d, shape));
}

export function uniform(shape: readonly number[], lo: number, hi: number, rng = defaultRng): Parameter {
  return filled(shape, () => rng.uniform(lo, hi));
}

export function constant(shape: readonly number[], value: number): Parameter {
  return filled(shape, () => value);
}

/** kaiming_uniform_(a=√5): PyTorch's default for Conv and Linear weights, bound 1/√fan_in. */
export function kaimingUniformDefault(shape: readonly number[], rng = defaultRng): Parameter {
  const bound = 1 / Math.sqrt(fans(shape).fanIn);
  return uniform(shape, -bound, bound, rng);
}

/** PyTorch's default bias init for Conv/Linear: U(−1/√fan_in, 1/√fan_in). */
export function defaultBias(n: number, fanIn: number, rng = defaultRng): Parameter {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return uniform([n], -bound, bound, rng);
}

/** kaiming_normal_(mode='fan_out', nonlinearity='relu'): torchvision's ResNet conv init. */
export function kaimingNormalFanOut(shape: readonly number[], rng = defaultRng): Parameter {
  const std = Math.sqrt(2 / fans(shape).fanOut);
  return filled(shape, () => rng.normal(0, std));
}

/** trunc_normal_(std, a=−2, b=2) as timm/SegFormer use it (absolute bounds, by rejection). */
export function truncNormal(shape: readonly number[], std = 0.02, lo = -2, hi = 2, rng = defaultRng): Parameter {
  return filled(shape, () => {
    for (;;) {
      const v = rng.normal(0, std);
      if (v >= lo && v <= hi) return v;
    }
  });
}

/** normal_(0, std), e.g. SegFormer's conv init N(0, √(2/fan_out)). */
export function normal(shape: readonly number[], std: number, rng = defaultRng): Parameter {
  return filled(shape, () => rng.normal(0, std));
}
