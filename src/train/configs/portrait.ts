/**
 * FastSeg's portrait recipe (architectures.md §2.5, `train_serseg_decoder.py`, its best model):
 * SERSegFormer with the up-sampling decoder, AdamW 6e-5, betas (0.9, 0.999), wd 0.01, 1500 warm-up
 * steps then poly 1.0, 30 epochs, batch 10; 0.8·BCE + 0.2·Dice (the differentiable soft Dice; FastSeg's
 * thresholded Dice gives no gradient). Adapted to EG1800 at 224×224 with person as the positive
 * class (FastSeg's positive class is background).
 */
import type { TrainConfig } from '../config.js';
import { eg1800Data, loop } from './common.js';

export const portraitConfigs: TrainConfig[] = [
  {
    name: 'serseg-former_mit-b0-upsample_b10-30e_eg1800-224x224',
    description: 'SERSegFormer B0 with the up-sampling decoder on EG1800 portraits, FastSeg recipe (BCE + Dice)',
    model: { name: 'serseg-former', options: { encoder: 'mit-b0', upsample: true, numClasses: 1 } },
    data: eg1800Data(224, 10),
    loss: { type: 'bce+dice', bceWeight: 0.8, diceWeight: 0.2 },
    optimizer: { type: 'adamw', lr: 6e-5, betas: [0.9, 0.999], weightDecay: 0.01 },
    schedule: { type: 'poly', power: 1, warmupIters: 1500, warmupStartFactor: 1e-6 },
    train: loop({ epochs: 30 }, 500),
  },
];
