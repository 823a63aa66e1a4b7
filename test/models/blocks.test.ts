// SERNet-Former's building blocks (src/models/blocks: AbG, AbM / AbG conv unit, SpatialAFN,
// ContextAFN, DbN, UpsampleBlock) and HSNet's DAM as FastSeg reads it: hand-computed values where
// a block is simple enough, shapes for odd and even sizes, parameter counts from
// architectures.md's formulas, FastSeg's state-dict names, and DAM's parity with its PyTorch reference.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Graph } from '../../src/engine/graph.js';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { AttentionBoostingGate } from '../../src/models/blocks/abg.js';
import { AbGConvUnit, abm } from '../../src/models/blocks/abm.js';
import { ContextAFN, SpatialAFN } from '../../src/models/blocks/afn.js';
import { DAM } from '../../src/models/blocks/dam.js';
import { DbN } from '../../src/models/blocks/dbn.js';
import { UpsampleBlock } from '../../src/models/blocks/upsample.js';
import { compileModule } from '../../src/nn/compile.js';
import { Module, type AnyModule } from '../../src/nn/module.js';
import { checkParity, parityUnavailable } from '../parity/parity.js';

async function run(m: AnyModule, x: HostTensor): Promise<HostTensor> {
  const f = compileModule(m.eval(), { runtime: nodeRuntime, threads: 1 });
  try {
    return (await f.run(x)) as HostTensor;
  } finally {
    await f.dispose();
  }
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const input = (shape: number[]) => new Graph().input('x', shape);

function assertClose(got: ArrayLike<number>, want: number[], tol = 1e-6): void {
  assert.equal(got.length, want.length);
  want.forEach((w, i) => assert.ok(Math.abs(got[i]! - w) <= tol * Math.max(1, Math.abs(w)), `[${i}]: got ${got[i]}, want ${w}`));
}

/** A 3×3 conv with 1 in its centre: the identity on one channel. */
function identityConv(unit: { conv: { weight: { set(v: HostTensor): void } } }): void {
  const w = new Float32Array(9);
  w[4] = 1;
  unit.conv.weight.set(new HostTensor(w, [1, 1, 3, 3]));
}

describe('AbG and AbM', () => {
  const values = [-3, -1, -0.25, 0, 0.5, 2];

  it('AbG is y·σ(y), parameter-free', async () => {
    const gate = new AttentionBoostingGate();
    assert.equal(gate.numParameters(), 0);
    const y = await run(gate, HostTensor.fromArray(values, [1, 1, 1, 6]));
    assertClose(y.f32, values.map((v) => v * sigmoid(v)));
  });

  it('AbM with ReLU is relu(y) + y·σ(y)', async () => {
    class Abm extends Module {
      forward(y: Tensor): Tensor {
        return abm(y);
      }
    }
    const y = await run(new Abm(), HostTensor.fromArray(values, [1, 1, 1, 6]));
    assertClose(y.f32, values.map((v) => Math.max(v, 0) + v * sigmoid(v)));
  });

  it('the AbG conv unit is PReLU(y) + y·σ(y) on the BN output', async () => {
    const unit = new AbGConvUnit(1, 1);
    identityConv(unit);
    // Eval BN with fresh statistics divides by √(1 + eps); PReLU slope 0.25.
    const s = 1 / Math.sqrt(1 + 1e-5);
    const y = await run(unit, HostTensor.fromArray(values, [1, 1, 1, 6]));
    assertClose(y.f32, values.map((v) => (v * s >= 0 ? v * s : 0.25 * v * s) + v * s * sigmoid(v * s)), 1e-5);
  });

  it("the AbG conv unit has FastSeg's names and strides like a padded 3×3 conv", () => {
    const unit = new AbGConvUnit(3, 64, 2);
    assert.deepEqual(Object.keys(unit.stateDict()), ['conv.weight', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked', 'relu.weight']);
    assert.equal(unit.numParameters(), 3 * 64 * 9 + 2 * 64 + 1);
    assert.deepEqual(unit.eval().forward(input([2, 3, 33, 48])).shape, [2, 64, 17, 24]);
  });
});

describe('AfN', () => {
  it('SpatialAFN keeps the size; three units of C·C·9 + 2C + 1 parameters', () => {
    const afn = new SpatialAFN(16);
    assert.equal(afn.numParameters(), 3 * (16 * 16 * 9 + 2 * 16 + 1));
    assert.deepEqual(afn.eval().forward(input([1, 16, 13, 10])).shape, [1, 16, 13, 10]);
    assert.deepEqual(Object.keys(afn.stateDict()).filter((k) => k.endsWith('weight')), ['conv1.weight', 'bn1.weight', 'relu1.weight', 'conv2.weight', 'bn2.weight', 'relu2.weight', 'conv3.weight', 'bn3.weight', 'relu3.weight']);
  });

  it('ContextAFN divides H and W by 4 (strides 2, 2, 1; odd sizes round up)', () => {
    const afn = new ContextAFN(8).eval();
    assert.deepEqual(afn.forward(input([1, 8, 32, 48])).shape, [1, 8, 8, 12]);
    assert.deepEqual(afn.forward(input([1, 8, 13, 10])).shape, [1, 8, 4, 3]);
  });
});

describe('DbN', () => {
  it("DbN(512) has architectures.md's 7,080,963 parameters and FastSeg's names", () => {
    const dbn = new DbN(512);
    assert.equal(dbn.numParameters(), 7_080_963);
    const keys = Object.keys(dbn.stateDict());
    for (const k of ['dilated_conv1.conv.weight', 'dilated_conv2.bn.running_var', 'dilated_conv3.relu.weight']) assert.ok(keys.includes(k), k);
  });

  it('keeps the spatial size (padding = dilation 12, 16, 18), optionally narrowing the channels', () => {
    assert.deepEqual(DbN.RATES, [12, 16, 18]);
    assert.deepEqual(new DbN(8).eval().forward(input([2, 8, 5, 7])).shape, [2, 8, 5, 7]);
    assert.deepEqual(new DbN(16, 4).eval().forward(input([1, 16, 9, 6])).shape, [1, 4, 9, 6]);
  });

  it('sums its three branches', async () => {
    // With 1×1 identity-centred convs every branch sees only its own centre tap (dilation ≥ 12
    // puts the other taps in the padding of a 3×4 map), so the sum is 3·PReLU(BN(x)).
    const dbn = new DbN(1);
    for (const [, m] of dbn.namedModules()) if ('conv' in m && 'bn' in m) identityConv(m as unknown as AbGConvUnit);
    const values = [-2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, -9];
    const s = 1 / Math.sqrt(1 + 1e-5);
    const y = await run(dbn, HostTensor.fromArray(values, [1, 1, 3, 4]));
    assertClose(y.f32, values.map((v) => 3 * (v >= 0 ? v * s : 0.25 * v * s)), 1e-5);
  });
});

describe('UpsampleBlock', () => {
  it('upsamples by floor(n·scale) before its 3×3 CBP, or to an explicit size', () => {
    const up = new UpsampleBlock(8, 4, 2).eval();
    assert.deepEqual(up.forward(input([1, 8, 5, 7])).shape, [1, 4, 10, 14]);
    assert.deepEqual(up.forward(input([1, 8, 5, 7]), [9, 13]).shape, [1, 4, 9, 13]);
    assert.deepEqual(new UpsampleBlock(8, 4, 1).eval().forward(input([1, 8, 5, 7])).shape, [1, 4, 5, 7]);
    assert.equal(up.numParameters(), 8 * 4 * 9 + 2 * 4 + 1);
  });

  it('interpolates with align_corners=True', async () => {
    // 2 → 4 samples at 0, 1/3, 2/3, 1 of the input span; an identity conv keeps them.
    const up = new UpsampleBlock(1, 1, 2);
    identityConv(up);
    const s = 1 / Math.sqrt(1 + 1e-5);
    const y = await run(up, HostTensor.fromArray([0, 3], [1, 1, 1, 2]));
    // Height 1 → 2 repeats the row; width 2 → 4 gives 0, 1, 2, 3 (the 3×3 conv's zero padding does not touch the centre tap).
    assertClose(y.f32, [0, 1, 2, 3, 0, 1, 2, 3].map((v) => v * s), 1e-5);
  });

  it('rejects a non-positive scale', () => {
    assert.throws(() => new UpsampleBlock(4, 4, 0), /scale must be positive, got 0/);
  });
});

describe('DAM (FastSeg reading of HSNet)', () => {
  it('is shape-preserving for odd and even channel counts', () => {
    assert.deepEqual(new DAM(9).eval().forward(input([1, 9, 13, 17])).shape, [1, 9, 13, 17]);
    assert.deepEqual(new DAM(32, 1).eval().forward(input([2, 32, 16, 16])).shape, [2, 32, 16, 16]);
  });

  it("has FastSeg's names without the dead conv_cam / conv_sam", () => {
    const dam = new DAM(8);
    const keys = Object.keys(dam.stateDict());
    for (const k of ['dam.0.cam.conv.weight', 'dam.0.cam.attn.1.bias', 'dam.0.cam.attn.2.weight', 'dam.0.cam.attn.3.weight', 'dam.1.sam.attn.1.weight', 'dam.1.sam.attn.3.bias']) assert.ok(keys.includes(k), k);
    assert.ok(!keys.some((k) => k.startsWith('conv_') || k === 'dam.0.cam.attn.3.bias'), keys.join(', '));
    // Per block, C = 8: CAM conv 8·4·9+4, 1×1 4·4+4, PReLU 1, 1×1 4·4; SAM conv 8·4·9+4, 7×7 49+1, PReLU 1, 7×7 49+1.
    assert.equal(dam.numParameters(), 2 * (292 + 20 + 1 + 16 + (292 + 50 + 1 + 50)));
  });

  it('rejects invalid sizes', () => {
    assert.throws(() => new DAM(1), /channels must be an integer ≥ 2, got 1/);
    assert.throws(() => new DAM(8, 0), /nBlocks must be a positive integer, got 0/);
  });

  it('matches its PyTorch reference (9 channels, 1×9×13×17)', { skip: parityUnavailable() ?? false }, async () => {
    const r = await checkParity(new DAM(9), { model: 'sernet_blocks', options: { block: 'dam', channels: 9, nBlocks: 2 }, shape: [1, 9, 13, 17] });
    console.log('DAM parity', JSON.stringify(r.diffs));
    assert.ok(r.worst <= 1e-4, JSON.stringify(r.diffs));
  });
});
