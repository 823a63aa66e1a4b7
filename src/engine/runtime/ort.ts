import type { InferenceSession as OrtSession, Tensor as OrtTensor } from 'onnxruntime-common';
import { dtypeFromOrt, DTYPES } from '../dtype.js';
import { HostTensor } from '../host-tensor.js';
import type { Runtime, Session, SessionOptions } from './runtime.js';

/** The part of an onnxruntime module (node or web) segkit uses; both packages export it. */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: OrtSession.SessionOptions): Promise<OrtSession> };
  Tensor: new (type: any, data: any, dims: readonly number[]) => OrtTensor;
}

function toOrt(ort: OrtModule, t: HostTensor): OrtTensor {
  return new ort.Tensor(DTYPES[t.dtype].ort, t.data, t.shape);
}

function fromOrt(t: OrtTensor): HostTensor {
  const dtype = dtypeFromOrt(t.type);
  let data = t.data as HostTensor['data'];
  // onnxruntime may hand back float16 as a Float16Array where the platform has one; segkit keeps raw bits.
  if (dtype === 'float16' && !(data instanceof Uint16Array)) {
    const d = data as unknown as ArrayBufferView;
    data = new Uint16Array(d.buffer, d.byteOffset, d.byteLength / 2);
  }
  return new HostTensor(data, t.dims as number[], dtype);
}

class OrtSessionWrapper implements Session {
  constructor(
    private readonly ort: OrtModule,
    private readonly session: OrtSession,
  ) {}

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  async run(feeds: Record<string, HostTensor>, preallocated?: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
    const missing = this.session.inputNames.filter((n) => !(n in feeds));
    if (missing.length) throw new Error(`session.run: missing inputs ${missing.join(', ')} (the model takes ${this.session.inputNames.join(', ')})`);
    const ortFeeds: Record<string, OrtTensor> = {};
    for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrt(this.ort, v);
    if (!preallocated) {
      const out = await this.session.run(ortFeeds);
      return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, fromOrt(v as OrtTensor)]));
    }
    const fetches: Record<string, OrtTensor | null> = {};
    for (const name of this.session.outputNames) fetches[name] = preallocated[name] ? toOrt(this.ort, preallocated[name]) : null;
    const out = await this.session.run(ortFeeds, fetches);
    const result: Record<string, HostTensor> = {};
    for (const [k, v] of Object.entries(out)) result[k] = preallocated[k] ?? fromOrt(v as OrtTensor);
    return result;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** SEGKIT_ORT_SPIN=0 turns thread spinning off by default (read where `process` exists, i.e. Node). */
function defaultSpin(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.SEGKIT_ORT_SPIN !== '0';
}

/**
 * A Runtime over an onnxruntime module; `defaultThreads` is used when options do not set threads.
 * `logSeverityLevel` (0 verbose … 4 fatal; onnxruntime's default 2, warnings) applies to every session.
 */
export function createOrtRuntime(name: string, ort: OrtModule, defaultThreads: number, defaultProviders: string[], logSeverityLevel?: 0 | 1 | 2 | 3 | 4): Runtime {
  return {
    name,
    async createSession(model: Uint8Array, o: SessionOptions = {}): Promise<Session> {
      let session: OrtSession;
      try {
        session = await ort.InferenceSession.create(model, {
          executionProviders: o.executionProviders ?? defaultProviders,
          intraOpNumThreads: o.threads ?? defaultThreads,
          interOpNumThreads: 1,
          graphOptimizationLevel: o.optimization ?? 'all',
          executionMode: 'sequential',
          ...(logSeverityLevel === undefined ? {} : { logSeverityLevel }),
          extra: { session: { intra_op: { allow_spinning: (o.spin ?? defaultSpin()) ? '1' : '0' } } },
        });
      } catch (e) {
        // onnxruntime's own words ("protobuf parsing failed", "Model data pointer is null") do not
        // say that the bytes handed in were the problem; say so, with what they look like.
        const head = Array.from(model.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ') || '(empty)';
        throw new Error(`${name}: cannot create a session from ${model.length} bytes of model (starts with ${head}); expected a serialized ONNX ModelProto: ${(e as Error).message}`, { cause: e });
      }
      return new OrtSessionWrapper(ort, session);
    },
  };
}
