import type { Tensor } from '../../engine/tensor.js';
import { Module } from '../../nn/module.js';
import { AbGConvUnit } from '../blocks/abm.js';
import { DbN } from '../blocks/dbn.js';

/**
 * FastSeg's SERNet-Former encoder (`EfficientResNetEncoder`, architectures.md §2.2): five AbG conv
 * units and a max-pool, then the DbN bridge. Despite the name there are no residual connections.
 *
 * | idx | name         | op                               | out | stride |
 * |-----|--------------|----------------------------------|-----|--------|
 * | a0  | initial_conv | AbG conv unit in→64, stride 2    | 64  | 2      |
 * | a1  | maxpool      | MaxPool(3, 2, 1)                 | 64  | 4      |
 * | a2  | conv1        | AbG conv unit 64→64              | 64  | 4      |
 * | a3  | conv2        | AbG conv unit 64→128, stride 2   | 128 | 8      |
 * | a4  | conv3        | AbG conv unit 128→256, stride 2  | 256 | 16     |
 * | a5  | conv4        | AbG conv unit 256→512            | 512 | 16     |
 * | a6  | dbn          | DbN(512)                         | 512 | 16     |
 */
export class EfficientResNetEncoder extends Module<[Tensor], Tensor[]> {
  readonly initial_conv: AbGConvUnit;
  readonly conv1: AbGConvUnit;
  readonly conv2: AbGConvUnit;
  readonly conv3: AbGConvUnit;
  readonly conv4: AbGConvUnit;
  readonly dbn: DbN;

  constructor(inChannels = 3) {
    super();
    this.initial_conv = this.module('initial_conv', new AbGConvUnit(inChannels, 64, 2));
    this.conv1 = this.module('conv1', new AbGConvUnit(64, 64, 1));
    this.conv2 = this.module('conv2', new AbGConvUnit(64, 128, 2));
    this.conv3 = this.module('conv3', new AbGConvUnit(128, 256, 2));
    this.conv4 = this.module('conv4', new AbGConvUnit(256, 512, 1));
    this.dbn = this.module('dbn', new DbN(512));
  }

  /** Every intermediate output [a0 … a6] (FastSeg's "activations"); the last is the DbN output. */
  forward(x: Tensor): Tensor[] {
    const steps: ((t: Tensor) => Tensor)[] = [
      (t) => this.initial_conv.forward(t),
      (t) => t.maxPool2d({ kernel: 3, stride: 2, padding: 1 }),
      (t) => this.conv1.forward(t),
      (t) => this.conv2.forward(t),
      (t) => this.conv3.forward(t),
      (t) => this.conv4.forward(t),
      (t) => this.dbn.forward(t),
    ];
    const out: Tensor[] = [];
    let t = x;
    for (const step of steps) out.push((t = step(t)));
    return out;
  }
}
