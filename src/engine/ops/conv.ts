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
    // The kernel rotated by 180°: its kh·kw taps in reverse order, as a product with the exchange
    // matrix (exact for finite weights: one 1 per row). onnxruntime's Slice with negative steps
    // took 2.5× as long (512×512×3×3: 15 against 6 ms), on every layer of every backward pass.
    const exchange = new HostTensor(new Float32Array(kh * kw * kh * kw), [kh * kw, kh * kw]);
    for (let k = 0; k < kh * kw; k++) exchange.f32[k * kh * kw + kh * kw - 1 - k] = 1;
    const swapped = w.reshape([g, o / g, cg, kh * kw]).permute([0, 2, 1, 3]);
    const flipped = (kh * kw === 1 ? swapped : swapped.matmul(gy.graph.constant(exchange))).reshape([g * cg, o / g, kh, kw]);
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
 * Whether the weight gradient contracts over batch and positions together ('im2col' with x's batch
 * and channel axes swapped) rather than sample by sample: where the weight outweighs the maps
 * (late stages), the per-sample layout's sum over the batch of N weight-sized products costs
 * more than transposing x and gy. See convWeightGrad.
 */
function contractsBatch(xShape: readonly number[], wShape: readonly number[], gyShape: readonly number[], group: number): boolean {
  const [, c, h, w] = xShape as [number, number, number, number];
  const [o, cg, kh, kw] = wShape as [number, number, number, number];
  return cg * kh * kw * (o / group) > c * h * w + o * gyShape[2]! * gyShape[3]!;
}

/**
 * The faster weight-gradient method for a convolution, from bench/conv-grad.ts (onnxruntime-node
 * 1.30, 2 threads, AMD EPYC, best of 7, ms; batch 8, 3×3 unless noted; dx is the input gradient):
 *
 * | case                              | forward |   dx | dw im2col | dw patches | dw conv |
 * |-----------------------------------|--------:|-----:|----------:|-----------:|--------:|
 * | 64→64, 90×120, stride 1           |    78.7 | 64.0 |      74.0 |       75.7 |   160.8 |
 * | 64→64, 90×120, stride 2           |    28.5 | 47.6 |      54.4 |       24.5 |    58.4 |
 * | depth-wise 64, 90×120, stride 1   |    18.8 | 15.3 |      50.1 |       46.6 |    61.9 |
 * | depth-wise 64, 90×120, stride 2   |     9.2 | 19.1 |      47.1 |       16.5 |    28.0 |
 * | 64→64, dilation 6, 45×60          |    23.9 | 28.3 |      40.2 |       25.4 |    47.4 |
 * | 1×1 256→64, 45×60                 |    12.0 | 18.9 |      11.1 |       11.1 |    78.1 |
 * | 256→256, 23×30 (im2col contracts) |    73.6 | 43.7 |      56.4 |       76.5 |   115.2 |
 * | 512→512, 12×15 (im2col contracts) |    76.5 | 86.5 |      77.3 |       95.7 |   124.4 |
 * | 7×7 3→64, 360×480, stride 2       |   142.1 | 91.3 |     182.8 |      107.8 |   108.6 |
 *
 * 'patches' builds the columns with one grouped Conv wherever a kernel has more than one tap
 * (dense stride-1 convolutions tie with 'im2col', and its one Conv holds less memory than a padded
 * copy, kh·kw slices and their Concat); 'im2col' takes 1×1s (their one window is x itself) and
 * late stages, where the weight outweighs the maps and the columns are contracted over batch and
 * positions together (contractsBatch). All three stay selectable through convWeightGrad's `method`.
 */
export function defaultWeightGrad(xShape: readonly number[], wShape: readonly number[], gyShape: readonly number[], a: ConvAttrs): WeightGradMethod {
  const pointwise = wShape[2] === 1 && wShape[3] === 1;
  const undilated = a.dilations.every((v) => v === 1);
  return pointwise || (undilated && contractsBatch(xShape, wShape, gyShape, a.group)) ? 'im2col' : 'patches';
}

