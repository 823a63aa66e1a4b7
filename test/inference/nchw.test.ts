// Host NCHW helpers of src/inference: the bilinear resize against test/reference's float64
// implementation of PyTorch's F.interpolate(mode='bilinear', align_corners=False) rule with an
// output size (source = (dst + 0.5)·in/out − 0.5, clamped at 0; the upper tap clamped to the last
// pixel), and flip / pad / crop on hand-written arrays.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { cropNCHW, flipWidth, padBottomRight, resizeBilinearNCHW } from '../../src/inference/index.js';
import { assertClose } from '../reference/ndarray.js';
import { resize2d } from '../reference/ops.js';
import { randomImage } from './fakes.js';

describe('host NCHW operations', () => {
  const cases: [number, number, number, number][] = [
    [5, 7, 3, 4], // downscale by non-integer factors
    [5, 7, 11, 13], // upscale by non-integer factors
    [4, 4, 8, 8], // ×2 (edge clamping at both ends)
    [6, 10, 6, 3], // one axis unchanged, the other shrunk by 10/3
    [1, 1, 3, 2], // from a single pixel
    [3, 2, 1, 1], // to a single pixel
  ];
  for (const [h, w, oh, ow] of cases) {
    it(`bilinear ${h}×${w} → ${oh}×${ow} equals the float64 PyTorch align_corners=False rule`, () => {
      const { t, a } = randomImage([2, 3, h, w], h * 100 + w);
      const r = resizeBilinearNCHW(t, oh, ow);
      assertClose({ data: r.f32, shape: r.shape }, resize2d(a, { size: [oh, ow] }, 'bilinear', false), 1e-6, 'resize');
    });
  }

  it('resizing to the same size returns the input untouched', () => {
    const { t } = randomImage([1, 2, 3, 4], 1);
    assert.equal(resizeBilinearNCHW(t, 3, 4), t);
  });

  it('flip, pad and crop on a hand-written 1×2×2×3 tensor', () => {
    const t = HostTensor.fromArray([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [1, 2, 2, 3]);
    assert.deepEqual([...flipWidth(t).f32], [3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10]);
    const p = padBottomRight(t, 3, 4, -1);
    assert.deepEqual(p.shape, [1, 2, 3, 4]);
    assert.deepEqual([...p.f32], [1, 2, 3, -1, 4, 5, 6, -1, -1, -1, -1, -1, 7, 8, 9, -1, 10, 11, 12, -1, -1, -1, -1, -1]);
    const c = cropNCHW(p, 1, 1, 2, 2);
    assert.deepEqual([...c.f32], [5, 6, -1, -1, 11, 12, -1, -1]);
    assert.throws(() => cropNCHW(t, 1, 2, 2, 2), /window at \(1, 2\) of size 2×2 is outside 2×3/);
    assert.throws(() => padBottomRight(t, 1, 3, 0), /cannot pad 2×3 to the smaller 1×3/);
    assert.throws(() => resizeBilinearNCHW(t, 0, 3), /output size must be positive integers, got 0×3/);
  });
});
