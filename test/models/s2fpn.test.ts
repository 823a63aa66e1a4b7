// S2-FPN (architectures.md §5): parameter counts against the doc's analytic numbers, the official
// state-dict names, output shapes for odd and even inputs (eval: logits; training: main + 4 aux),
// option and input errors, the ImageNet-backbone path (§5.11 #1), the official-checkpoint key maps,
// and the training check (v1 and v2, ResNet-18, with the auxiliary losses).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Graph } from '../../src/engine/graph.js';
import { HostTensor } from '../../src/engine/host-tensor.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { applyKeyMap } from '../../src/io/keymap.js';
import { manualSeed } from '../../src/nn/init.js';
import { ResNet } from '../../src/models/backbones/resnet.js';
import { ModelRegistry } from '../../src/models/registry.js';
import { entry } from '../../src/models/s2fpn/entry.js';
import { S2FPN_OFFICIAL, S2FPN_OFFICIAL_V1_BASIC } from '../../src/models/s2fpn/keymap.js';
import { S2FPN, type S2fpnEncoder } from '../../src/models/s2fpn/s2fpn.js';
import type { S2fpnVariant } from '../../src/models/blocks/s2fpn-conv-block.js';
import { camvidUnavailable, trainOnCamvid } from './trains.js';

const millions = (n: number) => n / 1e6;
const sumOf = (sd: Record<string, HostTensor>, keep: (k: string) => boolean) =>
  Object.entries(sd).filter(([k]) => keep(k) && !k.endsWith('running_mean') && !k.endsWith('running_var') && !k.endsWith('num_batches_tracked')).reduce((a, [, v]) => a + v.size, 0);

// Models take seconds to build on a loaded machine: build each configuration (K = 19) once and share
// it between the tests that only read it.
const built = new Map<string, S2FPN>();
function shared(variant: S2fpnVariant, encoder: S2fpnEncoder): S2FPN {
  const key = `${variant}/${encoder}`;
  if (!built.has(key)) built.set(key, new S2FPN({ numClasses: 19, variant, encoder }));
  return built.get(key)!;
}

function trace(model: S2FPN, shape: number[]): Tensor | Tensor[] {
  return model.forward(new Graph().input('x', shape));
}

describe('S2-FPN parameter counts (architectures.md §5.8 and Appendix A, K = 19)', () => {
  // The doc counts from the official code "excluding never-executed modules": the ResNet-50
  // adapters down2..down5 that v1 builds for every backbone, SSAM's conv_res and conv_sh bias, and
  // the BN/PReLU of conv_blocks built with bn_act=False. segkit does not build them, so its count
  // is the doc's; the doc gives 0.1 M precision.
  const published: [S2fpnVariant, S2fpnEncoder, number][] = [
    ['v1', 'resnet18', 17.9],
    ['v2', 'resnet18', 21.7],
    ['v1', 'resnet34', 28.0],
    ['v2', 'resnet34', 31.8],
  ];
  for (const [variant, encoder, m] of published) {
    it(`${variant} ${encoder} ≈ ${m} M`, () => {
      const n = shared(variant, encoder).numParameters();
      assert.ok(Math.abs(millions(n) - m) < 0.05, `${millions(n).toFixed(3)} M`);
    });
  }

  it('ResNet-34M has ResNet-34\'s parameters (only the max-pool differs)', () => {
    assert.equal(shared('v2', 'resnet34m').numParameters(), shared('v2', 'resnet34').numParameters());
  });

  it('the ResNet-50 adapters down2..down5 hold ≈ 12.5 M parameters (the doc\'s "unused" count on ResNet-18)', () => {
    const sd = shared('v1', 'resnet50').stateDict();
    assert.ok(Math.abs(millions(sumOf(sd, (k) => /^down[2-5]\./.test(k))) - 12.5) < 0.05);
  });
});

