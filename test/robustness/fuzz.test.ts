// The seeded fuzzer in CI: a fixed number of deterministic cases per parser (longer runs:
// scripts/fuzz.ts), the mutator and the oracle themselves, and the inputs earlier runs found,
// kept as regressions.
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { decodePngIndices, PngFormatError } from '../../src/data/png.js';
import { parseSafetensors, serializeSafetensors } from '../../src/io/safetensors.js';
import { checkpointFromSafetensors } from '../../src/train/checkpoint-format.js';
import { BOUNDARY_VALUES, mutate, mutateFields, mutateJson, OPERATORS, Rng } from './mutate.js';
import { errorProblem, judge } from './oracle.js';
import { describeFailure, runTarget } from './runner.js';
import { TARGETS } from './targets.js';

/** Cases per target in CI, sized so that all of them take about 10 s on a loaded 2-core machine. */
const CI_CASES: Record<string, number> = { safetensors: 15_000, pth: 10_000, png: 15_000, list: 4_000, checkpoint: 12_000, onnx: 10_000 };
const CI_SEED = 20261121;

describe('mutator', () => {
  const input = Uint8Array.from({ length: 200 }, (_, i) => (i * 37) & 0xff);

  test('is deterministic in the seed and never modifies its input', () => {
    const copy = input.slice();
    for (let seed = 0; seed < 100; seed++) {
      const a = mutate(input, seed);
      const b = mutate(input, seed);
      assert.deepEqual(a, b);
      assert.notEqual(a.bytes, input);
    }
    assert.deepEqual(input, copy);
  });

  test('different seeds give different mutants, and every operator is used', () => {
    const distinct = new Set<string>();
    const used = new Set<string>();
    for (let seed = 0; seed < 500; seed++) {
      const m = mutate(input, seed, [new TextEncoder().encode('TOKEN')]);
      distinct.add(Buffer.from(m.bytes).toString('hex'));
      for (const op of m.ops) used.add(op);
    }
    assert.ok(distinct.size > 450, `${distinct.size} distinct mutants of 500`);
    assert.deepEqual([...used].sort(), Object.keys(OPERATORS).sort());
  });

  test('boundaryInt writes a boundary value (±1) in 1, 2, 4 or 8 bytes, little- or big-endian', () => {
    const zeros = new Uint8Array(64);
    // Every value a field of each width may hold after boundaryInt, read both ways.
    const allowed = (width: number) => new Set(BOUNDARY_VALUES.flatMap((v) => [v - 1n, v, v + 1n]).map((v) => BigInt.asUintN(width * 8, v)));
    for (let seed = 0; seed < 200; seed++) {
      const out = OPERATORS.boundaryInt!(zeros, new Rng(seed), []);
      const nz = [...out.keys()].filter((i) => out[i] !== 0);
      if (nz.length === 0) continue; // wrote 0 (a boundary value itself)
      const span = nz[nz.length - 1]! - nz[0]! + 1;
      assert.ok(span <= 8, `seed ${seed}: changed bytes span ${span}`);
      const ok = [1, 2, 4, 8].some((w) => {
        for (let at = Math.max(0, nz[nz.length - 1]! - w + 1); at <= nz[0]! && at + w <= 64; at++) {
          let le = 0n;
          let be = 0n;
          for (let i = 0; i < w; i++) {
            le |= BigInt(out[at + i]!) << BigInt(8 * i);
            be = (be << 8n) | BigInt(out[at + i]!);
          }
          if (allowed(w).has(le) || allowed(w).has(be)) return true;
        }
        return false;
      });
      assert.ok(ok, `seed ${seed}: ${Buffer.from(out).toString('hex')} holds no boundary value`);
    }
  });

  test('truncate only shortens; deleteBytes removes a chunk and keeps the rest in order', () => {
    for (let seed = 0; seed < 50; seed++) {
      const t = OPERATORS.truncate!(input, new Rng(seed), []);
      assert.ok(t.length < input.length);
      assert.deepEqual(t, input.subarray(0, t.length));
      const d = OPERATORS.deleteBytes!(input, new Rng(seed), []);
      const cut = input.length - d.length;
      assert.ok(cut >= 1);
      let at = 0;
      while (at < d.length && d[at] === input[at]) at++;
      assert.deepEqual(d.subarray(at), input.subarray(at + cut), `seed ${seed}`);
    }
  });

  test('mutateFields writes only inside the named fields; mutateJson leaves its input alone', () => {
    const fields = [{ at: 4, width: 4 as const, littleEndian: false }, { at: 20, width: 1 as const, littleEndian: false }];
    for (let seed = 0; seed < 100; seed++) {
      const out = mutateFields(input, fields, seed);
      for (let i = 0; i < input.length; i++) if (!(i >= 4 && i < 8) && i !== 20) assert.equal(out[i], input[i], `seed ${seed}, byte ${i}`);
    }
    const value = { a: [1, 2, { b: 'x' }], c: null };
    const before = JSON.stringify(value);
    const seen = new Set<string>();
    for (let seed = 0; seed < 100; seed++) seen.add(JSON.stringify(mutateJson(value, seed)) ?? 'undefined');
    assert.equal(JSON.stringify(value), before);
    assert.ok(seen.size > 30, `${seen.size} distinct JSON mutants`);
    assert.ok(!seen.has(before) || seen.size > 1);
  });
});

