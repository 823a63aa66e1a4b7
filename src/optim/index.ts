/** Optimizers as graph code, parameter groups and learning-rate schedules. */
export { sgd } from './sgd.js';
export { adam, adamw } from './adam.js';
export { paramGroups } from './groups.js';
export { poly, cosine, step, withWarmup, constantLr, type Schedule } from './schedules.js';
export type { Optimizer, ParamGroup, OptimizerState } from './optimizer.js';
