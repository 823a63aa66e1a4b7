// The restricted unpickler: Python's own pickles of every value kind in protocols 0-5 come back as
// Python sees them; pickles that would run code, bombs and corrupt data are refused with a
// CheckpointError, quickly and without large allocations.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CheckpointError } from '../../src/io/checkpoint-error.js';
import { pyAttributes, pyKind, unpickle, type UnpickleOptions } from '../../src/io/pickle.js';
import { bytes, str, u32, u64 } from './builders.js';

const GEN = join(import.meta.dirname, '..', 'fixtures', 'pth', 'gen.py');

/** A python3 (torch not needed), or the reason to skip. */
function python(): string | { skip: string } {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', 'import pickle'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return { skip: 'python3 is not available to write reference pickles' };
}

const load = (b: Uint8Array, o: Partial<UnpickleOptions> = {}) => unpickle(b, { file: 'test.pkl', ...o }).value;

/** `fn` throws a CheckpointError naming the file whose message matches `re`, within `ms`. */
function refuses(fn: () => unknown, re: RegExp, file = 'test.pkl', ms = 2000): void {
  const t0 = performance.now();
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CheckpointError, `expected a CheckpointError, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    assert.equal(e.file, file);
    assert.ok(e.message.startsWith(`${file}: `), e.message);
    assert.match(e.message, re);
    return true;
  });
  const dt = performance.now() - t0;
  assert.ok(dt < ms, `took ${dt.toFixed(0)} ms`);
}

/** The value in the tagged JSON that test/fixtures/pth/gen.py writes for Python values. */
function toJson(v: unknown): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : { $float: Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf' };
  if (typeof v === 'bigint') return { $bigint: String(v) };
  if (v instanceof Uint8Array) return { $bytes: Buffer.from(v).toString('hex') };
  const kind = pyKind(v);
  const a = v as unknown[];
  if (kind === 'tuple') return { $tuple: a.map(toJson) };
  if (kind === 'set') return { $set: a.map(toJson).sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1)) };
  if (kind === 'list') return a.map(toJson);
  if (kind === 'dict' || kind === 'object') return { $dict: Object.entries(v as object).map(([k, x]) => [k, toJson(x)]) };
  throw new Error(`unexpected value ${String(v)}`);
}

describe('pickles written by Python', () => {
  const py = python();
  let dir = '';
  const skip = typeof py === 'string' ? false : py.skip;
  before(async () => {
    if (skip) return;
    dir = await mkdtemp(join(tmpdir(), 'segkit-pickle-'));
    const r = spawnSync(py as string, [GEN, 'pickles', dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => dir && rm(dir, { recursive: true, force: true }));
  const expected = () => JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
  const file = (name: string) => new Uint8Array(readFileSync(join(dir, name)));

  for (let proto = 0; proto <= 5; proto++) {
    test(`every value kind, protocol ${proto}`, { skip }, () => {
      const v = load(file(`plain-p${proto}.pkl`)) as Record<string, unknown>;
      assert.deepEqual(toJson(v), expected().value);
      const shared = v.shared as unknown[];
      assert.equal(shared[0], shared[1], 'a value pickled once and referenced twice stays one object');
      assert.equal(pyKind(v.tuple1), 'tuple');
      assert.equal(pyKind(v.list), 'list');
      assert.ok(Object.is(v.negzero, -0));
    });
  }

  test('argparse.Namespace (training args in checkpoints) in protocols 0, 2, 4', { skip }, () => {
    for (const proto of [0, 2, 4]) assert.deepEqual(toJson(load(file(`namespace-p${proto}.pkl`))), expected().namespace, `protocol ${proto}`);
  });

  test('numpy scalars (mmcv stores metrics as numpy floats)', { skip }, (t) => {
    if (!expected().numpy) return t.skip('numpy is not installed');
    assert.deepEqual(toJson(load(file('numpy-scalars.pkl'))), expected().numpy);
  });

  const evil: [string, RegExp][] = [
    ['os-system', /global 'posix\.system' is not allowed/],
    ['eval', /global 'builtins\.eval' is not allowed/],
    ['exec', /global 'builtins\.exec' is not allowed/],
    ['popen', /global '(subprocess|commands)\.Popen' is not allowed/], // protocols < 3 write Python 2's module name
    ['import', /global 'builtins\.__import__' is not allowed/],
    ['nested-in-dict', /global 'posix\.system' is not allowed/],
  ];
  for (const [name, re] of evil) {
    test(`__reduce__ to ${name} is refused in every protocol (GLOBAL and STACK_GLOBAL)`, { skip }, () => {
      for (let proto = 0; proto <= 5; proto++) {
        const op = proto >= 4 ? 'STACK_GLOBAL' : 'GLOBAL';
        refuses(() => unpickle(file(`evil-${name}-p${proto}.pkl`), { file: 'evil.pkl' }), new RegExp(`\\(pickle opcode ${op}\\): ${re.source}`), 'evil.pkl');
      }
    });
  }

  test('truncated pickles are refused at every cut point', { skip }, () => {
    for (const proto of [0, 2, 4]) {
      const b = file(`plain-p${proto}.pkl`);
      const step = Math.max(1, Math.floor(b.length / 300));
      for (let n = 0; n < b.length; n += step) refuses(() => load(b.subarray(0, n)), /truncated|ends without a STOP|needs \d+ bytes/);
    }
  });
});

describe('hand-made pickles', () => {
  test('values, memo and marks', () => {
    const v = load(bytes(0x80, 2, '}', 'q', 0, '(', str('a'), 'K', 7, str('b'), ']', 'q', 1, '(', 'J', u32(-5 >>> 0), 'G', [0x3f, 0xf8, 0, 0, 0, 0, 0, 0], 'N', 0x88, 'e', str('c'), 'h', 1, 'u', '.'));
    assert.deepEqual(v, { a: 7, b: [-5, 1.5, null, true], c: [-5, 1.5, null, true] });
    const d = v as Record<string, unknown>;
    assert.equal(d.b, d.c);
  });

  test('protocol 0 text opcodes', () => {
    const v = load(bytes('(dp0\n', "S'k'\n", 'p1\n', 'I12345678901234567890\n', 's', "S'f'\n", 'F-1.25e3\n', 's', "S'esc'\n", "S'a\\x41\\n\\'b'\n", 's', "S'u'\n", 'V\\u00e9\\u005cu\n', 's', 'g1\n', 'I01\n', 's', '.'));
    const d = v as Record<string, unknown>;
    assert.equal(d.k, true, 'GET of the memoised key, then I01 (True) overwrites it');
    assert.equal(d.f, -1250);
    assert.equal(d.esc, "aA\n'b");
    assert.equal(d.u, 'é\\u');
  });

  test("an OrderedDict's attributes (a state dict's _metadata) are kept aside, not as items", () => {
    const v = load(bytes(0x80, 2, 'ccollections\nOrderedDict\n', ')', 'R', '(', str('w'), 'K', 1, 'u', '}', str('_metadata'), '}', 's', 'b', '.')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(v), ['w']);
    assert.deepEqual(pyAttributes(v), { _metadata: {} });
  });

  test("a '__proto__' key is data, not the object's prototype", () => {
    const v = load(bytes(0x80, 2, '}', str('__proto__'), '}', str('polluted'), 0x88, 's', 's', '.')) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
    assert.deepEqual(Object.keys(v), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('globals that would run code are refused by name, via GLOBAL, STACK_GLOBAL and INST', () => {
    refuses(() => load(bytes('cos\nsystem\n', '(', "S'echo pwned'\n", 't', 'R', '.')), /byte 0 \(pickle opcode GLOBAL\): global 'os\.system' is not allowed: loading a checkpoint never runs code/);
    refuses(() => load(bytes('cposix\nsystem\n', '.')), /global 'posix\.system' is not allowed/);
    refuses(() => load(bytes(0x80, 4, 0x8c, 8, 'builtins', 0x8c, 4, 'eval', 0x93, '.')), /\(pickle opcode STACK_GLOBAL\): global 'builtins\.eval' is not allowed/);
    refuses(() => load(bytes('c__builtin__\neval\n', '.')), /global 'builtins\.eval' is not allowed/);
    refuses(() => load(bytes('(', "S'echo'\n", 'ios\nsystem\n', '.')), /\(pickle opcode INST\): global 'os\.system' is not allowed/);
    refuses(() => load(bytes('(', 'csubprocess\nPopen\n', "S'echo'\n", 'o', '.')), /global 'subprocess\.Popen' is not allowed/);
    refuses(() => load(bytes('cfunctools\npartial\n', '.')), /global 'functools\.partial' is not allowed/);
    refuses(() => load(bytes('cbuiltins\ngetattr\n', '.')), /global 'builtins\.getattr' is not allowed/);
    refuses(() => load(bytes('ctorch.nn.modules.linear\nLinear\n', '.'), { refusalHint: () => 'save a state_dict' }), /'torch\.nn\.modules\.linear\.Linear' is not allowed.*save a state_dict/);
  });

  test('allowed globals cannot be misused as callables or objects', () => {
    refuses(() => load(bytes(str('os.system'), ')', 'R', '.')), /\(pickle opcode REDUCE\): calling str 'os\.system': only allowed globals can be called/);
    refuses(() => load(bytes('cbuiltins\nobject\n', ')', 'R', '.')), /'builtins\.object' cannot be called/);
    refuses(() => load(bytes('(', 'cbuiltins\nobject\n', 'o', '.')), /\(pickle opcode OBJ\): 'builtins\.object' cannot be called/);
    refuses(() => load(bytes(0x80, 2, 'ccollections\nOrderedDict\n', ')', 0x81, '.')), /'collections\.OrderedDict' cannot be instantiated/);
    refuses(() => load(bytes('}', '}', 'b', '.')), /\(pickle opcode BUILD\): BUILD \(setting the state of\) dict of 0 items is not allowed/);
    refuses(() => load(bytes(']', '}', 'b', '.')), /BUILD .*list of 0 items is not allowed/);
    refuses(() => load(bytes('c_codecs\nencode\n', '(', str('x'), str('rot13'), 't', 'R', '.')), /encoding 'rot13' is not supported/);
    refuses(() => load(bytes('ccopyreg\n_reconstructor\n', '(', 'cposix\nsystem\n')), /global 'posix\.system' is not allowed/);
    refuses(() => load(bytes('ccopyreg\n_reconstructor\n', '(', 'cargparse\nNamespace\n', 'ccollections\nOrderedDict\n', 'N', 't', 'R', '.')), /_reconstructor is only allowed for plain objects/);
    refuses(() => load(bytes(')', 'K', 1, 'a', '.')), /appending to tuple of 0 items; only lists/);
    refuses(() => load(bytes(']', 'K', 1, 'K', 2, 's', '.')), /setting an item on list of 0 items; only dicts/);
    refuses(() => load(bytes('}', ']', 'K', 1, 's', '.')), /dict key list of 0 items is not supported/);
  });

  test('persistent ids, extensions and out-of-band buffers need what this reader does not offer', () => {
    refuses(() => load(bytes('Pfoo\n', '.')), /\(pickle opcode PERSID\): persistent id str 'foo' but this pickle is not read with a persistent loader/);
    refuses(() => load(bytes(0x80, 2, 0x82, 1, '.')), /\(pickle opcode EXT1\): copyreg extension codes are not supported/);
    refuses(() => load(bytes(0x80, 5, 0x97, '.')), /NEXT_BUFFER/);
    refuses(() => load(bytes(0x80, 6, 'N', '.')), /pickle protocol 6 is not supported/);
    refuses(() => load(bytes(0xff)), /unknown opcode 0xff/);
  });

  test('nesting bombs are refused: deep MARKs, deep lists through the memo, cycles', () => {
    refuses(() => load(bytes('('.repeat(200_000), '.')), /MARKs nested deeper than 1000/);
    // list_i = [list_{i+1}] built through the memo, so neither the stack nor the marks grow.
    const chain = (n: number) => {
      const b = [...bytes(']', 'r', u32(0))];
      for (let i = 0; i < n; i++) b.push(...bytes('j', u32(i), ']', 'r', u32(i + 1), 'a', '0'));
      return bytes(b, '.');
    };
    refuses(() => load(chain(100_000)), /nests containers deeper than 1000 levels/);
    refuses(() => load(bytes(']', 'q', 0, 'h', 0, 'a', '.')), /contains itself \(a reference cycle\)/);
    // A chain at the limit is fine.
    assert.ok(Array.isArray(load(chain(999))));
  });

  test('a billion-laughs pickle (each level references the previous ten times) is read in linear time', () => {
    const b = [...bytes(']', 'r', u32(0), str('lol'), 'a')];
    for (let i = 1; i <= 60; i++) {
      b.push(...bytes('0', ']', 'r', u32(i), '('));
      for (let k = 0; k < 10; k++) b.push(...bytes('j', u32(i - 1)));
      b.push(...bytes('e'));
    }
    const t0 = performance.now();
    const v = load(bytes(b, '.')) as unknown[];
    assert.ok(performance.now() - t0 < 1000);
    assert.equal(v.length, 10);
    assert.equal(v[0], v[9]);
  });

  test('huge declared sizes fail before anything is allocated', () => {
    refuses(() => load(bytes(0x80, 4, 0x8d, u64(1e15), 'x')), /\(pickle opcode BINUNICODE8\): declares 1000000000000000 bytes but only 1 remain/);
    refuses(() => load(bytes(0x80, 4, 0x8e, u64(2n ** 63n), 'x')), /BINBYTES8\): declares 9223372036854775808 bytes/);
    refuses(() => load(bytes(0x80, 5, 0x96, u64(1e12), 'x')), /BYTEARRAY8\): declares/);
    refuses(() => load(bytes('X', u32(0xfffffff0), 'abc')), /BINUNICODE\): needs 4294967280 bytes but only 3 remain/);
    refuses(() => load(bytes('T', u32(0x80000000), 'abc')), /negative string length/);
    refuses(() => load(bytes(0x80, 4, 0x95, u64(1e18), 'N', '.')), /FRAME\): declares/);
    refuses(() => load(bytes(0x80, 2, 0x8b, u32(0x7fffffff), 'x')), /LONG4\): integer of 2147483647 bytes exceeds the 1024-byte limit/);
    refuses(() => load(bytes('I', '9'.repeat(100_000), '\n.')), /integer of 100000 digits exceeds the 4300-digit limit/);
  });

  test('huge memo indices and memo floods are refused', () => {
    refuses(() => load(bytes('j', u32(0xffffffff), '.')), /\(pickle opcode LONG_BINGET\): memo entry 4294967295 was never stored/);
    refuses(() => load(bytes('N', 'p99999999999999999999\n', '.')), /\(pickle opcode PUT\): memo index 99999999999999999999 is out of range/);
    refuses(() => load(bytes('g123456\n', '.')), /memo entry 123456 was never stored/);
    assert.equal(load(bytes('N', 'r', u32(0xffffffff), '.')), null, 'a large index alone allocates nothing (the memo is a map)');
    refuses(() => load(bytes(0x80, 4, 'N', ...Array(11).fill(0x94), '.'), { limits: { maxMemo: 10 } }), /more than 10 memo entries/);
  });

  test('stack misuse is refused', () => {
    refuses(() => load(bytes('.')), /STOP with an empty stack/);
    refuses(() => load(bytes('a')), /needs a value but the stack is empty/);
    refuses(() => load(bytes('t')), /no MARK to pop to/);
    refuses(() => load(bytes(0x86, '.')), /needs 2 values on the stack, found 0/);
    refuses(() => load(bytes('N')), /ends without a STOP opcode; the file is truncated/);
    refuses(() => load(new Uint8Array(0)), /expected a pickle but the data ends here/);
    refuses(() => load(bytes('cos\nsys')), /no terminating newline; the file is truncated/);
    refuses(() => load(bytes('Inot-a-number\n.')), /'not-a-number' is not an integer/);
    refuses(() => load(bytes('X', u32(2), 0xff, 0xfe, '.')), /is not valid UTF-8/);
  });

  test('random corruption of a pickle gives a value or a CheckpointError, never another exception', () => {
    const good = bytes(0x80, 2, '}', 'q', 0, '(', str('a'), 'K', 7, str('b'), ']', 'q', 1, '(', 'J', u32(5), 'G', [0x3f, 0xf8, 0, 0, 0, 0, 0, 0], 'N', 0x88, 'e', str('c'), 'h', 1, str('d'), 'ccollections\nOrderedDict\n', ')', 'R', 'u', '.');
    let seed = 12345;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      const b = good.slice();
      for (let k = 1 + rand(3); k > 0; k--) b[rand(b.length)] = rand(256);
      try {
        load(b.subarray(0, b.length - rand(4)));
      } catch (e) {
        assert.ok(e instanceof CheckpointError, `mutation ${i}: ${(e as Error).name}: ${(e as Error).message}`);
        refused++;
      }
    }
    assert.ok(refused > 1000);
  });
});
