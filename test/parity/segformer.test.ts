// SegFormer against an independent PyTorch implementation written from architectures.md §3
// (test/parity/models/segformer.py, HF state-dict names): same weights, same input, eval-mode
// logits within 1e-4 of the output scale, on input sizes that are not multiples of 32.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SegFormer, type SegFormerOptions } from '../../src/models/segformer/model.js';
import { checkParity, parityUnavailable } from './parity.js';

describe('SegFormer parity with PyTorch', () => {
  const skip = parityUnavailable();
  const cases: [string, Omit<SegFormerOptions, 'numClasses'>, number[]][] = [
    ['mit-b0, official LayerNorm eps', { encoder: 'mit-b0' }, [2, 3, 67, 45]],
    ['mit-b0, HF eps, 1 class, 4 input channels', { encoder: 'mit-b0', layerNormEps: 'hf', inChannels: 4 }, [1, 4, 33, 64]],
    ['mit-b2 (deeper, 768-wide decoder)', { encoder: 'mit-b2' }, [1, 3, 41, 50]],
  ];
  for (const [name, o, shape] of cases) {
    it(`${name} on ${shape.join('x')}`, { skip: skip ?? false }, async () => {
      const numClasses = o.inChannels === 4 ? 1 : 7;
      const net = new SegFormer({ numClasses, ...o });
      const r = await checkParity(net, { model: 'segformer', options: { numClasses, ...o }, shape });
      console.log(`segformer ${name}: worst relative error ${r.worst.toExponential(2)}`);
      assert.ok(r.worst <= 1e-4, JSON.stringify(r.diffs));
    });
  }
});
