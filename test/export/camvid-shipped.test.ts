// The shipped CamVid model (models/camvid/model.safetensors) exported at its default size (the
// config's fixed 180×240 validation size) agrees with the Segmenter on ≥ 99.9 % of the pixels of
// five CamVid val frames at their native 360×480 (resized in, logits resized back out, on both
// sides). Skipped when the shipped model or ../shared/datasets/camvid is absent.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { nodeCodec } from '../../src/data/image-node.js';
import { createDataset } from '../../src/data/sources/registry.js';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import { spreadImages } from '../../src/export/export-data.js';
import { exportCheckpoint } from '../../src/export/export-model.js';
import { ExportedSegmenter } from '../../src/export/exported-segmenter.js';
import { agreementWithSegmenter } from '../../src/export/segmenter-agreement.js';
import { Segmenter } from '../../src/segmenter/segmenter.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { REPO, sharedDataset } from '../data/helpers.js';

const MODEL = join(REPO, 'models', 'camvid', 'model.safetensors');

describe('shipped CamVid model export', () => {
  test('float32 export vs the Segmenter on 5 CamVid val frames: ≥ 99.9 % of pixels agree', async (t) => {
    if (!existsSync(MODEL)) return t.skip(`${MODEL} is not there (the shipped model is added by scripts/ship-model.ts)`);
    const root = sharedDataset('camvid');
    if (!root) return t.skip('../shared/datasets/camvid is not there');
    const ckpt = await loadCheckpoint(MODEL);
    const e = await exportCheckpoint(ckpt, { runtime: nodeRuntime, threads: 1, source: MODEL });
    const exported = await ExportedSegmenter.create(e.bytes, nodeRuntime, { threads: 1 });
    const segmenter = Segmenter.fromCheckpoint(ckpt, nodeCodec, nodeRuntime, { threads: 1 }, MODEL);
    try {
      const ds = await createDataset('camvid', { root, split: 'val' });
      const a = await agreementWithSegmenter(exported, segmenter, spreadImages(ds, 5));
      t.diagnostic(`input ${e.contract.input.shape.join('x')}, per-image agreement ${a.perImage.map((v) => (v * 100).toFixed(3)).join(', ')} %`);
      assert.equal(a.perImage.length, 5);
      assert.ok(a.overall >= 0.999, `${(a.overall * 100).toFixed(3)} % of pixels agree`);
    } finally {
      await exported.dispose();
      await segmenter.dispose();
    }
  });
});
