/** Learning-rate schedules: functions of the 0-based iteration, as mmseg/PyTorch define them. */
export type Schedule = (iter: number) => number;

/** mmseg PolyLR: (base − min)·(1 − iter/max)^power + min. */
export function poly(base: number, maxIters: number, { power = 1, minLr = 0 } = {}): Schedule {
  return (i) => (base - minLr) * Math.max(0, 1 - Math.min(i, maxIters) / maxIters) ** power + minLr;
}

/** Cosine annealing from base to minLr over maxIters. */
export function cosine(base: number, maxIters: number, { minLr = 0 } = {}): Schedule {
  return (i) => minLr + ((base - minLr) * (1 + Math.cos((Math.PI * Math.min(i, maxIters)) / maxIters))) / 2;
}

/** Step decay: multiply by gamma at each milestone iteration. */
export function step(base: number, milestones: readonly number[], gamma = 0.1): Schedule {
  return (i) => base * gamma ** milestones.filter((m) => i >= m).length;
}

/**
 * Linear warm-up (mmseg LinearLR): the factor rises from `startFactor` to 1 over `iters`
 * iterations, multiplying the wrapped schedule.
 */
export function withWarmup(schedule: Schedule, { iters, startFactor = 1e-6 }: { iters: number; startFactor?: number }): Schedule {
  return (i) => (i < iters ? startFactor + ((1 - startFactor) * i) / iters : 1) * schedule(i);
}

export const constantLr = (lr: number): Schedule => () => lr;
