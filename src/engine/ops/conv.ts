import type { Tensor } from '../graph.js';
import { emitSimple } from '../onnx/emitter.js';
import { HostTensor } from '../host-tensor.js';
import { check, defineOp, type OpDef } from '../op.js';
import { cat } from '../tensor.js';
import { zeroPad } from './layout.js';

export type Pair = [number, number];
/** Padding as [top, left, bottom, right] (ONNX's begin..., end... order for 2-D). */
export type Pads4 = [number, number, number, number];

export interface ConvAttrs {
  strides: Pair;
  pads: Pads4;
  dilations: Pair;
  group: number;
}

export interface ConvTransposeAttrs extends ConvAttrs {
  outputPadding: Pair;
}

function convAttrs(a: ConvAttrs) {
  return {
    strides: { ints: a.strides },
    pads: { ints: a.pads },
    dilations: { ints: a.dilations },
    group: { i: a.group },
  };
}

/** Output length of a convolution/pooling window sweep along one axis. */
export const convOut = (size: number, k: number, s: number, padBegin: number, padEnd: number, d: number): number =>
  Math.floor((size + padBegin + padEnd - d * (k - 1) - 1) / s) + 1;

function checkBias(op: string, inputs: readonly Tensor[], channels: number): void {
  const b = inputs[2];
  if (b) check(b.shape.length === 1 && b.shape[0] === channels, op, `bias must have shape [${channels}]`, inputs);
}

/** 2-D convolution, x [N,C,H,W], w [O, C/group, kh, kw], optional bias [O]. */
export const Conv: OpDef<ConvAttrs> = defineOp<ConvAttrs>({
  name: 'Conv',
  infer: (inputs, a) => {
    const [x, w] = inputs as [Tensor, Tensor];
    check(x.shape.length === 4, 'Conv', 'input must be 4-D [N, C, H, W]', inputs);
    check(w.shape.length === 4, 'Conv', 'weight must be 4-D [outChannels, inChannels/groups, kH, kW]', inputs);
    const [n, c, h, wd] = x.shape as [number, number, number, number];
    const [o, cg, kh, kw] = w.shape as [number, number, number, number];
    check(c % a.group === 0 && o % a.group === 0, 'Conv', `groups=${a.group} must divide input channels ${c} and output channels ${o}`, inputs);
    check(cg * a.group === c, 'Conv', `weight.shape[1] × groups must equal input channels: ${cg} × ${a.group} ≠ ${c}`, inputs);
    checkBias('Conv', inputs, o);
    const oh = convOut(h, kh, a.strides[0], a.pads[0], a.pads[2], a.dilations[0]);
    const ow = convOut(wd, kw, a.strides[1], a.pads[1], a.pads[3], a.dilations[1]);
    check(oh > 0 && ow > 0, 'Conv', `the dilated kernel (${kh}×${kw}, dilation ${a.dilations}) is larger than the padded input ${h}×${wd}`, inputs);
    return [{ shape: [n, o, oh, ow], dtype: x.dtype }];
  },
  onnx: (n, e) => emitSimple(e, 'Conv', n, convAttrs(n.attrs)),
  vjp: (n, [gy]) => {
    const [x, w, b] = n.inputs as [Tensor, Tensor, Tensor?];
    const grads = [convInputGrad(gy!, w, n.attrs, x.shape), convWeightGrad(x, gy!, n.attrs, w.shape)];
    return b ? [...grads, gy!.sum([0, 2, 3])] : grads;
  },
});

