// The models that ship in the package (models/<name>/model.safetensors), checked against ground
// truth they were not trained on: the CamVid val frame and the EG1800 held-out portrait in samples/,
// and more EG1800 held-out portraits.
// Each test skips, saying why, until its model has been trained and shipped.
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeLabel } from '../../src/data/image-node.js';
import { createSegmenter } from '../../src/segmenter/node.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { buildValDataset } from '../../src/train/build.js';
import type { TrainConfig } from '../../src/train/config.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const modelFile = (name: string) => join(root, 'models', name, 'model.safetensors');
const notShipped = (name: string) => (existsSync(modelFile(name)) ? false : `models/${name}/model.safetensors is not there yet (train and ship it: see models/README.md)`);
const MAX_BYTES = 20e6;

/** Pixels labelled person (class 1) in both maps, and in either. */
function personOverlap(predicted: ArrayLike<number>, truth: ArrayLike<number>): { inter: number; union: number } {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < truth.length; i++) {
    const a = predicted[i] === 1;
    const b = truth[i] === 1;
    if (a && b) inter++;
    if (a || b) union++;
  }
  return { inter, union };
}

describe('shipped road-scene model (camvid)', { skip: notShipped('camvid') }, () => {
  it('is a self-describing file ≤ 20 MB with the 11 CamVid classes and their palette', async () => {
    assert.ok(statSync(modelFile('camvid')).size <= MAX_BYTES, `${statSync(modelFile('camvid')).size} bytes`);
    const c = await loadCheckpoint(modelFile('camvid'));
    assert.deepEqual(c.meta.classes, ['Sky', 'Building', 'Pole', 'Road', 'Sidewalk', 'Tree', 'SignSymbol', 'Fence', 'Car', 'Pedestrian', 'Bicyclist']);
    assert.equal(c.meta.palette?.length, 11);
    assert.deepEqual(c.optimizer, {});
    assert.equal((c.meta.config as TrainConfig).data.dataset, 'camvid');
  });

  it('labels the sample street (CamVid val 0016E5_08057) like its ground truth: ≥ 85 % of labelled pixels, road ≥ 90 %', async () => {
    const segmenter = await createSegmenter('camvid', { threads: 2 });
    try {
      const r = await segmenter.segment(join(root, 'samples', 'street.jpg'));
      const gt = await decodeLabel(join(root, 'samples', 'street-labels.png'));
      assert.deepEqual([r.width, r.height], [gt.width, gt.height]);
      let right = 0;
      let labelled = 0;
      let road = 0;
      let roadRight = 0;
      for (let i = 0; i < gt.data.length; i++) {
        const t = gt.data[i]!;
        if (t === 11) continue; // void
        labelled++;
        if (r.labels[i] === t) right++;
        if (t === 3) {
          road++;
          if (r.labels[i] === 3) roadRight++;
        }
      }
      console.log(`  camvid on samples/street.jpg: ${((100 * right) / labelled).toFixed(1)} % of labelled pixels right, road ${((100 * roadRight) / road).toFixed(1)} %`);
      assert.ok(right / labelled >= 0.85, `${right}/${labelled}`);
      assert.ok(roadRight / road >= 0.9, `${roadRight}/${road}`);
    } finally {
      await segmenter.dispose();
    }
  });
});

describe('shipped portrait model (portrait)', { skip: notShipped('portrait') }, () => {
  it('is a self-describing file ≤ 20 MB with background and person classes', async () => {
    assert.ok(statSync(modelFile('portrait')).size <= MAX_BYTES);
    const c = await loadCheckpoint(modelFile('portrait'));
    assert.deepEqual(c.meta.classes, ['background', 'person']);
  });

  it('separates the sample portrait (held-out EG1800 00104) like its mask: person IoU ≥ 90 %', async () => {
    const segmenter = await createSegmenter('portrait', { threads: 2 });
    try {
      const r = await segmenter.segment(join(root, 'samples', 'portrait.jpg'));
      const gt = await decodeLabel(join(root, 'samples', 'portrait-mask.png'));
      assert.deepEqual([r.width, r.height], [gt.width, gt.height]);
      const { inter, union } = personOverlap(r.labels, gt.data);
      console.log(`  portrait on samples/portrait.jpg: person IoU ${((100 * inter) / union).toFixed(1)} %`);
      assert.ok(inter / union >= 0.9, `${inter}/${union}`);
    } finally {
      await segmenter.dispose();
    }
  });

  const shared = join(root, '..', 'shared', 'datasets', 'eg1800');
  it('finds the person in held-out EG1800 portraits: mean person IoU ≥ 90 % over 10 of them', { skip: existsSync(shared) ? false : `${shared} is absent` }, async () => {
    const c = await loadCheckpoint(modelFile('portrait'));
    const config = c.meta.config as TrainConfig;
    const held = (await buildValDataset({ ...config, data: { ...config.data, root: shared } }, config.train.seed ?? 0))!;
    const segmenter = await createSegmenter('portrait', { threads: 2 });
    let sum = 0;
    try {
      for (let i = 0; i < 10; i++) {
        const s = await held.load(i);
        const r = await segmenter.segment({ data: s.image as Uint8Array, width: s.width, height: s.height, channels: 3 });
        const { inter, union } = personOverlap(r.labels, s.label as Uint8Array);
        sum += inter / union;
      }
    } finally {
      await segmenter.dispose();
    }
    console.log(`  portrait: mean person IoU ${(10 * sum).toFixed(1)} % on 10 held-out portraits`);
    assert.ok(sum / 10 >= 0.9, `${sum / 10}`);
  });
});
