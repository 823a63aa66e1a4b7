// "Each model trains": a few hundred steps of a model on a small CamVid subset (small resolution)
// must lower the cross-entropy. Shared by every model family's test; skips without ../shared.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { createCamvid } from '../../src/data/sources/camvid.js';
import type { SegmentationModel } from '../../src/models/segmentation-model.js';
import { adamw } from '../../src/optim/adam.js';
import { constantLr } from '../../src/optim/schedules.js';
import { compileTrainStep } from '../../src/train/step.js';
import { SHARED_DATASETS } from '../data/helpers.js';

export const CAMVID_ROOT = join(SHARED_DATASETS, 'camvid');

/** Why the training check must skip, or null. */
export function camvidUnavailable(): string | null {
  return existsSync(join(CAMVID_ROOT, 'train.txt')) ? null : `CamVid not found at ${CAMVID_ROOT} (../shared/datasets/camvid beside the checkout); training check skipped`;
}

/**
 * The first `count` CamVid train pairs resampled (nearest) to h×w: an ImageNet-normalised NCHW
 * batch and a one-hot target (all-zero where the label is ignored) with the number of labelled pixels.
 */
export async function camvidBatch(count: number, h: number, w: number, numClasses = 11): Promise<{ x: HostTensor; target: HostTensor; valid: number }> {
  const ds = createCamvid({ root: CAMVID_ROOT, split: 'train' });
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const x = new Float32Array(count * 3 * h * w);
  const t = new Float32Array(count * numClasses * h * w);
  let valid = 0;
  for (let n = 0; n < count; n++) {
    const s = await ds.load(n);
    for (let y = 0; y < h; y++) {
      const sy = Math.floor(((y + 0.5) * s.height) / h);
      for (let xx = 0; xx < w; xx++) {
        const sx = Math.floor(((xx + 0.5) * s.width) / w);
        for (let c = 0; c < 3; c++) x[((n * 3 + c) * h + y) * w + xx] = (s.image[(sy * s.width + sx) * 3 + c]! / 255 - mean[c]!) / std[c]!;
        const k = s.label[sy * s.width + sx]!;
        if (k < numClasses) {
          t[((n * numClasses + k) * h + y) * w + xx] = 1;
          valid++;
        }
      }
    }
  }
  return { x: new HostTensor(x, [count, 3, h, w]), target: new HostTensor(t, [count, numClasses, h, w]), valid };
}

/** Mean cross-entropy of logits (resized bilinearly to the target size if smaller) against a one-hot target. */
export function crossEntropy(logits: Tensor, oneHot: Tensor, valid: number): Tensor {
  const [, , h, w] = oneHot.shape;
  const l = logits.shape[2] === h && logits.shape[3] === w ? logits : logits.resize({ size: [h!, w!], mode: 'bilinear', alignCorners: false });
  return l.logSoftmax(1).mul(oneHot).sum().mul(-1 / valid);
}

/**
 * Trains `model` for `steps` AdamW steps on `count` CamVid images at h×w; returns the loss curve.
 * Auxiliary outputs (training mode returns [main, ...aux]) are added with the model's auxWeights.
 */
export async function trainOnCamvid(model: SegmentationModel, o: { steps: number; count?: number; h: number; w: number; lr?: number }): Promise<number[]> {
  const { x, target, valid } = await camvidBatch(o.count ?? 2, o.h, o.w, model.numClasses);
  model.train();
  const step = compileTrainStep(
    model,
    (m, xs, ts) => {
      const out = m.forward(xs);
      const [main, ...aux] = Array.isArray(out) ? out : [out];
      let loss = crossEntropy(main!, ts, valid);
      aux.forEach((a, i) => (loss = loss.add(crossEntropy(a, ts, valid).mul(model.auxWeights[i] ?? 1))));
      return loss;
    },
    { runtime: nodeRuntime, optimizer: adamw({ weightDecay: 0.01 }), schedule: constantLr(o.lr ?? 1e-3), seed: 1 },
  );
  const losses: number[] = [];
  try {
    for (let i = 0; i < o.steps; i++) losses.push((await step.step(x, target)).loss);
  } finally {
    await step.dispose();
  }
  return losses;
}

const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;

/** "loss A → B over N steps": the means of the first and last `window` losses. */
export function lossSummary(losses: number[], window = 20): string {
  return `loss ${mean(losses.slice(0, window)).toFixed(3)} → ${mean(losses.slice(-window)).toFixed(3)} over ${losses.length} steps (means of the first and last ${window})`;
}

/** Every loss is finite and the mean of the last `window` losses is below `factor` × the mean of the first `window`. */
export function assertLossFalls(losses: number[], { window = 20, factor = 0.25 } = {}): void {
  assert.ok(losses.every(Number.isFinite), `a loss is not finite: ${losses.map((l) => l.toFixed(3)).join(' ')}`);
  const [first, last] = [mean(losses.slice(0, window)), mean(losses.slice(-window))];
  assert.ok(last < factor * first, `${lossSummary(losses, window)}: the last mean is not below ${factor} × the first`);
}