/** Transposed 2-D convolution (PyTorch semantics), x [N,Cin,H,W], w [Cin, Cout/group, kh, kw]. */
export const ConvTranspose: OpDef<ConvTransposeAttrs> = defineOp<ConvTransposeAttrs>({
  name: 'ConvTranspose',
  infer: (inputs, a) => {
    const [x, w] = inputs as [Tensor, Tensor];
    check(x.shape.length === 4 && w.shape.length === 4, 'ConvTranspose', 'input and weight must be 4-D', inputs);
    const [n, c, h, wd] = x.shape as [number, number, number, number];
    const [ci, og, kh, kw] = w.shape as [number, number, number, number];
    check(ci === c, 'ConvTranspose', `weight.shape[0] must equal input channels (${ci} ≠ ${c})`, inputs);
    check(c % a.group === 0, 'ConvTranspose', `groups=${a.group} must divide input channels ${c}`, inputs);
    checkBias('ConvTranspose', inputs, og * a.group);
    const out = (size: number, k: number, i: 0 | 1) =>
      (size - 1) * a.strides[i] - a.pads[i] - a.pads[i + 2]! + a.dilations[i] * (k - 1) + a.outputPadding[i] + 1;
    const oh = out(h, kh, 0);
    const ow = out(wd, kw, 1);
    check(oh > 0 && ow > 0, 'ConvTranspose', 'output size must be positive', inputs);
    return [{ shape: [n, og * a.group, oh, ow], dtype: x.dtype }];
  },
  onnx: (n, e) => emitSimple(e, 'ConvTranspose', n, { ...convAttrs(n.attrs), output_padding: { ints: n.attrs.outputPadding } }),
  // ConvTranspose is the adjoint of the Conv with the same weight and attributes, so dx is that
  // Conv of gy, and dw is that Conv's weight gradient with gy as its input and x as its output
  // gradient. Output padding ≥ stride (allowed with dilation) leaves extra rows: cropped/zero-filled.
  vjp: (n, [gy]) => {
    const [x, w, b] = n.inputs as [Tensor, Tensor, Tensor?];
    const { strides, pads, dilations, group } = n.attrs;
    const conv: ConvAttrs = { strides, pads, dilations, group };
    let dx = x.graph.apply(Conv, [gy!, w], conv)[0]!;
    const extra = [dx.shape[2]! - x.shape[2]!, dx.shape[3]! - x.shape[3]!];
    if (extra[0] !== 0 || extra[1] !== 0) dx = dx.sliceND([0, 0], [x.shape[2]!, x.shape[3]!], [2, 3]);
    const xg = zeroPad(x, [0, 0, 0, 0, 0, 0, extra[0]!, extra[1]!]);
    const grads = [dx, convWeightGrad(gy!, xg, conv, w.shape)];
    return b ? [...grads, gy!.sum([0, 2, 3])] : grads;
  },
});

/**
 * Gradient of a Conv's input. At stride 1 it is a Conv of gy with the kernel flipped and its
 * in/out channels swapped per group: onnxruntime runs that up to 3× faster than the equivalent
 * ConvTranspose (8×64×90×120, 3×3, 2 threads: 54 vs 91 ms dense, 14 vs 48 ms depth-wise; equal
 * for 1×1). Otherwise it is the ConvTranspose with the same weight,
 * stride, dilation, groups and pads; stride > 1 may leave the last rows/cols of x (and of its
 * padding) unread by the forward, and output padding restores them so the result has x's shape.
 */
function convInputGrad(gy: Tensor, w: Tensor, a: ConvAttrs, xShape: readonly number[]): Tensor {
  const [o, cg, kh, kw] = w.shape as [number, number, number, number];
  // Padding of gy that puts every tap back over x: extent − 1 − the forward's padding.
  const pads = [0, 1, 0, 1].map((ax, k) => a.dilations[ax]! * ([kh, kw][ax]! - 1) - a.pads[k]!) as Pads4;
  if (a.strides[0] === 1 && a.strides[1] === 1 && pads.every((p) => p >= 0)) {
    const g = a.group;
    const flipped = w
      .reshape([g, o / g, cg, kh, kw])
      .permute([0, 2, 1, 3, 4])
      .reshape([g * cg, o / g, kh, kw])
      .sliceND([-1, -1], [-Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER], [2, 3], [-1, -1]);
    return gy.graph.apply(Conv, [gy, flipped], { ...a, pads })[0]!;
  }
  const outputPadding = [0, 1].map((i) => {
    const reached = (gy.shape[2 + i]! - 1) * a.strides[i]! - a.pads[i]! - a.pads[i + 2]! + a.dilations[i]! * (w.shape[2 + i]! - 1) + 1;
    return xShape[2 + i]! - reached;
  }) as Pair;
  return gy.graph.apply(ConvTranspose, [gy, w], { ...a, outputPadding })[0]!;
}

/** How the weight gradient of a Conv is computed (see convWeightGrad). */
export type WeightGradMethod = 'im2col' | 'patches' | 'conv';

/**
 * The faster weight-gradient method for a convolution, from bench/conv-grad.ts (onnxruntime-node
 * 1.30, 2 threads, AMD EPYC, best of 5, ms; batch 8, 3×3 unless noted; dx is the input gradient):
 *
 * | case                              | forward |   dx | dw im2col | dw patches | dw conv |
 * |-----------------------------------|--------:|-----:|----------:|-----------:|--------:|
 * | 64→64, 90×120, stride 1           |    66.2 | 63.6 |      80.3 |       92.6 |   171.7 |
 * | 64→64, 90×120, stride 2           |    26.1 | 57.8 |      44.6 |       36.0 |    60.5 |
 * | depth-wise 64, 90×120, stride 1   |    13.9 | 29.8 |      67.0 |       49.9 |    67.0 |
 * | depth-wise 64, 90×120, stride 2   |     9.5 | 22.3 |      44.8 |       19.2 |    27.7 |
 * | 64→64, dilation 6, 45×60          |    21.6 | 25.2 |      40.1 |       29.0 |    48.5 |
 * | 1×1 256→64, 45×60                 |    13.3 | 25.0 |      15.8 |       40.4 |    77.3 |
 *
 * 'im2col' wins for dense stride-1 undilated convolutions and 1×1s (its windows are cheap
 * contiguous slices); 'patches' wherever windows are strided, dilated or depth-wise (one Conv
 * builds the columns instead of kh·kw strided copies). All three stay selectable through
 * convWeightGrad's `method`.
 */
