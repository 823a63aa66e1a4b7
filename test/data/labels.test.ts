import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ade20kLabels,
  camvidLabels,
  CITYSCAPES_LABELS,
  cityscapesLabels,
  cityscapesTrainIdLabels,
  cityscapesTrainIdToId,
  easyPortraitLabels,
  easyPortraitPersonLabels,
  getLabelSet,
  listLabelSets,
  portraitLabels,
  rangesText,
} from '../../src/data/labels/index.js';

test('cityscapes: 34 ids + license plate, as cityscapesScripts labels.py', () => {
  assert.equal(CITYSCAPES_LABELS.length, 35);
  assert.deepEqual(CITYSCAPES_LABELS.filter((l) => l.id >= 0).map((l) => l.id), Array.from({ length: 34 }, (_, i) => i));
  // hand-checked rows: [name, id, trainId, category, catId, hasInstances, ignoreInEval, color]
  const rows: [string, number, number, string, number, boolean, boolean, [number, number, number]][] = [
    ['unlabeled', 0, 255, 'void', 0, false, true, [0, 0, 0]],
    ['dynamic', 5, 255, 'void', 0, false, true, [111, 74, 0]],
    ['ground', 6, 255, 'void', 0, false, true, [81, 0, 81]],
    ['road', 7, 0, 'flat', 1, false, false, [128, 64, 128]],
    ['sidewalk', 8, 1, 'flat', 1, false, false, [244, 35, 232]],
    ['parking', 9, 255, 'flat', 1, false, true, [250, 170, 160]],
    ['guard rail', 14, 255, 'construction', 2, false, true, [180, 165, 180]],
    ['polegroup', 18, 255, 'object', 3, false, true, [153, 153, 153]],
    ['traffic light', 19, 6, 'object', 3, false, false, [250, 170, 30]],
    ['sky', 23, 10, 'sky', 5, false, false, [70, 130, 180]],
    ['person', 24, 11, 'human', 6, true, false, [220, 20, 60]],
    ['car', 26, 13, 'vehicle', 7, true, false, [0, 0, 142]],
    ['caravan', 29, 255, 'vehicle', 7, true, true, [0, 0, 90]],
    ['trailer', 30, 255, 'vehicle', 7, true, true, [0, 0, 110]],
    ['train', 31, 16, 'vehicle', 7, true, false, [0, 80, 100]],
    ['bicycle', 33, 18, 'vehicle', 7, true, false, [119, 11, 32]],
    ['license plate', -1, -1, 'vehicle', 7, false, true, [0, 0, 142]],
  ];
  for (const [name, id, trainId, category, categoryId, hasInstances, ignoreInEval, color] of rows) {
    const l = cityscapesLabels.byName(name);
    assert.ok(l, name);
    assert.deepEqual({ ...l }, { name, id, trainId, category, categoryId, hasInstances, ignoreInEval, color }, name);
    if (id >= 0) {
      assert.equal(cityscapesLabels.byId(id), l);
      assert.equal(cityscapesLabels.idToTrainId[id], trainId);
    }
  }
  assert.equal(cityscapesLabels.numClasses, 19);
  assert.deepEqual(cityscapesLabels.classes, [
    'road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light', 'traffic sign', 'vegetation', 'terrain',
    'sky', 'person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle', 'bicycle',
  ]);
  assert.deepEqual(cityscapesLabels.palette[0], [128, 64, 128]);
  assert.deepEqual(cityscapesLabels.palette[18], [119, 11, 32]);
  // every label with ignoreInEval maps to 255 (except license plate, which has no id)
  for (const l of CITYSCAPES_LABELS) if (l.id >= 0) assert.equal(l.ignoreInEval, l.trainId === 255, l.name);
  assert.equal(cityscapesLabels.byTrainId(255)?.name, 'unlabeled'); // labels.py: first in table order
  assert.deepEqual(cityscapesLabels.categories.map((c) => c.name), ['void', 'flat', 'construction', 'object', 'nature', 'sky', 'human', 'vehicle']);
  // ids 34..254 are not cityscapes ids; 255 is accepted as ignore
  assert.equal(cityscapesLabels.validIds[34], 0);
  assert.equal(cityscapesLabels.validIds[255], 1);
  assert.equal(cityscapesLabels.validIdsText, '0–33 and 255');
  // inverse map for writing official predictions
  const inv = cityscapesTrainIdToId();
  assert.equal(inv[0], 7);
  assert.equal(inv[13], 26);
  assert.equal(inv[18], 33);
  // the train-id form accepts 0..18 and 255 only
  assert.equal(cityscapesTrainIdLabels.numClasses, 19);
  assert.equal(cityscapesTrainIdLabels.validIdsText, '0–18 and 255');
  assert.equal(cityscapesTrainIdLabels.idToTrainId[13], 13);
});

test('camvid: 11 classes, void 11 → 255, SegNet palette', () => {
  assert.equal(camvidLabels.numClasses, 11);
  assert.equal(camvidLabels.classes[3], 'Road');
  assert.deepEqual(camvidLabels.palette[4], [60, 40, 222]);
  assert.equal(camvidLabels.idToTrainId[11], 255);
  assert.equal(camvidLabels.idToTrainId[10], 10);
  assert.equal(camvidLabels.validIds[12], 0);
  assert.equal(camvidLabels.validIdsText, '0–11 and 255');
  assert.equal(getLabelSet('camvid-void11').ignoreIndex, 11);
});

test('ade20k: 150 classes, reduceZeroLabel (0 → 255, k → k−1)', () => {
  assert.equal(ade20kLabels.numClasses, 150);
  assert.equal(ade20kLabels.idToTrainId[0], 255);
  assert.equal(ade20kLabels.idToTrainId[1], 0);
  assert.equal(ade20kLabels.idToTrainId[150], 149);
  assert.equal(ade20kLabels.classes[0], 'wall');
  assert.equal(ade20kLabels.classes[149], 'flag');
  assert.deepEqual(ade20kLabels.palette[12], [150, 5, 61]); // person
  assert.equal(ade20kLabels.validIds[151], 0);
  assert.equal(getLabelSet('ade20k-151').numClasses, 151);
});

test('portrait sets: EG1800, EasyPortrait 9 classes and binary person', () => {
  assert.deepEqual(portraitLabels.classes, ['background', 'person']);
  assert.equal(easyPortraitLabels.numClasses, 9);
  assert.deepEqual(easyPortraitLabels.classes.slice(0, 3), ['background', 'person', 'skin']);
  assert.deepEqual(easyPortraitLabels.palette[1], [223, 87, 188]);
  assert.equal(easyPortraitPersonLabels.numClasses, 2);
  assert.deepEqual([...easyPortraitPersonLabels.idToTrainId.subarray(0, 9)], [0, 1, 1, 1, 1, 1, 1, 1, 1]);
});

test('registry lists names on error; rangesText', () => {
  assert.ok(listLabelSets().includes('cityscapes'));
  assert.throws(() => getLabelSet('kitti'), /unknown label set 'kitti'; valid label sets: .*camvid.*cityscapes/);
  assert.equal(rangesText([0, 1, 2, 5, 7, 8, 255]), '0–2, 5, 7, 8 and 255');
});
