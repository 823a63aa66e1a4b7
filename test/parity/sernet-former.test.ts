// SERNet-Former against its PyTorch reference (test/parity/models/sernet_former.py, written from
// architectures.md): FastSeg's variant on an odd multiple of 16 with 3 classes, and the experimental
// paper-style variant with ResNet-50 and ResNet-101 encoders on small odd sizes (any size works).
// Random weights with randomised BatchNorm statistics and PReLU slopes; eval mode; ≤ 1e-4 of the
// output scale.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SERNetFormer } from '../../src/models/sernet-former/model.js';
import { SERNetFormerPaper, type PaperEncoder } from '../../src/models/sernet-former/paper.js';
import { checkParity, parityUnavailable } from './parity.js';

describe('SERNet-Former parity with PyTorch', () => {
  const skip = parityUnavailable() ?? false;

  it('FastSeg variant, 3 classes, 1×3×48×80', { skip }, async () => {
    const r = await checkParity(new SERNetFormer({ numClasses: 3 }), { model: 'sernet_former', options: { variant: 'fastseg', numClasses: 3 }, shape: [1, 3, 48, 80] });
    console.log('sernet-former (FastSeg) parity', JSON.stringify(r.diffs));
    assert.ok(r.worst <= 1e-4, JSON.stringify(r.diffs));
  });

  const paper: [PaperEncoder, number[]][] = [
    ['resnet50', [1, 3, 45, 61]],
    ['resnet101', [1, 3, 33, 29]],
  ];
  for (const [encoder, shape] of paper) {
    it(`paper-style variant, ${encoder}, 5 classes, ${shape.join('×')}`, { skip }, async () => {
      const r = await checkParity(new SERNetFormerPaper({ numClasses: 5, encoder }), { model: 'sernet_former', options: { variant: 'paper', numClasses: 5, encoder }, shape });
      console.log(`sernet-former-paper (${encoder}) parity`, JSON.stringify(r.diffs));
      assert.ok(r.worst <= 1e-4, JSON.stringify(r.diffs));
    });
  }
});
