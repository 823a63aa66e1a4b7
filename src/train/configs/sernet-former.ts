/**
 * SERNet-Former's CamVid recipe as far as it is published (architectures.md §1, table row 6): SGD
 * momentum 0.9, lr 1e-3, batch 3, 80 epochs, class-weighted CE ignoring void (the weights are not
 * published; the ENet weights of S2-FPN's CamVid statistics stand in). Crops of 352×480 (the model
 * needs multiples of 16).
 */
import type { TrainConfig } from '../config.js';
import { CAMVID_ENET_WEIGHTS, camvidData, loop } from './common.js';

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
];
