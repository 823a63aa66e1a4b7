// One runtime interface, two implementations: the web runtime (onnxruntime-web, wasm) runs in
// Node too, so the same compiled graph is checked on both. Also: one session per input shape.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compile } from '../../src/engine/compile.js';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { Parameter } from '../../src/engine/parameter.js';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import { webRuntime } from '../../src/engine/runtime/web.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { assertClose } from '../reference/ndarray.js';
import * as R from '../reference/ops.js';
import { f32, rnd } from './harness.js';

const w = f32(rnd([4, 3, 3, 3], 0.5));
const weight = new Parameter(new HostTensor(Float32Array.from(w.data), w.shape));
const fn = (x: Tensor) => x.conv2d(weight, { padding: 1 }).relu().resize({ scale: 2, alignCorners: true });
const ref = (x: ReturnType<typeof rnd>) => R.resize2d(R.relu(R.conv2d(x, w, null, { padding: [1, 1, 1, 1] })), { scale: [2, 2] }, 'bilinear', true);
const host = (a: ReturnType<typeof rnd>) => new HostTensor(Float32Array.from(a.data), a.shape);

describe('runtimes', () => {
  for (const runtime of [nodeRuntime, webRuntime]) {
    it(`${runtime.name} runs a compiled graph and matches the reference`, async () => {
      const f = compile(fn, { runtime, threads: 1 });
      const x = rnd([1, 3, 7, 9]);
      const y = (await f.run(host(x))) as HostTensor;
      assertClose({ data: y.f32, shape: y.shape }, ref(x), 1e-5, runtime.name);
      await f.dispose();
    });
  }

  it('caches one session per input shape and reuses it', async () => {
    const f = compile(fn, { runtime: nodeRuntime, threads: 1 });
    await f.run(host(rnd([1, 3, 7, 9])));
    await f.run(host(rnd([1, 3, 7, 9])));
    assert.equal(f.sessions, 1);
    const x2 = rnd([2, 3, 5, 4]);
    const y2 = (await f.run(host(x2))) as HostTensor;
    assert.equal(f.sessions, 2);
    assertClose({ data: y2.f32, shape: y2.shape }, ref(x2), 1e-5, 'second shape');
    await f.dispose();
    assert.equal(f.sessions, 0);
  });

  it('rebuilds a session when a baked-in parameter is replaced', async () => {
    const p = new Parameter(HostTensor.fromArray([1, 2, 3], [3]));
    const f = compile((x) => x.mul(p), { runtime: nodeRuntime });
    const x = HostTensor.fromArray([1, 1, 1], [3]);
    assert.deepEqual(Array.from(((await f.run(x)) as HostTensor).f32), [1, 2, 3]);
    p.set(HostTensor.fromArray([4, 5, 6], [3]));
    assert.deepEqual(Array.from(((await f.run(x)) as HostTensor).f32), [4, 5, 6]);
    await f.dispose();
  });

  it('reports missing inputs by name', async () => {
    const s = await nodeRuntime.createSession(
      (await import('../../src/engine/compile.js')).toOnnx((a, b) => a.add(b), [{ shape: [2] }, { shape: [2] }]),
    );
    await assert.rejects(s.run({ input_0: HostTensor.zeros([2]) }), /missing inputs input_1 \(the model takes input_0, input_1\)/);
    await s.release();
  });
});
