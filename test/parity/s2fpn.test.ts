// S2-FPN v1 and v2 against the PyTorch reference written from architectures.md §5
// (test/parity/models/s2fpn.py): same weights, same odd-sized input, eval-mode outputs within 1e-4
// of the output scale. The blocks are also compared on their own: in the whole network the
// attention terms are small beside the other paths at any random init that does not overflow, so
// an error inside SSAM moves the logits little; alone, it moves them a lot.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Tensor } from '../../src/engine/tensor.js';
import { AttentionPyramidFusion } from '../../src/models/blocks/apf.js';
import { ChannelWise } from '../../src/models/blocks/crb.js';
import { GlobalFeatureUpsample } from '../../src/models/blocks/gfu.js';
import type { S2fpnVariant } from '../../src/models/blocks/s2fpn-conv-block.js';
import { ScaleAwareBlock, StripAttention } from '../../src/models/blocks/ssam.js';
import { S2FPN, type S2fpnEncoder } from '../../src/models/s2fpn/s2fpn.js';
import { Module, type AnyModule } from '../../src/nn/module.js';
import { checkParity, parityUnavailable } from './parity.js';

const skip = parityUnavailable() ?? false;

describe('S2-FPN parity with the PyTorch reference', () => {
  // parityInit: decoder conv std = gain/√fan_in, random γ and PReLU slopes (see s2fpn.py's build).
  // The quarter-width case is the shipped portrait model's network (the reference narrows
  // torchvision's ResNet through its own _make_layer).
  const cases: [S2fpnVariant, S2fpnEncoder, number[], number, number][] = [
    ['v1', 'resnet18', [1, 3, 67, 93], 1, 1],
    ['v2', 'resnet18', [2, 3, 67, 93], 0.8, 1],
    ['v1', 'resnet34m', [1, 3, 45, 61], 1, 1],
    ['v2', 'resnet50', [1, 3, 45, 61], 0.6, 1],
    ['v1', 'resnet18', [1, 3, 67, 93], 1, 0.25],
  ];
  for (const [variant, encoder, shape, gain, widthMultiplier] of cases) {
    it(`${variant} ${encoder}${widthMultiplier !== 1 ? ` ×${widthMultiplier} width` : ''} on ${shape.join('x')}`, { skip }, async () => {
      const model = new S2FPN({ numClasses: 5, variant, encoder, widthMultiplier });
      const r = await checkParity(model, { model: 's2fpn', options: { variant, encoder, numClasses: 5, parityInit: gain, widthMultiplier }, shape });
      console.log(`  s2fpn ${variant} ${encoder} ×${widthMultiplier}: worst relative error ${r.worst.toExponential(2)}`);
      assert.ok(r.worst <= 1e-4, JSON.stringify(r.diffs));
    });
  }
});

/** The reference's TwoInputs: APF/GFU fed from one tensor (finer = x or its first `split` channels, coarser = the rest pooled 2×2). */
class TwoInputs extends Module<[Tensor], Tensor | Tensor[]> {
  constructor(
    readonly block: AttentionPyramidFusion | GlobalFeatureUpsample,
    readonly split: number | null,
  ) {
    super();
    this.module('block', block);
  }

  forward(x: Tensor): Tensor | Tensor[] {
    const s = this.split;
    const fine = s === null ? x : x.slice(1, 0, s);
    const coarse = (s === null ? x : x.slice(1, s)).avgPool2d({ kernel: 2 });
    if (this.block instanceof GlobalFeatureUpsample) return this.block.forward(fine, coarse);
    // Eval-mode APF skips its auxiliary branch; the reference returns both, so compute both from Z.
    const z = this.block.fuse(coarse, fine);
    return [this.block.apf.forward(z), this.block.classifier.forward(z)];
  }
}

describe('S2-FPN blocks: parity with the PyTorch reference', () => {
  const c = 32;
  const blocks: [string, () => AnyModule][] = [
    ['ssam-v1', () => new StripAttention(c)],
    ['ssam-v2', () => new ScaleAwareBlock(c)],
    ['crb', () => new ChannelWise(c)],
    ['apf-v1', () => new TwoInputs(new AttentionPyramidFusion(c, c, c / 2, 5, 'v1'), null)],
    ['apf-v2', () => new TwoInputs(new AttentionPyramidFusion(c, c, c / 2, 5, 'v2'), null)],
    ['gfu-v1', () => new TwoInputs(new GlobalFeatureUpsample(c / 2, c / 2, c / 2, 'v1'), c / 2)],
    ['gfu-v2', () => new TwoInputs(new GlobalFeatureUpsample(c / 2, c / 2, c / 2, 'v2'), c / 2)],
  ];
  for (const [block, make] of blocks) {
    it(`${block} on 2x${c}x13x17`, { skip }, async () => {
      const r = await checkParity(make(), { model: 's2fpn', options: { block, channels: c, numClasses: 5, parityInit: 1 }, shape: [2, c, 13, 17] });
      console.log(`  ${block}: worst relative error ${r.worst.toExponential(2)}`);
      assert.ok(r.worst <= 1e-4, JSON.stringify(r.diffs));
    });
  }
});
