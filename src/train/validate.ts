/**
 * Validation during training: whole-image inference over a split, one confusion matrix for the
 * split, mmseg's metrics. Images are padded (bottom/right, zeros after normalisation) to the model's
 * input multiple; the logits are upsampled to the padded size and arg-maxed inside the graph, so only
 * the label map comes back to the host; the padding is cropped off before counting.
 */
import { DataLoader } from '../data/loader.js';
import type { SegDataset } from '../data/sources/types.js';
import type { TransformSpec } from '../data/transforms/registry.js';
import type { CompiledFunction } from '../engine/compile.js';
import { HostTensor } from '../engine/host-tensor.js';
import type { Tensor } from '../engine/tensor.js';
import type { Runtime } from '../engine/runtime/runtime.js';
import { ConfusionMatrix } from '../metrics/confusion.js';
import { computeMetrics, type SegmentationMetrics } from '../metrics/segmentation-metrics.js';
import type { SegmentationModel } from '../models/segmentation-model.js';
import { compileEvalStep } from './eval-step.js';

/** Pads an N×C×H×W batch at the bottom/right with zeros to multiples of `m`. */
export function padToMultiple(x: Float32Array, [n, c, h, w]: readonly number[], m: number): HostTensor {
  const ph = Math.ceil(h! / m) * m;
  const pw = Math.ceil(w! / m) * m;
  if (ph === h && pw === w) return new HostTensor(x, [n!, c!, h!, w!]);
  const out = new Float32Array(n! * c! * ph * pw);
  for (let p = 0; p < n! * c!; p++) for (let y = 0; y < h!; y++) out.set(x.subarray((p * h! + y) * w!, (p * h! + y + 1) * w!), (p * ph + y) * pw);
  return new HostTensor(out, [n!, c!, ph, pw]);
}

/** Reusable validation for a model being trained (its eval sessions survive weight updates). */
export class Validator {
  private readonly predict: CompiledFunction;
  constructor(
    private readonly model: SegmentationModel,
    private readonly dataset: SegDataset,
    private readonly pipeline: TransformSpec[],
    o: { runtime: Runtime; threads?: number },
  ) {
    this.predict = compileEvalStep(model, (m, x) => {
      const logits = m.forward(x!) as Tensor;
      const [, , h, w] = x!.shape;
      const up = logits.shape[2] === h && logits.shape[3] === w ? logits : logits.resize({ size: [h!, w!], mode: 'bilinear', alignCorners: false });
      // A one-channel (binary) model predicts class 1 where its logit is positive.
      return m.numClasses === 1 ? up.gt(0).cast('int64').squeeze(1) : up.argmax(1);
    }, o);
  }

  async run(onImage?: () => void): Promise<SegmentationMetrics> {
    const { model, dataset } = this;
    const labels = dataset.labels;
    const k = model.numClasses === 1 ? 2 : model.numClasses;
    if (labels.numClasses !== k) throw new Error(`validation: ${dataset.name} ${dataset.split} has ${labels.numClasses} classes but the model predicts ${k}`);
    const cm = new ConfusionMatrix(k, labels.ignoreIndex);
    const loader = new DataLoader({ dataset, pipeline: this.pipeline, batchSize: 1, shuffle: false, workers: 1 });
    try {
      for await (const b of loader.epoch(0)) {
        const [, , h, w] = b.imageShape;
        const pred = (await this.predict.run(padToMultiple(b.images, b.imageShape, model.inputMultiple))) as HostTensor;
        const pw = pred.shape[2]!;
        const flat = pred.data as BigInt64Array;
        const cropped = new Int32Array(h * w);
        for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) cropped[y * w + x] = Number(flat[y * pw + x]);
        cm.update(cropped, b.labels);
        onImage?.();
      }
    } finally {
      await loader.close();
    }
    return computeMetrics(cm, [...labels.classes]);
  }

  async dispose(): Promise<void> {
    await this.predict.dispose();
  }
}
