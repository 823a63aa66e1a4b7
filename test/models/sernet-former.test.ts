// SERNet-Former: FastSeg's variant (parameter counts from architectures.md §2.2 / Appendix A,
// FastSeg's state-dict names and initialisation, full-resolution output for multiples of 16 and a
// clear error otherwise, the training check) and the experimental paper-style variant (encoder
// strides, full-resolution output for any size, options).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Graph } from '../../src/engine/graph.js';
import { ModelRegistry } from '../../src/models/registry.js';
import { entry, paperEntry } from '../../src/models/sernet-former/entry.js';
import { SERNetFormer } from '../../src/models/sernet-former/model.js';
import { SERNetFormerPaper } from '../../src/models/sernet-former/paper.js';
import { assertLossFalls, camvidUnavailable, lossSummary, trainOnCamvid } from './trains.js';

const input = (shape: number[]) => new Graph().input('x', shape);
const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

describe('SERNet-Former (FastSeg)', () => {
  const model = new SERNetFormer({ numClasses: 1 });

  it('has the parameter counts of architectures.md §2.2', () => {
    assert.equal(model.numParameters(), 9_234_710);
    assert.equal(model.encoder.numParameters(), 8_669_896);
    assert.equal(model.encoder.dbn.numParameters(), 7_080_963);
    assert.equal(model.decoder.numParameters(), 564_814);
    // Appendix A: K = 2 adds one 128-wide classifier row and a bias.
    assert.equal(new SERNetFormer({ numClasses: 2 }).numParameters(), 9_234_839);
  });

  it("uses FastSeg's module names (checkpoints load without a key map)", () => {
    const keys = Object.keys(model.stateDict());
    for (const k of [
      'encoder.initial_conv.conv.weight',
      'encoder.conv4.relu.weight',
      'encoder.dbn.dilated_conv3.bn.running_mean',
      'decoder.afn1.afn.conv3.weight',
      'decoder.afn2.upsample_block1.conv.weight',
      'decoder.afn2.upsample_block2.relu.weight',
      'decoder.conv1.weight',
      'decoder.bn1.num_batches_tracked',
      'decoder.relu1.weight',
      'decoder.upsample2.bn.bias',
      'decoder.cls_head.weight',
      'decoder.cls_head.bias',
    ]) {
      assert.ok(keys.includes(k), k);
    }
    assert.deepEqual(model.stateDict()['decoder.cls_head.weight']!.shape, [1, 128]);
  });

  it("is initialised as FastSeg's train_sernet.py: Xavier-uniform 1×1 convs and Linear, zero biases", () => {
    const sd = new SERNetFormer({ numClasses: 4 }).stateDict();
    // Xavier bound √(6/(fan_in+fan_out)) exceeds PyTorch's default 1/√fan_in for these shapes.
    const fuse = maxAbs(sd['decoder.conv1.weight']!.f32);
    assert.ok(fuse > 1 / Math.sqrt(160) && fuse <= Math.sqrt(6 / 224), `decoder.conv1 max |w| ${fuse}`);
    const head = maxAbs(sd['decoder.cls_head.weight']!.f32);
    assert.ok(head > 1 / Math.sqrt(128) && head <= Math.sqrt(6 / 132), `cls_head max |w| ${head}`);
    assert.equal(maxAbs(sd['decoder.cls_head.bias']!.f32), 0);
    // 3×3 convs keep Kaiming-uniform(a=√5): bound 1/√(9·fan_in).
    assert.ok(maxAbs(sd['encoder.conv1.conv.weight']!.f32) <= 1 / Math.sqrt(64 * 9));
  });

  it('returns logits at the full input resolution for multiples of 16 (odd multiples too)', () => {
    const m = new SERNetFormer({ numClasses: 11 }).eval();
    for (const [h, w] of [[16, 16], [32, 48], [48, 80], [80, 48], [112, 144], [512, 512]] as const) {
      assert.deepEqual(m.forward(input([2, 3, h, w])).shape, [2, 11, h, w], `${h}×${w}`);
    }
    // Appendix A: K = 2 at 1024×768.
    assert.deepEqual(new SERNetFormer({ numClasses: 2 }).eval().forward(input([1, 3, 1024, 768])).shape, [1, 2, 1024, 768]);
    assert.equal(m.inputMultiple, 16);
    assert.equal(m.outputStride, 1);
  });

  it('encoder outputs have the strides and widths of §2.2', () => {
    const acts = new SERNetFormer({ numClasses: 1 }).eval().encoder.forward(input([1, 3, 48, 80]));
    const want = [[64, 2], [64, 4], [64, 4], [128, 8], [256, 16], [512, 16], [512, 16]];
    assert.deepEqual(acts.map((a) => a.shape), want.map(([c, s]) => [1, c, 48 / s!, 80 / s!]));
  });

  it('says H and W must be multiples of 16 otherwise', () => {
    const m = new SERNetFormer({ numClasses: 1 }).eval();
    assert.throws(() => m.forward(input([1, 3, 50, 64])), /sernet-former: input height and width must be multiples of 16, got 50×64 \(pad or resize to e\.g\. 64×64\)/);
    assert.throws(() => m.forward(input([1, 3, 48, 72])), /multiples of 16, got 48×72/);
    assert.throws(() => m.forward(input([1, 3, 8, 8])), /multiples of 16, got 8×8/);
  });

  it('accepts other input channel counts and rejects bad class counts', () => {
    const m = new SERNetFormer({ numClasses: 2, inChannels: 4 });
    assert.deepEqual(m.stateDict()['encoder.initial_conv.conv.weight']!.shape, [64, 4, 3, 3]);
    assert.deepEqual(m.eval().forward(input([1, 4, 32, 32])).shape, [1, 2, 32, 32]);
    assert.throws(() => new SERNetFormer({ numClasses: 0 }), /numClasses must be a positive integer, got 0/);
  });

  it('trains: 200 steps on two CamVid images at 32×48, loss falls', { skip: camvidUnavailable() ?? false, timeout: 300_000 }, async () => {
    const t0 = Date.now();
    const losses = await trainOnCamvid(new SERNetFormer({ numClasses: 11 }), { steps: 200, h: 32, w: 48, count: 2, lr: 1e-3 });
    console.log(`sernet-former 32×48: ${lossSummary(losses)}, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assertLossFalls(losses);
  });
});

describe('SERNet-Former, paper-style (experimental)', () => {
  const r50 = new SERNetFormerPaper({ numClasses: 11 }).eval();

  it('encoder features (with AbMs) are at strides 2, 4, 8, 8, 8 (dilated ResNet, OS 8)', () => {
    const f = r50.features(input([1, 3, 64, 96]));
    const want = [[64, 2], [256, 4], [512, 8], [1024, 8], [2048, 8]];
    assert.deepEqual(f.map((t) => t.shape), want.map(([c, s]) => [1, c, 64 / s!, 96 / s!]));
    // Odd sizes round up at each stride-2 step, as in torchvision.
    assert.deepEqual(r50.features(input([1, 3, 45, 61])).map((t) => t.shape.slice(2)), [[23, 31], [12, 16], [6, 8], [6, 8], [6, 8]]);
  });

  it('trains: 60 steps on two CamVid images at 32×48, loss falls', { skip: camvidUnavailable() ?? false, timeout: 300_000 }, async () => {
    // Fewer steps than the FastSeg form's 200: with ResNet-50 and a 2048-channel DbN it has about
    // 38 M parameters, and their AdamW update makes a step cost ~0.8 s here even at 32×48.
    const t0 = Date.now();
    const losses = await trainOnCamvid(new SERNetFormerPaper({ numClasses: 11 }), { steps: 60, h: 32, w: 48, count: 2, lr: 1e-3 });
    console.log(`sernet-former-paper 32×48: ${lossSummary(losses, 10)}, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assertLossFalls(losses, { window: 10 });
  });

  it('returns logits at the full input resolution for any size', () => {
    for (const [h, w] of [[64, 96], [45, 61], [33, 29], [50, 50]] as const) {
      assert.deepEqual(r50.forward(input([2, 3, h, w])).shape, [2, 11, h, w], `${h}×${w}`);
    }
    assert.equal(r50.inputMultiple, 1);
    assert.equal(r50.outputStride, 1);
  });

  it('wraps torchvision ResNet-50 under backbone.* (no fc), then dbn.* and decoder.*', () => {
    // torchvision's published ResNet-50 total (25,557,032) minus the 2048→1000 fc (2,049,000).
    assert.equal(r50.backbone.numParameters(), 23_508_032);
    const keys = Object.keys(r50.stateDict());
    for (const k of ['backbone.conv1.weight', 'backbone.layer3.5.bn3.running_var', 'dbn.dilated_conv1.conv.weight', 'decoder.afn2.afn.conv1.weight', 'decoder.classifier.bias']) assert.ok(keys.includes(k), k);
    assert.ok(!keys.some((k) => k.startsWith('backbone.fc')));
    assert.deepEqual(r50.stateDict()['dbn.dilated_conv1.conv.weight']!.shape, [256, 2048, 3, 3]);
  });
});

describe('SERNet-Former registry entries', () => {
  const registry = new ModelRegistry();
  registry.register(entry);
  registry.register(paperEntry);

  it("'sernet-former' builds FastSeg's model; 'sernet-former-paper' is experimental with an encoder option", () => {
    const m = registry.create('sernet-former', { numClasses: 1 });
    assert.ok(m instanceof SERNetFormer);
    assert.equal(m.numParameters(), 9_234_710);
    const list = registry.list();
    assert.equal(list.find((e) => e.name === 'sernet-former')!.experimental, false);
    const paper = list.find((e) => e.name === 'sernet-former-paper')!;
    assert.equal(paper.experimental, true);
    assert.deepEqual(paper.options.encoder!.choices, ['resnet50', 'resnet101']);
    const p = registry.create('sernet-former-paper', { numClasses: 3, encoder: 'resnet101' });
    assert.ok(p instanceof SERNetFormerPaper && p.backbone.depth === 101);
    // torchvision's published ResNet-101 total (44,549,160) minus its fc (2,049,000).
    assert.equal(p.backbone.numParameters(), 42_500_160);
    assert.ok(Object.keys(p.stateDict()).includes('backbone.layer3.22.bn3.running_var'));
  });

  it('rejects unknown encoders and options with the valid ones', () => {
    assert.throws(() => registry.create('sernet-former-paper', { numClasses: 3, encoder: 'resnet18' }), /option 'encoder' must be one of resnet50, resnet101, got 'resnet18'/);
    assert.throws(() => registry.create('sernet-former', { numClasses: 3, encoder: 'resnet50' }), /unknown option 'encoder'/);
  });
});
