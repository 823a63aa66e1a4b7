import type { Tensor } from '../../engine/tensor.js';
import { Module } from '../module.js';

function checkP(name: string, p: number): void {
  if (!(p >= 0 && p < 1)) throw new Error(`${name}: p must be in [0, 1), got ${p}`);
}

/**
 * Zeroes a random fraction p of what `maskShape` selects and rescales by 1/(1−p) in training mode;
 * identity in eval mode. The mask is a graph input filled from a seeded generator.
 */
function dropWithMask(x: Tensor, p: number, maskShape: number[]): Tensor {
  return x.dropout(x.graph.bernoulliMask(maskShape, 1 - p), p);
}

/** torch.nn.Dropout: elementwise. */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    checkP('Dropout', p);
  }

  forward(x: Tensor): Tensor {
    return this.training && this.p > 0 ? dropWithMask(x, this.p, x.shape) : x;
  }
}

/** torch.nn.Dropout2d: whole channels of an NCHW tensor. */
export class Dropout2d extends Module {
  constructor(readonly p = 0.5) {
    super();
    checkP('Dropout2d', p);
  }

  forward(x: Tensor): Tensor {
    return this.training && this.p > 0 ? dropWithMask(x, this.p, [x.shape[0]!, x.shape[1]!, 1, 1]) : x;
  }
}

/** Stochastic depth (timm's DropPath): drops the whole residual branch per sample. */
export class DropPath extends Module {
  constructor(readonly p = 0) {
    super();
    checkP('DropPath', p);
  }

  forward(x: Tensor): Tensor {
    return this.training && this.p > 0 ? dropWithMask(x, this.p, [x.shape[0]!, ...new Array<number>(x.rank - 1).fill(1)]) : x;
  }
}
