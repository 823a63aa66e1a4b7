import type { Optimizer, UpdateContext } from './optimizer.js';

export interface SgdOptions {
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  /** L2 penalty added to the gradient (PyTorch's coupled weight decay). */
  weightDecay?: number;
}

/**
 * torch.optim.SGD: g ← g + wd·p; buf ← μ·buf + (1 − dampening)·g; step with buf, or with
 * g + μ·buf (Nesterov). PyTorch starts buf at g on the first step; with zero state and
 * dampening 0 the rule above gives exactly that.
 */
export function sgd({ momentum = 0, dampening = 0, nesterov = false, weightDecay = 0 }: SgdOptions = {}): Optimizer {
  if (nesterov && (momentum <= 0 || dampening !== 0)) throw new Error('sgd: Nesterov momentum needs momentum > 0 and dampening = 0 (as in PyTorch)');
  return {
    name: 'SGD',
    weightDecay,
    slots: momentum > 0 ? ['momentum_buffer'] : [],
    scalars: () => ({}),
    update({ param, grad, state, lr, weightDecay: wd }: UpdateContext) {
      let g = wd ? grad.add(param.mul(wd)) : grad;
      const next: Record<string, ReturnType<typeof g.add>> = {};
      if (momentum > 0) {
        const buf = state.momentum_buffer!.mul(momentum).add(dampening ? g.mul(1 - dampening) : g);
        next.momentum_buffer = buf;
        g = nesterov ? g.add(buf.mul(momentum)) : buf;
      }
      return { param: param.sub(g.mul(lr)), state: next };
    },
  };
}
