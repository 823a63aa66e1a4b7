import type { DType } from './dtype.js';
import { HostTensor } from './host-tensor.js';
import type { Graph, Node, TensorLike } from './graph.js';
import type { OpDef } from './op.js';
import { ShapeError } from './op.js';
import * as C from './ops/conv.js';
import * as E from './ops/elementwise.js';
import * as I from './ops/indexing.js';
import * as L from './ops/layout.js';
import { MatMul } from './ops/linalg.js';
import * as N from './ops/norm.js';
import * as P from './ops/pool.js';
import { Resize } from './ops/resize.js';
import * as R from './ops/reduce.js';
import * as S from './ops/sort.js';
import { fmt, normAxis, numel } from './shape.js';

type Pair = [number, number];
type IntOrPair = number | Pair;
/** Conv/pool padding: one value, [vertical, horizontal], or [top, left, bottom, right]. */
export type Padding2d = number | Pair | [number, number, number, number];

const pair = (v: IntOrPair): Pair => (typeof v === 'number' ? [v, v] : v);
const pads4 = (p: Padding2d): C.Pads4 =>
  typeof p === 'number' ? [p, p, p, p] : p.length === 2 ? [p[0], p[1], p[0], p[1]] : p;

export interface Conv2dOptions {
  bias?: TensorLike | null;
  stride?: IntOrPair;
  /** 'same' keeps the spatial size at stride 1 (PyTorch's padding='same'). */
  padding?: Padding2d | 'same';
  dilation?: IntOrPair;
  groups?: number;
}

export interface ConvTranspose2dOptions {
  bias?: TensorLike | null;
  stride?: IntOrPair;
  padding?: Padding2d;
  outputPadding?: IntOrPair;
  dilation?: IntOrPair;
  groups?: number;
}

export interface Pool2dOptions {
  kernel: IntOrPair;
  /** Defaults to the kernel size, as in PyTorch. */
  stride?: IntOrPair;
  padding?: Padding2d;
  ceilMode?: boolean;
}

export interface ResizeOptions {
  /** Output [H, W]; give this or `scale`. */
  size?: Pair;
  /** Scale factor(s); the output size is floor(in × scale). */
  scale?: number | Pair;
  mode?: 'bilinear' | 'nearest';
  /** PyTorch's align_corners (bilinear only); default false. */
  alignCorners?: boolean;
}

export interface BatchNormOptions {
  weight: TensorLike;
  bias: TensorLike;
  runningMean: TensorLike;
  runningVar: TensorLike;
  eps?: number;
}

/**
 * A symbolic tensor in a traced graph: static shape and dtype, produced by a node (or a graph
 * input/constant). Methods read like PyTorch and record ops; nothing is computed until the graph runs.
 */
