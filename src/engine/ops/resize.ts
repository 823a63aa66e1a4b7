import type { Tensor } from '../graph.js';
import { HostTensor } from '../host-tensor.js';
import { check, defineOp } from '../op.js';
import type { Pair } from './conv.js';

export interface ResizeAttrs {
  mode: 'linear' | 'nearest';
  alignCorners: boolean;
  /** Output spatial size [H, W]. */
  size: Pair;
  /**
   * When the caller gave a scale factor, it is kept and used for the coordinate mapping (PyTorch's
   * `scale_factor` with recompute_scale_factor unset); otherwise the mapping uses size ratios.
   */
  scale: Pair | null;
}

/**
 * Spatial resize of an NCHW tensor. Coordinate mappings match PyTorch's F.interpolate:
 * bilinear align_corners=False → ONNX half_pixel (onnxruntime clamps to the border as PyTorch does),
 * align_corners=True → align_corners, nearest → asymmetric + floor (PyTorch's legacy 'nearest').
 */
export const Resize = defineOp<ResizeAttrs>({
  name: 'Resize',
  infer: (inputs, a) => {
    const x = inputs[0] as Tensor;
    check(x.shape.length === 4, 'Resize', 'input must be 4-D [N, C, H, W]', inputs);
    check(a.size.every((v) => Number.isInteger(v) && v > 0), 'Resize', `output size must be positive integers, got ${a.size}`, inputs);
    return [{ shape: [x.shape[0]!, x.shape[1]!, a.size[0], a.size[1]], dtype: x.dtype }];
  },
  onnx: (n, e) => {
    const x = n.inputs[0]!;
    const a = n.attrs;
    const scales = a.scale
      ? e.initializer(new HostTensor(new Float32Array([1, 1, a.scale[0], a.scale[1]]), [4]), 'resize_scales')
      : '';
    const sizes = a.scale ? '' : e.int64s([x.shape[0]!, x.shape[1]!, a.size[0], a.size[1]]);
    const coord = a.mode === 'nearest' ? 'asymmetric' : a.alignCorners ? 'align_corners' : 'half_pixel';
    e.node('Resize', [e.name(x), '', scales, sizes], [e.name(n.outputs[0]!)], {
      mode: { s: a.mode },
      coordinate_transformation_mode: { s: coord },
      nearest_mode: { s: 'floor' },
    });
  },
});
