// SegFormer (MiT-B0…B5 + All-MLP head): published parameter counts (architectures.md §3.1 and
// Appendix A), HF state-dict names, output shapes for any input size, the drop-path schedule,
// option errors, the official-checkpoint key maps, and the CamVid training check.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Graph } from '../../src/engine/graph.js';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { MixTransformer, type MiTName } from '../../src/models/backbones/mit.js';
import { DropPath } from '../../src/nn/layers/dropout.js';
import { entry } from '../../src/models/segformer/entry.js';
import { applyKeyMap } from '../../src/io/keymap.js';
import { MIT_OFFICIAL, SEGFORMER_FASTSEG, SEGFORMER_OFFICIAL } from '../../src/models/segformer/keymap.js';
import { SegFormer } from '../../src/models/segformer/model.js';
import { ModelRegistry } from '../../src/models/registry.js';
import { assertLossFalls, camvidUnavailable, lossSummary, trainOnCamvid } from './trains.js';

const M = (n: number) => n / 1e6;
/** |a − b| within half a unit of the doc's last printed digit. */
const near = (got: number, doc: number, decimals: number, what: string) =>
  assert.ok(Math.abs(got - doc) <= 0.5 * 10 ** -decimals, `${what}: ${got.toFixed(decimals + 3)} M, doc ${doc} M`);

