/**
 * SETR's released recipe (architectures.md §4.5): SGD momentum 0.9, weight decay 0, lr 0.01 (Naive,
 * PUP) or 0.002 (MLA), head ×10 (decode and auxiliary heads), poly 0.9 to 1e-4; CE on the main
 * output plus 0.4 × each auxiliary output (the model's auxWeights). Adapted to CamVid crops of
 * 352×480 (multiples of the 16-pixel patch) and ViT-Ti/16.
 */
import type { TrainConfig } from '../config.js';
import { camvidData, loop } from './common.js';

const recipe = (variant: 'naive' | 'pup' | 'mla', encoder: string): TrainConfig => ({
  name: `setr_${encoder}_${variant}_b4-20k_camvid-352x480`,
  description: `SETR-${variant.toUpperCase()} with ${encoder.toUpperCase()} on CamVid, the released SGD/poly recipe with auxiliary losses 0.4`,
  model: { name: 'setr', options: { variant, encoder, imgSize: 480 } },
  data: camvidData([352, 480], 4),
  loss: { type: 'ce' },
  optimizer: { type: 'sgd', lr: variant === 'mla' ? 0.002 : 0.01, momentum: 0.9, weightDecay: 0, headPrefixes: ['decode_head.', 'auxiliary_head.'], headLrMult: 10 },
  schedule: { type: 'poly', power: 0.9, minLr: 1e-4 },
  train: loop({ iters: 20000 }, 1000),
});

export const setrConfigs: TrainConfig[] = [recipe('naive', 'vit-t16'), recipe('pup', 'vit-t16'), recipe('mla', 'vit-t16'), recipe('pup', 'vit-b16')];
