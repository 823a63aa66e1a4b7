// SERSegFormer against an independent PyTorch implementation written from architectures.md §2.4
// (test/parity/models/serseg_former.py, FastSeg state-dict names), for the switch combinations that
// change the graph: eval-mode logits within 1e-4 of the output scale on odd input sizes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SERSegFormer, type SERSegFormerOptions } from '../../src/models/serseg-former/model.js';
import { checkParity, parityUnavailable } from './parity.js';

describe('SERSegFormer parity with PyTorch', () => {
  const skip = parityUnavailable();
  const cases: [Omit<SERSegFormerOptions, 'numClasses'>, number[]][] = [
    [{}, [2, 3, 67, 45]],
    [{ upsample: true }, [1, 3, 67, 45]],
    [{ abg: true, dbn: true, afn: true, dam: true }, [1, 3, 67, 45]],
    [{ depthChannel: true }, [1, 4, 67, 45]],
    [{ afn: true, upsample: true, decoderHiddenSize: 128 }, [1, 3, 50, 37]],
    [{ abg: true, dbn: true, afn: true, dam: true, upsample: true, depthChannel: true }, [1, 4, 45, 61]],
  ];
  for (const [o, shape] of cases) {
    const name = Object.keys(o).join('+') || 'all switches off';
    it(`${name} on ${shape.join('x')}`, { skip: skip ?? false }, async () => {
      const net = new SERSegFormer({ numClasses: 2, ...o });
      const r = await checkParity(net, { model: 'serseg_former', options: { numClasses: 2, ...o }, shape });
      console.log(`serseg-former ${name}: worst relative error ${r.worst.toExponential(2)}`);
      assert.ok(r.worst <= 1e-4, JSON.stringify(r.diffs));
    });
  }
});
