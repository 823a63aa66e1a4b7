/** Pieces the built-in recipes share: datasets as they sit beside the checkout, and their pipelines. */
import { mmsegTrainPipeline, portraitTrainPipeline } from '../../data/transforms/presets.js';
import type { DataConfig, TrainLoopConfig } from '../config.js';

/** Where the built-in configs look for datasets; override with `--set data.root=...`. */
export const DATA_ROOT = '../shared/datasets';

/**
 * CamVid ENet class weights w = 1/ln(1.10 + p) as S2-FPN ships them (`camvid_inform.pkl`,
 * architectures.md §5.9), in SegNet class order.
 */
export const CAMVID_ENET_WEIGHTS = [4.367, 3.357, 9.645, 2.841, 6.901, 5.124, 9.458, 9.109, 7.087, 9.868, 9.809];

/** Cityscapes ENet class weights as S2-FPN ships them (§5.9), in train-id order. */
export const CITYSCAPES_ENET_WEIGHTS = [2.596, 6.742, 3.535, 9.866, 9.691, 9.369, 10.289, 9.953, 4.31, 9.49, 7.674, 9.397, 10.348, 6.393, 10.227, 10.241, 10.281, 10.397, 10.056];

/**
 * CamVid train → val at crop [h, w] of the 360×480 frames, mmseg's augmentation (random rescale by
 * `ratioRange`, crop, flip, photometric distortion). Frames smaller than the crop are padded
 * (label ignore), so crops a little larger than 360 rows serve models that need multiples of 16/32.
 */
export function camvidData(crop: readonly [number, number], batchSize: number, ratioRange: readonly [number, number] = [0.5, 2.0]): DataConfig {
  return {
    dataset: 'camvid',
    root: `${DATA_ROOT}/camvid`,
    trainSplit: 'train',
    valSplit: 'val',
    trainPipeline: mmsegTrainPipeline({ scale: [480, 360], cropSize: crop, ratioRange }),
    batchSize,
    workers: 1,
  };
}

/**
 * CamVid at reduced resolution [h, w]: train frames rescaled around that size (ratio 0.75–2.0) and
 * cropped to it, val frames resized to it; the Segmenter upsamples the scores back to the frame.
 */
export function camvidDataAt(size: readonly [number, number], batchSize: number): DataConfig {
  const data = camvidData(size, batchSize, [0.75, 2.0]);
  data.trainPipeline = data.trainPipeline.map((t) => (t.type === 'RandomResize' ? { ...t, scale: [size[1], size[0]] } : t));
  data.valPipeline = [{ type: 'Resize', scale: [size[1], size[0]], keepRatio: false }, { type: 'Normalize' }];
  return data;
}

/**
 * S2-FPN's schedule (architectures.md §5.9): warm-up from lr/3, then poly 0.9. Its 500 warm-up
 * iterations belong to 150-epoch runs; short runs warm up for a tenth of their length.
 */
export const warmPoly = (iters: number) => ({ type: 'poly', power: 0.9, minLr: 0, warmupIters: Math.min(500, Math.round(iters / 10)), warmupStartFactor: 1 / 3 }) as const;

export function cityscapesData(crop: readonly [number, number], batchSize: number): DataConfig {
  return {
    dataset: 'cityscapes',
    root: `${DATA_ROOT}/cityscapes`,
    trainSplit: 'train',
    valSplit: 'val',
    trainPipeline: mmsegTrainPipeline({ scale: [2048, 1024], cropSize: crop }),
    batchSize,
    workers: 2,
  };
}

/** EG1800 portraits at size², FastSeg's augmentation, 10 % of train held out for validation. */
export function eg1800Data(size: number, batchSize: number): DataConfig {
  return {
    dataset: 'eg1800',
    root: `${DATA_ROOT}/eg1800`,
    trainSplit: 'train',
    holdOut: 0.1,
    trainPipeline: portraitTrainPipeline({ size }),
    valPipeline: [{ type: 'Resize', scale: [size, size], keepRatio: false }, { type: 'Normalize' }],
    batchSize,
    workers: 1,
  };
}

/** Loop defaults for a length in iterations or epochs: validate and checkpoint every `every` iterations. */
export const loop = (length: { iters: number } | { epochs: number }, every: number, extra: Partial<TrainLoopConfig> = {}): TrainLoopConfig => ({
  ...length,
  valInterval: every,
  checkpointInterval: every,
  maxKeepCheckpoints: 2,
  bestMetric: 'mIoU',
  logInterval: 10,
  seed: 0,
  ...extra,
});
