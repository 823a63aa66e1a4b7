/**
 * Ready-made training pipelines (as transform specs, so they run in loader workers):
 * mmseg's standard segmentation recipe and FastSeg's albumentations portrait recipe.
 */
import { IMAGENET_MEAN, IMAGENET_STD, type NormalizeOptions } from './normalize.js';
import type { TransformSpec } from './registry.js';

export interface MmsegTrainOptions {
  /** RandomResize base scale [width, height] (mmseg order), e.g. [2048, 1024] for Cityscapes. */
  scale: readonly [number, number];
  /** Crop [height, width] (mmseg order); also the padded output size. */
  cropSize: readonly [number, number];
  ratioRange?: readonly [number, number];
  catMaxRatio?: number;
  flipProb?: number;
  /** Include PhotoMetricDistortion (default true). */
  photometric?: boolean;
  /** Normalisation (default ImageNet mean/std, RGB); `false` keeps uint8 pixels. */
  normalize?: NormalizeOptions | false;
  ignoreIndex?: number;
}

/**
 * mmseg's train pipeline: RandomResize(keepRatio) → RandomCrop(catMaxRatio) → RandomFlip →
 * PhotoMetricDistortion → Normalize → Pad to the crop size (image 0, label ignore), the last two as
 * mmseg's SegDataPreProcessor does them.
 */
export function mmsegTrainPipeline(o: MmsegTrainOptions): TransformSpec[] {
  const ignoreIndex = o.ignoreIndex ?? 255;
  const specs: TransformSpec[] = [
    { type: 'RandomResize', scale: o.scale, ratioRange: o.ratioRange ?? [0.5, 2.0], keepRatio: true },
    { type: 'RandomCrop', cropSize: o.cropSize, catMaxRatio: o.catMaxRatio ?? 0.75, ignoreIndex },
    { type: 'RandomFlip', prob: o.flipProb ?? 0.5 },
  ];
  if (o.photometric ?? true) specs.push({ type: 'PhotoMetricDistortion' });
  if (o.normalize !== false) specs.push({ type: 'Normalize', ...(o.normalize ?? { mean: IMAGENET_MEAN, std: IMAGENET_STD }) });
  specs.push({ type: 'Pad', size: o.cropSize, padVal: 0, segPadVal: ignoreIndex });
  return specs;
}

/** mmseg's test pipeline: keep-ratio Resize to `scale` ([width, height]) → Normalize. */
export function mmsegTestPipeline(o: { scale: readonly [number, number]; normalize?: NormalizeOptions | false }): TransformSpec[] {
  const specs: TransformSpec[] = [{ type: 'Resize', scale: o.scale, keepRatio: true }];
  if (o.normalize !== false) specs.push({ type: 'Normalize', ...(o.normalize ?? {}) });
  return specs;
}

export interface PortraitTrainOptions {
  /** Square output side (FastSeg: 512; PortraitNet-style EG1800 work: 224). */
  size?: number;
  normalize?: NormalizeOptions | false;
  /** Label value for regions the geometric transforms create (FastSeg: 0 = background). */
  fillLabel?: number;
  /** Rotation limit in degrees (FastSeg: 25). */
  rotateLimit?: number;
}

/**
 * FastSeg's portrait recipe (albumentations): ShiftScaleRotate(±25°, p .5) → PadIfNeeded (centred)
 * → Resize(size²) → GaussNoise(p .3) → OneOf{CLAHE .5, RandomBrightnessContrast .6, RandomGamma .4}
 * (p .8) → OneOf{Sharpen .5, Blur(3) .4, MotionBlur(3) .5}(p .7) → HueSaturationValue(p .15) →
 * Normalize (ImageNet).
 */
export function portraitTrainPipeline(o: PortraitTrainOptions = {}): TransformSpec[] {
  const size = o.size ?? 512;
  const fill = o.fillLabel ?? 0;
  const specs: TransformSpec[] = [
    { type: 'ShiftScaleRotate', rotateLimit: o.rotateLimit ?? 25, shiftLimit: 0.0625, scaleLimit: 0.1, value: 0, maskValue: fill, p: 0.5 },
    { type: 'Pad', size: [size, size], position: 'center', padVal: 0, segPadVal: fill },
    { type: 'Resize', scale: [size, size], keepRatio: false },
    { type: 'GaussNoise', p: 0.3 },
    {
      type: 'OneOf',
      p: 0.8,
      transforms: [
        { type: 'CLAHE', p: 0.5 },
        { type: 'RandomBrightnessContrast', p: 0.6 },
        { type: 'RandomGamma', p: 0.4 },
      ],
    },
    {
      type: 'OneOf',
      p: 0.7,
      transforms: [
        { type: 'Sharpen', p: 0.5 },
        { type: 'Blur', blurLimit: 3, p: 0.4 },
        { type: 'MotionBlur', blurLimit: 3, p: 0.5 },
      ],
    },
    { type: 'HueSaturationValue', p: 0.15 },
  ];
  if (o.normalize !== false) specs.push({ type: 'Normalize', ...(o.normalize ?? {}) });
  return specs;
}

/** Default training pipeline per built-in dataset (the conventions of the papers that use them). */
export function defaultTrainPipeline(dataset: string, opts: { normalize?: NormalizeOptions | false } = {}): TransformSpec[] {
  const n = opts.normalize;
  switch (dataset) {
    case 'camvid':
      return mmsegTrainPipeline({ scale: [480, 360], cropSize: [360, 480], normalize: n });
    case 'cityscapes':
      return mmsegTrainPipeline({ scale: [2048, 1024], cropSize: [512, 1024], normalize: n });
    case 'ade20k':
      return mmsegTrainPipeline({ scale: [2048, 512], cropSize: [512, 512], normalize: n });
    case 'eg1800':
      return portraitTrainPipeline({ size: 224, normalize: n });
    case 'easyportrait':
      return portraitTrainPipeline({ size: 512, normalize: n });
    default:
      return mmsegTrainPipeline({ scale: [512, 512], cropSize: [512, 512], normalize: n });
  }
}
