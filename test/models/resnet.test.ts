// ResNet backbones: torchvision's published parameter counts, state-dict names, and the
// feature-pyramid contract (channels and strides, with replace_stride_with_dilation).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Graph } from '../../src/engine/graph.js';
import { ResNet } from '../../src/models/backbones/resnet.js';

describe('ResNet', () => {
  it("parameter counts equal torchvision's (1000-class head)", () => {
    // torchvision.models.resnet{18,34,50,101}(): sum(p.numel() for p in m.parameters())
    assert.equal(new ResNet(18).numParameters(), 11_689_512);
    assert.equal(new ResNet(34).numParameters(), 21_797_672);
    assert.equal(new ResNet(50).numParameters(), 25_557_032);
    assert.equal(new ResNet(101).numParameters(), 44_549_160);
  });

  it("state-dict keys use torchvision's names", () => {
    const keys = Object.keys(new ResNet(50).stateDict());
    for (const k of ['conv1.weight', 'bn1.running_mean', 'layer1.0.downsample.0.weight', 'layer1.0.downsample.1.num_batches_tracked', 'layer4.2.conv3.weight', 'fc.bias']) {
      assert.ok(keys.includes(k), k);
    }
  });

  const cases: [string, ResNet, number[], number[]][] = [
    ['R18 OS32', new ResNet(18, { numClasses: null }), [64, 64, 128, 256, 512], [2, 4, 8, 16, 32]],
    ['R50 OS8', new ResNet(50, { numClasses: null, replaceStrideWithDilation: [false, true, true] }), [64, 256, 512, 1024, 2048], [2, 4, 8, 8, 8]],
    ['R34 no max-pool', new ResNet(34, { numClasses: null, noMaxPool: true }), [64, 64, 128, 256, 512], [2, 2, 4, 8, 16]],
  ];
  for (const [name, net, channels, strides] of cases) {
    it(`${name}: features have the declared channels and strides`, () => {
      assert.deepEqual(net.outChannels, channels);
      assert.deepEqual(net.strides, strides);
      const x = new Graph().input('x', [1, 3, 64, 96]);
      const feats = net.eval().features(x);
      feats.forEach((f, i) => assert.deepEqual(f.shape, [1, channels[i]!, 64 / strides[i]!, 96 / strides[i]!], `${name} feature ${i}`));
    });
  }
});