describe('S2-FPN state-dict names (the official code\'s)', () => {
  it('v1: backbone conv1_x/bn1/conv2_x..conv5_x, SSAM strip attention, head `classifier`', () => {
    const keys = Object.keys(shared('v1', 'resnet18').stateDict());
    for (const k of [
      'conv1_x.weight', 'bn1.running_var', 'conv2_x.0.conv1.weight', 'conv5_x.1.bn2.num_batches_tracked', 'cfgb.0.conv.weight', 'fab.0.bn.bias',
      'apf1.lateral_low.conv.weight', 'apf1.FRB.1.bn.weight', 'apf1.sa.conv_sh.weight', 'apf1.sa.bn_sh2.running_mean', 'apf1.sa.fuse.conv.weight', 'apf1.sa.gamma',
      'apf2.ca.conv_pool.0.conv.weight', 'apf2.ca.conv_pool.2.conv.weight', 'apf3.classifier.2.conv.weight', 'apf4.apf.bn.weight',
      'gfu4.conv1.bn.weight', 'gfu4.conv2.0.conv.weight', 'gfu1.conv3.conv.weight', 'classifier.fc.conv.weight',
    ]) assert.ok(keys.includes(k), k);
    // Never-run modules of the official code are not built; no PReLU in v1.
    for (const k of keys) assert.doesNotMatch(k, /conv_res|conv_sh\.bias|^down|\.act\.|sa\.fuse\.bn|classifier\.2\.bn|conv2\.0\.bn|fc\.bn/, k);
  });

  it('v2: ScaleAwareBlock SSAM, gated GFU, PReLU, head `seghead`', () => {
    const sd = shared('v2', 'resnet18').stateDict();
    for (const k of [
      'apf1.sa.tr.0.attn.conv_sh.weight', 'apf1.sa.tr.0.attn.augmment_conv.bias', 'apf1.sa.tr.0.attn.conv_v.weight', 'apf1.sa.tr.0.attn.fuse_out.conv.weight',
      'apf1.sa.tr.0.attn.gamma', 'apf1.sa.tr.0.mlp.dconv2.act.weight', 'apf1.sa.tr.0.mlp.fuse.conv.weight', 'gfu2.s1.act.weight', 'gfu2.s2.0.conv.weight',
      'gfu2.s2.1.running_var', 'gfu2.fuse.conv.weight', 'seghead.fc.conv.weight',
    ]) assert.ok(k in sd, k);
    assert.deepEqual(sd['apf1.FRB.0.act.weight']!.shape, [256]); // per-channel PReLU
    assert.deepEqual(sd['gfu4.conv3.conv.weight']!.shape, [256, 256, 3, 3]); // 3×3 in v2 (1×1 in v1)
    assert.ok(!('classifier.fc.conv.weight' in sd));
  });

  it('ResNet-50/101 get the 3×3 CBA adapters down2..down5 (256, 512, 1024, 2048 → 64, 128, 256, 512)', () => {
    const sd = shared('v1', 'resnet50').stateDict();
    assert.deepEqual(sd['down2.conv.weight']!.shape, [64, 256, 3, 3]);
    assert.deepEqual(sd['down5.conv.weight']!.shape, [512, 2048, 3, 3]);
    assert.ok('conv4_x.5.conv3.weight' in sd);
  });
});

describe('S2-FPN shapes', () => {
  it('CamVid 360×480 (§5.8 walk-through): x5 512@12×15, CFGB 512@6×8, logits at the input size', () => {
    const model = shared('v1', 'resnet18').eval();
    const x = new Graph().input('x', [1, 3, 360, 480]);
    const f = model.backbone.features(x);
    assert.deepEqual(f.slice(1).map((t) => t.shape), [[1, 64, 90, 120], [1, 128, 45, 60], [1, 256, 23, 30], [1, 512, 12, 15]]);
    assert.deepEqual(model.cfgb.forward(f[4]!).shape, [1, 512, 6, 8]);
    assert.deepEqual((model.forward(x) as Tensor).shape, [1, 19, 360, 480]);
  });

  const cases: [S2fpnVariant, S2fpnEncoder, number[]][] = [
    ['v1', 'resnet18', [2, 3, 97, 131]],
    ['v2', 'resnet18', [1, 3, 97, 131]],
    ['v2', 'resnet34m', [1, 3, 97, 131]],
    ['v1', 'resnet50', [1, 3, 64, 96]],
  ];
  for (const [variant, encoder, shape] of cases) {
    it(`${variant} ${encoder} ${shape.join('×')}: eval → logits; training → [main, aux1..aux4], all at the input size`, () => {
      const model = shared(variant, encoder);
      const [n, , h, w] = shape as [number, number, number, number];
      assert.deepEqual((trace(model.eval(), shape) as Tensor).shape, [n, 19, h, w]);
      const outs = trace(model.train(), shape) as Tensor[];
      assert.equal(outs.length, 5);
      for (const t of outs) assert.deepEqual(t.shape, [n, 19, h, w]);
      assert.deepEqual(model.auxWeights, [1, 1, 1, 1]);
    });
  }

  it('ResNet-34M runs layer1 on the stem output: features at strides 2, 4, 8, 16', () => {
    const model = shared('v2', 'resnet34m');
    const f = model.backbone.features(new Graph().input('x', [1, 3, 64, 96]));
    assert.deepEqual(f.slice(1).map((t) => t.shape.slice(2)), [[32, 48], [16, 24], [8, 12], [4, 6]]);
  });

  it('declares outputStride 1 and inputMultiple 1 (any size: the decoder resizes explicitly)', () => {
    const m = shared('v1', 'resnet18');
    assert.equal(m.outputStride, 1);
    assert.equal(m.inputMultiple, 1);
    assert.deepEqual((trace(m.eval(), [1, 3, 33, 35]) as Tensor).shape, [1, 19, 33, 35]);
  });
});

