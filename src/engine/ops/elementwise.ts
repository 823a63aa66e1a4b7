import { sumToShape } from '../autodiff.js';
import { isFloat, type DType } from '../dtype.js';
import type { Tensor } from '../graph.js';
import { HostTensor } from '../host-tensor.js';
import { emitSimple } from '../onnx/emitter.js';
import { check, defineOp, type OpDef } from '../op.js';
import { broadcastShapes, fmt } from '../shape.js';
import { where } from '../tensor.js';

/** Shape rule shared by binary elementwise ops: NumPy broadcasting, equal dtypes. */
function broadcastRule(op: string, inputs: readonly Tensor[], outDtype?: DType) {
  const [a, b] = inputs as [Tensor, Tensor];
  check(a.dtype === b.dtype, op, `operands must have the same dtype, got ${a.dtype} and ${b.dtype}`, inputs);
  const shape = broadcastShapes(a.shape, b.shape);
  check(shape !== null, op, `shapes ${fmt(a.shape)} and ${fmt(b.shape)} do not broadcast (trailing dims must be equal or 1)`, inputs);
  return [{ shape: shape!, dtype: outDtype ?? a.dtype }];
}

/** Gradients of a binary op's operands at the broadcast output shape (reduced to each operand's shape after). */
type BinaryGrad = (a: Tensor, b: Tensor, y: Tensor, gy: Tensor) => [Tensor | null, Tensor | null];

function binary(name: string, grads?: BinaryGrad, outDtype?: DType): OpDef<{}> {
  return defineOp<{}>({
    name,
    infer: (inputs) => broadcastRule(name, inputs, outDtype),
    onnx: (n, e) => emitSimple(e, name, n),
    vjp: grads && ((n, [gy]) => {
      const [a, b] = n.inputs as [Tensor, Tensor];
      const [ga, gb] = grads(a, b, n.outputs[0]!, gy!);
      return [ga && sumToShape(ga, a.shape), gb && sumToShape(gb, b.shape)];
    }),
  });
}

/** Gradient of a unary op's input from its input x, output y and output gradient gy. */
type UnaryGrad = (x: Tensor, y: Tensor, gy: Tensor) => Tensor;

function unary(name: string, grad?: UnaryGrad, floatOnly = true): OpDef<{}> {
  return defineOp<{}>({
    name,
    infer: ([x]) => {
      check(!floatOnly || x!.dtype === 'float32' || x!.dtype === 'float16', name, `needs a float tensor, got ${x!.dtype}`, [x!]);
      return [{ shape: [...x!.shape], dtype: x!.dtype }];
    },
    onnx: (n, e) => emitSimple(e, name, n),
    vjp: grad && ((n, [gy]) => [grad(n.inputs[0]!, n.outputs[0]!, gy!)]),
  });
}

/**
 * gy where `keep` holds, 0 elsewhere, as gy · float(keep): onnxruntime's float Where is the slower
 * of the two (ten chained ReLU gradients on 8×64×180×240, 2 threads: 448 ms with Where, 260 with
 * Cast and Mul); ReLU's gradient was 3 % of a ResNet-18 train step. Unlike Where, an infinite or
 * NaN gy where `keep` is false gives NaN, not 0; such a gradient has already diverged.
 */
export const keepWhere = (gy: Tensor, keep: Tensor): Tensor => gy.mul(keep.cast(gy.dtype));

/** Gradient of max/min: the winner takes gy, ties split it equally (as torch.maximum). */
const pick = (gy: Tensor, wins: Tensor, ties: Tensor): Tensor => where(wins, gy, where(ties, gy.mul(0.5), 0));

