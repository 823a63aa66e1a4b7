// `segkit eval` on a synthetic folder dataset with a checkpoint of random weights: the metrics in
// eval.json must equal IoUs recomputed in the test from the label PNGs it wrote and the ground
// truth; sliding windows of exactly the image size give the same counts as whole-image mode; the
// heatmap is an image; bad input is a clear error.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import sharp from 'sharp';
import { UsageError } from '../../src/cli/command.js';
import { evalCommand } from '../../src/cli/commands/eval.js';
import { decodeLabel } from '../../src/data/image-node.js';
import { createModel } from '../../src/models/index.js';
import { manualSeed } from '../../src/nn/init.js';
import { saveCheckpoint } from '../../src/train/checkpoint.js';
import { CITYSCAPES_LABELS, cityscapesLabels } from '../../src/data/labels/cityscapes.js';
import { bootstrapMIoU } from '../../src/metrics/bootstrap.js';
import { CityscapesEvaluator } from '../../src/metrics/cityscapes.js';
import { ConfusionMatrix } from '../../src/metrics/confusion.js';
import { pngGrey, pngGrey16, pngRgb, tempDir, textureImage, writeBandsDataset, writeBytes } from '../data/helpers.js';

async function run(t: TestContext, ...args: string[]): Promise<string> {
  const lines: string[] = [];
  t.mock.method(console, 'log', (...a: unknown[]) => lines.push(a.join(' ')));
  try {
    await evalCommand.run(args);
  } finally {
    t.mock.restoreAll();
  }
  return lines.join('\n');
}

interface Report {
  mIoU: number;
  images: number;
  perClass: { name: string; iou: number }[];
  confusion: { counts: number[] };
}

