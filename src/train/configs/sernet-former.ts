/**
 * SERNet-Former's CamVid recipe as far as it is published (architectures.md §1, table row 6): SGD
 * momentum 0.9, lr 1e-3, batch 3, 80 epochs, class-weighted CE ignoring void (the weights are not
 * published; the ENet weights of S2-FPN's CamVid statistics stand in). Crops of 352×480 (the model
 * needs multiples of 16).
 *
 * The reported mission model (models/camvid/README.md): the same network at 176×240 with the shipped
 * road model's recipe (S2-FPN's Adam 3e-4, ENet-weighted CE, warm-up + poly), so the two compare on
 * architecture alone.
 */
import type { TrainConfig } from '../config.js';
import { CAMVID_ENET_WEIGHTS, camvidData, camvidDataAt, loop, warmPoly } from './common.js';

export const sernetFormerConfigs: TrainConfig[] = [
  {
    name: 'sernet-former_fastseg_b3-80e_camvid-352x480',
    description: 'SERNet-Former (FastSeg form) on CamVid, SGD 1e-3 with class-weighted CE',
    model: { name: 'sernet-former', options: {} },
    data: camvidData([352, 480], 3),
    loss: { type: 'ce', classWeights: CAMVID_ENET_WEIGHTS },
    optimizer: { type: 'sgd', lr: 1e-3, momentum: 0.9, weightDecay: 0 },
    schedule: { type: 'poly', power: 0.9 },
    train: loop({ epochs: 80 }, 1000),
  },
  {
    name: 'sernet-former_fastseg_b8-600_camvid-176x240',
    description: 'SERNet-Former (FastSeg form) on CamVid at 176×240 with the shipped road model\'s Adam recipe',
    model: { name: 'sernet-former', options: {} },
    data: camvidDataAt([176, 240], 8),
    loss: { type: 'ce', classWeights: CAMVID_ENET_WEIGHTS },
    optimizer: { type: 'adam', lr: 3e-4, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 2e-4 },
    schedule: warmPoly(600),
    train: loop({ iters: 600 }, 200),
  },
];
