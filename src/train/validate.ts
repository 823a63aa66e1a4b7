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
import { padBottomRight } from '../inference/nchw.js';
import { alignedSize } from '../inference/sizes.js';
import type { Runtime } from '../engine/runtime/runtime.js';
import { ConfusionMatrix } from '../metrics/confusion.js';
import { computeMetrics, type SegmentationMetrics } from '../metrics/segmentation-metrics.js';
import type { SegmentationModel } from '../models/segmentation-model.js';
import { compileEvalStep } from './eval-step.js';

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
        const [ph, pw] = alignedSize(h, w, model.inputMultiple);
        const pred = (await this.predict.run(padBottomRight(new HostTensor(b.images, b.imageShape), ph, pw, 0))) as HostTensor;
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
