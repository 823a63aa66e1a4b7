/**
 * The size an export is traced at: `--input NxCxHxW` when given (checked against the model's
 * channels and input multiple), else the checkpoint config's fixed validation Resize (the size the
 * model was validated at; rounded up to the input multiple, as the Segmenter pads it), else
 * 512×512 rounded up to the input multiple.
 */
import { checkInputShape, parseInputShape, type InputShape } from '../bench-model/input-shape.js';

export const DEFAULT_SIDE = 512;

/** A fixed Resize(keepRatio: false) in a config's validation pipeline, as [height, width] (what the Segmenter resizes to). */
export function fixedValidationSize(config: unknown): [number, number] | null {
  const pipeline = (config as { data?: { valPipeline?: { type: string; scale?: [number, number]; keepRatio?: boolean }[] } } | undefined)?.data?.valPipeline;
  const r = pipeline?.find((t) => t.type === 'Resize' && t.keepRatio === false && t.scale);
  return r ? [r.scale![1], r.scale![0]] : null;
}

const roundUp = (v: number, m: number): number => Math.ceil(v / m) * m;

export interface ResolvedInput {
  shape: InputShape;
  /** Where the size came from, for the report. */
  source: 'option' | 'config' | 'default';
  /** Images are resized to this [height, width] before padding to the input (the config's fixed size), or null. */
  resizeTo: [number, number] | null;
}

export function resolveInputShape(o: { text?: string; config?: unknown; modelName: string; inputMultiple: number; inChannels: number }): ResolvedInput {
  const fixed = fixedValidationSize(o.config);
  const m = o.inputMultiple;
  if (o.text !== undefined) {
    let shape: InputShape;
    try {
      shape = parseInputShape(o.text);
    } catch (e) {
      throw new Error(`--input: ${(e as Error).message}`);
    }
    checkInputShape(shape, { modelName: o.modelName, inputMultiple: m, inChannels: o.inChannels });
    // A given size replaces the config's: images are resized to it, unless it is the config's size padded to the multiple.
    const keepsFixed = fixed && roundUp(fixed[0], m) === shape[2] && roundUp(fixed[1], m) === shape[3];
    return { shape, source: 'option', resizeTo: fixed ? (keepsFixed ? fixed : [shape[2], shape[3]]) : null };
  }
  if (fixed) return { shape: [1, o.inChannels, roundUp(fixed[0], m), roundUp(fixed[1], m)], source: 'config', resizeTo: fixed };
  return { shape: [1, o.inChannels, roundUp(DEFAULT_SIDE, m), roundUp(DEFAULT_SIDE, m)], source: 'default', resizeTo: null };
}