describe('segkit eval', () => {
  const tmp = tempDir('segkit-eval-');
  const root = join(tmp.dir, 'data');
  const ckpt = join(tmp.dir, 'random.safetensors');
  let val: string[] = [];
  before(async () => {
    ({ val } = await writeBandsDataset(root, { train: 2, val: 5 }));
    manualSeed(7);
    const options = { encoder: 'mit-b0', decoderHiddenSize: 32, numClasses: 3 };
    const model = createModel('segformer', options);
    await saveCheckpoint(ckpt, {
      meta: { format: 'segkit-checkpoint/1', iteration: 0, model: { name: 'segformer', options }, classes: ['red', 'green', 'blue'] },
      model: model.stateDict(),
      optimizer: {},
    });
  });
  after(() => tmp.cleanup());

  test('eval.json matches IoUs recomputed from the written label maps', async (t) => {
    const out = join(tmp.dir, 'whole');
    const text = await run(t, ckpt, '--data', 'folder', '--data-root', root, '--out', out, '--threads', '1');
    assert.match(text, /per class results/);
    assert.match(text, /\| red +\|/);
    const report = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8')) as Report;
    assert.equal(report.images, 5);
    // Independent count: predicted PNG vs ground-truth mask, pixel by pixel.
    const inter = [0, 0, 0];
    const pred = [0, 0, 0];
    const gt = [0, 0, 0];
    for (const stem of val) {
      const p = await decodeLabel(join(out, 'labels', `${stem}.png`));
      const g = await decodeLabel(join(root, 'masks', `${stem}.png`));
      assert.deepEqual([p.width, p.height], [g.width, g.height]);
      for (let i = 0; i < g.data.length; i++) {
        pred[p.data[i]!]!++;
        gt[g.data[i]!]!++;
        if (p.data[i] === g.data[i]) inter[g.data[i]!]!++;
      }
    }
    const ious = inter.map((v, k) => (pred[k]! + gt[k]! - v > 0 ? v / (pred[k]! + gt[k]! - v) : NaN));
    report.perClass.forEach((c, k) => (Number.isNaN(ious[k]!) ? assert.equal(c.iou, null) : assert.ok(Math.abs(c.iou - ious[k]!) < 1e-12, `${c.name}: ${c.iou} vs ${ious[k]}`)));
    assert.equal(report.confusion.counts.reduce((a, b) => a + b, 0), 5 * 32 * 32);
    const heat = await sharp(join(out, 'confusion.png')).metadata();
    assert.ok(heat.width! > 100 && heat.height! > 100, 'heatmap is an image');
    const overlay = await sharp(join(out, 'overlay', `${val[0]}.jpg`)).metadata();
    assert.deepEqual([overlay.width, overlay.height], [32, 32]);
  });

  test('sliding windows the size of the image count exactly what whole-image inference counts', async (t) => {
    const whole = JSON.parse(readFileSync(join(tmp.dir, 'whole', 'eval.json'), 'utf8')) as Report;
    const out = join(tmp.dir, 'slide');
    await run(t, ckpt, '--data', 'folder', '--data-root', root, '--out', out, '--mode', 'slide', '--crop', '32x32', '--stride', '32x32', '--threads', '1');
    const slide = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8')) as Report;
    assert.deepEqual(slide.confusion.counts, whole.confusion.counts);
  });

  test('--bootstrap: the interval of bootstrapMIoU over matrices recomputed per image from the written label maps', async (t) => {
    const out = join(tmp.dir, 'bootstrap');
    const text = await run(t, ckpt, '--data', 'folder', '--data-root', root, '--out', out, '--threads', '1', '--bootstrap', '300');
    const report = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8')) as Report & { bootstrap: { low: number; high: number; resamples: number } };
    const perImage: ConfusionMatrix[] = [];
    for (const stem of val) {
      const [p, g] = await Promise.all([decodeLabel(join(out, 'labels', `${stem}.png`)), decodeLabel(join(root, 'masks', `${stem}.png`))]);
      perImage.push(new ConfusionMatrix(3).update(p.data, g.data));
    }
    const want = bootstrapMIoU(perImage, { resamples: 300 });
    assert.deepEqual([report.bootstrap.low, report.bootstrap.high, report.bootstrap.resamples], [want.low, want.high, 300]);
    assert.ok(want.low < want.high, 'five different images give an interval of some width');
    assert.match(text, new RegExp(`mIoU 95 % bootstrap interval over the 5 images \\(300 resamples, seed 0\\): ${(want.low * 100).toFixed(2)} to ${(want.high * 100).toFixed(2)} %`));
  });

  test('Cityscapes: the official protocol on label ids and instance ids, as CityscapesEvaluator counts the written label-id maps', async (t) => {
    // A two-image Cityscapes layout with random label ids; instance ids split instance classes in halves.
    const cs = join(tmp.dir, 'cityscapes');
    const stems = ['aachen_000000_000019', 'aachen_000001_000019'];
    const [w, h] = [40, 32];
    const gts: { ids: Uint8Array; inst: Uint16Array }[] = [];
    for (const [n, stem] of stems.entries()) {
      const ids = Uint8Array.from({ length: w * h }, (_, i) => (i * 7 + n * 13 + ((i * i) % 11)) % 34);
      const inst = Uint16Array.from(ids, (id, i) => (CITYSCAPES_LABELS.find((l) => l.id === id)!.hasInstances ? id * 1000 + ((i % w) < w / 2 ? 0 : 1) : id));
      gts.push({ ids, inst });
      writeBytes(join(cs, 'leftImg8bit', 'val', 'aachen', `${stem}_leftImg8bit.png`), await pngRgb(textureImage(w, h, n + 1), w, h));
      writeBytes(join(cs, 'gtFine', 'val', 'aachen', `${stem}_gtFine_labelIds.png`), await pngGrey(ids, w, h));
      writeBytes(join(cs, 'gtFine', 'val', 'aachen', `${stem}_gtFine_instanceIds.png`), pngGrey16(inst, w, h));
    }
    manualSeed(11);
    const options = { encoder: 'mit-b0', decoderHiddenSize: 32, numClasses: 19 };
    const ck = join(tmp.dir, 'cs.safetensors');
    const model = createModel('segformer', options);
    await saveCheckpoint(ck, { meta: { format: 'segkit-checkpoint/1', iteration: 0, model: { name: 'segformer', options }, classes: [...cityscapesLabels.classes] }, model: model.stateDict(), optimizer: {} });
    const out = join(tmp.dir, 'cs-out');
    const text = await run(t, ck, '--data', 'cityscapes', '--data-root', cs, '--out', out, '--label-ids', '--threads', '1');
    assert.match(text, /cityscapesScripts protocol/);
    const report = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8')) as { cityscapes: { mIoU: number; iIoU: number; categoryIoU: number } };
    const ev = new CityscapesEvaluator();
    for (const [n, stem] of stems.entries()) {
      const pred = await decodeLabel(join(out, 'labels', `${stem}.png`));
      ev.update(pred.data, gts[n]!.ids, gts[n]!.inst);
    }
    const want = ev.result();
    for (const k of ['mIoU', 'iIoU', 'categoryIoU'] as const) assert.equal(report.cityscapes[k], Number.isNaN(want[k]) ? null : want[k], k);
  });

  test('bad input is a clear error', async (t) => {
    await assert.rejects(run(t, join(tmp.dir, 'missing.safetensors'), '--data', 'folder', '--data-root', root), /no model '.*missing.safetensors': not a shipped model/);
    await assert.rejects(run(t, ckpt, '--data', 'folder', '--data-root', root, '--mode', 'slide'), (e: Error) => e instanceof UsageError && /--mode slide needs --crop and --stride/.test(e.message));
    await assert.rejects(run(t, ckpt, '--data', 'folder', '--data-root', root, '--mode', 'slide', '--crop', '32', '--stride', '8x8'), /--crop must be HxW/);
    await assert.rejects(run(t, ckpt, '--data-root', root), /--data is required/);
    await assert.rejects(run(t, ckpt, '--data', 'folder', '--data-root', root, '--bootstrap', 'many'), (e: Error) => e instanceof UsageError && /--bootstrap must be a positive whole number of resamples \(e.g. 2000\), got 'many'/.test(e.message));
  });
});