/**
 * Gradient of a Conv's weight (of shape wShape) from its input x and output gradient gy:
 * dw[o, c, i, j] = Σ_{n, p, q} gy[n, o, p, q] · xpad[n, g(o)·Cg + c, p·s + i·d, q·s + j·d].
 * The columns xpad[n, c, p·s + i·d, q·s + j·d] are [N, C, kh·kw, P] (per sample) or
 * [C, kh·kw, N·P] (contracted), then one MatMul with gy:
 * - 'patches': per-sample columns from one Conv of x with C·kh·kw one-hot kernels, one group per
 *   channel;
 * - 'im2col': the kh·kw strided windows of the padded x, sliced and stacked, per sample or
 *   contracted (contractsBatch);
 * - 'conv': the same sum read as a convolution over the batch: x with N as its channels, gy with N
 *   as its input channels as the kernel, stride and dilation swapped; cropped to the kernel size.
 */
export function convWeightGrad(x: Tensor, gy: Tensor, a: ConvAttrs, wShape: readonly number[], method = defaultWeightGrad(x.shape, wShape, gy.shape, a)): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [o, cg, kh, kw] = wShape as [number, number, number, number];
  const [oh, ow] = [gy.shape[2]!, gy.shape[3]!];
  const g = a.group;
  // Per-sample columns [N, C·kh·kw, P] read as [N, g, Cg·kh·kw, P] (the weight's (Cg, kh, kw) order
  // within a group): one MatMul per sample with gy, summed over the batch.
  const perSample = (cols: Tensor) =>
    cols.reshape([n, g, cg * kh * kw, oh * ow]).matmul(gy.reshape([n, g, o / g, oh * ow]).transpose(2, 3)).sum(0).transpose(1, 2).reshape(wShape);
  if (method === 'patches') {
    // Channel k's kernels k·kh·kw … k·kh·kw + kh·kw − 1 pick one tap each.
    const eye = new HostTensor(new Float32Array(c * kh * kw * kh * kw), [c * kh * kw, 1, kh, kw]);
    for (let k = 0; k < c * kh * kw; k++) eye.f32[k * kh * kw + (k % (kh * kw))] = 1;
    return perSample(x.graph.apply(Conv, [x, x.graph.constant(eye)], { ...a, group: c })[0]!);
  }
  if (method === 'im2col') {
    // Contracted: x with its batch and channel axes swapped, one MatMul over batch and positions
    // together, no sum over the batch (the weight gradient alone, 3×3, 2 threads, per sample →
    // contracted: 512→512 at 16×7×7, 104 → 64 ms; at 8×12×15, 96 → 80 ms; 256→256 at 16×14×14,
    // 76 → 65 ms; a tie at 8×23×30; 64→64 at 8×90×120 the other way, 98 against 124 ms).
    const contractBatch = contractsBatch(x.shape, wShape, gy.shape, g);
    const [pt, pl, pb, pr] = a.pads;
    const xp = zeroPad(contractBatch ? x.transpose(0, 1) : x, [0, 0, pt, pl, 0, 0, pb, pr]);
    const taps: Tensor[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const [h0, w0] = [i * a.dilations[0], j * a.dilations[1]];
        const tap = xp.sliceND([h0, w0], [h0 + a.strides[0] * (oh - 1) + 1, w0 + a.strides[1] * (ow - 1) + 1], [2, 3], a.strides);
        taps.push(contractBatch ? tap.reshape([c, 1, n * oh * ow]) : tap.reshape([n, c, 1, oh * ow]));
      }
    }
    // Channels, then taps: the weight's (Cg, kh, kw) order within a group.
    if (!contractBatch) return perSample(cat(taps, 2));
    const cols = cat(taps, 1).reshape([g, cg * kh * kw, n * oh * ow]);
    return gy.transpose(0, 1).reshape([g, o / g, n * oh * ow]).matmul(cols.transpose(1, 2)).reshape(wShape);
  }
  // Groups: group k's batch becomes input channels k·N … k·N + N − 1, convolved by group k's filters.
  const xs = x.reshape([n, g, cg, h, w]).permute([2, 1, 0, 3, 4]).reshape([cg, g * n, h, w]);
  const kernel = gy.reshape([n, g, o / g, oh, ow]).permute([1, 2, 0, 3, 4]).reshape([o, n, oh, ow]);
  const r = x.graph.apply(Conv, [xs, kernel], { strides: a.dilations, dilations: a.strides, pads: a.pads, group: g })[0]!;
  const cropped = r.shape[2] === kh && r.shape[3] === kw ? r : r.sliceND([0, 0], [kh, kw], [2, 3]);
  return cropped.transpose(0, 1);
}