export const Add = binary('Add', (_a, _b, _y, gy) => [gy, gy]);
export const Sub = binary('Sub', (_a, _b, _y, gy) => [gy, gy.neg()]);
export const Mul = binary('Mul', (a, b, _y, gy) => [gy.mul(b), gy.mul(a)]);
export const Div = binary('Div', (_a, b, y, gy) => [gy.div(b), gy.mul(y).div(b).neg()]);
// As PyTorch: d/da is 0 where b = 0 (not 0·a⁻¹), d/db is 0 where a = 0 and b ≥ 0 (not y·log 0).
export const Pow = binary('Pow', (a, b, y, gy) => [
  gy.mul(where(b.eq(0), 0, b.mul(a.pow(b.sub(1))))),
  gy.mul(where(a.eq(0).logicalAnd(b.ge(0)), 0, y.mul(a.log()))),
]);
export const Max = binary('Max', (a, b, _y, gy) => [pick(gy, a.gt(b), a.eq(b)), pick(gy, b.gt(a), a.eq(b))]);
export const Min = binary('Min', (a, b, _y, gy) => [pick(gy, a.lt(b), a.eq(b)), pick(gy, b.lt(a), a.eq(b))]);
// Comparisons and logic are not differentiable: no vjp (their bool results never carry gradients).
export const Equal = binary('Equal', undefined, 'bool');
export const Less = binary('Less', undefined, 'bool');
export const Greater = binary('Greater', undefined, 'bool');
export const LessOrEqual = binary('LessOrEqual', undefined, 'bool');
export const GreaterOrEqual = binary('GreaterOrEqual', undefined, 'bool');
export const And = binary('And', undefined, 'bool');

export const Relu = unary('Relu', (_x, y, gy) => keepWhere(gy, y.gt(0)));
export const Sigmoid = unary('Sigmoid', (_x, y, gy) => gy.mul(y.mul(y.neg().add(1))));
export const Tanh = unary('Tanh', (_x, y, gy) => gy.mul(y.mul(y).neg().add(1)));
export const Exp = unary('Exp', (_x, y, gy) => gy.mul(y));
export const Log = unary('Log', (x, _y, gy) => gy.div(x));
export const Sqrt = unary('Sqrt', (_x, y, gy) => gy.mul(0.5).div(y));
export const Erf = unary('Erf', (x, _y, gy) => gy.mul(x.mul(x).neg().exp().mul(2 / Math.sqrt(Math.PI))));
export const Reciprocal = unary('Reciprocal', (_x, y, gy) => gy.mul(y.mul(y)).neg());
export const Neg = unary('Neg', (_x, _y, gy) => gy.neg(), false);
// sign(x)·gy, with 0 at x = 0 as PyTorch.
export const Abs = unary('Abs', (x, _y, gy) => gy.where(x.gt(0), gy.neg().where(x.lt(0), 0)), false);
export const Not = unary('Not', undefined, false);
export const Identity = unary('Identity', (_x, _y, gy) => gy, false);

/** where(cond, a, b): cond is bool; all three broadcast together. */
export const Where = defineOp<{}>({
  name: 'Where',
  infer: (inputs) => {
    const [c, a, b] = inputs as [Tensor, Tensor, Tensor];
    check(c.dtype === 'bool', 'Where', `condition must be bool, got ${c.dtype}`, inputs);
    const [ab] = broadcastRule('Where', [a, b]);
    const shape = broadcastShapes(c.shape, ab!.shape);
    check(shape !== null, 'Where', 'condition does not broadcast with the operands', inputs);
    return [{ shape: shape!, dtype: a.dtype }];
  },
  onnx: (n, e) => emitSimple(e, 'Where', n),
  vjp: (n, [gy]) => {
    const [c, a, b] = n.inputs as [Tensor, Tensor, Tensor];
    return [null, sumToShape(keepWhere(gy!, c), a.shape), sumToShape(keepWhere(gy!, c.logicalNot()), b.shape)];
  },
});

/** onnxruntime's largest NCHWc channel block (16 floats with AVX-512, 8 with AVX2): a multiple of it is blocked everywhere. */
const NCHWC_BLOCK = 16;

