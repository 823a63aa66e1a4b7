/**
 * The segkit checkpoint format, platform-neutral (Node and the browser read it): one safetensors
 * file holding the model's state dict under its own names, the optimizer state under
 * `optimizer.<param>.<slot>`, and the run's position and config as JSON metadata — so a checkpoint
 * is self-describing (`segkit eval`/`predict` and `createSegmenter` rebuild the model from it) and
 * its weights load in Python with `safetensors.torch.load_file` unchanged.
 */
import { HostTensor } from '../engine/host-tensor.js';
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
  return { meta, model, optimizer };
}
