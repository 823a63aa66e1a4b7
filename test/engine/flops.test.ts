// MAC counts against torchvision's published figures ("GFLOPS" in its model table, which counts
// multiply-accumulates at 224×224): ResNet-18 1.81, ResNet-50 4.09.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { trace } from '../../src/engine/compile.js';
import { countMacs } from '../../src/engine/flops.js';
import { ResNet } from '../../src/models/backbones/resnet.js';

describe('countMacs', () => {
  for (const [depth, published] of [[18, 1.81], [50, 4.09]] as const) {
    it(`ResNet-${depth} at 224×224: ${published} GMACs as torchvision publishes`, () => {
      const net = new ResNet(depth).eval();
      const { graph } = trace((x) => net.forward(x!), [{ shape: [1, 3, 224, 224] }]);
      const g = countMacs(graph).total / 1e9;
      assert.ok(Math.abs(g - published) < 0.006, `${g.toFixed(4)} GMACs`);
    });
  }
});
