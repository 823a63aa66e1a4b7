import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDataset, listDatasets, prepareCityscapes } from '../../src/data/sources/index.js';
import { DataError } from '../../src/data/errors.js';
import { decodeLabel } from '../../src/data/image-node.js';
import { coordImage, jpegRgb, pngGrey, pngRgb, tempDir, writeBytes } from './helpers.js';

const W = 16;
const H = 8;

/** A label map whose pixels cycle through `values`. */
function cycle(values: number[], w = W, h = H): Uint8Array {
  return new Uint8Array(w * h).map((_, i) => values[i % values.length]!);
}

test('unknown dataset names list the valid ones', async () => {
  await assert.rejects(createDataset('kitti', { root: '.' }), /unknown dataset 'kitti'; valid datasets: camvid, cityscapes, ade20k, eg1800, easyportrait, folder/);
  assert.deepEqual(listDatasets().map((d) => d.name), ['camvid', 'cityscapes', 'ade20k', 'eg1800', 'easyportrait', 'folder']);
  await assert.rejects(createDataset('camvid', { root: '/nonexistent/camvid' }), (e: DataError) => e.kind === 'layout' && /root \/nonexistent\/camvid is not a folder/.test(e.message));
});

test('cityscapes: labelIds converted to train ids on load; prepare writes labelTrainIds; auto picks them up', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const ids = [7, 8, 26, 0, 29, 33, 24, 255];
  const expected = [0, 1, 13, 255, 255, 18, 11, 255];
  for (const [city, n] of [['aachen', 2], ['bremen', 1]] as const) {
    for (let k = 0; k < n; k++) {
      const stem = `${city}_000000_00001${k}`;
      writeBytes(join(dir, 'leftImg8bit/train', city, `${stem}_leftImg8bit.png`), await pngRgb(coordImage(W, H), W, H));
      writeBytes(join(dir, 'gtFine/train', city, `${stem}_gtFine_labelIds.png`), await pngGrey(cycle(ids), W, H));
    }
  }
  const ds = await createDataset('cityscapes', { root: dir, split: 'train' });
  assert.equal(ds.length, 3);
  assert.deepEqual(ds.entries.map((e) => e.id), ['aachen_000000_000010', 'aachen_000000_000011', 'bremen_000000_000010']);
  assert.equal(ds.labels.numClasses, 19);
  const s = await ds.load(0);
  assert.deepEqual([...s.label.subarray(0, 8)], expected);
  assert.equal(s.meta.labelPath, join(dir, 'gtFine/train/aachen/aachen_000000_000010_gtFine_labelIds.png'));

  const r = await prepareCityscapes(dir);
  assert.deepEqual(r, { written: 3, skipped: 0 });
  const written = join(dir, 'gtFine/train/aachen/aachen_000000_000010_gtFine_labelTrainIds.png');
  assert.deepEqual([...(await decodeLabel(written)).data.subarray(0, 8)], expected);
  assert.deepEqual(await prepareCityscapes(dir), { written: 0, skipped: 3 });
  const auto = await createDataset('cityscapes', { root: dir });
  assert.ok(auto.entries[0]!.label.endsWith('_gtFine_labelTrainIds.png'));
  assert.equal(auto.labels.name, 'cityscapes-trainids');
  assert.deepEqual([...(await auto.load(0)).label.subarray(0, 8)], expected);
  // an id that is not a cityscapes id is a clear error
  writeBytes(join(dir, 'gtFine/train/bremen/bremen_000000_000010_gtFine_labelIds.png'), await pngGrey(cycle([7, 40]), W, H));
  const raw = await createDataset('cityscapes', { root: dir, labelType: 'labelIds' });
  await assert.rejects(raw.load(2), (e: DataError) => e.kind === 'label-value' && /bremen_000000_000010_gtFine_labelIds\.png has value 40 at \(x=1, y=0\); cityscapes label files hold 0–33 and 255/.test(e.message));
  await assert.rejects(createDataset('cityscapes', { root: dir, split: 'val' }), (e: DataError) => e.kind === 'layout' && /leftImg8bit\/val/.test(e.message));
});

