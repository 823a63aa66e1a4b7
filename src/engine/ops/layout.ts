import { sumToShape } from '../autodiff.js';
import type { Tensor } from '../graph.js';
import { HostTensor } from '../host-tensor.js';
import { emitSimple } from '../onnx/emitter.js';
import { check, defineOp } from '../op.js';
import { broadcastShapes, fmt, numel } from '../shape.js';
import { cat } from '../tensor.js';
import { ScatterAdd } from './indexing.js';

/** Reshape to a fully resolved shape (the caller resolves -1). */
export const Reshape = defineOp<{ shape: number[] }>({
  name: 'Reshape',
  infer: (inputs, { shape }) => {
    const x = inputs[0] as Tensor;
    check(numel(shape) === numel(x.shape), 'Reshape', `cannot reshape ${numel(x.shape)} elements into ${fmt(shape)}`, inputs);
    return [{ shape: [...shape], dtype: x.dtype }];
  },
  onnx: (n, e) => e.node('Reshape', [e.name(n.inputs[0]!), e.int64s(n.attrs.shape)], [e.name(n.outputs[0]!)]),
  vjp: (n, [gy]) => [gy!.reshape(n.inputs[0]!.shape)],
});

export const Transpose = defineOp<{ perm: number[] }>({
  name: 'Transpose',
  infer: (inputs, { perm }) => {
    const x = inputs[0] as Tensor;
    const ok = perm.length === x.shape.length && [...perm].sort((a, b) => a - b).every((v, i) => v === i);
    check(ok, 'Transpose', `perm ${fmt(perm)} must be a permutation of 0..${x.shape.length - 1}`, inputs);
    return [{ shape: perm.map((p) => x.shape[p]!), dtype: x.dtype }];
  },
  onnx: (n, e) => emitSimple(e, 'Transpose', n, { perm: { ints: n.attrs.perm } }),
  vjp: (n, [gy]) => {
    const inverse = new Array<number>(n.attrs.perm.length);
    n.attrs.perm.forEach((p, i) => (inverse[p] = i));
    return [gy!.permute(inverse)];
  },
});

/** Broadcasts x to a shape (NumPy rules). */
export const Expand = defineOp<{ shape: number[] }>({
  name: 'Expand',
  infer: (inputs, { shape }) => {
    const x = inputs[0] as Tensor;
    const out = broadcastShapes(x.shape, shape);
    check(out !== null && fmt(out) === fmt(shape), 'Expand', `cannot broadcast to ${fmt(shape)}`, inputs);
    return [{ shape: [...shape], dtype: x.dtype }];
  },
  onnx: (n, e) => e.node('Expand', [e.name(n.inputs[0]!), e.int64s(n.attrs.shape)], [e.name(n.outputs[0]!)]),
  vjp: (n, [gy]) => [sumToShape(gy!, n.inputs[0]!.shape)],
});

export const Concat = defineOp<{ axis: number }>({
  name: 'Concat',
  infer: (inputs, { axis }) => {
    check(inputs.length >= 1, 'Concat', 'needs at least one input', inputs);
    const first = inputs[0]!;
    const ok = inputs.every(
      (t) => t.dtype === first.dtype && t.shape.length === first.shape.length && t.shape.every((d, i) => i === axis || d === first.shape[i]),
    );
    check(ok, 'Concat', `all inputs must have the same rank, dtype and dims except along axis ${axis}`, inputs);
    const shape = [...first.shape];
    shape[axis] = inputs.reduce((s, t) => s + t.shape[axis]!, 0);
    return [{ shape, dtype: first.dtype }];
  },
  onnx: (n, e) => emitSimple(e, 'Concat', n, { axis: { i: n.attrs.axis } }),
  vjp: (n, [gy]) => gy!.split(n.inputs.map((t) => t.shape[n.attrs.axis]!), n.attrs.axis),
});

