/**
 * The segkit checkpoint format, platform-neutral (Node and the browser read it): one safetensors
 * file holding the model's state dict under its own names, the optimizer state under
 * `optimizer.<param>.<slot>`, and the run's position and config as JSON metadata — so a checkpoint
 * is self-describing (`segkit eval`/`predict` and `createSegmenter` rebuild the model from it) and
 * its weights load in Python with `safetensors.torch.load_file` unchanged.
 */
import { HostTensor } from '../engine/host-tensor.js';
import { f32ArrayToF16 } from '../io/half.js';
import { serializeSafetensors, type SafetensorsFile } from '../io/safetensors.js';

const OPT_PREFIX = 'optimizer.';
const META_KEY = 'segkit';

/** Where a run stands, stored in the checkpoint's metadata. */
export interface CheckpointMeta {
  format: 'segkit-checkpoint/1';
  /** Optimisation steps completed. */
  iteration: number;
  /** The model: registry name and options (numClasses included). */
  model: { name: string; options: Record<string, unknown> };
  classes: string[];
  palette?: [number, number, number][];
  /** The full training config, for resuming and for evaluation defaults. */
  config?: unknown;
  best?: { metric: string; value: number; iteration: number };
  /** Weights that are WiSE-FT's interpolation, (1 − alpha)·from + alpha·the run's own at `iteration`. */
  wiseFt?: { alpha: number; from: string };
  /** The guided-filter edge refinement a shipped model was validated with: segmenters apply it by default. */
  refine?: { radius?: number; eps?: number };
}

export interface Checkpoint {
  meta: CheckpointMeta;
  model: Record<string, HostTensor>;
  /** Empty for weights-only files. */
  optimizer: Record<string, HostTensor>;
}

/** Copies tensors that are views of live training buffers, so the file is a snapshot. */
const snapshot = (sd: Record<string, HostTensor>) => Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, new HostTensor(t.data.slice() as never, [...t.shape], t.dtype)]));

export function serializeCheckpoint(c: Checkpoint): Uint8Array {
  const tensors: Record<string, HostTensor> = { ...snapshot(c.model) };
  for (const [k, t] of Object.entries(snapshot(c.optimizer))) tensors[OPT_PREFIX + k] = t;
  return serializeSafetensors(tensors, { [META_KEY]: JSON.stringify(c.meta), format: 'pt' });
}

/** A checkpoint from a parsed safetensors file; errors name the file and what is wrong. */
export function checkpointFromSafetensors(f: SafetensorsFile): Checkpoint {
  const rawMeta = f.metadata[META_KEY];
  if (rawMeta === undefined) throw new Error(`${f.source}: not a segkit checkpoint (no '${META_KEY}' metadata); for foreign weights use loadStateDict or 'segkit convert'`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawMeta);
  } catch (e) {
    throw new Error(`${f.source}: corrupt checkpoint metadata: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${f.source}: checkpoint metadata is ${JSON.stringify(parsed)}; expected a JSON object (segkit-checkpoint/1)`);
  }
  const meta = parsed as CheckpointMeta;
  if (meta.format !== 'segkit-checkpoint/1' || !Number.isInteger(meta.iteration) || typeof meta.model?.name !== 'string' || !Array.isArray(meta.classes)) {
    throw new Error(`${f.source}: checkpoint metadata is not segkit-checkpoint/1 (format ${JSON.stringify(meta.format)})`);
  }
  const model: Record<string, HostTensor> = {};
  const optimizer: Record<string, HostTensor> = {};
  for (const [k, t] of f.entries()) {
    if (k.startsWith(OPT_PREFIX)) optimizer[k.slice(OPT_PREFIX.length)] = t;
    else model[k] = t;
  }
  return { meta, model: dequantizeInt8(model, f.source), optimizer };
}

/** Suffix of the per-output-channel scale stored beside an int8 weight (see weightsOnly). */
const INT8_SCALE = '.int8_scale';