describe('SegFormer', () => {
  it('parameter counts equal architectures.md (B0 encoder and heads, Appendix A)', () => {
    const b0 = new SegFormer({ numClasses: 150 });
    near(M(b0.segformer.numParameters()), 3.319, 3, 'MiT-B0 encoder');
    near(M(b0.decode_head.numParameters()), 0.433, 3, 'B0 head, K=150');
    near(M(b0.numParameters()), 3.75, 2, 'SegFormer-B0, K=150');
    near(M(new SegFormer({ numClasses: 19 }).numParameters()), 3.72, 2, 'SegFormer-B0, K=19');
    near(M(new SegFormer({ numClasses: 1 }).numParameters()), 3.71, 2, 'SegFormer-B0, K=1 (FastSeg)');
  });

  it('MiT-B1 / B2 / B5 encoders: 13.15 M / 24.20 M / 81.44 M', () => {
    const docs: [MiTName, number][] = [['mit-b1', 13.15], ['mit-b2', 24.2], ['mit-b5', 81.44]];
    for (const [name, doc] of docs) near(M(new MixTransformer(name).numParameters()), doc, 2, name);
  });

  it('uses HF SegformerForSemanticSegmentation state-dict names', () => {
    const keys = Object.keys(new SegFormer({ numClasses: 19 }).stateDict());
    const want = [
      'segformer.encoder.patch_embeddings.0.proj.weight',
      'segformer.encoder.patch_embeddings.3.layer_norm.bias',
      'segformer.encoder.block.0.0.layer_norm_1.weight',
      'segformer.encoder.block.0.1.attention.self.query.weight',
      'segformer.encoder.block.0.1.attention.self.key.bias',
      'segformer.encoder.block.0.1.attention.self.value.weight',
      'segformer.encoder.block.2.1.attention.self.sr.weight',
      'segformer.encoder.block.2.1.attention.self.layer_norm.weight',
      'segformer.encoder.block.3.1.attention.output.dense.weight',
      'segformer.encoder.block.3.1.mlp.dense1.weight',
      'segformer.encoder.block.3.1.mlp.dwconv.dwconv.weight',
      'segformer.encoder.block.3.1.mlp.dense2.bias',
      'segformer.encoder.layer_norm.3.weight',
      'decode_head.linear_c.0.proj.weight',
      'decode_head.linear_c.3.proj.bias',
      'decode_head.linear_fuse.weight',
      'decode_head.batch_norm.running_var',
      'decode_head.batch_norm.num_batches_tracked',
      'decode_head.classifier.weight',
    ];
    for (const k of want) assert.ok(keys.includes(k), k);
    // Stage 4 has sr ratio 1: no reduction conv; the fuse conv has no bias.
    assert.ok(!keys.includes('segformer.encoder.block.3.0.attention.self.sr.weight'));
    assert.ok(!keys.includes('decode_head.linear_fuse.bias'));
  });

  it('logits are K × ⌈H/4⌉ × ⌈W/4⌉ for odd, even and non-multiple-of-32 sizes', () => {
    const net = new SegFormer({ numClasses: 5 }).eval();
    const sizes: [number, number][] = [[67, 45], [360, 480], [64, 96], [29, 29], [33, 100], [512, 512]];
    for (const [h, w] of sizes) {
      const x = new Graph().input('x', [2, 3, h, w]);
      assert.deepEqual(net.forward(x).shape, [2, 5, Math.ceil(h / 4), Math.ceil(w / 4)], `${h}×${w}`);
    }
    assert.equal(net.outputStride, 4);
  });

  it('encoder features follow the patch-embedding conv arithmetic (Appendix A at 512²)', () => {
    const enc = new MixTransformer('mit-b0');
    assert.deepEqual(enc.outChannels, [32, 64, 160, 256]);
    assert.deepEqual(enc.strides, [4, 8, 16, 32]);
    const at = (h: number, w: number) => enc.features(new Graph().input('x', [1, 3, h, w])).map((f) => f.shape.join('x'));
    assert.deepEqual(at(512, 512), ['1x32x128x128', '1x64x64x64', '1x160x32x32', '1x256x16x16']);
    assert.deepEqual(at(67, 45), ['1x32x17x12', '1x64x9x6', '1x160x5x3', '1x256x3x2']);
  });

  it('drop-path grows linearly from 0 to dropPath over all blocks', () => {
    const enc = new MixTransformer('mit-b0', { dropPath: 0.2 });
    const rates = [...enc.namedModules()].filter(([n, m]) => m instanceof DropPath && n.endsWith('drop_path')).map(([, m]) => (m as DropPath).p);
    const total = 2 + 2 + 2 + 2;
    assert.equal(rates.length, total);
    rates.forEach((p, j) => assert.ok(Math.abs(p - (0.2 * j) / (total - 1)) < 1e-12, `block ${j}: ${p}`));
  });

  it('rejects inputs too small for the spatial reductions and wrong channel counts, naming the value', () => {
    const net = new SegFormer({ numClasses: 2 }).eval();
    assert.throws(() => net.forward(new Graph().input('x', [1, 3, 28, 64])), /28×64 is too small.*at least 29×29/);
    assert.throws(() => net.forward(new Graph().input('x', [1, 4, 64, 64])), /N×3×H×W input, got \[1, 4, 64, 64\]/);
  });

  it("registry entry: defaults, the encoder's decoder width, invalid options", () => {
    const reg = new ModelRegistry();
    reg.register(entry);
    const b0 = reg.create('segformer', { numClasses: 3 }) as SegFormer;
    assert.equal(b0.segformer.encoder.name, 'mit-b0');
    assert.equal(b0.decode_head.hidden, 256);
    const b2 = reg.create('segformer', { numClasses: 3, encoder: 'mit-b2' }) as SegFormer;
    assert.equal(b2.decode_head.hidden, 768);
    const narrow = reg.create('segformer', { numClasses: 3, decoderHiddenSize: 128 }) as SegFormer;
    assert.equal(narrow.decode_head.hidden, 128);
    assert.throws(() => reg.create('segformer', { numClasses: 3, encoder: 'mit-b9' }), /encoder' must be one of mit-b0, .*mit-b5, got 'mit-b9'/);
    assert.throws(() => reg.create('segformer', { numClasses: 3, layerNormEps: 'torch' }), /layerNormEps' must be one of official, hf, mmseg/);
    assert.throws(() => reg.create('segformer', { numClasses: 3, dropPath: 1.5 }), /dropPath must be in \[0, 1\), got 1.5/);
    assert.throws(() => reg.create('segformer', { numClasses: 3, decoderHiddenSize: -4 }), /decoderHiddenSize must be a positive integer, got -4/);
  });

  describe('checkpoint key maps (§3.7, FastSeg)', () => {
    // A synthetic NVlabs/mmseg-0.x SegFormer-B0 state dict from the doc's key list, K = 19.
    const dims = [3, 32, 64, 160, 256];
    const patch = [7, 3, 3, 3];
    const sr = [8, 4, 2, 1];
    let seed = 1;
    const t = (...shape: number[]) => new HostTensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (seed = (seed * 16807) % 2147483647) / 2147483647), shape);
    function officialEncoder(prefix: string): Record<string, HostTensor> {
      const sd: Record<string, HostTensor> = {};
      for (let i = 1; i <= 4; i++) {
        const c = dims[i]!;
        const p = `${prefix}patch_embed${i}`;
        Object.assign(sd, { [`${p}.proj.weight`]: t(c, dims[i - 1]!, patch[i - 1]!, patch[i - 1]!), [`${p}.proj.bias`]: t(c), [`${p}.norm.weight`]: t(c), [`${p}.norm.bias`]: t(c) });
        for (let j = 0; j < 2; j++) {
          const b = `${prefix}block${i}.${j}`;
          const r = sr[i - 1]!;
          Object.assign(sd, {
            [`${b}.norm1.weight`]: t(c), [`${b}.norm1.bias`]: t(c),
            [`${b}.attn.q.weight`]: t(c, c), [`${b}.attn.q.bias`]: t(c),
            [`${b}.attn.kv.weight`]: t(2 * c, c), [`${b}.attn.kv.bias`]: t(2 * c),
            [`${b}.attn.proj.weight`]: t(c, c), [`${b}.attn.proj.bias`]: t(c),
            ...(r > 1 ? { [`${b}.attn.sr.weight`]: t(c, c, r, r), [`${b}.attn.sr.bias`]: t(c), [`${b}.attn.norm.weight`]: t(c), [`${b}.attn.norm.bias`]: t(c) } : {}),
            [`${b}.norm2.weight`]: t(c), [`${b}.norm2.bias`]: t(c),
            [`${b}.mlp.fc1.weight`]: t(4 * c, c), [`${b}.mlp.fc1.bias`]: t(4 * c),
            [`${b}.mlp.dwconv.dwconv.weight`]: t(4 * c, 1, 3, 3), [`${b}.mlp.dwconv.dwconv.bias`]: t(4 * c),
            [`${b}.mlp.fc2.weight`]: t(c, 4 * c), [`${b}.mlp.fc2.bias`]: t(c),
          });
        }
        Object.assign(sd, { [`${prefix}norm${i}.weight`]: t(c), [`${prefix}norm${i}.bias`]: t(c) });
      }
      return sd;
    }

    it('segformer-official: a full B0 checkpoint loads strictly, kv split into key (first rows) and value', () => {
      const sd = officialEncoder('backbone.');
      for (let i = 1; i <= 4; i++) Object.assign(sd, { [`decode_head.linear_c${i}.proj.weight`]: t(256, dims[i]!), [`decode_head.linear_c${i}.proj.bias`]: t(256) });
      Object.assign(sd, {
        'decode_head.linear_fuse.conv.weight': t(256, 1024, 1, 1),
        'decode_head.linear_fuse.bn.weight': t(256), 'decode_head.linear_fuse.bn.bias': t(256),
        'decode_head.linear_fuse.bn.running_mean': t(256), 'decode_head.linear_fuse.bn.running_var': t(256),
        'decode_head.linear_fuse.bn.num_batches_tracked': new HostTensor(new BigInt64Array([7n]), [], 'int64'),
        'decode_head.linear_pred.weight': t(19, 256, 1, 1), 'decode_head.linear_pred.bias': t(19),
        'decode_head.conv_seg.weight': t(19, 128, 1, 1), 'decode_head.conv_seg.bias': t(19),
      });
      const net = new SegFormer({ numClasses: 19 });
      net.loadStateDict(applyKeyMap(sd, SEGFORMER_OFFICIAL));
      const got = net.stateDict();
      const kv = sd['backbone.block3.1.attn.kv.weight']!.f32;
      assert.deepEqual(got['segformer.encoder.block.2.1.attention.self.key.weight']!.f32, kv.slice(0, 160 * 160));
      assert.deepEqual(got['segformer.encoder.block.2.1.attention.self.value.weight']!.f32, kv.slice(160 * 160));
      assert.deepEqual(got['segformer.encoder.block.0.0.attention.self.value.bias']!.f32, sd['backbone.block1.0.attn.kv.bias']!.f32.slice(32));
      assert.deepEqual(got['segformer.encoder.block.1.1.attention.output.dense.weight']!.f32, sd['backbone.block2.1.attn.proj.weight']!.f32);
      assert.deepEqual(got['segformer.encoder.layer_norm.3.bias']!.f32, sd['backbone.norm4.bias']!.f32);
      assert.deepEqual(got['decode_head.linear_c.0.proj.weight']!.f32, sd['decode_head.linear_c1.proj.weight']!.f32);
      assert.deepEqual(got['decode_head.batch_norm.running_var']!.f32, sd['decode_head.linear_fuse.bn.running_var']!.f32);
      assert.deepEqual(got['decode_head.classifier.bias']!.f32, sd['decode_head.linear_pred.bias']!.f32);
    });

    it('mit-official: an ImageNet mit_b0.pth encoder loads into segformer.encoder, head dropped', () => {
      const sd: Record<string, HostTensor> = { ...officialEncoder(''), 'head.weight': t(1000, 256), 'head.bias': t(1000) };
      const net = new SegFormer({ numClasses: 19 });
      const r = net.loadStateDict(applyKeyMap(sd, MIT_OFFICIAL), { strict: false });
      assert.deepEqual(r.unexpected, []);
      assert.ok(r.missing.length > 0 && r.missing.every((k) => k.startsWith('decode_head.')), r.missing.join(', '));
      assert.deepEqual(net.stateDict()['segformer.encoder.block.3.1.mlp.dense1.weight']!.f32, sd['block4.1.mlp.fc1.weight']!.f32);
    });

    it("fastseg: FastSeg's Linear classifier [K, D] becomes HF's 1×1 conv", () => {
      const net = new SegFormer({ numClasses: 1, layerNormEps: 'hf' });
      const sd = { ...net.stateDict(), 'decode_head.classifier.weight': t(1, 256) };
      net.loadStateDict(applyKeyMap(sd, SEGFORMER_FASTSEG));
      assert.deepEqual(net.decode_head.classifier.weight.shape, [1, 256, 1, 1]);
      assert.deepEqual(net.decode_head.classifier.weight.value.f32, sd['decode_head.classifier.weight'].f32);
    });
  });

  it('trains: SegFormer-B0, 200 steps on two CamVid images at 32×48, loss falls', { skip: camvidUnavailable() ?? false }, async () => {
    const losses = await trainOnCamvid(new SegFormer({ numClasses: 11 }), { steps: 200, h: 32, w: 48, lr: 1e-3 });
    console.log(`segformer-b0 32×48: ${lossSummary(losses)}`);
    assertLossFalls(losses);
  });
});