export const Split = defineOp<{ axis: number; sizes: number[] }>({
  name: 'Split',
  infer: (inputs, { axis, sizes }) => {
    const x = inputs[0] as Tensor;
    const total = sizes.reduce((a, b) => a + b, 0);
    check(total === x.shape[axis] && sizes.every((s) => s > 0), 'Split', `sizes ${fmt(sizes)} must be positive and sum to dim ${axis} (${x.shape[axis]})`, inputs);
    return sizes.map((s) => {
      const shape = [...x.shape];
      shape[axis] = s;
      return { shape, dtype: x.dtype };
    });
  },
  onnx: (n, e) => e.node('Split', [e.name(n.inputs[0]!), e.int64s(n.attrs.sizes)], n.outputs.map((t) => e.name(t)), { axis: { i: n.attrs.axis } }),
  // Parts the loss does not use contribute zeros.
  vjp: (n, gys) => [cat(n.outputs.map((y, i) => gys[i] ?? zeros(y)), n.attrs.axis)],
});

/** Zeros shaped like t (a broadcast scalar, so no large constant is stored). */
export const zeros = (t: Tensor): Tensor => t.graph.scalar(0, t.dtype).expand(t.shape);

/** Constant zero padding in ONNX pad order (negative values crop). */
export const zeroPad = (x: Tensor, pads: number[]): Tensor =>
  pads.every((p) => p === 0) ? x : x.graph.apply(Pad, [x], { pads, mode: 'constant', value: 0 })[0]!;

export interface SliceAttrs {
  starts: number[];
  ends: number[];
  axes: number[];
  steps: number[];
}

/** Elements selected along one axis by ONNX Slice semantics (negative indices, clamping, negative steps). */
export function sliceRange(dim: number, start: number, end: number, step: number): { start: number; length: number } {
  const s0 = start < 0 ? start + dim : start;
  const e0 = end < 0 ? end + dim : end;
  const s = step > 0 ? Math.min(Math.max(s0, 0), dim) : Math.min(Math.max(s0, 0), dim - 1);
  const en = step > 0 ? Math.min(Math.max(e0, 0), dim) : Math.min(Math.max(e0, -1), dim - 1);
  return { start: s, length: Math.max(0, Math.ceil((en - s) / step)) };
}

export const Slice = defineOp<SliceAttrs>({
  name: 'Slice',
  infer: (inputs, a) => {
    const x = inputs[0] as Tensor;
    check(a.steps.every((s) => s !== 0), 'Slice', 'steps must be non-zero', inputs);
    const shape = [...x.shape];
    a.axes.forEach((ax, i) => {
      check(ax >= 0 && ax < shape.length, 'Slice', `axis ${ax} out of range`, inputs);
      shape[ax] = sliceRange(x.shape[ax]!, a.starts[i]!, a.ends[i]!, a.steps[i]!).length;
    });
    check(shape.every((d) => d > 0), 'Slice', `the slice is empty (result shape ${fmt(shape)})`, inputs);
    return [{ shape, dtype: x.dtype }];
  },
  onnx: (n, e) => {
    const a = n.attrs;
    // Clamp to int64-safe values: callers use ±Infinity-like sentinels for "to the end".
    const c = (v: number[]) => v.map((x) => Math.max(-(2 ** 53), Math.min(2 ** 53, x)));
    e.node(
      'Slice',
      [e.name(n.inputs[0]!), e.int64s(c(a.starts)), e.int64s(c(a.ends)), e.int64s(a.axes), e.int64s(a.steps)],
      [e.name(n.outputs[0]!)],
    );
  },
  // Zeros except at the selected elements: per axis, a negative step is undone by reversing gy, a
  // step k > 1 by interleaving k − 1 zeros after each element; one zero Pad then places the block.
  vjp: (n, [gy]) => {
    const x = n.inputs[0]!;
    const r = x.rank;
    const pads = new Array<number>(2 * r).fill(0);
    let g = gy!;
    n.attrs.axes.forEach((ax, i) => {
      const step = n.attrs.steps[i]!;
      const { start, length } = sliceRange(x.shape[ax]!, n.attrs.starts[i]!, n.attrs.ends[i]!, step);
      const k = Math.abs(step);
      if (step < 0) g = g.slice(ax, -1, -Number.MAX_SAFE_INTEGER, -1);
      if (k > 1 && length > 1) {
        const padded = [...g.shape.slice(0, ax + 1), k, ...g.shape.slice(ax + 1)];
        const spread = new Array<number>(2 * (r + 1)).fill(0);
        spread[r + 1 + ax + 1] = k - 1;
        g = zeroPad(g.unsqueeze(ax + 1), spread).reshape([...padded.slice(0, ax), length * k, ...padded.slice(ax + 2)]);
        g = g.slice(ax, 0, (length - 1) * k + 1);
      }
      const low = step < 0 ? start + (length - 1) * step : start;
      pads[ax] = low;
      pads[ax + r] = x.shape[ax]! - low - g.shape[ax]!;
    });
    return [zeroPad(g, pads)];
  },
});

