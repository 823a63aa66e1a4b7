/**
 * The JSON files written next to an exported .onnx, in the layout transformers.js (and the Hugging
 * Face hub) reads: `config.json` (model_type, id2label, label2id, num_labels) and
 * `preprocessor_config.json` (resize, rescale, normalise). segkit's own fields go under "segkit".
 *
 * The preprocessor describes what a transformers.js-style pipeline must do before the graph:
 * resize to the export size (a fixed-shape file takes exactly one size; segkit's own runner pads
 * smaller images instead, see contract.ts), and rescale/normalise only when the graph takes float
 * input. With --uint8 the graph normalises itself, so do_rescale and do_normalize are false and
 * the mean/std are listed for information.
 */
import { inputHW, type ExportContract } from './contract.js';

export const CONFIG_FILE = 'config.json';
export const PREPROCESSOR_FILE = 'preprocessor_config.json';

export function configJson(c: ExportContract): Record<string, unknown> {
  return {
    model_type: c.model.name,
    num_labels: c.classes.length,
    id2label: Object.fromEntries(c.classes.map((n, i) => [String(i), n])),
    label2id: Object.fromEntries(c.classes.map((n, i) => [n, i])),
    segkit: {
      version: c.segkitVersion,
      model: c.model,
      head: c.head,
      weights: c.weights,
      input: c.input,
      output: c.output,
      resize: c.resizeTo,
      classes: c.classes,
      palette: c.palette,
      mean: c.mean,
      std: c.std,
    },
  };
}

export function preprocessorJson(c: ExportContract): Record<string, unknown> {
  const [height, width] = c.resizeTo ?? inputHW(c);
  const float = c.input.dtype === 'float32';
  return {
    image_processor_type: 'SegformerImageProcessor',
    do_resize: true,
    size: { height, width },
    resample: 2, // bilinear (PIL's code), as segkit resizes
    do_rescale: float,
    rescale_factor: 1 / 255,
    do_normalize: float,
    image_mean: c.mean,
    image_std: c.std,
    do_reduce_labels: false,
  };
}
