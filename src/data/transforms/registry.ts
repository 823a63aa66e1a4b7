/**
 * Transforms by name, so a pipeline is plain data (`TransformSpec[]`) that can be written in a
 * config, sent to a worker thread and rebuilt identically there. Option names are camelCase
 * versions of mmseg's/albumentations' (`ratioRange`, `catMaxRatio`, `cropSize`, ...).
 *
 * Every spec takes an optional `p`: the probability that the transform applies (default 1 for
 * mmseg-style transforms, 0.5 for albumentations-style ones, as in those libraries). Inside `OneOf`,
 * the children's `p` are the weights for choosing one.
 *
 * Extending: `registerTransform('MyAug', factory, { keys: [...] })`, and for typing
 * `declare module '.../transforms/registry.js' { interface TransformSpecs { MyAug: MyOptions } }`.
 * Workers rebuild pipelines from specs, so register custom transforms in a module passed to the
 * loader's `setup` option.
 */
import { clahe, type ClaheOptions } from './clahe.js';
import { compose, oneOf, randomApply } from './compose.js';
import { randomCrop, type RandomCropOptions } from './crop.js';
import { blur, motionBlur, sharpen, type BlurOptions, type SharpenOptions } from './filters.js';
import { randomFlip, type RandomFlipOptions } from './flip.js';
import { gaussNoise, type GaussNoiseOptions } from './noise.js';
import { normalize, type NormalizeOptions } from './normalize.js';
import { pad, type PadOptions } from './pad.js';
import { photoMetricDistortion, type PhotoMetricDistortionOptions } from './photometric.js';
import { randomResize, resize, type RandomResizeOptions, type ResizeOptions } from './resize.js';
import { shiftScaleRotate, type ShiftScaleRotateOptions } from './shift-scale-rotate.js';
import {
  hueSaturationValue,
  randomBrightnessContrast,
  randomGamma,
  type HueSaturationValueOptions,
  type RandomBrightnessContrastOptions,
  type RandomGammaOptions,
} from './tone.js';
import type { Transform } from './types.js';

/** Options of every registered transform, by type name (extend by declaration merging). */
export interface TransformSpecs {
  Resize: ResizeOptions;
  RandomResize: RandomResizeOptions;
  RandomCrop: RandomCropOptions;
  RandomFlip: RandomFlipOptions;
  PhotoMetricDistortion: PhotoMetricDistortionOptions;
  Pad: PadOptions;
  Normalize: NormalizeOptions;
  ShiftScaleRotate: ShiftScaleRotateOptions;
  GaussNoise: GaussNoiseOptions;
  Blur: BlurOptions;
  MotionBlur: BlurOptions;
  Sharpen: SharpenOptions;
  CLAHE: ClaheOptions;
  RandomBrightnessContrast: RandomBrightnessContrastOptions;
  RandomGamma: RandomGammaOptions;
  HueSaturationValue: HueSaturationValueOptions;
  /** Applies one child, chosen by the children's `p` as weights. */
  OneOf: { transforms: readonly TransformSpec[] };
  /** Applies the children in order. */
  Compose: { transforms: readonly TransformSpec[] };
}

/** A serialisable transform description: `{ type: 'RandomCrop', cropSize: [512, 512], ... }`. */
export type TransformSpec = {
  [K in keyof TransformSpecs]: { type: K; p?: number } & TransformSpecs[K];
}[keyof TransformSpecs];

interface Entry {
  factory: (opts: Record<string, unknown>) => Transform;
  /** Default application probability. */
  defaultP: number;
  /** Accepted option names (besides `type` and `p`); undefined = not checked. */
  keys?: readonly string[];
}

const REGISTRY = new Map<string, Entry>();

/** Registers a transform factory under `type`. */
export function registerTransform<O>(
  type: string,
  factory: (opts: O) => Transform,
  opts: { defaultP?: number; keys?: readonly string[] } = {},
): void {
  REGISTRY.set(type, { factory: factory as (o: Record<string, unknown>) => Transform, defaultP: opts.defaultP ?? 1, keys: opts.keys });
}

/** Names of all registered transforms. */
export function listTransforms(): string[] {
  return [...REGISTRY.keys()];
}

function entry(type: string): Entry {
  const e = REGISTRY.get(type);
  if (!e) throw new Error(`unknown transform '${type}'; valid transforms: ${listTransforms().join(', ')}`);
  return e;
}

