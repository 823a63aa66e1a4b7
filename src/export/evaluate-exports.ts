/**
 * Exported models on a labelled dataset: the mIoU of each (one confusion matrix over the split, as
 * `segkit eval` computes it) and the share of pixels on which each agrees with the first (the
 * float32 reference), all through onnxruntime with the same pre/post-processing
 * (exported-segmenter.ts).
 */
import type { SegDataset } from '../data/sources/types.js';
import { ConfusionMatrix } from '../metrics/confusion.js';
import { computeMetrics } from '../metrics/segmentation-metrics.js';
import type { ExportedSegmenter } from './exported-segmenter.js';

export interface ExportEvaluation {
  name: string;
  mIoU: number;
  aAcc: number;
  /** Share of pixels with the same label as the first model's (1 for the first). */
  agreement: number;
}

export async function evaluateExports(models: readonly { name: string; segmenter: ExportedSegmenter }[], ds: SegDataset, o: { limit?: number; onImage?: () => void } = {}): Promise<{ images: number; results: ExportEvaluation[] }> {
  const k = ds.labels.numClasses;
  const cms = models.map(() => new ConfusionMatrix(k, ds.labels.ignoreIndex));
  const same = models.map(() => 0);
  let pixels = 0;
  const n = Math.min(o.limit ?? ds.length, ds.length);
  for (let i = 0; i < n; i++) {
    const s = await ds.load(i);
    const img = { data: s.image as Uint8Array, width: s.width, height: s.height, channels: 3 };
    let first: Uint8Array | null = null;
    for (let j = 0; j < models.length; j++) {
      const { labels } = await models[j]!.segmenter.segment(img);
      cms[j]!.update(labels, s.label);
      first ??= labels;
      let eq = 0;
      for (let p = 0; p < labels.length; p++) if (labels[p] === first[p]) eq++;
      same[j]! += eq;
    }
    pixels += s.width * s.height;
    o.onImage?.();
  }
  const results = models.map((m, j) => {
    const r = computeMetrics(cms[j]!, ds.labels.classes);
    return { name: m.name, mIoU: r.mIoU, aAcc: r.aAcc, agreement: pixels ? same[j]! / pixels : NaN };
  });
  return { images: n, results };
}

/** Share of equal entries of two label maps. */
export function labelAgreement(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`labelAgreement: ${a.length} vs ${b.length} labels`);
  let eq = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) eq++;
  return a.length ? eq / a.length : NaN;
}
