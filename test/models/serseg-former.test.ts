// SERSegFormer (FastSeg): published parameter counts (architectures.md §2.4, §2.6, Appendix A), the
// decoder input widths of §2.4's table, FastSeg state-dict names, output shapes for any input size
// with and without the upsampling decoder, the depth-channel contract, option errors, and the
// CamVid training check.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Graph } from '../../src/engine/graph.js';
import { ModelRegistry } from '../../src/models/registry.js';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { applyKeyMap } from '../../src/io/keymap.js';
import { entry } from '../../src/models/serseg-former/entry.js';
import { SERSEG_FASTSEG, SERSEG_FROM_SEGFORMER } from '../../src/models/serseg-former/keymap.js';
import { SegFormer } from '../../src/models/segformer/model.js';
import { SERSegFormer, type SERSegFormerOptions } from '../../src/models/serseg-former/model.js';
import { assertLossFalls, camvidUnavailable, lossSummary, trainOnCamvid } from './trains.js';

const M = (n: number) => n / 1e6;
const near = (got: number, doc: number, decimals: number, what: string) =>
  assert.ok(Math.abs(got - doc) <= 0.5 * 10 ** -decimals, `${what}: ${got.toFixed(decimals + 3)} M, doc ${doc} M`);

describe('SERSegFormer', () => {
  it('parameter counts equal architectures.md', () => {
    const up = new SERSegFormer({ numClasses: 1, upsample: true });
    // Appendix A: upsample decoder, K=1 ≈ 3.90 M; §2.4: ≈ 3.32 M encoder + 0.58 M decoder.
    near(M(up.numParameters()), 3.9, 2, 'SERSegFormer w DConv decoder, K=1');
    near(M(up.sersegformer.numParameters()), 3.32, 2, 'encoder');
    near(M(up.decode_head.numParameters()), 0.58, 2, 'upsample decoder');
    // All switches off = SegFormer-B0 with K=1 (Appendix A: ≈ 3.71 M); AbG owns no parameters.
    near(M(new SERSegFormer({ numClasses: 1 }).numParameters()), 3.71, 2, 'no switches, K=1');
    assert.equal(new SERSegFormer({ numClasses: 1, upsample: true, abg: true }).numParameters(), up.numParameters());
    // §2.6 (README): "+ AbG, DbN, DAM (± depth)" 4.2 M. FastSeg's DAM(C) also allocates two unused
    // 3×3 convs C→⌊C/2⌋ and C→C−⌊C/2⌋ with bias (§6.2), 9C² + C parameters, that segkit does not
    // create; the README counts them. C = 64 (65 with depth).
    const dead = (c: number) => 9 * c * c + c;
    for (const depthChannel of [false, true]) {
      const n = new SERSegFormer({ numClasses: 1, upsample: true, abg: true, dbn: true, dam: true, depthChannel }).numParameters();
      near(M(n + dead(depthChannel ? 65 : 64)), 4.2, 1, `abg+dbn+dam+upsample${depthChannel ? '+depth' : ''}`);
    }
  });

  it("decoder input widths follow §2.4's table (+1 on the first three with depth)", () => {
    const table: [boolean, boolean, number[]][] = [
      [false, false, [32, 64, 160, 256]],
      [true, false, [64, 128, 160, 256]],
      [false, true, [64, 128, 384, 640]],
      [true, true, [128, 256, 448, 768]],
    ];
    const check = (dbn: boolean, afn: boolean, depthChannel: boolean, widths: number[]) => {
      const sd = new SERSegFormer({ numClasses: 1, dbn, afn, depthChannel }).stateDict();
      const got = [0, 1, 2, 3].map((i) => sd[`decode_head.linear_c.${i}.proj.weight`]!.shape[1]);
      assert.deepEqual(got, widths.map((w, i) => w + (depthChannel && i < 3 ? 1 : 0)), `dbn=${dbn} afn=${afn} depth=${depthChannel}`);
    };
    for (const [dbn, afn, widths] of table) check(dbn, afn, false, widths);
    check(false, false, true, table[0]![2]);
    check(true, true, true, table[3]![2]);
  });

  it("uses FastSeg's state-dict names", () => {
    const sd = new SERSegFormer({ numClasses: 2, abg: true, dbn: true, afn: true, dam: true, upsample: true, depthChannel: true }).stateDict();
    const want: [string, number[]][] = [
      ['sersegformer.encoder.patch_embeddings.0.proj.weight', [32, 4, 7, 7]],
      ['sersegformer.encoder.patch_embeddings.1.proj.weight', [64, 33, 3, 3]],
      ['sersegformer.encoder.patch_embeddings.3.proj.weight', [256, 161, 3, 3]],
      ['sersegformer.encoder.block.0.0.attention.self.key.weight', [32, 32]],
      ['sersegformer.encoder.layer_norm.3.weight', [256]],
      ['decode_head.linear_fuse.weight', [256, 1024, 1, 1]],
      ['decode_head.batch_norm.running_mean', [256]],
      ['decode_head.upsample1.conv.weight', [64, 256, 3, 3]],
      ['decode_head.upsample2.relu.weight', [1]],
      ['decode_head.classifier.weight', [2, 64]],
      ['decode_head.dbn1.dilated_conv3.conv.weight', [32, 32, 3, 3]],
      ['decode_head.dbn2.dilated_conv1.bn.weight', [64]],
      ['decode_head.afn11.conv1.weight', [64, 64, 3, 3]],
      ['decode_head.afn13.conv3.weight', [128, 128, 3, 3]],
      ['decode_head.afn24.bn2.running_var', [256]],
      ['decode_head.afn44.relu3.weight', [1]],
      ['decode_head.afn_final.0.conv1.weight', [64, 64, 3, 3]],
      ['decode_head.afn_final.1.conv.weight', [64, 64, 3, 3]],
      ['decode_head.dam.dam.0.cam.conv.weight', [64, 129, 3, 3]],
      ['decode_head.dam.dam.1.sam.attn.3.weight', [1, 1, 7, 7]],
    ];
    for (const [k, shape] of want) assert.deepEqual(sd[k]?.shape, shape, k);
  });

  const shapeCases: [string, Partial<SERSegFormerOptions>, number][] = [
    ['no switches', {}, 4],
    ['upsample', { upsample: true }, 1],
    ['abg+dbn+afn+dam', { abg: true, dbn: true, afn: true, dam: true }, 4],
    ['every switch', { abg: true, dbn: true, afn: true, dam: true, upsample: true, depthChannel: true }, 1],
  ];
  for (const [name, o, stride] of shapeCases) {
    it(`${name}: logits at stride ${stride} for odd, even and non-multiple-of-32 sizes`, () => {
      const net = new SERSegFormer({ numClasses: 3, ...o }).eval();
      assert.equal(net.outputStride, stride);
      const c = o.depthChannel ? 4 : 3;
      for (const [h, w] of [[67, 45], [360, 480], [64, 96], [29, 33]] as const) {
        const y = net.forward(new Graph().input('x', [2, c, h, w]));
        assert.deepEqual(y.shape, [2, 3, Math.ceil(h / stride), Math.ceil(w / stride)], `${h}×${w}`);
      }
    });
  }

  it('depthChannel: the input has inChannels + 1 channels, the last one the depth map', () => {
    const net = new SERSegFormer({ numClasses: 1, depthChannel: true }).eval();
    assert.deepEqual(net.forward(new Graph().input('x', [1, 4, 64, 64])).shape, [1, 1, 16, 16]);
    assert.throws(() => net.forward(new Graph().input('x', [1, 3, 64, 64])), /N×4×H×W input \(3 image channels \+ 1 depth channel \(last\)\), got \[1, 3, 64, 64\]/);
    const gray = new SERSegFormer({ numClasses: 1, depthChannel: true, inChannels: 1 });
    assert.deepEqual(gray.stateDict()['sersegformer.encoder.patch_embeddings.0.proj.weight']!.shape, [32, 2, 7, 7]);
  });

  it('registry entry: defaults off, invalid options named', () => {
    const reg = new ModelRegistry();
    reg.register(entry);
    const m = reg.create('serseg-former', { numClasses: 2 }) as SERSegFormer;
    assert.equal(m.outputStride, 4);
    assert.equal(m.decode_head.hidden, 256);
    assert.deepEqual(m.decode_head.switches, { dbn: false, afn: false, dam: false, upsample: false, depth: false });
    assert.equal((reg.create('serseg-former', { numClasses: 2, upsample: true }) as SERSegFormer).outputStride, 1);
    assert.throws(() => reg.create('serseg-former', { numClasses: 2, abg: 'yes' }), /option 'abg' must be a boolean, got "yes"/);
    assert.throws(() => reg.create('serseg-former', { numClasses: 2, encoder: 'b0' }), /encoder' must be one of mit-b0, .*got 'b0'/);
    assert.throws(() => reg.create('serseg-former', { numClasses: 2, decoderHiddenSize: 0 }), /decoderHiddenSize must be a positive integer, got 0/);
    assert.throws(() => reg.create('serseg-former', { numClasses: 2, upsample: true, decoderHiddenSize: 3 }), /decoderHiddenSize must be ≥ 4 with upsample.*got 3/);
  });

  it("key maps: FastSeg's unused DAM convs are dropped; an HF SegFormer encoder loads into sersegformer.encoder", () => {
    const net = new SERSegFormer({ numClasses: 1, dam: true });
    const dead = { 'decode_head.dam.conv_cam.weight': HostTensor.zeros([16, 32, 3, 3]), 'decode_head.dam.conv_sam.bias': HostTensor.zeros([16]) };
    net.loadStateDict(applyKeyMap({ ...net.stateDict(), ...dead }, SERSEG_FASTSEG));
    const segformer = new SegFormer({ numClasses: 1, layerNormEps: 'hf' }).stateDict();
    const up = new SERSegFormer({ numClasses: 1, upsample: true });
    const r = up.loadStateDict(applyKeyMap(segformer, SERSEG_FROM_SEGFORMER), { strict: false });
    assert.deepEqual(r.unexpected, []);
    assert.ok(r.missing.every((k) => k.startsWith('decode_head.')), r.missing.join(', '));
    const k = 'encoder.block.1.0.attention.self.sr.weight';
    assert.deepEqual(up.stateDict()[`sersegformer.${k}`]!.f32, segformer[`segformer.${k}`]!.f32);
  });

  it('trains: SERSegFormer w DConv decoder + AbG, 200 steps on two CamVid images at 32×48, loss falls', { skip: camvidUnavailable() ?? false }, async () => {
    const losses = await trainOnCamvid(new SERSegFormer({ numClasses: 11, upsample: true, abg: true }), { steps: 200, h: 32, w: 48, lr: 1e-3 });
    console.log(`serseg-former (upsample, abg) 32×48: ${lossSummary(losses)}`);
    assertLossFalls(losses);
  });
});