export class Tensor {
  constructor(
    readonly graph: Graph,
    readonly id: number,
    readonly shape: number[],
    readonly dtype: DType,
    /** Producing node, or null for graph inputs and constants. */
    readonly node: Node<any> | null,
    /** Which output of `node` this is. */
    readonly index: number,
    readonly name?: string,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  get size(): number {
    return numel(this.shape);
  }

  toString(): string {
    return `Tensor(${fmt(this.shape)}, ${this.dtype})`;
  }

  private lift(v: TensorLike): Tensor {
    return this.graph.lift(v, this.dtype);
  }

  private op<A>(def: OpDef<A>, inputs: readonly TensorLike[], attrs: A): Tensor {
    return this.graph.apply(def, inputs.map((v) => this.lift(v)), attrs)[0]!;
  }

  private axes(axes: number | readonly number[] | undefined, op: string): number[] {
    const list = axes === undefined ? this.shape.map((_, i) => i) : typeof axes === 'number' ? [axes] : axes;
    return [...new Set(list.map((a) => normAxis(a, this.rank, op)))].sort((a, b) => a - b);
  }

  // ---- elementwise ------------------------------------------------------------------------
  add(y: TensorLike): Tensor { return this.op(E.Add, [this, y], {}); }
  sub(y: TensorLike): Tensor { return this.op(E.Sub, [this, y], {}); }
  mul(y: TensorLike): Tensor { return this.op(E.Mul, [this, y], {}); }
  div(y: TensorLike): Tensor { return this.op(E.Div, [this, y], {}); }
  pow(y: TensorLike): Tensor { return this.op(E.Pow, [this, y], {}); }
  maximum(y: TensorLike): Tensor { return this.op(E.Max, [this, y], {}); }
  minimum(y: TensorLike): Tensor { return this.op(E.Min, [this, y], {}); }
  eq(y: TensorLike): Tensor { return this.op(E.Equal, [this, y], {}); }
  lt(y: TensorLike): Tensor { return this.op(E.Less, [this, y], {}); }
  gt(y: TensorLike): Tensor { return this.op(E.Greater, [this, y], {}); }
  le(y: TensorLike): Tensor { return this.op(E.LessOrEqual, [this, y], {}); }
  ge(y: TensorLike): Tensor { return this.op(E.GreaterOrEqual, [this, y], {}); }
  logicalAnd(y: Tensor): Tensor { return this.op(E.And, [this, y], {}); }
  logicalNot(): Tensor { return this.op(E.Not, [this], {}); }
  neg(): Tensor { return this.op(E.Neg, [this], {}); }
  abs(): Tensor { return this.op(E.Abs, [this], {}); }
  exp(): Tensor { return this.op(E.Exp, [this], {}); }
  log(): Tensor { return this.op(E.Log, [this], {}); }
  sqrt(): Tensor { return this.op(E.Sqrt, [this], {}); }
  erf(): Tensor { return this.op(E.Erf, [this], {}); }
  reciprocal(): Tensor { return this.op(E.Reciprocal, [this], {}); }
  relu(): Tensor { return this.op(E.Relu, [this], {}); }
  sigmoid(): Tensor { return this.op(E.Sigmoid, [this], {}); }
  tanh(): Tensor { return this.op(E.Tanh, [this], {}); }
  identity(): Tensor { return this.op(E.Identity, [this], {}); }
  cast(dtype: DType): Tensor { return this.op(E.Cast, [this], { to: dtype }); }

  /** x·σ(x) (a.k.a. swish). */
  silu(): Tensor {
    return this.mul(this.sigmoid());
  }

  /**
   * Exact GELU, x·½(1 + erf(x/√2)), written as PyTorch exports it (a Div by √2): onnxruntime's
   * GeluFusion matches this form and runs one Gelu kernel; a Mul by 1/√2 stays five passes.
   */
  gelu(): Tensor {
    return this.mul(this.div(Math.SQRT2).erf().add(1)).mul(0.5);
  }

  /** PReLU with a shared slope (1 element) or one per channel (axis 1), as torch.nn.PReLU. */
  prelu(slope: TensorLike): Tensor {
    let s = this.lift(slope);
    if (s.size > 1) {
      if (this.rank < 2 || s.size !== this.shape[1]) {
        throw new ShapeError('PRelu', `slope must have 1 or C=${this.shape[1]} elements`, [this, s]);
      }
      s = s.reshape([s.size, ...new Array<number>(this.rank - 2).fill(1)]);
    } else if (s.rank > 0) {
      s = s.reshape([]);
    }
    return this.op(E.PRelu, [this, s], {});
  }

  clip(min?: number, max?: number): Tensor {
    return this.op(E.Clip, [this], { min, max });
  }

  /** PyTorch's Tensor.where: elements of this where `condition`, else of `other`. */
  where(condition: Tensor, other: TensorLike): Tensor {
    return this.graph.apply(E.Where, [condition, this, this.lift(other)], {})[0]!;
  }

  /** Inverted dropout with a caller-supplied 0/1 mask (from a seeded generator): x·mask/(1−p). */
  dropout(mask: TensorLike, p: number): Tensor {
    if (!(p >= 0 && p < 1)) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
    return this.mul(mask).mul(1 / (1 - p));
  }

  // ---- linear algebra ---------------------------------------------------------------------
  matmul(y: TensorLike): Tensor { return this.op(MatMul, [this, y], {}); }

  /** y = x·Wᵀ + b with PyTorch's Linear weight layout [out, in]. */
  linear(weight: TensorLike, bias?: TensorLike | null): Tensor {
    const w = this.lift(weight);
    const y = this.matmul(w.transpose(0, 1));
    return bias == null ? y : y.add(bias);
  }

  // ---- convolution and pooling --------------------------------------------------------------
  conv2d(weight: TensorLike, o: Conv2dOptions = {}): Tensor {
    const w = this.lift(weight);
    const strides = pair(o.stride ?? 1);
    const dilations = pair(o.dilation ?? 1);
    let pads: C.Pads4;
    if (o.padding === 'same') {
      if (strides[0] !== 1 || strides[1] !== 1) throw new ShapeError('Conv', "padding='same' needs stride 1", [this, w]);
      const total = [0, 1].map((i) => dilations[i]! * (w.shape[2 + i]! - 1));
      pads = [Math.floor(total[0]! / 2), Math.floor(total[1]! / 2), Math.ceil(total[0]! / 2), Math.ceil(total[1]! / 2)];
    } else pads = pads4(o.padding ?? 0);
    const inputs = o.bias == null ? [this, w] : [this, w, this.lift(o.bias)];
    return this.graph.apply(C.Conv, inputs, { strides, pads, dilations, group: o.groups ?? 1 })[0]!;
  }

  convTranspose2d(weight: TensorLike, o: ConvTranspose2dOptions = {}): Tensor {
    const w = this.lift(weight);
    const inputs = o.bias == null ? [this, w] : [this, w, this.lift(o.bias)];
    return this.graph.apply(C.ConvTranspose, inputs, {
      strides: pair(o.stride ?? 1),
      pads: pads4(o.padding ?? 0),
      dilations: pair(o.dilation ?? 1),
      group: o.groups ?? 1,
      outputPadding: pair(o.outputPadding ?? 0),
    })[0]!;
  }

  private poolAttrs(o: Pool2dOptions): P.PoolAttrs {
    const kernel = pair(o.kernel);
    return { kernel, strides: pair(o.stride ?? kernel), pads: pads4(o.padding ?? 0), ceilMode: o.ceilMode ?? false };
  }

  maxPool2d(o: Pool2dOptions & { dilation?: IntOrPair }): Tensor {
    return this.op(P.MaxPool, [this], { ...this.poolAttrs(o), dilations: pair(o.dilation ?? 1), withIndices: false });
  }

  /** Max pooling that also returns the argmax (int64, flat index over the whole input). */
  maxPool2dWithIndices(o: Pool2dOptions & { dilation?: IntOrPair }): [Tensor, Tensor] {
    const [y, i] = this.graph.apply(P.MaxPool, [this], { ...this.poolAttrs(o), dilations: pair(o.dilation ?? 1), withIndices: true });
    return [y!, i!];
  }

  avgPool2d(o: Pool2dOptions & { countIncludePad?: boolean }): Tensor {
    return this.op(P.AveragePool, [this], { ...this.poolAttrs(o), countIncludePad: o.countIncludePad ?? true });
  }

  /**
   * PyTorch's adaptive average pooling to [oh, ow]. Per axis: unchanged, a mean (output 1, e.g.
   * strip pooling), or a product with a fixed averaging matrix whose row i covers
   * [floor(i·n/out), ceil((i+1)·n/out)) — exact for any sizes, and differentiable as a MatMul.
   */
  adaptiveAvgPool2d(size: IntOrPair): Tensor {
    if (this.rank !== 4) throw new ShapeError('AdaptiveAvgPool2d', 'input must be 4-D [N, C, H, W]', [this]);
    const [oh, ow] = pair(size);
    const [h, w] = [this.shape[2]!, this.shape[3]!];
    const pooling = (n: number, out: number): HostTensor => {
      const m = new Float32Array(out * n);
      for (let i = 0; i < out; i++) {
        const s = Math.floor((i * n) / out);
        const e = Math.ceil(((i + 1) * n) / out);
        for (let j = s; j < e; j++) m[i * n + j] = 1 / (e - s);
      }
      return new HostTensor(m, [out, n]);
    };
    let y: Tensor = this;
    if (ow !== w) y = ow === 1 ? y.mean(3, true) : y.matmul(this.graph.constant(pooling(w, ow)).transpose(0, 1));
    if (oh !== h) y = oh === 1 ? y.mean(2, true) : this.graph.constant(pooling(h, oh)).matmul(y);
    return y;
  }

  // ---- normalisation ------------------------------------------------------------------------
  softmax(axis = -1): Tensor { return this.op(N.Softmax, [this], { axis: normAxis(axis, this.rank, 'Softmax') }); }
  logSoftmax(axis = -1): Tensor { return this.op(N.LogSoftmax, [this], { axis: normAxis(axis, this.rank, 'LogSoftmax') }); }

  /** Layer norm over the last axis; a missing weight/bias means 1/0. */
  layerNorm(weight: TensorLike | null, bias: TensorLike | null, eps = 1e-5): Tensor {
    const c = this.shape[this.rank - 1]!;
    const fill = (v: number) => this.graph.constant(new HostTensor(new Float32Array(c).fill(v), [c]));
    return this.op(N.LayerNorm, [this, weight ?? fill(1), bias ?? fill(0)], { epsilon: eps });
  }

  /** Inference-form batch norm with running statistics (channels on axis 1). */
  batchNorm(o: BatchNormOptions): Tensor {
    return this.op(N.BatchNorm, [this, o.weight, o.bias, o.runningMean, o.runningVar], { epsilon: o.eps ?? 1e-5 });
  }

  /**
   * Training-form batch norm: normalises with the batch statistics over every axis but 1 and
   * returns them (mean, biased var for normalising, unbiased var for PyTorch's running update).
   */
  batchNormTrain(weight: TensorLike, bias: TensorLike, eps = 1e-5): { out: Tensor; mean: Tensor; var: Tensor; varUnbiased: Tensor } {
    if (this.rank < 2) throw new ShapeError('BatchNorm', 'input must have rank ≥ 2 [N, C, ...]', [this]);
    const count = this.size / this.shape[1]!;
    const [out, mean, v] = this.graph.apply(N.BatchNormTrain, [this, this.lift(weight), this.lift(bias)], { epsilon: eps }) as [Tensor, Tensor, Tensor];
    return { out, mean, var: v, varUnbiased: v.mul(count / Math.max(count - 1, 1)) };
  }

  // ---- resizing -----------------------------------------------------------------------------
  /** F.interpolate for NCHW: bilinear (both align-corners modes) or nearest, by size or scale. */
  resize(o: ResizeOptions): Tensor {
    if (this.rank !== 4) throw new ShapeError('Resize', 'input must be 4-D [N, C, H, W]', [this]);
    if ((o.size === undefined) === (o.scale === undefined)) throw new ShapeError('Resize', 'give exactly one of size or scale', [this]);
    const mode = o.mode ?? 'bilinear';
    if (mode !== 'bilinear' && mode !== 'nearest') throw new Error(`resize: mode must be 'bilinear' or 'nearest', got '${mode}'`);
    if (mode === 'nearest' && o.alignCorners) throw new Error("resize: alignCorners applies to 'bilinear' only (as in PyTorch)");
    const scale = o.scale === undefined ? null : pair(o.scale);
    const size: Pair = o.size ?? [Math.floor(this.shape[2]! * scale![0]), Math.floor(this.shape[3]! * scale![1])];
    if (size[0] === this.shape[2] && size[1] === this.shape[3] && (scale === null || (scale[0] === 1 && scale[1] === 1))) return this;
    return this.op(Resize, [this], { mode: mode === 'bilinear' ? 'linear' : 'nearest', alignCorners: o.alignCorners ?? false, size, scale });
  }

  // ---- layout -------------------------------------------------------------------------------
  /** Reshape; one dim may be -1 (inferred). */
  reshape(shape: readonly number[]): Tensor {
    const known = shape.filter((d) => d !== -1);
    const free = shape.length - known.length;
    if (free > 1) throw new ShapeError('Reshape', `at most one dim may be -1, got ${fmt(shape)}`, [this]);
    const resolved = shape.map((d) => (d === -1 ? this.size / Math.max(1, numel(known)) : d));
    if (!resolved.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new ShapeError('Reshape', `cannot reshape ${this.size} elements into ${fmt(shape)}`, [this]);
    }
    return this.op(L.Reshape, [this], { shape: resolved });
  }

  /** Flattens dims start..end (inclusive) into one. */
  flatten(start = 0, end = -1): Tensor {
    const s = normAxis(start, this.rank, 'flatten');
    const e = normAxis(end, this.rank, 'flatten');
    return this.reshape([...this.shape.slice(0, s), numel(this.shape.slice(s, e + 1)), ...this.shape.slice(e + 1)]);
  }

  unsqueeze(axis: number): Tensor {
    const a = normAxis(axis, this.rank + 1, 'unsqueeze');
    return this.reshape([...this.shape.slice(0, a), 1, ...this.shape.slice(a)]);
  }

  squeeze(axis: number): Tensor {
    const a = normAxis(axis, this.rank, 'squeeze');
    if (this.shape[a] !== 1) throw new ShapeError('squeeze', `dim ${a} has size ${this.shape[a]}, not 1`, [this]);
    return this.reshape(this.shape.filter((_, i) => i !== a));
  }

  permute(perm: readonly number[]): Tensor {
    return this.op(L.Transpose, [this], { perm: perm.map((p) => normAxis(p, this.rank, 'Transpose')) });
  }

  /** Swaps two dims (PyTorch's transpose). */
  transpose(d0: number, d1: number): Tensor {
    const perm = this.shape.map((_, i) => i);
    const a = normAxis(d0, this.rank, 'Transpose');
    const b = normAxis(d1, this.rank, 'Transpose');
    [perm[a], perm[b]] = [perm[b]!, perm[a]!];
    return this.permute(perm);
  }

  expand(shape: readonly number[]): Tensor {
    return this.op(L.Expand, [this], { shape: [...shape] });
  }

  /** Elements start..end (exclusive) with a step along one axis; negative indices count from the end. */
  slice(axis: number, start: number, end: number = Number.MAX_SAFE_INTEGER, step = 1): Tensor {
    return this.sliceND([start], [end], [axis], [step]);
  }

  /** ONNX Slice over several axes at once. */
  sliceND(starts: number[], ends: number[], axes: number[], steps?: number[]): Tensor {
    return this.op(L.Slice, [this], { starts, ends, axes: axes.map((a) => normAxis(a, this.rank, 'Slice')), steps: steps ?? starts.map(() => 1) });
  }

  /** PyTorch's split: a chunk size, or a list of sizes. */
  split(sizes: number | readonly number[], axis = 0): Tensor[] {
    const a = normAxis(axis, this.rank, 'Split');
    const dim = this.shape[a]!;
    const list = typeof sizes === 'number' ? Array.from({ length: Math.ceil(dim / sizes) }, (_, i) => Math.min(sizes, dim - i * sizes)) : [...sizes];
    if (list.length === 1) return [this];
    return this.graph.apply(L.Split, [this], { axis: a, sizes: list });
  }

  /** Splits into n nearly equal parts (PyTorch's chunk). */
  chunk(n: number, axis = 0): Tensor[] {
    return this.split(Math.ceil(this.shape[normAxis(axis, this.rank, 'chunk')]! / n), axis);
  }

  /**
   * PyTorch's F.pad: pads pairs start from the LAST dim ([left, right, top, bottom, …]).
   * Modes: 'constant' (with value), 'reflect', 'replicate'.
   */
  pad(pads: readonly number[], o: { mode?: 'constant' | 'reflect' | 'replicate'; value?: number } = {}): Tensor {
    if (pads.length % 2 !== 0 || pads.length / 2 > this.rank) {
      throw new ShapeError('Pad', `needs pairs of values, at most ${this.rank} pairs, got ${pads.length} values`, [this]);
    }
    const onnx = new Array<number>(2 * this.rank).fill(0);
    for (let k = 0; k < pads.length / 2; k++) {
      const axis = this.rank - 1 - k;
      onnx[axis] = pads[2 * k]!;
      onnx[axis + this.rank] = pads[2 * k + 1]!;
    }
    const mode = o.mode === 'replicate' ? 'edge' : (o.mode ?? 'constant');
    return this.op(L.Pad, [this], { pads: onnx, mode, value: o.value ?? 0 });
  }

  // ---- reductions ---------------------------------------------------------------------------
  /** Sum over axes (all when omitted). */
  sum(axes?: number | readonly number[], keepdim = false): Tensor {
    return this.op(R.ReduceSum, [this], { axes: this.axes(axes, 'ReduceSum'), keepdims: keepdim });
  }

  mean(axes?: number | readonly number[], keepdim = false): Tensor {
    return this.op(R.ReduceMean, [this], { axes: this.axes(axes, 'ReduceMean'), keepdims: keepdim });
  }

  /** Maximum over axes (values only; see argmax for indices). */
  max(axes?: number | readonly number[], keepdim = false): Tensor {
    return this.op(R.ReduceMax, [this], { axes: this.axes(axes, 'ReduceMax'), keepdims: keepdim });
  }

  argmax(axis: number, keepdim = false): Tensor {
    return this.op(R.ArgMax, [this], { axis: normAxis(axis, this.rank, 'ArgMax'), keepdims: keepdim });
  }

  // ---- sorting and scans --------------------------------------------------------------------
  /**
   * torch.topk: the k largest (or, with largest: false, smallest) values along `axis`, sorted, and
   * their int64 indices; ties keep input order. k = the axis size sorts the whole axis.
   */
  topk(k: number, axis = -1, o: { largest?: boolean } = {}): [Tensor, Tensor] {
    const [values, indices] = this.graph.apply(S.TopK, [this], { k, axis: normAxis(axis, this.rank, 'TopK'), largest: o.largest ?? true });
    return [values!, indices!];
  }

  /** torch.cumsum (inclusive) along `axis`; `reverse` sums from the end of the axis. */
  cumsum(axis: number, o: { reverse?: boolean } = {}): Tensor {
    return this.op(S.CumSum, [this], { axis: normAxis(axis, this.rank, 'CumSum'), reverse: o.reverse ?? false });
  }

  // ---- indexing -----------------------------------------------------------------------------
  /** NumPy `take` along an axis (torch.index_select for 1-D indices): int64/int32 indices. */
  gather(indices: Tensor, axis = 0): Tensor {
    return this.graph.apply(I.Gather, [this, indices], { axis: normAxis(axis, this.rank, 'Gather') })[0]!;
  }

  /** torch.gather: picks along `axis` by int64/int32 indices of the input's rank; the output has their shape. */
  gatherElements(indices: Tensor, axis: number): Tensor {
    return this.graph.apply(I.GatherElements, [this, indices], { axis: normAxis(axis, this.rank, 'GatherElements') })[0]!;
  }

  /** One-hot float32 along a new last axis (F.one_hot); out-of-range values (ignore labels) give zeros. */
  oneHot(depth: number): Tensor {
    return this.op(I.OneHot, [this], { depth });
  }
}

/** Concatenates along an axis (torch.cat). */
export function cat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error('cat: needs at least one tensor');
  if (xs.length === 1) return xs[0]!;
  const a = normAxis(axis, xs[0]!.rank, 'Concat');
  return xs[0]!.graph.apply(L.Concat, xs, { axis: a })[0]!;
}

/** torch.where(condition, a, b). */
export function where(condition: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const like = a instanceof Tensor ? a : b instanceof Tensor ? b : condition;
  const dtype = like === condition ? 'float32' : like.dtype;
  const g = condition.graph;
  return g.apply(E.Where, [condition, g.lift(a, dtype), g.lift(b, dtype)], {})[0]!;
}