test('ade20k: ADEChallengeData2016 layout, reduceZeroLabel', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const base = join(dir, 'ADEChallengeData2016');
  for (const [split, n] of [['training', 2], ['validation', 1]] as const) {
    for (let k = 1; k <= n; k++) {
      const stem = `ADE_${split === 'training' ? 'train' : 'val'}_0000000${k}`;
      writeBytes(join(base, 'images', split, `${stem}.jpg`), await jpegRgb(coordImage(W, H), W, H));
      writeBytes(join(base, 'annotations', split, `${stem}.png`), await pngGrey(cycle([0, 1, 150, 13]), W, H));
    }
  }
  const tr = await createDataset('ade20k', { root: dir }); // parent folder works too
  assert.equal(tr.length, 2);
  assert.equal(tr.labels.numClasses, 150);
  assert.deepEqual([...(await tr.load(1)).label.subarray(0, 4)], [255, 0, 149, 12]);
  const val = await createDataset('ade20k', { root: base, split: 'val' });
  assert.equal(val.length, 1);
  const full = await createDataset('ade20k', { root: base, split: 'validation', reduceZeroLabel: false });
  assert.equal(full.labels.numClasses, 151);
  assert.deepEqual([...(await full.load(0)).label.subarray(0, 4)], [0, 1, 150, 13]);
  await assert.rejects(createDataset('ade20k', { root: base, split: 'test' }), /unknown split 'test'; valid splits: train, training, val, validation/);
});

test('easyportrait: 9 classes, and the binary person form', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  writeBytes(join(dir, 'images/train/a1.jpg'), await jpegRgb(coordImage(W, H), W, H));
  writeBytes(join(dir, 'annotations/train/a1.png'), await pngGrey(cycle([0, 1, 2, 3, 4, 5, 6, 7, 8]), W, H));
  const nine = await createDataset('easyportrait', { root: dir });
  assert.equal(nine.labels.numClasses, 9);
  assert.deepEqual([...(await nine.load(0)).label.subarray(0, 9)], [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  const bin = await createDataset('easyportrait', { root: dir, binary: true });
  assert.deepEqual(bin.labels.classes, ['background', 'person']);
  assert.deepEqual([...(await bin.load(0)).label.subarray(0, 9)], [0, 1, 1, 1, 1, 1, 1, 1, 1]);
});

test('camvid and eg1800 list layouts (synthetic), SegNet absolute paths, void → 255', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  writeBytes(join(dir, 'train/f1.png'), await pngRgb(coordImage(W, H), W, H));
  writeBytes(join(dir, 'trainannot/f1.png'), await pngGrey(cycle([0, 3, 10, 11]), W, H));
  writeBytes(join(dir, 'val/f2.png'), await pngRgb(coordImage(W, H), W, H));
  writeBytes(join(dir, 'valannot/f2.png'), await pngGrey(cycle([1]), W, H));
  writeFileSync(join(dir, 'train.txt'), '/SegNet/CamVid/train/f1.png /SegNet/CamVid/trainannot/f1.png\n');
  writeFileSync(join(dir, 'val.txt'), 'val/f2.png valannot/f2.png\n\n');
  const cv = await createDataset('camvid', { root: dir });
  assert.equal(cv.entries[0]!.image, join(dir, 'train/f1.png'));
  assert.deepEqual([...(await cv.load(0)).label.subarray(0, 4)], [0, 3, 10, 255]);
  const keep = await createDataset('camvid', { root: dir, keepVoid: true });
  assert.deepEqual([...(await keep.load(0)).label.subarray(0, 4)], [0, 3, 10, 11]);
  assert.equal((await createDataset('camvid', { root: dir, split: 'trainval' })).length, 2);
  await assert.rejects(createDataset('camvid', { root: dir, split: 'test' }), /no list file for split 'test'.*this copy has: train, val/);
  writeFileSync(join(dir, 'bad.txt'), 'only-one-column.png\n');
  await assert.rejects(createDataset('camvid', { root: dir, listFile: join(dir, 'bad.txt') }), /bad\.txt line 1: expected 'image_path label_path'/);
  // eg1800 reads the same list format with background/person labels
  writeFileSync(join(dir, 'test.txt'), 'val/f2.png valannot/f2.png\n');
  const eg = await createDataset('eg1800', { root: dir, split: 'test' });
  assert.deepEqual(eg.labels.classes, ['background', 'person']);
  assert.deepEqual([...(await eg.load(0)).label.subarray(0, 2)], [1, 1]);
});

