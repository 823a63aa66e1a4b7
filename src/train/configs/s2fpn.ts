/**
 * S2-FPN's training code (architectures.md §5.9): CamVid with Adam 3e-4 (betas 0.9/0.999, eps 1e-8,
 * wd 2e-4), Cityscapes with SGD momentum 0.9, wd 1e-4; 500 warm-up iterations from lr/3, then poly
 * 0.9; CE with ENet class weights on the main output and on each auxiliary output (weight 1.0);
 * random rescale by 0.75–2.0, crop, flip.
 */
import type { TrainConfig } from '../config.js';
import { CAMVID_ENET_WEIGHTS, CITYSCAPES_ENET_WEIGHTS, camvidData, camvidDataAt, cityscapesData, loop, warmPoly } from './common.js';

const camvid = (encoder: string, iters: number, crop: [number, number], valScale?: [number, number], variant: 'v1' | 'v2' = 'v2'): TrainConfig => {
  // Reduced-resolution runs train on rescaled frames and validate on val frames resized alike.
  const data = valScale ? camvidDataAt(valScale, 8) : camvidData(crop, 8, [0.75, 2.0]);
  const short = encoder.replace('resnet', 'r');
  return {
    name: `s2fpn${variant === 'v1' ? '-v1' : ''}_${short}_b8-${iters >= 1000 ? `${iters / 1000}k` : iters}_camvid-${crop[0]}x${crop[1]}`,
    description: `S2-FPN ${variant} with ${encoder} on CamVid${valScale ? ` at reduced resolution ${crop[0]}×${crop[1]}` : ''}, the official Adam recipe with ENet class weights`,
    model: { name: 's2fpn', options: { variant, encoder } },
    data,
    loss: { type: 'ce', classWeights: CAMVID_ENET_WEIGHTS },
    optimizer: { type: 'adam', lr: 3e-4, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 2e-4 },
    schedule: warmPoly(iters),
    train: loop({ iters }, iters >= 10000 ? 1000 : iters >= 2000 ? 500 : 100),
  };
};

const cityscapes: TrainConfig = {
  name: 's2fpn_r18_b8-160k_cityscapes-512x1024',
  description: 'S2-FPN v2 with ResNet-18 on Cityscapes, the official SGD recipe with ENet class weights',
  model: { name: 's2fpn', options: { variant: 'v2', encoder: 'resnet18' } },
  data: cityscapesData([512, 1024], 8),
  loss: { type: 'ce', classWeights: CITYSCAPES_ENET_WEIGHTS },
  optimizer: { type: 'sgd', lr: 4e-3, momentum: 0.9, weightDecay: 1e-4 },
  schedule: warmPoly(160000),
  train: loop({ iters: 160000 }, 4000),
};

export const s2fpnConfigs: TrainConfig[] = [
  camvid('resnet18', 20000, [360, 480]),
  camvid('resnet34', 20000, [360, 480]),
  // The 20-minute run of the README: a quarter of the pixels, a few hundred iterations.
  camvid('resnet18', 500, [180, 240], [180, 240]),
  // The shipped road-scene model (models/camvid): the paper's v1 runs 24 FPS at 180×240 on 2 cores
  // where v2 runs 17, and a few thousand iterations fit in the 2.5-hour budget.
  camvid('resnet18', 3000, [180, 240], [180, 240], 'v1'),
  cityscapes,
];
