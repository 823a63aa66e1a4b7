/**
 * What an exported file promises its users, written into the ONNX metadata_props (so the .onnx
 * alone is enough to run it correctly) and read back by {@link contractFromMetadata}.
 *
 * Keys (values are plain strings; structured values are JSON):
 *   segkit_version, model_name, model_options (JSON), classes (JSON array of names),
 *   palette (JSON array of [r, g, b]), mean, std (JSON, 0..1 scale, RGB order),
 *   input_name, input_shape (JSON; 'batch' for a symbolic batch), input_dtype (float32 | uint8),
 *   input_layout (NCHW | NHWC), input_format (a sentence), output_name, output_shape, output_dtype,
 *   head (logits | probs | labels), weights (float32 | float16 | int8-dynamic | int8-static),
 *   resize (JSON [height, width] images are resized to before padding, or null), padding (a sentence),
 *   refine (JSON {radius, eps}: the colour guided filter to apply to P(last class), the image as guide,
 *   before thresholding at 0.5, as the checkpoint's segmenters do; null or absent: none).
 */
import type { RGB } from '../data/labels/types.js';
import { guidedFilterSettings, type GuidedFilterOptions } from '../inference/guided-filter.js';
import type { Head, WeightFormat } from './options.js';

export interface ExportContract {
  segkitVersion: string;
  model: { name: string; options: Record<string, unknown> };
  classes: string[];
  palette: RGB[];
  mean: [number, number, number];
  std: [number, number, number];
  input: { name: string; shape: (number | string)[]; dtype: 'float32' | 'uint8'; layout: 'NCHW' | 'NHWC' };
  output: { name: string; shape: (number | string)[]; dtype: 'float32' | 'uint8' | 'int64' };
  head: Head;
  weights: WeightFormat;
  /** [height, width] images are resized to (ignoring aspect) before being padded to the input; null: images that fit are only padded. */
  resizeTo: [number, number] | null;
  /**
   * The guided-filter edge refinement the model was validated with (a two-class model with a scores
   * head; radius in pixels of the model's output), or null. Not part of the graph: the image at full
   * resolution is the guide, so it runs after the model (ExportedSegmenter does).
   */
  refine: Required<GuidedFilterOptions> | null;
}

/** Input height and width of the contract (the last two NCHW dims, or the middle two NHWC dims). */
export function inputHW(c: ExportContract): [number, number] {
  const s = c.input.shape;
  return c.input.layout === 'NHWC' ? [s[1] as number, s[2] as number] : [s[2] as number, s[3] as number];
}

function inputFormat(c: ExportContract): string {
  if (c.input.dtype === 'uint8') return 'uint8 RGB pixels, N×H×W×3 (NHWC: canvas ImageData without its alpha channel); normalisation happens inside the graph';
  return 'float32 RGB, N×C×H×W (NCHW), normalised as (pixel/255 − mean)/std per channel';
}

const REFINE_FORMAT =
  "edges refined after the model: P(last class) at the output's size (sigmoid of one logit, softmax of two) is explained in every (2·radius+1)² window as an affine function of the image's RGB in [0, 1] resized to that size (He et al.'s colour guided filter with regularisation eps), and the window-averaged coefficients, resized bilinearly to the image's size, are applied to the full-resolution image; label = refined P > 0.5";

const PADDING = 'images smaller than the input are padded at the bottom and right (normalised value 0, i.e. the mean colour) and the output cropped back; larger ones are first resized to fit keeping their aspect';

export function metadataProps(c: ExportContract): [string, string][] {
  return [
    ['segkit_version', c.segkitVersion],
    ['model_name', c.model.name],
    ['model_options', JSON.stringify(c.model.options)],
    ['classes', JSON.stringify(c.classes)],
    ['palette', JSON.stringify(c.palette)],
    ['mean', JSON.stringify(c.mean)],
    ['std', JSON.stringify(c.std)],
    ['input_name', c.input.name],
    ['input_shape', JSON.stringify(c.input.shape)],
    ['input_dtype', c.input.dtype],
    ['input_layout', c.input.layout],
    ['input_format', inputFormat(c)],
    ['output_name', c.output.name],
    ['output_shape', JSON.stringify(c.output.shape)],
    ['output_dtype', c.output.dtype],
    ['head', c.head],
    ['weights', c.weights],
    ['resize', JSON.stringify(c.resizeTo)],
    ['padding', c.resizeTo ? `images are resized to ${c.resizeTo[0]}×${c.resizeTo[1]} (bilinear, ignoring aspect), padded at the bottom/right to the input size if smaller, and the output is resized back` : PADDING],
    ['refine', JSON.stringify(c.refine)],
    ...(c.refine ? ([['refine_format', REFINE_FORMAT]] as [string, string][]) : []),
  ];
}

/** The contract from a file's metadata_props; errors name the missing or malformed key. */
export function contractFromMetadata(entries: readonly [string, string][], source = 'ONNX file'): ExportContract {
  const m = new Map(entries);
  const get = (k: string): string => {
    const v = m.get(k);
    if (v === undefined) throw new Error(`${source}: metadata has no '${k}'; not a file written by 'segkit export'`);
    return v;
  };
  const json = <T>(k: string): T => {
    try {
      return JSON.parse(get(k)) as T;
    } catch (e) {
      throw new Error(`${source}: metadata '${k}' is not valid JSON: ${(e as Error).message}`);
    }
  };
  return {
    segkitVersion: get('segkit_version'),
    model: { name: get('model_name'), options: json('model_options') },
    classes: json('classes'),
    palette: json('palette'),
    mean: json('mean'),
    std: json('std'),
    input: { name: get('input_name'), shape: json('input_shape'), dtype: get('input_dtype') as 'float32' | 'uint8', layout: get('input_layout') as 'NCHW' | 'NHWC' },
    output: { name: get('output_name'), shape: json('output_shape'), dtype: get('output_dtype') as 'float32' | 'uint8' | 'int64' },
    head: get('head') as Head,
    weights: get('weights') as WeightFormat,
    resizeTo: json('resize'),
    refine: refineOf(m.has('refine') ? json<GuidedFilterOptions | null>('refine') : null, source),
  };
}

/** The 'refine' entry checked (files written before the key existed have none). */
function refineOf(v: GuidedFilterOptions | null, source: string): Required<GuidedFilterOptions> | null {
  if (v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new Error(`${source}: metadata 'refine' should be {"radius": R, "eps": E} or null, got ${JSON.stringify(v)}`);
  return guidedFilterSettings(v, `${source}: metadata 'refine'`);
}
