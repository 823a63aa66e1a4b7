// Metrics on a hand-worked example: labels [0,0,1,1,2,255], predictions [0,1,1,1,0,2], 4 classes
// (class 3 absent from both, so skipped by the NaN-means).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfusionMatrix, computeMetrics, formatMetricsTable } from '../../src/metrics/index.js';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

describe('segmentation metrics', () => {
  const cm = new ConfusionMatrix(4).update([0, 1, 1, 1, 0, 2], [0, 0, 1, 1, 2, 255]);
  const m = computeMetrics(cm, ['road', 'car', 'sky', 'tree']);

  it('per-class scores by hand', () => {
    const [road, car, sky, tree] = m.perClass;
    close(road!.iou, 1 / 3, 'road IoU');
    close(road!.acc, 1 / 2, 'road Acc');
    close(road!.dice, 1 / 2, 'road Dice');
    close(car!.iou, 2 / 3, 'car IoU');
    close(car!.precision, 2 / 3, 'car precision');
    close(car!.fscore, 0.8, 'car F1');
    close(sky!.iou, 0, 'sky IoU (labelled, never predicted)');
    assert.ok(Number.isNaN(sky!.precision), 'sky precision undefined (never predicted)');
    assert.ok(Number.isNaN(tree!.iou), 'tree absent from both: NaN');
  });

  it('summary: aAcc over labelled pixels, NaN-means over classes', () => {
    close(m.aAcc, 3 / 5, 'aAcc');
    close(m.mIoU, (1 / 3 + 2 / 3 + 0) / 3, 'mIoU');
    close(m.mAcc, (0.5 + 1 + 0) / 3, 'mAcc');
    close(m.mFscore, (0.5 + 0.8) / 2, 'mFscore (sky has none)');
  });

  it('merging shards equals accumulating everything in one matrix', () => {
    const a = new ConfusionMatrix(4).update([0, 1, 1], [0, 0, 1]);
    const b = new ConfusionMatrix(4).update([1, 0, 2], [1, 2, 255]);
    assert.deepEqual([...a.merge(b).counts], [...cm.counts]);
  });

  it('the table has the class rows and the summary line', () => {
    const t = formatMetricsTable(m);
    assert.match(t, /\| road\s+\|\s+33\.33 \|\s+50\.00 \|/);
    assert.match(t, /\| tree\s+\|\s+nan \|\s+nan \|/);
    assert.match(t, /aAcc: 60\.00  mIoU: 33\.33  mAcc: 50\.00/);
  });

  it('a prediction outside the classes is an error, not skipped', () => {
    assert.throws(() => new ConfusionMatrix(3).update([5], [1]), /prediction 5 at pixel 0 is outside 0\.\.2/);
  });
});