describe('S2-FPN errors', () => {
  it('names the bad option and the valid values', () => {
    assert.throws(() => new S2FPN({ numClasses: 3, variant: 'v3' as S2fpnVariant }), /variant must be one of v1, v2, got 'v3'/);
    assert.throws(() => new S2FPN({ numClasses: 3, encoder: 'resnet152' as S2fpnEncoder }), /encoder must be one of resnet18, resnet34, resnet34m, resnet50, resnet101, got 'resnet152'/);
    assert.throws(() => new S2FPN({ numClasses: 0 }), /numClasses must be a positive integer, got 0/);
    const reg = new ModelRegistry();
    reg.register(entry);
    assert.throws(() => reg.create('s2fpn', { numClasses: 3, encoder: 'mit-b0' }), /option 'encoder' must be one of resnet18, resnet34, resnet34m, resnet50, resnet101, got 'mit-b0'/);
    assert.throws(() => reg.create('s2fpn', { numClasses: 3, variant: 'paper' }), /option 'variant' must be one of v1, v2/);
  });

  it('rejects an input that is not N×C×H×W', () => {
    assert.throws(() => shared('v1', 'resnet18').forward(new Graph().input('x', [3, 64, 64])), /S2FPN: expected an N×C×H×W input, got shape \[3, 64, 64\]/);
  });

  it('rejects backbone weights of another depth, naming the mismatches', () => {
    assert.throws(() => shared('v1', 'resnet18').loadBackboneWeights(shared('v1', 'resnet50').backbone.stateDict()), /shape\/dtype mismatches:\n {2}layer1\.0\.conv1\.weight: checkpoint \[64, 64, 1, 1\]/);
  });
});

describe('S2-FPN registry entry', () => {
  it("defaults to v1 on ResNet-18 and passes variant, encoder, numClasses and inChannels through", () => {
    const reg = new ModelRegistry();
    reg.register(entry);
    const d = reg.create('s2fpn', { numClasses: 11 }) as S2FPN;
    assert.equal(d.variant, 'v1');
    assert.equal(d.encoder, 'resnet18');
    const m = reg.create('s2fpn', { numClasses: 4, inChannels: 1, variant: 'v2', encoder: 'resnet34m' }) as S2FPN;
    assert.equal(m.variant, 'v2');
    assert.equal(m.encoder, 'resnet34m');
    assert.equal(m.numClasses, 4);
    assert.deepEqual(m.stateDict()['conv1_x.weight']!.shape, [64, 1, 7, 7]);
  });
});

describe('S2-FPN initialisation and the ImageNet backbone (§5.11 #1)', () => {
  it("decoder: the official init (Kaiming-normal fan_in convs, γ = 0, PReLU 0.25); backbone: torchvision's", () => {
    const sd = shared('v2', 'resnet18').stateDict();
    const std = (t: HostTensor) => {
      const a = t.f32;
      const mean = a.reduce((s, v) => s + v, 0) / a.length;
      return Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
    };
    const w = sd['apf1.FRB.0.conv.weight']!; // 1×1, fan_in 1024
    assert.ok(Math.abs(std(w) / Math.sqrt(2 / 1024) - 1) < 0.03, String(std(w)));
    const b = sd['conv3_x.0.conv1.weight']!; // torchvision: fan_out = 128·9
    assert.ok(Math.abs(std(b) / Math.sqrt(2 / (128 * 9)) - 1) < 0.03, String(std(b)));
    assert.equal(sd['apf1.sa.tr.0.attn.gamma']!.f32[0], 0);
    assert.ok(sd['apf2.conv_low.act.weight']!.f32.every((v) => v === 0.25));
  });

  const tv = new ResNet(18).stateDict(); // torchvision names, with the classifier fc.*
  const isBackbone = (k: string) => /^(conv[1-5]_x|bn1)\./.test(k);
  const torchvisionName = (k: string) => k.replace(/^conv1_x\./, 'conv1.').replace(/^conv(\d)_x\./, (_, i: string) => `layer${Number(i) - 1}.`);

  it('the backboneWeights option loads torchvision ResNet weights (fc ignored) into every backbone tensor', () => {
    const sd = new S2FPN({ numClasses: 19, backboneWeights: tv }).stateDict();
    const keys = Object.keys(sd).filter(isBackbone);
    assert.equal(keys.length, Object.keys(tv).filter((k) => !k.startsWith('fc.')).length);
    for (const k of keys) assert.deepEqual(sd[k]!.data, tv[torchvisionName(k)]!.data, k);
  });

  it('loadBackboneWeights changes the backbone only: the decoder keeps its init', () => {
    const m = new S2FPN({ numClasses: 19 });
    const before = Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, v.data.slice()]));
    m.loadBackboneWeights(tv);
    for (const [k, v] of Object.entries(m.stateDict())) assert.deepEqual(v.data, isBackbone(k) ? tv[torchvisionName(k)]!.data : before[k], k);
  });
});

