import type { DType } from '../dtype.js';
import type { Tensor } from '../graph.js';
import { HostTensor } from '../host-tensor.js';
import { emitSimple } from '../onnx/emitter.js';
import { check, defineOp, type OpDef } from '../op.js';
import { broadcastShapes, fmt } from '../shape.js';

/** Shape rule shared by binary elementwise ops: NumPy broadcasting, equal dtypes. */
function broadcastRule(op: string, inputs: readonly Tensor[], outDtype?: DType) {
  const [a, b] = inputs as [Tensor, Tensor];
  check(a.dtype === b.dtype, op, `operands must have the same dtype, got ${a.dtype} and ${b.dtype}`, inputs);
  const shape = broadcastShapes(a.shape, b.shape);
  check(shape !== null, op, `shapes ${fmt(a.shape)} and ${fmt(b.shape)} do not broadcast (trailing dims must be equal or 1)`, inputs);
  return [{ shape: shape!, dtype: outDtype ?? a.dtype }];
}

function binary(name: string, onnxName = name, outDtype?: DType): OpDef<{}> {
  return defineOp<{}>({
    name,
    infer: (inputs) => broadcastRule(name, inputs, outDtype),
    onnx: (n, e) => emitSimple(e, onnxName, n),
  });
}

function unary(name: string, floatOnly = true): OpDef<{}> {
  return defineOp<{}>({
    name,
    infer: ([x]) => {
      check(!floatOnly || x!.dtype === 'float32' || x!.dtype === 'float16', name, `needs a float tensor, got ${x!.dtype}`, [x!]);
      return [{ shape: [...x!.shape], dtype: x!.dtype }];
    },
    onnx: (n, e) => emitSimple(e, name, n),
  });
}

export const Add = binary('Add');
export const Sub = binary('Sub');
export const Mul = binary('Mul');
export const Div = binary('Div');
export const Pow = binary('Pow');
export const Max = binary('Max');
export const Min = binary('Min');
export const Equal = binary('Equal', 'Equal', 'bool');
export const Less = binary('Less', 'Less', 'bool');
export const Greater = binary('Greater', 'Greater', 'bool');
export const LessOrEqual = binary('LessOrEqual', 'LessOrEqual', 'bool');
export const GreaterOrEqual = binary('GreaterOrEqual', 'GreaterOrEqual', 'bool');
export const And = binary('And', 'And', 'bool');

export const Relu = unary('Relu');
export const Sigmoid = unary('Sigmoid');
export const Tanh = unary('Tanh');
export const Exp = unary('Exp');
export const Log = unary('Log');
export const Sqrt = unary('Sqrt');
export const Erf = unary('Erf');
export const Reciprocal = unary('Reciprocal');
export const Neg = unary('Neg', false);
export const Abs = unary('Abs', false);
export const Not = unary('Not', false);
export const Identity = unary('Identity', false);

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
});

/** PReLU: slope broadcasts against x (PyTorch's per-channel slope is reshaped to [C,1,1] by the caller). */
export const PRelu = defineOp<{}>({
  name: 'PRelu',
  infer: (inputs) => {
    const [x, s] = inputs as [Tensor, Tensor];
    const shape = broadcastShapes(x.shape, s.shape);
    check(shape !== null && fmt(shape) === fmt(x.shape), 'PRelu', 'slope must broadcast to the input shape', inputs);
    return [{ shape: [...x.shape], dtype: x.dtype }];
  },
  onnx: (n, e) => emitSimple(e, 'PRelu', n),
});

export const Cast = defineOp<{ to: DType }>({
  name: 'Cast',
  infer: ([x], { to }) => [{ shape: [...x!.shape], dtype: to }],
  onnx: (n, e) => {
    const codes = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10 } as const;
    emitSimple(e, 'Cast', n, { to: { i: codes[n.attrs.to] } });
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
});
