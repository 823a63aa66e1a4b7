// Real data: ../shared/datasets/camvid (skipped with a message when absent).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDataset } from '../../src/data/sources/index.js';
import { DataLoader } from '../../src/data/loader.js';
import { datasetStats, pixelShares } from '../../src/data/stats.js';
import { defaultTrainPipeline } from '../../src/data/transforms/index.js';
import { sharedDataset } from './helpers.js';

const root = sharedDataset('camvid');

// README table: share of train pixels per index 0..11 (11 = void), in percent.
const README_SHARES = [16.9, 23.3, 1.0, 31.7, 4.5, 9.7, 1.2, 1.1, 5.9, 0.6, 0.3, 4.0];

test('CamVid: 367 train and 101 val pairs; class frequencies match the README within ±0.1 pp', async (t) => {
  if (!root) {
    t.skip('../shared/datasets/camvid not found');
    return;
  }
  const train = await createDataset('camvid', { root, split: 'train' });
  const val = await createDataset('camvid', { root, split: 'val' });
  assert.equal(train.length, 367);
  assert.equal(val.length, 101);
  const s = await train.load(0);
  assert.equal(s.width, 480);
  assert.equal(s.height, 360);
  assert.equal(s.channels, 3);
  const st = await datasetStats(train);
  assert.equal(st.images, 367);
  assert.deepEqual(st.sizes, { '480×360': 367 });
  const sh = pixelShares(st);
  const measured = [...sh.classes, sh.ignored].map((v) => v * 100);
  // The README rounds to 0.1 %, so a measured share may sit up to 0.05 from its printed value;
  // the tolerance is ±0.1 percentage points.
  measured.forEach((m, i) => assert.ok(Math.abs(m - README_SHARES[i]!) <= 0.1, `index ${i}: measured ${m.toFixed(3)} %, README ${README_SHARES[i]} %`));
});

test('CamVid: the full augmentation pipeline yields 360×480 batches on a worker', async (t) => {
  if (!root) {
    t.skip('../shared/datasets/camvid not found');
    return;
  }
  const ds = await createDataset('camvid', { root, split: 'val' });
  const loader = new DataLoader({ dataset: ds, pipeline: defaultTrainPipeline('camvid'), batchSize: 2, workers: 1, seed: 3 });
  let n = 0;
  for await (const b of loader) {
    assert.deepEqual(b.imageShape, [2, 3, 360, 480]);
    for (const v of b.labels) assert.ok(v <= 10 || v === 255);
    if (++n === 2) break;
  }
  await loader.close();
});