describe('S2-FPN official checkpoints (src/models/s2fpn/keymap.ts)', () => {
  // An official state dict = segkit's plus what the official modules build and never run
  // (model/SSFPN*.py, model/common_blocks.py): synthesised here from that list.
  function official(model: S2FPN, { adapters, prefix }: { adapters: boolean; prefix: string }): Record<string, HostTensor> {
    const sd: Record<string, HostTensor> = { ...model.stateDict() };
    const v2 = model.variant === 'v2';
    const z = (...shape: number[]) => HostTensor.zeros(shape);
    const deadBlock = (name: string, c: number) => {
      for (const s of ['weight', 'bias', 'running_mean', 'running_var']) sd[`${name}.bn.${s}`] = z(c);
      sd[`${name}.bn.num_batches_tracked`] = HostTensor.zeros([], 'int64');
      if (v2) sd[`${name}.act.weight`] = z(c);
    };
    [256, 128, 64, 32].forEach((c, i) => {
      const apf = `apf${i + 1}`;
      const sa = v2 ? `${apf}.sa.tr.0.attn` : `${apf}.sa`;
      sd[`${sa}.conv_sh.bias`] = z(c);
      sd[`${sa}.conv_res.weight`] = z(c, c, 1, 1);
      sd[`${sa}.conv_res.bias`] = z(c);
      deadBlock(`${sa}.fuse`, c);
      if (v2) deadBlock(`${sa}.fuse_out`, c);
      if (v2) deadBlock(`${apf}.sa.tr.0.mlp.fuse`, c);
      deadBlock(`${apf}.ca.conv_pool.0`, c / 4);
      deadBlock(`${apf}.ca.conv_pool.2`, c);
      deadBlock(`${apf}.classifier.2`, model.numClasses);
      deadBlock(`gfu${4 - i}.conv2.0`, c);
      if (v2) deadBlock(`gfu${4 - i}.s2.0`, c);
    });
    deadBlock(v2 ? 'seghead.fc' : 'classifier.fc', model.numClasses);
    if (adapters) {
      [[256, 64], [512, 128], [1024, 256], [2048, 512]].forEach(([i, o], k) => {
        sd[`down${k + 2}.conv.weight`] = z(o!, i!, 3, 3);
        deadBlock(`down${k + 2}`, o!);
      });
    }
    return Object.fromEntries(Object.entries(sd).map(([k, v]) => [prefix + k, v]));
  }

  it('v1 ResNet-18 (with the never-run ResNet-50 adapters) loads strictly through s2fpn-official-v1-r18-r34', () => {
    const m = shared('v1', 'resnet18');
    const sd = official(m, { adapters: true, prefix: '' });
    assert.throws(() => m.loadStateDict(sd), /unexpected/);
    m.loadStateDict(applyKeyMap(sd, S2FPN_OFFICIAL_V1_BASIC));
  });

  it('v2 ResNet-18 saved from DataParallel loads strictly through s2fpn-official', () => {
    const m = shared('v2', 'resnet18');
    m.loadStateDict(applyKeyMap(official(m, { adapters: false, prefix: 'module.' }), S2FPN_OFFICIAL));
  });

  it('s2fpn-official keeps the adapters a ResNet-50 model runs', () => {
    const m = shared('v1', 'resnet50');
    m.loadStateDict(applyKeyMap(official(m, { adapters: false, prefix: '' }), S2FPN_OFFICIAL));
  });
});

