// The colour guided filter (src/inference/guided-filter.ts) against the float64 reference of
// test/reference/guided-filter.ts, and what it is for: a blurred probability snaps to the guide's
// colour edge.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HostTensor } from '../../src/engine/host-tensor.js';
import { guidedRefine } from '../../src/inference/guided-filter.js';
import { runTraced } from '../engine/harness.js';
import { guidedRef } from '../reference/guided-filter.js';
import { arr, makeRng, rand, type Arr } from '../reference/ndarray.js';

const f32 = (a: Arr): Arr => ({ data: Float64Array.from(Float32Array.from(a.data)), shape: a.shape });

describe('guided filter (fast, colour guide)', () => {
  const rng = makeRng(7);
  const cases: [string, number[], number[], number, number][] = [
    ['same size, radius 2', [1, 3, 9, 11], [1, 1, 9, 11], 2, 1e-2],
    ['coefficients at a third of the size, upsampled', [1, 3, 21, 30], [1, 1, 7, 10], 1, 1e-3],
  ];
  for (const [name, gs, ps, r, eps] of cases) {
    it(`${name}: matches the float64 reference`, async () => {
      const guide = f32(rand(gs, rng));
      const p = f32(rand(ps, rng));
      const [q] = (await runTraced((g, x) => [guidedRefine(g!, x!, { radius: r, eps })], [guide, p])) as HostTensor[];
      const want = guidedRef(guide, p, r, eps);
      assert.deepEqual(q!.shape, [1, 1, gs[2], gs[3]]);
      let worst = 0;
      for (let i = 0; i < want.data.length; i++) worst = Math.max(worst, Math.abs(q!.f32[i]! - want.data[i]!));
      assert.ok(worst < 2e-4, `max |Δ| ${worst}`);
    });
  }

  it('a probability blurred across a colour edge snaps back to the edge', async () => {
    // Guide: red left of column 13, blue from it on. p: a ramp from 0 to 1 over columns 9–17.
    const [H, W] = [8, 24];
    const guide = arr([1, 3, H, W]);
    const p = arr([1, 1, H, W]);
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++) {
        guide.data[(0 * H + i) * W + j] = j < 13 ? 0.9 : 0.1;
        guide.data[(2 * H + i) * W + j] = j < 13 ? 0.1 : 0.9;
        p.data[i * W + j] = Math.min(1, Math.max(0, (j - 9) / 8));
      }
    const [q] = (await runTraced((g, x) => [guidedRefine(g!, x!, { radius: 4, eps: 1e-4 })], [guide, p])) as HostTensor[];
    const row = Array.from(q!.f32.subarray(3 * W, 4 * W));
    const p12 = p.data[3 * W + 12]!;
    const p13 = p.data[3 * W + 13]!;
    // Across the edge the step is sharper than the ramp's 1/8 per column.
    assert.ok(row[13]! - row[12]! > 0.3, `step at the edge ${row[13]! - row[12]!} (input ${p13 - p12})`);
  });

  it('rejects a radius that is not a positive integer and a non-positive eps', () => {
    assert.throws(() => guidedRefine(null as never, null as never, { radius: 0 }), /radius must be a positive integer \(pixels\), got 0/);
    assert.throws(() => guidedRefine(null as never, null as never, { eps: 0 }), /eps must be a positive number, got 0/);
  });
});
