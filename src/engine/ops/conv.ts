import type { Tensor } from '../graph.js';
import { emitSimple } from '../onnx/emitter.js';
import { check, defineOp } from '../op.js';

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
export const Conv = defineOp<ConvAttrs>({
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
});

/** Transposed 2-D convolution (PyTorch semantics), x [N,Cin,H,W], w [Cin, Cout/group, kh, kw]. */
export const ConvTranspose = defineOp<ConvTransposeAttrs>({
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
});