/** PReLU: slope broadcasts against x (PyTorch's per-channel slope is reshaped to [C,1,1] by the caller). */
export const PRelu = defineOp<{}>({
  name: 'PRelu',
  infer: (inputs) => {
    const [x, s] = inputs as [Tensor, Tensor];
    const shape = broadcastShapes(x.shape, s.shape);
    check(shape !== null && fmt(shape) === fmt(x.shape), 'PRelu', 'slope must broadcast to the input shape', inputs);
    return [{ shape: [...x.shape], dtype: x.dtype }];
  },
  onnx: (n, e) => {
    // One slope known when the graph is built (inference, nn.PReLU()'s default): LeakyRelu, the
    // same function, which onnxruntime fuses into the convolution before it and runs in its
    // blocked NCHWc layout; PRelu stops both and costs a layout round trip.
    const [x, s] = n.inputs as [Tensor, Tensor];
    // Tensor.prelu reshapes a 1-element slope to a scalar; the value is the constant's before that.
    const slope = s.graph.constants.get(s.node?.op.name === 'Reshape' ? s.node.inputs[0]! : s);
    if (!(slope && slope.size === 1 && slope.dtype === 'float32' && x.dtype === 'float32')) return emitSimple(e, 'PRelu', n);
    const alpha = { alpha: { f: slope.f32[0]! } };
    const channels = x.shape[1] ?? 0;
    if (x.shape.length !== 4 || e.uses(x) < 2 || channels % NCHWC_BLOCK !== 0) {
      return e.node('LeakyRelu', [e.name(x)], [e.name(n.outputs[0]!)], alpha);
    }
    // x is read elsewhere too (SERNet-Former's AbM: PReLU(y) + y·σ(y)), so the LeakyRelu cannot be
    // fused into the convolution that makes x, and onnxruntime has no NCHWc LeakyRelu: it would
    // reorder x out of the blocked layout and back. A depth-wise 1×1 convolution by ones with the
    // LeakyRelu fused into it computes the same values and stays blocked (SERNet-Former at 512²:
    // 0.89 → 0.82 of the exported peer's latency, with the Resize change in ops/resize.ts).
    const ones = e.initializer(new HostTensor(new Float32Array(channels).fill(1), [channels, 1, 1, 1]), 'identity_dw');
    const y = e.temp(`t${x.id}_dw`);
    e.node('Conv', [e.name(x), ones], [y], { group: { i: channels }, kernel_shape: { ints: [1, 1] } });
    e.node('LeakyRelu', [y], [e.name(n.outputs[0]!)], alpha);
  },
  vjp: (n, [gy]) => {
    const [x, s] = n.inputs as [Tensor, Tensor];
    const neg = x.lt(0);
    return [gy!.mul(s).where(neg, gy!), sumToShape(gy!.mul(x).where(neg, 0), s.shape)];
  },
});

export const Cast = defineOp<{ to: DType }>({
  name: 'Cast',
  infer: ([x], { to }) => [{ shape: [...x!.shape], dtype: to }],
  onnx: (n, e) => {
    const codes = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10 } as const;
    emitSimple(e, 'Cast', n, { to: { i: codes[n.attrs.to] } });
  },
  // Only a float → float cast passes a gradient; to or from integers the result is piecewise constant.
  vjp: (n, [gy]) => {
    const x = n.inputs[0]!;
    if (!isFloat(x.dtype) || !isFloat(n.attrs.to)) return [null];
    return [x.dtype === n.attrs.to ? gy! : gy!.cast(x.dtype)];
  },
});

/** Clip to [min, max]; either bound may be absent. */
export const Clip = defineOp<{ min?: number; max?: number }>({
  name: 'Clip',
  infer: ([x]) => {
    check(x!.dtype === 'float32', 'Clip', `needs a float32 tensor, got ${x!.dtype}`, [x!]);
    return [{ shape: [...x!.shape], dtype: x!.dtype }];
  },
  onnx: (n, e) => {
    const bound = (v: number | undefined, hint: string) =>
      v === undefined ? '' : e.initializer(new HostTensor(new Float32Array([v]), []), hint);
    e.node('Clip', [e.name(n.inputs[0]!), bound(n.attrs.min, 'clip_min'), bound(n.attrs.max, 'clip_max')], [e.name(n.outputs[0]!)]);
  },
  // gy inside [min, max] (bounds included, as torch.clamp), 0 outside.
  vjp: (n, [gy]) => {
    const x = n.inputs[0]!;
    const { min, max } = n.attrs;
    const lo = min === undefined ? null : x.ge(min);
    const hi = max === undefined ? null : x.le(max);
    const inside = lo && hi ? lo.logicalAnd(hi) : (lo ?? hi);
    return [inside ? gy!.where(inside, 0) : gy!];
  },
});
