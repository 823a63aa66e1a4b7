// Bad shapes are rejected while tracing, with an error naming the op, the shapes and the rule.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Graph } from '../../src/engine/graph.js';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { cat } from '../../src/engine/tensor.js';

const g = () => new Graph();

describe('shape errors at trace time', () => {
  it('conv2d on a 3-D input (wrong rank)', () => {
    const gr = g();
    const x = gr.input('x', [3, 32, 32]);
    const w = gr.input('w', [8, 3, 3, 3]);
    assert.throws(() => x.conv2d(w), /Conv: input must be 4-D \[N, C, H, W\] \(input shapes: \[3, 32, 32\], \[8, 3, 3, 3\]\)/);
  });
  it('conv2d with mismatched channels', () => {
    const gr = g();
    const x = gr.input('x', [1, 4, 16, 16]);
    const w = gr.input('w', [8, 3, 3, 3]);
    assert.throws(() => x.conv2d(w), /Conv: weight.shape\[1\] × groups must equal input channels: 3 × 1 ≠ 4 \(input shapes: \[1, 4, 16, 16\], \[8, 3, 3, 3\]\)/);
  });
  it('conv2d whose dilated kernel exceeds the input', () => {
    const gr = g();
    assert.throws(() => gr.input('x', [1, 2, 5, 5]).conv2d(gr.input('w', [2, 2, 3, 3]), { dilation: 4 }), /Conv: the dilated kernel .* is larger than the padded input 5×5/);
  });
  it('groups that do not divide the channels', () => {
    const gr = g();
    assert.throws(() => gr.input('x', [1, 6, 8, 8]).conv2d(gr.input('w', [4, 1, 3, 3]), { groups: 4 }), /Conv: groups=4 must divide input channels 6/);
  });
  it('matmul with mismatched inner dimensions', () => {
    const gr = g();
    assert.throws(() => gr.input('a', [2, 3, 4]).matmul(gr.input('b', [5, 6])), /MatMul: inner dimensions must match: a\[..., 4\] · b\[..., 5, :\]/);
  });
  it('elementwise ops on shapes that do not broadcast', () => {
    const gr = g();
    assert.throws(() => gr.input('a', [2, 3]).add(gr.input('b', [4])), /Add: shapes \[2, 3\] and \[4\] do not broadcast/);
  });
  it('reshape to a different element count', () => {
    const gr = g();
    assert.throws(() => gr.input('a', [2, 3]).reshape([4, 2]), /Reshape: cannot reshape 6 elements into \[4, 2\]/);
  });
  it('concat of tensors that differ off the axis', () => {
    const gr = g();
    assert.throws(() => cat([gr.input('a', [1, 2, 4]), gr.input('b', [1, 3, 5])], 1), /Concat: all inputs must have the same rank, dtype and dims except along axis 1/);
  });
  it('axis out of range names the valid range', () => {
    const gr = g();
    assert.throws(() => gr.input('a', [2, 3]).softmax(2), /Softmax: axis 2 is out of range for a tensor of rank 2 \(valid: -2..1\)/);
  });
  it('batch norm with statistics of the wrong length', () => {
    const gr = g();
    const x = gr.input('x', [1, 4, 2, 2]);
    const s = gr.constant(HostTensor.zeros([3]));
    assert.throws(() => x.batchNorm({ weight: s, bias: s, runningMean: s, runningVar: s }), /BatchNorm: weight, bias, running mean and var must have shape \[4\], got \[3\]/);
  });
  it('mixing tensors of two traces', () => {
    const a = g().input('a', [2]);
    const b = g().input('b', [2]);
    assert.throws(() => a.add(b), /another trace|another graph/);
  });
  it('bilinear resize with align corners and nearest mode', () => {
    const gr = g();
    assert.throws(() => gr.input('x', [1, 1, 4, 4]).resize({ size: [8, 8], mode: 'nearest', alignCorners: true }), /alignCorners applies to 'bilinear' only/);
  });
});
