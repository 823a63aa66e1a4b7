import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/data/rng.js';

test('same seed, same stream; different seeds differ', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const sa = Array.from({ length: 20 }, () => a.nextU32());
  assert.deepEqual(sa, Array.from({ length: 20 }, () => b.nextU32()));
  assert.notDeepEqual(sa, Array.from({ length: 20 }, () => c.nextU32()));
  assert.notDeepEqual(Array.from({ length: 5 }, () => new Rng('a').random()), Array.from({ length: 5 }, () => new Rng('b').random()));
});

test('fork depends on identity and key only, not on draws made before', () => {
  const root = new Rng(7);
  const f1 = root.fork(3).fork('x');
  for (let i = 0; i < 100; i++) root.random();
  const f2 = root.fork(3).fork('x');
  assert.deepEqual(Array.from({ length: 10 }, () => f1.nextU32()), Array.from({ length: 10 }, () => f2.nextU32()));
  // different keys, different streams; fork(k) differs from the parent
  const keys = [0, 1, 2, 1e9, -1, 0.5, 'a', 'b'].map((k) => new Rng(7).fork(k).nextU32());
  assert.equal(new Set(keys).size, keys.length);
  assert.notEqual(new Rng(7).fork(0).nextU32(), new Rng(7).nextU32());
  // nested order matters
  assert.notEqual(new Rng(1).fork(2).fork(3).nextU32(), new Rng(1).fork(3).fork(2).nextU32());
});

test('ranges: random in [0,1), int in [lo,hi), uniform, choice, permutation', () => {
  const r = new Rng(1);
  const counts = new Array(5).fill(0);
  for (let i = 0; i < 20000; i++) {
    const u = r.random();
    assert.ok(u >= 0 && u < 1);
    const k = r.int(-2, 3);
    assert.ok(Number.isInteger(k) && k >= -2 && k < 3);
    counts[k + 2]++;
    const v = r.uniform(5, 6);
    assert.ok(v >= 5 && v < 6);
  }
  for (const c of counts) assert.ok(c > 3600 && c < 4400, `int() not uniform: ${counts}`);
  const p = r.permutation(50);
  assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  assert.throws(() => r.int(3, 3), /empty/);
  const w = [0, 0, 0];
  for (let i = 0; i < 3000; i++) w[r.weightedIndex([1, 0, 2])]++;
  assert.equal(w[1], 0);
  assert.ok(w[2]! > w[0]! * 1.6);
});

test('normal() has mean 0 and std 1', () => {
  const r = new Rng(9);
  let s = 0;
  let s2 = 0;
  const n = 40000;
  for (let i = 0; i < n; i++) {
    const z = r.normal();
    s += z;
    s2 += z * z;
  }
  assert.ok(Math.abs(s / n) < 0.03);
  assert.ok(Math.abs(Math.sqrt(s2 / n) - 1) < 0.03);
});
