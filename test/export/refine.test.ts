// The guided-filter edge refinement of a two-class checkpoint survives the export: the file's
// 'refine' metadata carries the checkpoint's settings, and ExportedSegmenter applies them after the
// model. Checked against the float64 reference filter (test/reference/guided-filter.ts) run on the
// file's own raw scores, for a logits and a probs head, at an image size other than the input's;
// `refine: false` gives the unrefined labels; a 'labels' head (no scores to refine) and files written
// before the key existed carry none; a bad entry names the file.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DecodedImage } from '../../src/data/image.js';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import { contractFromMetadata } from '../../src/export/contract.js';
import { exportCheckpoint } from '../../src/export/export-model.js';
import { ExportedSegmenter, prepareInput } from '../../src/export/exported-segmenter.js';
import { readOnnx } from '../../src/export/onnx-read.js';
import { syntheticImages } from '../../src/export/segmenter-agreement.js';
import { guidedRef } from '../reference/guided-filter.js';
import { runOnnx, tinyCheckpoint } from './helpers.js';

const S = 32;
const REFINE = { radius: 2, eps: 1e-2 };
const config = { data: { valPipeline: [{ type: 'Resize', scale: [S, S], keepRatio: false }, { type: 'Normalize' }] } };
// 40×28: the coefficients are resized from the model's 32×32 to the image's own size.
const [image] = syntheticImages(1, 28, 40) as [DecodedImage];

function personCheckpoint() {
  const ckpt = tinyCheckpoint({ numClasses: 2, classes: ['background', 'person'], config });
  ckpt.meta.refine = REFINE;
  return ckpt;
}

/** Labels of the float64 guided filter applied to P(person) from the file's raw output on `img`. */
async function referenceLabels(bytes: Uint8Array, img: DecodedImage): Promise<Uint8Array> {
  const contract = contractFromMetadata(readOnnx(bytes).metadata);
  const out = Object.values(await runOnnx(bytes, { [contract.input.name]: prepareInput(contract, img).input }))[0]!;
  const n = S * S;
  const s = out.f32;
  const p = Float64Array.from({ length: n }, (_, i) => (contract.head === 'probs' ? s[n + i]! : 1 / (1 + Math.exp(s[i]! - s[n + i]!))));
  const [W, H] = [img.width, img.height];
  const guide = { data: Float64Array.from({ length: 3 * W * H }, (_, i) => img.data[(i % (W * H)) * 3 + Math.floor(i / (W * H))]! / 255), shape: [1, 3, H, W] };
  const q = guidedRef(guide, { data: p, shape: [1, 1, S, S] }, REFINE.radius, REFINE.eps).data;
  return Uint8Array.from(q, (v) => (v > 0.5 ? 1 : 0));
}

describe('export keeps the guided-filter refinement', () => {
  for (const head of ['logits', 'probs'] as const) {
    test(`${head} head: 'refine' metadata; ExportedSegmenter's labels match the float64 filter on the file's scores; refine: false leaves it out`, async () => {
      const e = await exportCheckpoint(personCheckpoint(), { runtime: nodeRuntime, threads: 1, head });
      const meta = new Map(readOnnx(e.bytes).metadata);
      assert.deepEqual(JSON.parse(meta.get('refine')!), REFINE);
      assert.match(meta.get('refine_format')!, /guided filter/);
      const want = await referenceLabels(e.bytes, image);
      const on = await ExportedSegmenter.create(e.bytes, nodeRuntime, { threads: 1 });
      const off = await ExportedSegmenter.create(e.bytes, nodeRuntime, { threads: 1, refine: false });
      try {
        assert.equal(on.refines, true);
        const got = (await on.segment(image)).labels;
        let differ = 0;
        for (let i = 0; i < got.length; i++) if (got[i] !== want[i]) differ++;
        assert.ok(differ <= 2, `${differ} of ${got.length} labels differ from the float64 reference`); // float32 near-ties only
        // Unrefined: the scores resized and thresholded, which the refinement must change somewhere.
        const { input, content } = off.toInput(image);
        const plain = off.labelsFrom(await off.run(input), content, image.height, image.width);
        assert.deepEqual((await off.segment(image)).labels, plain);
        assert.ok(plain.some((v, i) => v !== want[i]), 'the refinement changed no label (the comparison could not fail)');
      } finally {
        await Promise.all([on.dispose(), off.dispose()]);
      }
    });
  }

  test("a 'labels' head has no scores to refine: no refinement in the file; older files without the key read as none; bad entries are named", async () => {
    const e = await exportCheckpoint(personCheckpoint(), { runtime: nodeRuntime, threads: 1, head: 'labels' });
    assert.equal(e.contract.refine, null);
    assert.equal(new Map(readOnnx(e.bytes).metadata).get('refine'), 'null');
    const logits = await exportCheckpoint(personCheckpoint(), { runtime: nodeRuntime, threads: 1 });
    const older = readOnnx(logits.bytes).metadata.filter(([k]) => k !== 'refine' && k !== 'refine_format');
    assert.equal(contractFromMetadata(older).refine, null);
    const bad = (v: string) => contractFromMetadata([...older, ['refine', v]], 'm.onnx');
    assert.throws(() => bad('{"radius": 0, "eps": 0.01}'), /m\.onnx: metadata 'refine': guided filter radius must be a positive integer \(pixels\), got 0/);
    assert.throws(() => bad('[8, 0.01]'), /m\.onnx: metadata 'refine' should be \{"radius": R, "eps": E\} or null, got \[8,0.01\]/);
  });
});
