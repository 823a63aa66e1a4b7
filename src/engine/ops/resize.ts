import type { Tensor } from '../graph.js';
import { HostTensor } from '../host-tensor.js';
import { check, defineOp } from '../op.js';
import type { Pair } from './conv.js';

const f32 = Math.fround;

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
    // With scales, the optional sizes input is left out rather than given as '': onnxruntime's
    // NCHWc layout pass only takes a Resize with exactly three inputs, and there the resize runs in
    // the blocked layout between convolutions instead of costing two reorders and a slower kernel.
    const sizes = a.scale ? [] : [e.int64s([x.shape[0]!, x.shape[1]!, a.size[0], a.size[1]])];
    const coord = a.mode === 'nearest' ? 'asymmetric' : a.alignCorners ? 'align_corners' : 'half_pixel';
    e.node('Resize', [e.name(x), '', scales, ...sizes], [e.name(n.outputs[0]!)], {
      mode: { s: a.mode },
      coordinate_transformation_mode: { s: coord },
      nearest_mode: { s: 'floor' },
    });
  },
  // The resize is separable and linear, y = Rh · x · Rwᵀ per plane, so dx = Rhᵀ · dy · Rw with
  // the interpolation matrices built on the host (axes the resize leaves alone are skipped). The
  // axis that shrinks dy more goes first, which makes the second product the cheaper one.
  vjp: (n, [gy]) => {
    const x = n.inputs[0]!;
    const g = x.graph;
    const [h, w] = [x.shape[2]!, x.shape[3]!];
    const [rh, rw] = interpolationMatrices([h, w], n.attrs);
    const alongH = (t: Tensor) => (rh ? g.constant(transpose2d(rh)).matmul(t) : t);
    const alongW = (t: Tensor) => (rw ? t.matmul(g.constant(rw)) : t);
    const [oh, ow] = n.attrs.size;
    return [h * (oh + w) * ow <= w * (ow + h) * oh ? alongW(alongH(gy!)) : alongH(alongW(gy!))];
  },
});

/**
 * The [out, in] matrices [Rh, Rw] of a resize of an [H, W] plane (null for an axis left alone),
 * y = Rh · x · Rwᵀ, reproducing onnxruntime's Resize. It copies the input when the output size
 * equals the input size, whatever the scale (PyTorch would still interpolate with a scale like
 * 1.1 that floors back to the same size).
 */
export function interpolationMatrices(inSize: Pair, a: ResizeAttrs): [HostTensor | null, HostTensor | null] {
  if (inSize[0] === a.size[0] && inSize[1] === a.size[1]) return [null, null];
  return [interpolationMatrix(inSize[0], a, 0), interpolationMatrix(inSize[1], a, 1)];
}

/**
 * One axis of interpolationMatrices (null when it is the identity), with onnxruntime's coordinate
 * mapping reproduced in its float32 arithmetic: the scale is the given factor or out/in;
 * half_pixel maps o to (o + ½)/scale − ½ and linear mode clamps to [0, in − 1]; align_corners maps
 * o to o·(in − 1)/(out − 1); nearest (asymmetric, floor) takes floor(o/scale), capped at in − 1.
 * Two equal neighbours (at the border) share ½ each.
 */
function interpolationMatrix(size: number, a: ResizeAttrs, axis: 0 | 1): HostTensor | null {
  const out = a.size[axis];
  const scale = a.scale ? f32(a.scale[axis]) : f32(f32(out) / f32(size));
  const m = new Float32Array(out * size);
  for (let o = 0; o < out; o++) {
    const row = o * size;
    if (a.mode === 'nearest') {
      m[row + Math.min(Math.max(Math.floor(f32(o / scale)), 0), size - 1)] = 1;
      continue;
    }
    let src = a.alignCorners
      ? (out === 1 ? 0 : f32(f32(o * (size - 1)) / (out - 1)))
      : f32(f32(f32(o + 0.5) / scale) - 0.5);
    src = Math.max(0, Math.min(src, size - 1));
    const i1 = Math.min(Math.trunc(src), size - 1);
    const i2 = Math.min(i1 + 1, size - 1);
    if (i1 === i2) m[row + i1] = 1;
    else {
      m[row + i1] = f32(i2 - src);
      m[row + i2] = f32(src - i1);
    }
  }
  const identity = out === size && m.every((v, k) => v === (k % (size + 1) === 0 ? 1 : 0));
  return identity ? null : new HostTensor(m, [out, size]);
}

function transpose2d(t: HostTensor): HostTensor {
  const [r, c] = t.shape as [number, number];
  const src = t.f32;
  const dst = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) dst[j * r + i] = src[i * c + j]!;
  return new HostTensor(dst, [c, r]);
}
