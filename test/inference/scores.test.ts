// Softmax, sigmoid and label maps on the host: softmax against test/reference's float64 softmax,
// labels on hand-written scores.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { argmaxChannels, labelsFromScores, probabilities, softmaxChannels } from '../../src/inference/index.js';
import { arr, assertClose } from '../reference/ndarray.js';
import { softmax } from '../reference/ops.js';
import { randomImage } from './fakes.js';

describe('scores → probabilities and labels', () => {
  it('softmax over K equals the float64 reference, also for large logits', () => {
    const { t, a } = randomImage([2, 5, 3, 4], 3);
    const s = softmaxChannels(t);
    assertClose({ data: s.f32, shape: s.shape }, softmax(a, 1), 1e-6, 'softmax');
    const big = HostTensor.fromArray([1000, 1001, 999, 0], [1, 2, 1, 2]);
    // pixel 0: logits (1000, 999); pixel 1: (1001, 0)
    const e = 1 / (1 + Math.exp(-1));
    assertClose({ data: softmaxChannels(big).f32, shape: [1, 2, 1, 2] }, arr([1, 2, 1, 2], [e, 1, 1 - e, 0]), 1e-7, 'stable softmax');
  });

  it('probabilities of a single-channel model are its sigmoid', () => {
    const p = probabilities(HostTensor.fromArray([0, 2, -3], [1, 1, 1, 3]));
    assertClose({ data: p.f32, shape: p.shape }, arr([1, 1, 1, 3], [0.5, 1 / (1 + Math.exp(-2)), 1 / (1 + Math.exp(3))]), 1e-7, 'sigmoid');
  });

  it('argmax: per pixel, ties to the lowest class, Uint8 for K ≤ 256 and Int32 above', () => {
    // 1 image, K = 3, 1×4 pixels; channel-major: class 0 row, class 1 row, class 2 row.
    const t = HostTensor.fromArray([0, 5, 1, 2, 3, 5, 1, -1, 1, 0, 4, 2], [1, 3, 1, 4]);
    const l = argmaxChannels(t);
    assert.ok(l instanceof Uint8Array);
    assert.deepEqual([...l], [1, 0, 2, 0]);
    const wide = new Float32Array(300 * 2);
    wide[299 * 2 + 1] = 1; // pixel 1 → class 299
    const lw = argmaxChannels(new HostTensor(wide, [1, 300, 1, 2]));
    assert.ok(lw instanceof Int32Array);
    assert.deepEqual([...lw], [0, 299]);
    assert.throws(() => argmaxChannels(HostTensor.fromArray([0, NaN], [1, 2, 1, 1])), /score of class 1 at image 0, pixel 0 is NaN/);
  });

  it('a single-channel model is thresholded: logits at logit(t), probabilities at t', () => {
    const logits = HostTensor.fromArray([-0.1, 0.1, 1, 2], [1, 1, 2, 2]);
    assert.deepEqual([...labelsFromScores(logits, 'logits')], [0, 1, 1, 1]);
    // t = 0.8 ⇔ logit > log(4) ≈ 1.386
    assert.deepEqual([...labelsFromScores(logits, 'logits', 0.8)], [0, 0, 0, 1]);
    const probs = HostTensor.fromArray([0.2, 0.5, 0.51, 0.9], [1, 1, 2, 2]);
    assert.deepEqual([...labelsFromScores(probs, 'probabilities')], [0, 0, 1, 1]);
    assert.throws(() => labelsFromScores(probs, 'probabilities', 1), /threshold must be in \(0, 1\), got 1/);
  });
});