describe('oracle', () => {
  const contract = { source: 'in.bin' };

  test('accepts an Error naming the source, of the required class', () => {
    assert.equal(errorProblem(new Error('in.bin: header truncated'), contract), null);
    assert.equal(errorProblem(new PngFormatError('bad chunk'), { errorClass: PngFormatError }), null);
  });

  test('flags engine errors, non-Errors, hidden causes, wrong classes, empty or anonymous messages', () => {
    const cases: [unknown, string][] = [
      [new TypeError('in.bin: x is undefined'), 'engine TypeError'],
      [new RangeError('in.bin: Invalid typed array length'), 'engine RangeError'],
      ['in.bin: a string', 'non-Error'],
      [new Error('in.bin: unexpected TypeError', { cause: new TypeError('x') }), 'as a cause'],
      [new Error('in.bin: wrapped', { cause: 42 }), 'non-Error cause'],
      [new Error('header truncated'), 'does not name the source'],
      [new Error(' '), 'empty message'],
    ];
    for (const [e, want] of cases) {
      const f = errorProblem(e, contract);
      assert.ok(f?.signature.includes(want), `${String(e)}: ${f?.signature}`);
    }
    assert.match(errorProblem(new Error('bad'), { errorClass: PngFormatError })!.signature, /Error instead of PngFormatError/);
  });

  test('judge flags a slow case and a case that grows memory', async () => {
    const slow = await judge(() => {
      const t = performance.now();
      while (performance.now() - t < 30);
    }, contract, { maxMs: 5, maxGrowthBytes: 2 ** 30 });
    assert.equal(slow?.kind, 'slow');
    const big = await judge(() => new Uint8Array(64 * 2 ** 20).fill(1), contract, { maxMs: 60_000, maxGrowthBytes: 16 * 2 ** 20 });
    assert.equal(big?.kind, 'memory');
    assert.equal(await judge(() => 1, contract), null);
  });
});

describe('fuzz targets', () => {
  test('every seed input is valid: each parses without error', async () => {
    for (const t of TARGETS) {
      const h = await t.prepare();
      try {
        for (const [i, seed] of h.seeds.entries()) await assert.doesNotReject(async () => h.run(seed.slice(), 0), `${t.name} seed ${i}`);
      } finally {
        h.close?.();
      }
    }
  });

  for (const t of TARGETS) {
    test(`${t.name}: ${CI_CASES[t.name]} seeded cases, no failure (${t.about})`, async () => {
      const r = await runTarget(t, { seed: CI_SEED, cases: CI_CASES[t.name]! });
      assert.equal(r.cases, CI_CASES[t.name]);
      const found = [...r.failures.values()].map((f) => describeFailure(t.name, f));
      assert.equal(found.length, 0, `replay with: npx tsx scripts/fuzz.ts --target ${t.name}\n${found.join('\n')}`);
    });
  }
});

describe('regressions found by the fuzzer', () => {
  test('png: bit depth 0 with a huge width is refused before width × height is allocated', async () => {
    // IHDR 4294967295 × 2, bit depth 0, grey: the data-size check passed (0 bits per row) and
    // decodePngIndices allocated 8.6 G elements (RangeError) before checking the bit depth.
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUv////8AAAACAAAAAADiqEX0AAAAaklEQVR4nAFfAKD/AAAAA+gH0Au4D6ATiBdwG1gfQAAjKCcQKvgu4DLINrA6mD6AQmgARlBKOE4gUghV8FnYXcBhqGWQAGl4bWBxSHUweRh9AIDohNCIuACMoJCIlHCYWJxAoCikEKf4q+ADeSU2wCzr/gAAAABJRU5ErkJggg==',
      'base64',
    );
    await assert.rejects(decodePngIndices(png, (z) => inflateSync(z)), (e: unknown) => e instanceof PngFormatError && /bit depth 0 for colour type 0/.test(e.message));
  });

  test('png: an IHDR chunk shorter than 13 bytes is refused, not read past its end', async () => {
    const chunk = (type: string, body: number[]) => [0, 0, 0, body.length, ...Buffer.from(type, 'latin1'), ...body, 0, 0, 0, 0];
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...chunk('IHDR', [0, 0, 0, 1, 0]), ...chunk('IEND', [])]);
    await assert.rejects(decodePngIndices(png, (z) => inflateSync(z)), /IHDR chunk is 5 bytes; expected 13/);
  });

  test('checkpoint: metadata that is valid JSON but not an object is refused naming the file', () => {
    // 'null' made checkpointFromSafetensors read null.format (TypeError); found with mutateJson.
    for (const text of ['null', '7', '"x"', '[]']) {
      const file = serializeSafetensors({ w: new HostTensor(new Float32Array(2), [2]) }, { segkit: text });
      assert.throws(
        () => checkpointFromSafetensors(parseSafetensors(file, 'bad.safetensors')),
        (e: unknown) => e instanceof Error && !(e instanceof TypeError) && e.message.startsWith('bad.safetensors: checkpoint metadata is') && e.message.includes('expected a JSON object'),
        text,
      );
    }
  });
});