function core(spec: { type: string } & Record<string, unknown>): Transform {
  const e = entry(spec.type);
  if (e.keys) {
    const bad = Object.keys(spec).filter((k) => k !== 'type' && k !== 'p' && !e.keys!.includes(k));
    if (bad.length) throw new Error(`${spec.type}: unknown option(s) ${bad.map((k) => `'${k}'`).join(', ')}; valid options: ${e.keys.join(', ') || '(none)'}, p`);
  }
  const { type: _t, p: _p, ...opts } = spec;
  return e.factory(opts);
}

function probability(spec: { type: string; p?: unknown }): number {
  const p = spec.p === undefined ? entry(spec.type).defaultP : spec.p;
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new Error(`${spec.type}: p must be a number in [0, 1], got ${JSON.stringify(spec.p)}`);
  return p;
}

/** Builds one transform from its spec (with its application probability). */
export function buildTransform(spec: TransformSpec): Transform {
  const s = spec as { type: string; p?: number } & Record<string, unknown>;
  if (!s || typeof s.type !== 'string') throw new Error(`transform spec needs a string 'type'; got ${JSON.stringify(spec)}`);
  return randomApply(core(s), probability(s));
}

/** Builds a pipeline (a composed transform) from specs. */
export function buildPipeline(specs: readonly TransformSpec[]): Transform {
  if (!Array.isArray(specs)) throw new Error(`a pipeline is an array of transform specs; got ${JSON.stringify(specs)}`);
  return compose(specs.map(buildTransform));
}

const children = (o: Record<string, unknown>, who: string): TransformSpec[] => {
  const t = o.transforms;
  if (!Array.isArray(t) || t.length === 0) throw new Error(`${who}: 'transforms' must be a non-empty array of transform specs`);
  return t as TransformSpec[];
};

// mmseg-style (default p = 1)
registerTransform('Resize', resize, { keys: ['scale', 'scaleFactor', 'keepRatio'] });
registerTransform('RandomResize', randomResize, { keys: ['scale', 'ratioRange', 'keepRatio'] });
registerTransform('RandomCrop', randomCrop, { keys: ['cropSize', 'catMaxRatio', 'ignoreIndex'] });
registerTransform('RandomFlip', randomFlip, { keys: ['prob', 'direction'] });
registerTransform('PhotoMetricDistortion', photoMetricDistortion, { keys: ['brightnessDelta', 'contrastRange', 'saturationRange', 'hueDelta'] });
registerTransform('Pad', pad, { keys: ['size', 'sizeDivisor', 'padVal', 'segPadVal', 'position'] });
registerTransform('Normalize', normalize, { keys: ['mean', 'std', 'channelOrder'] });
// albumentations-style (default p = 0.5)
const half = { defaultP: 0.5 };
registerTransform('ShiftScaleRotate', shiftScaleRotate, { ...half, keys: ['shiftLimit', 'scaleLimit', 'rotateLimit', 'value', 'maskValue'] });
registerTransform('GaussNoise', gaussNoise, { ...half, keys: ['varLimit', 'mean'] });
registerTransform('Blur', blur, { ...half, keys: ['blurLimit'] });
registerTransform('MotionBlur', motionBlur, { ...half, keys: ['blurLimit'] });
registerTransform('Sharpen', sharpen, { ...half, keys: ['alpha', 'lightness'] });
registerTransform('CLAHE', clahe, { ...half, keys: ['clipLimit', 'tileGridSize'] });
registerTransform('RandomBrightnessContrast', randomBrightnessContrast, { ...half, keys: ['brightnessLimit', 'contrastLimit', 'brightnessByMax'] });
registerTransform('RandomGamma', randomGamma, { ...half, keys: ['gammaLimit'] });
registerTransform('HueSaturationValue', hueSaturationValue, { ...half, keys: ['hueShiftLimit', 'satShiftLimit', 'valShiftLimit'] });
registerTransform(
  'OneOf',
  (o: Record<string, unknown>) => {
    const specs = children(o, 'OneOf');
    return oneOf(
      specs.map((c) => core(c as { type: string } & Record<string, unknown>)),
      specs.map((c) => probability(c)),
    );
  },
  { ...half, keys: ['transforms'] },
);
registerTransform('Compose', (o: Record<string, unknown>) => buildPipeline(children(o, 'Compose')), { keys: ['transforms'] });