test('folder: images/ + masks/ with split files of stems or pairs, classes.txt, reduceZeroLabel', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  for (const s of ['a', 'b', 'c']) {
    writeBytes(join(dir, `images/${s}.webp`), await pngRgb(coordImage(W, H), W, H));
    writeBytes(join(dir, `masks/${s}.png`), await pngGrey(cycle([0, 1, 2, 255]), W, H));
  }
  writeFileSync(join(dir, 'classes.txt'), 'sky\nroad\ncar\n');
  writeBytes(join(dir, 'splits/train.txt'), new TextEncoder().encode('a\nc\n'));
  const ds = await createDataset('folder', { root: dir });
  assert.deepEqual(ds.entries.map((e) => e.id), ['a', 'c']);
  assert.deepEqual(ds.labels.classes, ['sky', 'road', 'car']);
  assert.deepEqual([...(await ds.load(1)).label.subarray(0, 4)], [0, 1, 2, 255]);
  const all = await createDataset('folder', { root: dir, split: 'all', classes: ['x', 'y', 'z'] });
  assert.equal(all.length, 3);
  const red = await createDataset('folder', { root: dir, split: 'all', numClasses: 2, reduceZeroLabel: true });
  assert.deepEqual([...(await red.load(0)).label.subarray(0, 4)], [255, 0, 1, 255]);
  writeFileSync(join(dir, 'val.txt'), 'images/b.webp masks/b.png\n');
  assert.equal((await createDataset('folder', { root: dir, split: 'val' })).entries[0]!.id, 'b');
  await assert.rejects(createDataset('folder', { root: dir, split: 'test' }), /no split file for split 'test' \(tried .*splits\/test\.txt, .*test\.txt\)/);
});

test('bad data: missing file, truncated image, size mismatch, label value outside the set — each names the file', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const good = async (s: string) => {
    writeBytes(join(dir, `images/${s}.png`), await pngRgb(coordImage(W, H), W, H));
    writeBytes(join(dir, `masks/${s}.png`), await pngGrey(cycle([0, 1, 2]), W, H));
  };
  await good('ok');
  await good('nomask');
  await good('trunc');
  await good('size');
  await good('value');
  const maskNo = join(dir, 'masks/nomask.png');
  (await import('node:fs')).rmSync(maskNo);
  const full = await pngRgb(coordImage(W, H), W, H);
  writeBytes(join(dir, 'images/trunc.png'), full.subarray(0, full.length - 40));
  writeBytes(join(dir, 'masks/size.png'), await pngGrey(cycle([0], W + 1, H), W + 1, H));
  writeBytes(join(dir, 'masks/value.png'), await pngGrey(cycle([0, 1, 7]), W, H));
  writeBytes(join(dir, 'splits/train.txt'), new TextEncoder().encode('ok\nnomask\ntrunc\nsize\nvalue\n'));
  const ds = await createDataset('folder', { root: dir, numClasses: 3 });
  await ds.load(0);
  await assert.rejects(ds.load(1), (e: DataError) => e.kind === 'missing' && e.file === maskNo && e.message === `missing file: ${maskNo} does not exist`);
  await assert.rejects(ds.load(2), (e: DataError) => e.kind === 'corrupt' && e.message.includes(join(dir, 'images/trunc.png')));
  await assert.rejects(
    ds.load(3),
    (e: DataError) =>
      e.kind === 'size-mismatch' &&
      e.message === `size mismatch: image ${join(dir, 'images/size.png')} is 16×8 but label ${join(dir, 'masks/size.png')} is 17×8 (width×height); they must be equal`,
  );
  await assert.rejects(
    ds.load(4),
    (e: DataError) => e.kind === 'label-value' && e.message.startsWith(`label ${join(dir, 'masks/value.png')} has value 7 at (x=2, y=0);`) && /hold 0–2 and 255/.test(e.message),
  );
  assert.ok(existsSync(join(dir, 'masks/value.png')));
});
