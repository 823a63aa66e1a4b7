/**
 * SegFormer's official recipe (architectures.md §3.4): AdamW 6e-5, wd 0.01, head lr ×10, no decay on
 * norms and biases, 1500 warm-up iterations from lr·1e-6, poly power 1.0; plain CE. Adapted to
 * CamVid at 360×480 and a CPU budget (fewer iterations, smaller batch).
 */
import type { TrainConfig } from '../config.js';
import { camvidData, loop } from './common.js';

const recipe = (encoder: string, iters: number, batch: number): TrainConfig => ({
  name: `segformer_${encoder}_b${batch}-${iters / 1000}k_camvid-360x480`,
  description: `SegFormer ${encoder.toUpperCase()} on CamVid, the official AdamW/poly recipe`,
  model: { name: 'segformer', options: { encoder } },
  data: camvidData([360, 480], batch),
  loss: { type: 'ce' },
  optimizer: { type: 'adamw', lr: 6e-5, betas: [0.9, 0.999], weightDecay: 0.01, headPrefixes: ['decode_head.'], headLrMult: 10, noDecayOnNormsAndBiases: true },
  schedule: { type: 'poly', power: 1, minLr: 0, warmupIters: 1500, warmupStartFactor: 1e-6 },
  train: loop({ iters }, 1000),
});

export const segformerConfigs: TrainConfig[] = [recipe('mit-b0', 20000, 8), recipe('mit-b1', 20000, 8)];