/** Widens int8 weights with their per-channel scales back to float32 under their own names. */
function dequantizeInt8(model: Record<string, HostTensor>, source: string): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const [k, t] of Object.entries(model)) {
    if (k.endsWith(INT8_SCALE)) continue;
    const scale = model[k + INT8_SCALE];
    if (!scale) {
      out[k] = t;
      continue;
    }
    const channels = t.shape[0] ?? 0;
    if (t.dtype !== 'int8' || scale.shape.length !== 1 || scale.shape[0] !== channels) {
      throw new Error(`${source}: ${k} has an int8 scale but is ${t.dtype} [${t.shape.join(', ')}] with ${scale.shape.join('×')} scales; expected int8 weights with one scale per output channel`);
    }
    const q = t.data as Int8Array;
    const per = q.length / channels;
    const w = new Float32Array(q.length);
    for (let c = 0; c < channels; c++) {
      const s = scale.data[c] as number;
      for (let i = c * per; i < (c + 1) * per; i++) w[i] = q[i]! * s;
    }
    out[k] = new HostTensor(w, t.shape);
  }
  for (const k of Object.keys(model)) {
    if (k.endsWith(INT8_SCALE) && !(k.slice(0, -INT8_SCALE.length) in model)) throw new Error(`${source}: ${k} scales no tensor (${k.slice(0, -INT8_SCALE.length)} is missing)`);
  }
  return out;
}

/** float16's largest finite value: weights beyond it would become Infinity. */
const F16_MAX = 65504;

/** Weight storage of a shipped model: float32 as trained, float16, or int8 convolution/linear weights. */
export type WeightStorage = 'float32' | 'float16' | 'int8';

/**
 * Per-output-channel symmetric int8: q = round(w / s) with s = max|w| / 127 over the channel, the
 * scale stored in float32 as `<key>.int8_scale`. A quarter of the bytes of float32, and per-channel
 * scales keep the error of each filter at most s/2 (what PyTorch's per-channel weight
 * quantisation does).
 */
function quantizeInt8(t: HostTensor): { q: HostTensor; scale: HostTensor } {
  const w = t.data as Float32Array;
  const channels = t.shape[0]!;
  const per = w.length / channels;
  const q = new Int8Array(w.length);
  const scale = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    let max = 0;
    for (let i = c * per; i < (c + 1) * per; i++) max = Math.max(max, Math.abs(w[i]!));
    const s = max > 0 ? Math.fround(max / 127) : 1;
    scale[c] = s;
    for (let i = c * per; i < (c + 1) * per; i++) q[i] = Math.max(-127, Math.min(127, Math.round(w[i]! / s)));
  }
  return { q: new HostTensor(q, t.shape, 'int8'), scale: new HostTensor(scale, [channels]) };
}

/**
 * The checkpoint as a model to ship: the weights without the optimizer state, the metadata (model,
 * classes, palette, config, best score) kept so the file stays self-describing. `storage`
 * 'float16' halves every float tensor; 'int8' also stores convolution and linear weights (rank ≥ 2)
 * as per-channel int8 — a quarter of float32 — with the rest in float16. Loading widens everything
 * back to float32, so the shipped model runs as any checkpoint does.
 */
export function weightsOnly(c: Checkpoint, o: { storage?: WeightStorage } = {}): Checkpoint {
  const storage = o.storage ?? 'float32';
  if (!['float32', 'float16', 'int8'].includes(storage)) throw new Error(`weightsOnly: storage must be float32, float16 or int8, got '${storage}'`);
  const model: Record<string, HostTensor> = {};
  for (const [k, t] of Object.entries(c.model)) {
    if (storage === 'float32' || t.dtype !== 'float32') {
      model[k] = t;
      continue;
    }
    if (storage === 'int8' && t.shape.length >= 2) {
      const { q, scale } = quantizeInt8(t);
      model[k] = q;
      model[k + INT8_SCALE] = scale;
      continue;
    }
    const data = t.data as Float32Array;
    for (const v of data) {
      if (!(Math.abs(v) <= F16_MAX)) throw new Error(`weightsOnly: ${k} holds ${v}, outside float16's range (±${F16_MAX}); keep this model in float32`);
    }
    model[k] = new HostTensor(f32ArrayToF16(data), t.shape, 'float16');
  }
  return { meta: c.meta, model, optimizer: {} };
}
