// ResNet against torchvision itself (Debian python3-torchvision): same weights, same input,
// eval-mode outputs within 1e-4 of the output scale.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResNet } from '../../src/models/backbones/resnet.js';
import { checkParity, parityUnavailable } from './parity.js';

describe('ResNet parity with torchvision', () => {
  const skip = parityUnavailable();
  const cases: [number, boolean[] | undefined, number[]][] = [
    [18, undefined, [1, 3, 67, 45]],
    [50, [false, true, true], [1, 3, 40, 56]],
  ];
  for (const [depth, dil, shape] of cases) {
    it(`resnet${depth}${dil ? ' OS8' : ''} on ${shape.join('x')}`, { skip: skip ?? false }, async () => {
      const net = new ResNet(depth as 18 | 50, { numClasses: 10, ...(dil ? { replaceStrideWithDilation: dil as [boolean, boolean, boolean] } : {}) });
      const r = await checkParity(net, { model: 'resnet', options: { depth, numClasses: 10, replaceStrideWithDilation: dil }, shape });
      assert.ok(r.worst <= 1e-4, JSON.stringify(r.diffs));
    });
  }
});
