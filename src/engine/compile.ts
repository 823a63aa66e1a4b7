import type { DType } from './dtype.js';
import { Graph, type ParamMode, type Tensor } from './graph.js';
import { HostTensor } from './host-tensor.js';
import { Rng } from '../data/rng.js';
import { writeOnnx, type OnnxWriteOptions } from './onnx/write.js';
import type { Parameter } from './parameter.js';
import type { Runtime, Session, SessionOptions } from './runtime/runtime.js';
import { fmt, numel } from './shape.js';

export interface InputSpec {
  shape: readonly number[];
  dtype?: DType;
  name?: string;
}

/** What a traced function may return: one tensor, a list, or named tensors. */
export type TraceResult = Tensor | Tensor[] | Record<string, Tensor>;

export interface TraceOptions {
  /** Parameters as constants (inference, default) or graph inputs (training). */
  paramMode?: ParamMode;
  /** Dotted names for parameters (Module.namedParameters()), used as ONNX value names. */
  paramNames?: Iterable<[string, Parameter]>;
}

export interface Traced {
  graph: Graph;
  inputs: Tensor[];
  outputs: Record<string, Tensor>;
  /** How to give results back: as the function returned them. */
  shape: 'single' | 'list' | 'record';
}

/** Runs `fn` on symbolic inputs of the given shapes and records the graph it builds. */
export function trace(fn: (...xs: Tensor[]) => TraceResult, specs: readonly InputSpec[], o: TraceOptions = {}): Traced {
  const graph = new Graph(o.paramMode ?? 'constant');
  if (o.paramNames) graph.nameParameters(o.paramNames);
  const inputs = specs.map((s, i) => graph.input(s.name ?? (specs.length === 1 ? 'input' : `input_${i}`), s.shape, s.dtype ?? 'float32'));
  const result = fn(...inputs);
  if (Array.isArray(result)) {
    return { graph, inputs, outputs: Object.fromEntries(result.map((t, i) => [`output_${i}`, t])), shape: 'list' };
  }
  if ('graph' in result && 'shape' in result && 'dtype' in result) {
    return { graph, inputs, outputs: { output: result as Tensor }, shape: 'single' };
  }
  return { graph, inputs, outputs: result as Record<string, Tensor>, shape: 'record' };
}

/** Traces `fn` and writes it as ONNX bytes. */
export function toOnnx(fn: (...xs: Tensor[]) => TraceResult, specs: readonly InputSpec[], o: TraceOptions & OnnxWriteOptions = {}): Uint8Array {
  const t = trace(fn, specs, o);
  return writeOnnx(t.graph, t.outputs, o);
}

interface Entry {
  traced: Traced;
  session: Session;
  /** Parameters baked in as constants, with the version baked in. */
  baked: [Parameter, number][];
}

export interface CompileOptions extends TraceOptions, SessionOptions {
  runtime: Runtime;
  /** Seed of the generator that fills dropout/drop-path masks (training-mode traces). */
  seed?: number;
  /** Extra state the trace depends on (e.g. a module's train/eval mode), part of the cache key. */
  cacheKey?: () => string;
}

/**
 * A traced function compiled to an onnxruntime session, one session per input signature
 * (shapes + dtypes), created on first call and reused. If a parameter baked in as a constant is
 * replaced (Parameter.set), the affected session is rebuilt on the next call.
 */
export class CompiledFunction {
  private readonly cache = new Map<string, Promise<Entry>>();
  private disposed = false;

  constructor(
    private readonly fn: (...xs: Tensor[]) => TraceResult,
    private readonly o: CompileOptions,
  ) {
    this.rng = new Rng(o.seed ?? 0);
  }

  private readonly rng: Rng;

  private async build(specs: InputSpec[]): Promise<Entry> {
    const traced = trace(this.fn, specs, this.o);
    const g = traced.graph;
    if (g.updates.size > 0 && g.paramMode === 'constant') {
      throw new Error(
        'the traced function updates buffers (a module in training mode, e.g. BatchNorm): call model.eval() for inference, ' +
          "or trace with paramMode 'input' (as a train step does) so the updates can be applied",
      );
    }
    const outputs = { ...traced.outputs };
    [...g.updates.values()].forEach((t, i) => (outputs[`buffer_update_${i}`] = t));
    const model = writeOnnx(g, outputs);
    const session = await this.o.runtime.createSession(model, this.o);
    const baked = traced.graph.paramMode === 'constant' ? [...traced.graph.params.keys()].map((p): [Parameter, number] => [p, p.version]) : [];
    return { traced, session, baked };
  }

  private async entry(inputs: readonly HostTensor[]): Promise<Entry> {
    const key = inputs.map((t) => `${t.dtype}${fmt(t.shape)}`).join(';') + (this.o.cacheKey?.() ?? '');
    let p = this.cache.get(key);
    if (p) {
      const e = await p;
      if (e.baked.every(([param, v]) => param.version === v)) return e;
      this.cache.delete(key);
      await e.session.release();
      p = undefined;
    }
    p = this.build(inputs.map((t) => ({ shape: t.shape, dtype: t.dtype })));
    this.cache.set(key, p);
    p.catch(() => this.cache.delete(key));
    return p;
  }

  /** Runs on concrete inputs; returns results shaped as the traced function returned its tensors. */
  async run(...inputs: HostTensor[]): Promise<any> {
    // Checked before any session is built: a run after dispose() must not create one nobody releases.
    if (this.disposed) throw new Error('CompiledFunction.run: this function has been disposed');
    const e = await this.entry(inputs);
    const g = e.traced.graph;
    const feeds: Record<string, HostTensor> = {};
    e.traced.inputs.forEach((t, i) => (feeds[t.name!] = inputs[i]!));
    if (g.paramMode === 'input') for (const [p, t] of g.params) feeds[t.name!] = p.value;
    for (const m of g.masks) feeds[m.tensor.name!] = bernoulli(this.rng, m.tensor.shape, m.keepProb);
    const out = await e.session.run(feeds);
    for (const [name, t] of Object.entries(e.traced.outputs)) {
      // The traced shape is a promise made to the caller (and to later ops): hold the runtime to it.
      if (fmt(out[name]!.shape) !== fmt(t.shape)) {
        throw new Error(`internal error: output '${name}' has shape ${fmt(out[name]!.shape)} at run time but ${fmt(t.shape)} when traced`);
      }
    }
    [...g.updates.keys()].forEach((p, i) => p.set(out[`buffer_update_${i}`]!));
    if (e.traced.shape === 'single') return out.output;
    if (e.traced.shape === 'list') return Object.keys(e.traced.outputs).map((k) => out[k]);
    return out;
  }

  /** Number of cached sessions (one per input signature). */
  get sessions(): number {
    return this.cache.size;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const entries = [...this.cache.values()];
    this.cache.clear();
    for (const p of entries) await (await p.catch(() => null))?.session.release();
  }
}

/** A 0/1 float mask with P(1) = keepProb: what a graph's `bernoulliMask` inputs are fed with. */
export function bernoulli(rng: Rng, shape: readonly number[], keepProb: number): HostTensor {
  const m = new Float32Array(numel(shape));
  for (let i = 0; i < m.length; i++) m[i] = rng.random() < keepProb ? 1 : 0;
  return new HostTensor(m, shape);
}

export function compile(fn: (...xs: Tensor[]) => TraceResult, o: CompileOptions): CompiledFunction {
  return new CompiledFunction(fn, o);
}
