import type { ConfusionMatrix } from './confusion.js';

/** Per-class scores as fractions (0..1); NaN where undefined (the class is absent from both). */
export interface ClassScores {
  name: string;
  iou: number;
  acc: number;
  dice: number;
  precision: number;
  recall: number;
  fscore: number;
  /** Labelled pixels of the class. */
  support: number;
}

export interface SegmentationMetrics {
  /** Correct pixels / labelled pixels. */
  aAcc: number;
  mIoU: number;
  mAcc: number;
  mDice: number;
  mFscore: number;
  mPrecision: number;
  mRecall: number;
  perClass: ClassScores[];
  /** How the means were taken, printed in report headers. */
  convention: string;
}

export const METRIC_CONVENTION =
  'confusion matrix accumulated over the whole split; per-class scores from it; means are NaN-means over classes (a class absent from both labels and predictions is skipped), as mmseg IoUMetric';

const nanMean = (xs: number[]) => {
  const v = xs.filter((x) => !Number.isNaN(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
};

/**
 * mmseg's IoUMetric from a confusion matrix: IoU = I/(P + L − I), Acc = recall = I/L, Dice = 2I/(P + L),
 * precision = I/P, F-score with β (default 1). A ratio with a zero denominator is NaN.
 */
export function computeMetrics(cm: ConfusionMatrix, classNames?: readonly string[], beta = 1): SegmentationMetrics {
  const k = cm.numClasses;
  if (classNames && classNames.length !== k) throw new Error(`computeMetrics: ${classNames.length} class names for ${k} classes`);
  const c = cm.counts;
  let correct = 0;
  let total = 0;
  const perClass: ClassScores[] = [];
  for (let i = 0; i < k; i++) {
    let label = 0;
    let pred = 0;
    for (let j = 0; j < k; j++) {
      label += c[i * k + j]!;
      pred += c[j * k + i]!;
    }
    const inter = c[i * k + i]!;
    correct += inter;
    total += label;
    const ratio = (a: number, b: number) => (b > 0 ? a / b : NaN);
    const precision = ratio(inter, pred);
    const recall = ratio(inter, label);
    const b2 = beta * beta;
    perClass.push({
      name: classNames?.[i] ?? String(i),
      iou: ratio(inter, pred + label - inter),
      acc: recall,
      dice: ratio(2 * inter, pred + label),
      precision,
      recall,
      fscore: ratio((1 + b2) * precision * recall, b2 * precision + recall),
      support: label,
    });
  }
  const mean = (f: (s: ClassScores) => number) => nanMean(perClass.map(f));
  return {
    aAcc: total > 0 ? correct / total : NaN,
    mIoU: mean((s) => s.iou),
    mAcc: mean((s) => s.acc),
    mDice: mean((s) => s.dice),
    mFscore: mean((s) => s.fscore),
    mPrecision: mean((s) => s.precision),
    mRecall: mean((s) => s.recall),
    perClass,
    convention: METRIC_CONVENTION,
  };
}

const pct = (x: number) => (Number.isNaN(x) ? 'nan' : (x * 100).toFixed(2));

/** The mmseg-style per-class table (values ×100, 2 decimals) and the summary line. */
export function formatMetricsTable(m: SegmentationMetrics, columns: readonly ('iou' | 'acc' | 'dice' | 'fscore' | 'precision' | 'recall')[] = ['iou', 'acc']): string {
  const head = ['Class', ...columns.map((c) => ({ iou: 'IoU', acc: 'Acc', dice: 'Dice', fscore: 'Fscore', precision: 'Precision', recall: 'Recall' })[c])];
  const rows = m.perClass.map((s) => [s.name, ...columns.map((c) => pct(s[c]))]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  return [
    `per class results (${m.convention}):`,
    rule,
    line(head),
    rule,
    ...rows.map(line),
    rule,
    `aAcc: ${pct(m.aAcc)}  mIoU: ${pct(m.mIoU)}  mAcc: ${pct(m.mAcc)}  mDice: ${pct(m.mDice)}  mFscore: ${pct(m.mFscore)}`,
  ].join('\n');
}
