// Every model family exported at a tiny input: labels from the exported file, run by
// onnxruntime-node with the file's own pre/post-processing (ExportedSegmenter, driven by the
// metadata), against segkit's Segmenter on the same image: ≥ 99.9 % of pixels for float32
// weights, ≥ 99.5 % for float16 (whose file is half the size).
//
// Random weights (manualSeed) and an image of saturated colour blocks; the seeds are ones where the
// labels are far from uniform (several classes cover ≥ 5 % of the image each) and depend on the
// colours: swapping R and B changes ≥ 10 % of them. So an export that reads channels in the wrong
// order, or transposes the image, cannot pass.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nodeCodec } from '../../src/data/image-node.js';
import type { DecodedImage } from '../../src/data/image.js';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import { labelAgreement } from '../../src/export/evaluate-exports.js';
import { exportModel } from '../../src/export/export-model.js';
import { syntheticImages } from '../../src/export/segmenter-agreement.js';
import { Segmenter } from '../../src/segmenter/segmenter.js';
import { FAMILY_CASES, familyLabel, familyModel } from './family-cases.js';
import { exportedLabels } from './helpers.js';

const bgr = (img: DecodedImage): DecodedImage => ({ ...img, data: img.data.map((_, i) => img.data[i - (i % 3) + 2 - (i % 3)]!) });

describe('export of every model family agrees with the Segmenter', () => {
  for (const c of FAMILY_CASES) {
    test(familyLabel(c), async () => {
      const { model, meta, checkpoint: ckpt } = familyModel(c);
      const k = c.options.numClasses as number;
      const [img] = syntheticImages(1, c.size, c.size) as [DecodedImage];

      const segmenter = Segmenter.fromCheckpoint(ckpt, nodeCodec, nodeRuntime, { threads: 1 });
      let want: Uint8Array;
      let swapped: Uint8Array;
      try {
        want = (await segmenter.segment(img)).labels;
        swapped = (await segmenter.segment(bgr(img))).labels;
      } finally {
        await segmenter.dispose();
      }
      const counts = new Array<number>(k).fill(0);
      for (const v of want) counts[v]!++;
      assert.ok(counts.filter((n) => n >= 0.05 * want.length).length >= 2, `labels too uniform to test anything: class counts ${counts}`);
      assert.ok(labelAgreement(want, swapped) <= 0.9, 'the labels depend on the channel order (so a swapped-channel export would fail)');

      const e = await exportModel(model, meta, { runtime: nodeRuntime, threads: 1, input: `1x3x${c.size}x${c.size}`, weights: 'float16' });
      const fp32 = labelAgreement(await exportedLabels(e.float32Bytes, img), want);
      const fp16 = labelAgreement(await exportedLabels(e.bytes, img), want);
      assert.ok(fp32 >= 0.999, `float32 export: ${(fp32 * 100).toFixed(2)} % of pixels agree with the Segmenter (need ≥ 99.9 %)`);
      assert.ok(fp16 >= 0.995, `float16 export: ${(fp16 * 100).toFixed(2)} % of pixels agree with the Segmenter (need ≥ 99.5 %)`);
      assert.ok(e.bytes.length <= 0.55 * e.float32Bytes.length, `float16 file ${e.bytes.length} bytes vs float32 ${e.float32Bytes.length}`);
    });
  }
});