export function defaultWeightGrad(wShape: readonly number[], a: ConvAttrs): WeightGradMethod {
  const pointwise = wShape[2] === 1 && wShape[3] === 1;
  const strided = a.strides.some((v) => v !== 1) || a.dilations.some((v) => v !== 1);
  return !pointwise && (wShape[1] === 1 || strided) ? 'patches' : 'im2col';
}

/**
 * Gradient of a Conv's weight (of shape wShape) from its input x and output gradient gy:
 * dw[o, c, i, j] = Σ_{n, p, q} gy[n, o, p, q] · xpad[n, g(o)·Cg + c, p·s + i·d, q·s + j·d].
 * - 'im2col': the kh·kw strided windows of the padded x, stacked, times gy (one batched MatMul).
 * - 'conv': the same sum read as a convolution over the batch: x with N as its channels, gy with N
 *   as its input channels as the kernel, stride and dilation swapped; cropped to the kernel size.
 */
export function convWeightGrad(x: Tensor, gy: Tensor, a: ConvAttrs, wShape: readonly number[], method = defaultWeightGrad(wShape, a)): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [o, cg, kh, kw] = wShape as [number, number, number, number];
  const [oh, ow] = [gy.shape[2]!, gy.shape[3]!];
  const g = a.group;
  if (method === 'patches') {
    // The same columns as 'im2col' from one Conv: each input channel, alone, against kh·kw one-hot
    // kernels, gives [N·C, kh·kw, P], already in the weight's (C, kh, kw) order.
    const eye = new HostTensor(new Float32Array(kh * kw * kh * kw), [kh * kw, 1, kh, kw]);
    for (let k = 0; k < kh * kw; k++) eye.f32[k * kh * kw + k] = 1;
    const patches = x.graph.apply(Conv, [x.reshape([n * c, 1, h, w]), x.graph.constant(eye)], { ...a, group: 1 })[0]!;
    const cols = patches.reshape([n, g, cg * kh * kw, oh * ow]);
    const gyT = gy.reshape([n, g, o / g, oh * ow]).transpose(2, 3);
    return cols.matmul(gyT).sum(0).transpose(1, 2).reshape(wShape);
  }
  if (method === 'im2col') {
    const [pt, pl, pb, pr] = a.pads;
    const xp = zeroPad(x, [0, 0, pt, pl, 0, 0, pb, pr]);
    const taps: Tensor[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const [h0, w0] = [i * a.dilations[0], j * a.dilations[1]];
        const tap = xp.sliceND([h0, w0], [h0 + a.strides[0] * (oh - 1) + 1, w0 + a.strides[1] * (ow - 1) + 1], [2, 3], a.strides);
        taps.push(tap.reshape([n, c, 1, oh * ow]));
      }
    }
    // [N, C, kh·kw, P] read as [N, g, Cg·kh·kw, P]: the weight's (Cg, kh, kw) order within a group.
    const cols = cat(taps, 2).reshape([n, g, cg * kh * kw, oh * ow]);
    const gyT = gy.reshape([n, g, o / g, oh * ow]).transpose(2, 3);
    return cols.matmul(gyT).sum(0).transpose(1, 2).reshape(wShape);
  }
  // Groups: group k's batch becomes input channels k·N … k·N + N − 1, convolved by group k's filters.
  const xs = x.reshape([n, g, cg, h, w]).permute([2, 1, 0, 3, 4]).reshape([cg, g * n, h, w]);
  const kernel = gy.reshape([n, g, o / g, oh, ow]).permute([1, 2, 0, 3, 4]).reshape([o, n, oh, ow]);
  const r = x.graph.apply(Conv, [xs, kernel], { strides: a.dilations, dilations: a.strides, pads: a.pads, group: g })[0]!;
  const cropped = r.shape[2] === kh && r.shape[3] === kw ? r : r.sliceND([0, 0], [kh, kw], [2, 3]);
  return cropped.transpose(0, 1);
}
