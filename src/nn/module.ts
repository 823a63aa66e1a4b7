import { HostTensor } from '../engine/host-tensor.js';
import { Parameter } from '../engine/parameter.js';
import { fmt } from '../engine/shape.js';
import { f16ToF32, f32ToF16 } from '../io/half.js';
import type { Tensor } from '../engine/tensor.js';

export interface LoadResult {
  missing: string[];
  unexpected: string[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyModule = Module<any, any>;

export type StateDict = Record<string, HostTensor> | Map<string, HostTensor>;

/**
 * Base of every layer and model: named parameters, buffers and child modules with PyTorch's
 * dotted keys ("backbone.layer1.0.conv1.weight"), train/eval mode, and state-dict save/load.
 * Subclasses register what they own in the constructor and implement `forward` on traced Tensors.
 */
export abstract class Module<In extends unknown[] = [Tensor], Out = Tensor> {
  training = true;
  private readonly ownParams = new Map<string, Parameter>();
  private readonly ownBuffers = new Map<string, Parameter>();
  private readonly children = new Map<string, AnyModule>();

  /** The computation, on traced tensors. Parameters are used directly as operands (`x.conv2d(this.weight)`). */
  abstract forward(...args: In): Out;

  /** Registers a trainable parameter under `name`. */
  protected param(name: string, p: Parameter): Parameter {
    this.ownParams.set(name, p);
    return p;
  }

  /** Registers a buffer (saved in the state dict, not trained), e.g. BatchNorm's running mean. */
  protected buffer(name: string, value: HostTensor): Parameter {
    const p = new Parameter(value, false);
    this.ownBuffers.set(name, p);
    return p;
  }

  /** Registers a child module under `name`. */
  protected module<M extends AnyModule>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** Child modules with their names. */
  namedChildren(): [string, AnyModule][] {
    return [...this.children];
  }

  /** This module and every descendant, with dotted names ('' for this one). */
  *namedModules(prefix = ''): Generator<[string, AnyModule]> {
    yield [prefix, this];
    for (const [n, c] of this.children) yield* c.namedModules(prefix ? `${prefix}.${n}` : n);
  }

  /** Trainable parameters with dotted names, in registration order (PyTorch's order). */
  namedParameters(): [string, Parameter][] {
    return this.collect((m) => m.ownParams);
  }

  namedBuffers(): [string, Parameter][] {
    return this.collect((m) => m.ownBuffers);
  }

  /** Parameters and buffers together, in PyTorch's state_dict order (per module: params, buffers; then children). */
  namedState(): [string, Parameter][] {
    return this.collect((m) => new Map([...m.ownParams, ...m.ownBuffers]));
  }

  private collect(pick: (m: AnyModule) => Map<string, Parameter>): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [n, p] of pick(m)) out.push([prefix ? `${prefix}.${n}` : n, p]);
    }
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Number of trainable scalars. */
  numParameters(): number {
    return this.parameters().reduce((a, p) => a + p.value.size, 0);
  }

  /** Switches this module and its descendants to training (true) or evaluation (false) mode. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Current values of every parameter and buffer by dotted key (the arrays are shared, not copied). */
  stateDict(): Record<string, HostTensor> {
    return Object.fromEntries(this.namedState().map(([n, p]) => [n, p.value]));
  }

  /**
   * Loads values by dotted key. Shapes must match exactly (an error lists every mismatch).
   * With `strict` (default) missing or unexpected keys are an error listing them; otherwise they are
   * returned. float32 values are copied in; other dtypes must match the buffer's.
   */
  loadStateDict(sd: StateDict, { strict = true } = {}): LoadResult {
    const given = sd instanceof Map ? sd : new Map(Object.entries(sd));
    const own = new Map(this.namedState());
    const missing = [...own.keys()].filter((k) => !given.has(k));
    const unexpected = [...given.keys()].filter((k) => !own.has(k));
    const mismatched: string[] = [];
    for (const [k, p] of own) {
      const v = given.get(k);
      if (v && (fmt(v.shape) !== fmt(p.shape) || (v.dtype !== p.value.dtype && !(v.dtype === 'float32' || p.value.dtype === 'float32')))) {
        mismatched.push(`${k}: checkpoint ${fmt(v.shape)} ${v.dtype}, model ${fmt(p.shape)} ${p.value.dtype}`);
      }
    }
    // Listed like the missing/unexpected keys below: the first 30 (another architecture mismatches hundreds).
    if (mismatched.length) {
      const more = mismatched.length > 30 ? `\n  … and ${mismatched.length - 30} more` : '';
      throw new Error(`loadStateDict: ${mismatched.length} shape/dtype mismatches:\n  ${mismatched.slice(0, 30).join('\n  ')}${more}`);
    }
    if (strict && (missing.length || unexpected.length)) {
      const list = (name: string, keys: string[]) => (keys.length ? `\n  ${name} (${keys.length}): ${keys.slice(0, 30).join(', ')}${keys.length > 30 ? ', …' : ''}` : '');
      throw new Error(`loadStateDict: keys do not match the model (pass { strict: false } to load what matches)${list('missing', missing)}${list('unexpected', unexpected)}`);
    }
    for (const [k, p] of own) {
      const v = given.get(k);
      if (v) p.set(v.dtype === p.value.dtype ? new HostTensor(v.data.slice(), v.shape, v.dtype) : convert(v, p.value));
    }
    return { missing, unexpected };
  }
}

/**
 * Converts between float32 and another dtype for loading (fp16 checkpoints into float32 parameters,
 * an int64 num_batches_tracked stored as float). float16 is decoded from / encoded to its bits.
 */
function convert(v: HostTensor, like: HostTensor): HostTensor {
  const out = HostTensor.zeros(v.shape, like.dtype);
  const read = v.dtype === 'float16' ? (i: number) => f16ToF32(v.data[i] as number) : (i: number) => Number(v.data[i]);
  for (let i = 0; i < v.size; i++) {
    const x = read(i);
    if (out.data instanceof BigInt64Array) out.data[i] = BigInt(Math.round(x));
    else out.data[i] = like.dtype === 'float16' ? f32ToF16(x) : x;
  }
  return out;
}
