import type { Optimizer, UpdateContext } from './optimizer.js';

export interface AdamOptions {
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

function adamLike(name: 'Adam' | 'AdamW', decoupled: boolean, { betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0 }: AdamOptions): Optimizer {
  const [b1, b2] = betas;
  return {
    name,
    weightDecay,
    slots: ['exp_avg', 'exp_avg_sq'],
    // Bias corrections depend on the step only, so they are computed here and fed as scalars.
    scalars: (t) => ({ bc1: 1 - b1 ** t, bc2Sqrt: Math.sqrt(1 - b2 ** t) }),
    update({ param, grad, state, lr, weightDecay: wd, scalars }: UpdateContext) {
      let p = param;
      let g = grad;
      if (wd && decoupled) p = p.sub(p.mul(lr).mul(wd)); // AdamW: p ← p·(1 − lr·wd)
      else if (wd) g = g.add(p.mul(wd)); // Adam: L2 penalty in the gradient
      const m = state.exp_avg!.mul(b1).add(g.mul(1 - b1));
      const v = state.exp_avg_sq!.mul(b2).add(g.mul(g).mul(1 - b2));
      // PyTorch: p ← p − (lr / bc1) · m / (√v / √bc2 + eps)
      const denom = v.sqrt().div(scalars.bc2Sqrt!).add(eps);
      return { param: p.sub(m.div(denom).mul(lr.div(scalars.bc1!))), state: { exp_avg: m, exp_avg_sq: v } };
    },
  };
}

/** torch.optim.Adam (L2 weight decay added to the gradient). */
export const adam = (o: AdamOptions = {}): Optimizer => adamLike('Adam', false, o);

/** torch.optim.AdamW (decoupled weight decay). PyTorch's default weight decay is 0.01. */
export const adamw = (o: AdamOptions = {}): Optimizer => adamLike('AdamW', true, { weightDecay: 0.01, ...o });
