// S2-FPN's blocks on their own (architectures.md §5.3–5.7): output shapes on odd sizes, the
// parameters each variant builds, and the errors for widths a block cannot split.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Graph } from '../../src/engine/graph.js';
import { AttentionPyramidFusion } from '../../src/models/blocks/apf.js';
import { createCfgb, createFab } from '../../src/models/blocks/cfgb.js';
import { ChannelWise } from '../../src/models/blocks/crb.js';
import { GlobalFeatureUpsample } from '../../src/models/blocks/gfu.js';
import { S2fpnConvBlock } from '../../src/models/blocks/s2fpn-conv-block.js';
import { ScaleAwareBlock, StripAttention, StripMlp } from '../../src/models/blocks/ssam.js';

const input = (...shape: number[]) => new Graph().input('x', shape);
/** Two inputs of one trace. */
const inputs = (a: number[], b: number[]) => {
  const g = new Graph();
  return [g.input('a', a), g.input('b', b)] as const;
};

describe('S2-FPN blocks', () => {
  it('conv_block: bare conv without bn_act; BN + ReLU (v1) or BN + per-channel PReLU (v2) with it', () => {
    assert.deepEqual(Object.keys(new S2fpnConvBlock(8, 4, 1, 'v2').stateDict()), ['conv.weight']);
    assert.deepEqual(Object.keys(new S2fpnConvBlock(8, 4, 3, 'v1', { bnAct: true }).stateDict()).filter((k) => !k.startsWith('bn.')), ['conv.weight']);
    const v2 = new S2fpnConvBlock(8, 4, 3, 'v2', { bnAct: true, padding: 1 });
    assert.deepEqual(v2.stateDict()['act.weight']!.shape, [4]);
    assert.deepEqual(v2.forward(input(1, 8, 7, 9)).shape, [1, 4, 7, 9]);
  });

  it('CFGB halves the size (depth-wise, stride 2); FAB halves the channels (2 per group)', () => {
    const x = input(2, 512, 11, 15);
    assert.deepEqual(createCfgb(512, 'v1').eval().forward(x).shape, [2, 512, 6, 8]);
    assert.deepEqual(createFab(512, 'v2').eval().forward(x).shape, [2, 256, 11, 15]);
    assert.deepEqual(createCfgb(512, 'v1').stateDict()['0.conv.weight']!.shape, [512, 1, 3, 3]);
    assert.deepEqual(createFab(512, 'v1').stateDict()['0.conv.weight']!.shape, [256, 2, 3, 3]);
  });

  it('SSAM v1 and v2 and CRB keep the shape of their input (odd H ≠ W)', () => {
    const x = input(2, 16, 7, 11);
    assert.deepEqual(new StripAttention(16).eval().forward(x).shape, [2, 16, 7, 11]);
    assert.deepEqual(new ScaleAwareBlock(16).eval().forward(x).shape, [2, 16, 7, 11]);
    assert.deepEqual(new ScaleAwareBlock(16).train().forward(x).shape, [2, 16, 7, 11]);
    assert.deepEqual(new ChannelWise(16).forward(x).shape, [2, 16, 7, 11]);
  });

  it('APF: the output at the finer input\'s size; the auxiliary logits in training mode only', () => {
    const apf = new AttentionPyramidFusion(32, 16, 8, 5, 'v2');
    const e = apf.eval().forward(...inputs([1, 32, 4, 6], [1, 16, 9, 11]));
    assert.deepEqual(e.out.shape, [1, 8, 9, 11]);
    assert.equal(e.aux, null);
    assert.deepEqual(apf.train().forward(...inputs([1, 32, 4, 6], [1, 16, 9, 11])).aux!.shape, [1, 5, 9, 11]);
  });

  it('GFU: the coarse input is upsampled to the guide\'s size; v2 adds the gates', () => {
    for (const variant of ['v1', 'v2'] as const) {
      const gfu = new GlobalFeatureUpsample(8, 16, 12, variant).eval();
      const [guide, coarse] = inputs([1, 8, 9, 13], [1, 16, 5, 7]);
      assert.deepEqual(gfu.forward(guide, coarse).shape, [1, 12, 9, 13]);
      assert.equal('fuse.conv.weight' in gfu.stateDict(), variant === 'v2');
    }
  });

  it('errors name the width a block cannot split', () => {
    assert.throws(() => new ChannelWise(18), /ChannelWise: channels \(18\) must be a multiple of reduction \(4\)/);
    assert.throws(() => new StripMlp(15), /StripMlp: channels must be even .*got 15/);
    assert.throws(() => new GlobalFeatureUpsample(8, 8, 7, 'v2'), /outChannels must be even .*got 7/);
  });
});