describe('S2-FPN trains (CamVid, 32×48, batch 2, main + 4 auxiliary losses)', () => {
  const skip = camvidUnavailable() ?? false;
  for (const variant of ['v1', 'v2'] as const) {
    it(`${variant} ResNet-18: the loss falls`, { skip }, async () => {
      const t0 = Date.now();
      manualSeed(0); // the same init whatever ran before in this process
      const losses = await trainOnCamvid(new S2FPN({ numClasses: 11, variant }), { steps: 16, h: 32, w: 48 });
      const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
      const first = mean(losses.slice(0, 5));
      const last = mean(losses.slice(-5));
      console.log(`  s2fpn ${variant}: loss ${first.toFixed(2)} → ${last.toFixed(2)} in ${losses.length} steps, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      assert.ok(last < 0.6 * first, losses.map((l) => l.toFixed(2)).join(' '));
    });
  }
});

describe('width multiplier (narrow S2-FPN for real-time models)', () => {
  it('scales ResNet-18: 702,096 backbone parameters at ×0.25 (hand count: 3·16·49 stem, 3×3 basic blocks, 1×1 downsamples, 2 per BN channel)', () => {
    // At ×1 the same count gives torchvision's 11,176,512 (11,689,512 with its 1000-class fc).
    assert.equal(new ResNet(18, { numClasses: null, widthMultiplier: 0.25 }).numParameters(), 702_096);
    assert.equal(new ResNet(18, { numClasses: null, widthMultiplier: 1 }).numParameters(), 11_176_512);
  });

  it('refuses multipliers that leave a width fractional, listing valid ones', () => {
    assert.throws(() => new S2FPN({ numClasses: 2, widthMultiplier: 0.3 }), /widthMultiplier must make 32 channels a positive multiple of 4 \(0\.125, 0\.25, 0\.5/);
    assert.throws(() => new S2FPN({ numClasses: 2, widthMultiplier: 0 }), /widthMultiplier/);
  });

  it('gives full-size logits in eval mode at ×0.25', () => {
    const m = new S2FPN({ numClasses: 2, widthMultiplier: 0.25 }).eval();
    const y = m.forward(new Graph().input('x', [1, 3, 45, 61])) as Tensor;
    assert.deepEqual(y.shape, [1, 2, 45, 61]);
  });
});

describe('detail head (stride-2 classifier fed by the stem; not in the paper)', () => {
  it('adds detail_reduce (1×1 CBA, stem → w·32) and detail_fuse (3×3 CBA, 2·w·32 → w·32): 5,184 parameters at ×0.5 by hand', () => {
    // ×0.5: stem 32 → 16 (32·16 weights + 2·16 BN) and 32 → 16 by 3×3 (32·9·16 + 2·16).
    const plain = new S2FPN({ numClasses: 2, widthMultiplier: 0.5 });
    const detail = new S2FPN({ numClasses: 2, widthMultiplier: 0.5, detailHead: true });
    assert.equal(detail.numParameters() - plain.numParameters(), 32 * 16 + 32 + 32 * 9 * 16 + 32);
    const keys = Object.keys(detail.stateDict()).filter((k) => k.startsWith('detail_'));
    assert.deepEqual(keys.filter((k) => k.endsWith('.weight')).sort(), ['detail_fuse.bn.weight', 'detail_fuse.conv.weight', 'detail_reduce.bn.weight', 'detail_reduce.conv.weight']);
    assert.equal(Object.keys(plain.stateDict()).filter((k) => k.startsWith('detail_')).length, 0);
  });

  it('classifies on the stem grid: the classifier reads w·32 channels at ⌈H/2⌉×⌈W/2⌉, and the logits come back at the input size', () => {
    const m = new S2FPN({ numClasses: 2, widthMultiplier: 0.25, detailHead: true });
    let seen: readonly number[] = [];
    const forward = m.head.forward.bind(m.head);
    m.head.forward = (x: Tensor) => ((seen = x.shape), forward(x));
    const y = m.eval().forward(new Graph().input('x', [1, 3, 45, 61])) as Tensor;
    assert.deepEqual(seen, [1, 8, 23, 31]);
    assert.deepEqual(y.shape, [1, 2, 45, 61]);
    const outs = m.train().forward(new Graph().input('x', [2, 3, 45, 61])) as Tensor[];
    assert.deepEqual(outs.map((t) => t.shape), new Array(5).fill([2, 2, 45, 61]));
  });

  it('is an option of the registry entry (default off)', () => {
    const registry = new ModelRegistry();
    registry.register(entry);
    assert.equal((registry.create('s2fpn', { numClasses: 2, widthMultiplier: 0.25 }) as S2FPN).detail, null);
    assert.notEqual((registry.create('s2fpn', { numClasses: 2, widthMultiplier: 0.25, detailHead: true }) as S2FPN).detail, null);
  });
});