export type PadMode = 'constant' | 'reflect' | 'edge';

/** Pad with ONNX's pad order: [x1_begin, x2_begin, …, x1_end, x2_end, …]. */
export const Pad = defineOp<{ pads: number[]; mode: PadMode; value: number }>({
  name: 'Pad',
  infer: (inputs, { pads, mode }) => {
    const x = inputs[0] as Tensor;
    const r = x.shape.length;
    check(pads.length === 2 * r, 'Pad', `needs ${2 * r} pad values for rank ${r}, got ${pads.length}`, inputs);
    const shape = x.shape.map((d, i) => d + pads[i]! + pads[i + r]!);
    check(shape.every((d) => d > 0), 'Pad', `negative padding removes the whole axis (result ${fmt(shape)})`, inputs);
    if (mode === 'reflect') {
      check(x.shape.every((d, i) => pads[i]! < d && pads[i + r]! < d), 'Pad', 'reflect padding must be smaller than the padded dim', inputs);
    }
    return [{ shape, dtype: x.dtype }];
  },
  onnx: (n, e) => {
    const x = n.inputs[0]!;
    const value = n.attrs.mode === 'constant' && n.attrs.value !== 0 && x.dtype === 'float32'
      ? e.initializer(new HostTensor(new Float32Array([n.attrs.value]), []), 'pad_value')
      : '';
    e.node('Pad', [e.name(x), e.int64s(n.attrs.pads), value], [e.name(n.outputs[0]!)], { mode: { s: n.attrs.mode } });
  },
  vjp: (n, [gy]) => {
    const x = n.inputs[0]!;
    const { pads, mode } = n.attrs;
    const r = x.rank;
    if (mode === 'constant') {
      // Crop what was added (a Slice), zero-fill what a negative pad cropped.
      const axes = x.shape.map((_, i) => i).filter((i) => pads[i]! > 0 || pads[i + r]! > 0);
      let g = gy!;
      if (axes.length > 0) {
        const starts = axes.map((i) => Math.max(pads[i]!, 0));
        g = g.sliceND(starts, axes.map((i) => gy!.shape[i]! - Math.max(pads[i + r]!, 0)), axes);
      }
      return [zeroPad(g, pads.map((p) => Math.max(-p, 0)))];
    }
    // reflect / edge: every output element is a copy of one input element along each padded axis;
    // scatter-add gy back through that static index map, one axis at a time.
    let g = gy!;
    for (let ax = 0; ax < r; ax++) {
      if (pads[ax] === 0 && pads[ax + r] === 0) continue;
      const dim = x.shape[ax]!;
      const src = Array.from({ length: g.shape[ax]! }, (_, o) => padSource(o - pads[ax]!, dim, mode));
      const map = g.graph.constant(new HostTensor(BigInt64Array.from(src, BigInt), [src.length], 'int64'));
      const idx = map.reshape(g.shape.map((d, i) => (i === ax ? d : 1))).expand(g.shape);
      const shape = g.shape.map((d, i) => (i === ax ? dim : d));
      g = g.graph.apply(ScatterAdd, [idx, g], { axis: ax, shape })[0]!;
    }
    return [g];
  },
});

/** Input index an out-of-range position i copies under reflect (no edge repeat) or edge padding. */
function padSource(i: number, dim: number, mode: 'reflect' | 'edge'): number {
  if (mode === 'edge' || dim === 1) return Math.min(Math.max(i, 0), dim - 1);
  const period = 2 * (dim - 1);
  const j = ((i % period) + period) % period;
  return j >= dim ? period - j : j;
}
