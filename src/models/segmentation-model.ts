import type { Tensor } from '../engine/tensor.js';
import { Module } from '../nn/module.js';

/** Per-channel normalisation a model's weights expect, applied to 0..255 RGB: (x/255 − mean)/std. */
export interface Normalization {
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/** ImageNet statistics (torchvision, mmseg, HF SegFormer). */
export const IMAGENET_NORMALIZATION: Normalization = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/**
 * What every segmentation model in the zoo promises its callers (trainer, evaluator, exporter):
 *
 * - `forward(x)` takes an N×C×H×W batch. In eval mode it returns the main logits, N×K×h×w, where
 *   (h, w) is the input size divided by `outputStride` (rounded as the model's strided convolutions
 *   round); callers resize logits to the label size, as mmseg's decode heads do.
 * - In training mode a model with auxiliary heads returns `[main, ...aux]`, and `auxWeights[i]` is
 *   the loss weight of `aux[i]` (SETR 0.4 each, S2-FPN 1.0 each). A model without auxiliary heads
 *   returns a single tensor in both modes.
 * - `inputMultiple`: input height and width must be multiples of it (1 where any size works); the
 *   model throws a clear error otherwise, and inference pads or resizes to it.
 */
export abstract class SegmentationModel extends Module<[Tensor], Tensor | Tensor[]> {
  abstract readonly numClasses: number;
  readonly auxWeights: readonly number[] = [];
  readonly outputStride: number = 1;
  readonly inputMultiple: number = 1;
  readonly normalization: Normalization = IMAGENET_NORMALIZATION;

  /** Throws if (h, w) is not a multiple of `inputMultiple`; call at the top of forward. */
  protected checkInputSize(x: Tensor, modelName: string): void {
    const [, , h, w] = x.shape;
    const m = this.inputMultiple;
    if (x.shape.length !== 4) throw new Error(`${modelName}: expected an N×C×H×W input, got shape [${x.shape.join(', ')}]`);
    if (m > 1 && (h! % m !== 0 || w! % m !== 0)) {
      const up = (v: number) => Math.ceil(v / m) * m;
      throw new Error(`${modelName}: input height and width must be multiples of ${m}, got ${h}×${w} (pad or resize to e.g. ${up(h!)}×${up(w!)})`);
    }
  }
}
