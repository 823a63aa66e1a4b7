import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { writeFileAtomic } from '../../src/io/atomic-file.js';
import { bf16ToF32, f16ToF32, f32ToF16 } from '../../src/io/half.js';
import { findTorchPython } from '../parity/python.js';
import { readSafetensorsFile, writeSafetensorsFile } from '../../src/io/safetensors-node.js';
import { parseSafetensors, serializeSafetensors } from '../../src/io/safetensors.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Assembles a file from a header (object or literal JSON text) and buffer bytes; `len` overrides N. */
function build(header: unknown, buffer: ArrayLike<number> = [], len?: bigint): Uint8Array {
  const h = typeof header === 'string' ? new TextEncoder().encode(header) : header instanceof Uint8Array ? header : new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + buffer.length);
  new DataView(out.buffer).setBigUint64(0, len ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(buffer, 8 + h.length);
  return out;
}

/** Parsing `bytes` throws an error that starts with the source name and matches `re`. */
function rejects(bytes: Uint8Array, re: RegExp): void {
  assert.throws(
    () => parseSafetensors(bytes, 'bad.safetensors'),
    (e: Error) => {
      assert.match(e.message, /^bad\.safetensors: /);
      assert.match(e.message, re);
      return true;
    },
  );
}

const f32 = (dims: number[], begin: number) => ({ dtype: 'F32', shape: dims, data_offsets: [begin, begin + 4 * dims.reduce((a, b) => a * b, 1)] });

describe('safetensors round trip', () => {
  const tensors = {
    'w.f32': new HostTensor(new Float32Array([1.5, -2, 3e-8, Infinity, -0, 42]), [2, 3], 'float32'),
    'w.f16': new HostTensor(new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001]), [4], 'float16'),
    'w.i64': new HostTensor(new BigInt64Array([-(2n ** 62n) - 3n, 0n, 2n ** 40n + 1n]), [3], 'int64'),
    'w.i32': new HostTensor(new Int32Array([-(2 ** 31), 2 ** 31 - 1]), [1, 2], 'int32'),
    'w.u8': new HostTensor(new Uint8Array([0, 7, 255]), [3], 'uint8'),
    'w.i8': new HostTensor(new Int8Array([-128, 127]), [2], 'int8'),
    'w.bool': new HostTensor(new Uint8Array([1, 0, 1]), [3], 'bool'),
    scalar: new HostTensor(new Float32Array([3.5]), [], 'float32'),
    empty: new HostTensor(new Float32Array(0), [0, 3], 'float32'),
  };

  test('every dtype comes back with its values, shape and metadata', () => {
    const bytes = serializeSafetensors(tensors, { format: 'pt', note: 'ünïcode' });
    const f = parseSafetensors(bytes);
    assert.deepEqual(f.metadata, { format: 'pt', note: 'ünïcode' });
    assert.deepEqual([...f.names()].sort(), Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const got = f.get(name);
      assert.deepEqual(got.shape, t.shape, name);
      if (t.dtype === 'float16') {
        // F16 is read back as float32 values; the raw bits are still there through raw().
        assert.equal(got.dtype, 'float32');
        assert.deepEqual([...got.f32], [1, -2, 65504, 2 ** -24]);
        assert.deepEqual([...new Uint16Array(f.raw(name).slice().buffer)], [...(t.data as Uint16Array)]);
      } else {
        assert.equal(got.dtype, t.dtype, name);
        assert.deepEqual([...got.data], [...t.data], name);
      }
    }
    assert.ok(Object.is(f.get('w.f32').f32[4], -0));
    assert.deepEqual(f.info('w.f16'), { dtype: 'F16', shape: [4] });
    assert.deepEqual([...f.entries()].map(([n]) => n), f.names());
  });

  test('output is deterministic, padded to 8 bytes, and aligned so F32 reads are zero-copy views', () => {
    const a = serializeSafetensors(tensors, { b: '2', a: '1' });
    const reversed = new Map(Object.entries(tensors).reverse());
    const b = serializeSafetensors(reversed, { a: '1', b: '2' });
    assert.deepEqual(a, b);
    const n = Number(new DataView(a.buffer).getBigUint64(0, true));
    assert.equal(n % 8, 0);
    assert.match(new TextDecoder().decode(a.subarray(8, 8 + n)), /^\{.*\} *$/); // JSON, then space padding
    for (let k = 1; k <= 8; k++) {
      // names of 8 different lengths: whatever the JSON length, N is padded up to a multiple of 8
      const bytes = serializeSafetensors({ ['x'.repeat(k)]: HostTensor.zeros([1]) });
      const len = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      assert.equal(len % 8, 0);
      assert.equal(len - new TextDecoder().decode(bytes.subarray(8, 8 + len)).trimEnd().length, (8 - ((53 + k) % 8)) % 8);
    }
    const t = parseSafetensors(a).get('w.f32');
    assert.equal(t.data.buffer, a.buffer, 'expected a view into the file bytes');
  });

  test('bool values are normalised to 0/1; reserved and mislabelled names are refused', () => {
    const f = parseSafetensors(serializeSafetensors({ b: new HostTensor(new Uint8Array([5, 0]), [2], 'bool') }));
    assert.deepEqual([...f.get('b').data], [1, 0]);
    assert.throws(() => serializeSafetensors({ __metadata__: HostTensor.zeros([1]) }), /reserved/);
    assert.throws(() => serializeSafetensors({ x: new HostTensor(new Int32Array(1), [1], 'float32') }), /dtype float32 but its data is a Int32Array/);
    assert.throws(() => serializeSafetensors({}, { k: 1 as unknown as string }), /metadata 'k' is 1; .* must be strings/);
  });

  test('an empty file (no tensors) round-trips', () => {
    const f = parseSafetensors(serializeSafetensors(new Map()));
    assert.deepEqual(f.names(), []);
    assert.throws(() => f.get('x'), /no tensor named 'x'; the file holds no tensors/);
  });
});

describe('hand-built file', () => {
  // Buffer layout (58 bytes), offsets written by hand below:
  //   F16  [2,3]  0..12   0x3C00=1, 0xC000=-2, 0x7BFF=65504, 0x0001=2^-24 (smallest subnormal), 0x8000=-0, 0x7C00=Inf
  //   BF16 [2]   12..16   0x3F80=1, 0xC0A0=-5
  //   F32  [1]   16..20   0x3FC00000=1.5
  //   F64  [1]   20..28   0xC004000000000000=-2.5 (unaligned: read through a copy)
  //   I64  [2]   28..44   -2, 2^40
  //   I32  [2]   44..52   -1, 258
  //   I16  [1]   52..54   -2
  //   I8   [1]   54..55   -128
  //   U8   [1]   55..56   200
  //   BOOL [2]   56..58   1, 0
  const header =
    '{"__metadata__":{"format":"pt"},' +
    '"h":{"dtype":"F16","shape":[2,3],"data_offsets":[0,12]},' +
    '"bf":{"dtype":"BF16","shape":[2],"data_offsets":[12,16]},' +
    '"f":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},' +
    '"d":{"dtype":"F64","shape":[1],"data_offsets":[20,28]},' +
    '"l":{"dtype":"I64","shape":[2],"data_offsets":[28,44]},' +
    '"i":{"dtype":"I32","shape":[2],"data_offsets":[44,52]},' +
    '"s":{"dtype":"I16","shape":[1],"data_offsets":[52,54]},' +
    '"c":{"dtype":"I8","shape":[1],"data_offsets":[54,55]},' +
    '"u":{"dtype":"U8","shape":[1],"data_offsets":[55,56]},' +
    '"b":{"dtype":"BOOL","shape":[2],"data_offsets":[56,58]}}     '; // trailing spaces: allowed padding
  const buffer = [
    0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00, 0x00, 0x80, 0x00, 0x7c,
    0x80, 0x3f, 0xa0, 0xc0,
    0x00, 0x00, 0xc0, 0x3f,
    0, 0, 0, 0, 0, 0, 0x04, 0xc0,
    0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 1, 0, 0,
    0xff, 0xff, 0xff, 0xff, 2, 1, 0, 0,
    0xfe, 0xff,
    0x80,
    200,
    1, 0,
  ];

  test('values match the hand-computed ones', () => {
    const f = parseSafetensors(build(header, buffer), 'hand.safetensors');
    assert.deepEqual(f.metadata, { format: 'pt' });
    assert.deepEqual(f.names(), ['h', 'bf', 'f', 'd', 'l', 'i', 's', 'c', 'u', 'b']);
    const h = f.get('h');
    assert.equal(h.dtype, 'float32');
    assert.deepEqual(h.shape, [2, 3]);
    assert.deepEqual([...h.f32], [1, -2, 65504, 2 ** -24, -0, Infinity]);
    assert.ok(Object.is(h.f32[4], -0));
    assert.deepEqual([...f.get('bf').f32], [1, -5]);
    assert.deepEqual([...f.get('f').f32], [1.5]);
    assert.deepEqual([...f.get('d').f32], [-2.5]);
    assert.deepEqual([...f.get('l').data], [-2n, 2n ** 40n]);
    assert.equal(f.get('l').dtype, 'int64');
    assert.deepEqual([...f.get('i').data], [-1, 258]);
    assert.deepEqual([f.get('s').dtype, ...f.get('s').data], ['int32', -2]);
    assert.deepEqual([f.get('c').dtype, ...f.get('c').data], ['int8', -128]);
    assert.deepEqual([f.get('u').dtype, ...f.get('u').data], ['uint8', 200]);
    assert.deepEqual([f.get('b').dtype, ...f.get('b').data], ['bool', 1, 0]);
  });

  test('a file not at offset 0 of its ArrayBuffer parses too', () => {
    const bytes = build(header, buffer);
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    assert.deepEqual([...parseSafetensors(big.subarray(3)).get('l').data], [-2n, 2n ** 40n]);
  });
});

describe('malformed files are rejected with a message naming the file and the problem', () => {
  test('shorter than 8 bytes', () => rejects(new Uint8Array(5), /file is 5 bytes, shorter than the 8-byte header length/));
  test('header length beyond the file', () => rejects(build('{}', [], 100n), /header length 100 is larger than the 2 bytes that follow/));
  test('absurd header length', () => rejects(build('{}', [], 2n ** 40n), /header length 1099511627776 is absurd \(over 100000000 bytes\)/));
  test('header not UTF-8', () => rejects(build(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), /header \(4 bytes\) is not valid UTF-8/));
  test('header not JSON', () => rejects(build('{"a": '), /header is not valid JSON .*starts with "\{\\"a\\": "/));
  test('header not an object', () => {
    rejects(build('[1,2]'), /header is an array; expected a JSON object/);
    rejects(build('null'), /header is null; expected a JSON object/);
  });
  test('entry not an object', () => rejects(build({ a: 5 }), /tensor 'a' has entry 5; expected an object \{dtype, shape, data_offsets\}/));
  test('entry missing a field', () => {
    rejects(build({ a: { shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0]), /tensor 'a' is missing 'dtype'/);
    rejects(build({ a: { dtype: 'F32', data_offsets: [0, 4] } }, [0, 0, 0, 0]), /tensor 'a' is missing 'shape'/);
    rejects(build({ a: { dtype: 'F32', shape: [1] } }, [0, 0, 0, 0]), /tensor 'a' is missing 'data_offsets'/);
  });
  test('fields of the wrong type', () => {
    rejects(build({ a: { dtype: 5, shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0]), /tensor 'a' has dtype 5; expected a string/);
    rejects(build({ a: { dtype: 'F32', shape: '1', data_offsets: [0, 4] } }, [0, 0, 0, 0]), /tensor 'a' has shape "1"; expected an array/);
    rejects(build({ a: { dtype: 'F32', shape: [1], data_offsets: [4] } }, [0, 0, 0, 0]), /tensor 'a' has data_offsets \[4\]; expected \[begin, end\]/);
    rejects(build({ a: { dtype: 'F32', shape: [1], data_offsets: [0, '4'] } }, [0, 0, 0, 0]), /data_offsets \[0,"4"\]; expected \[begin, end\], two non-negative integers/);
  });
  test('unknown dtype lists the valid ones', () =>
    rejects(build({ a: { dtype: 'F128', shape: [1], data_offsets: [0, 16] } }, new Uint8Array(16)), /unknown dtype "F128"; valid: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL/));
  test('negative or fractional dimensions', () => {
    rejects(build({ a: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 0] } }), /dimension -1 in shape \[2,-1\]; dimensions must be non-negative integers/);
    rejects(build({ a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 0] } }), /dimension 1\.5 in shape/);
  });
  test('offsets out of the buffer', () => {
    rejects(build({ a: f32([25], 0) }, new Uint8Array(4)), /tensor 'a' has data_offsets \[0, 100\] out of range; expected begin <= end <= 4/);
    rejects(build({ a: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, new Uint8Array(4)), /data_offsets \[4, 0\] out of range/);
  });
  test('overlapping tensors', () =>
    rejects(build({ a: f32([1], 0), b: f32([1], 4), c: f32([1], 6) }, new Uint8Array(12)), /tensor 'c' data_offsets \[6, 10\] overlap tensor 'b' \(ends at 8\)/));
  test('a gap between tensors', () => rejects(build({ a: f32([1], 0), b: f32([1], 6) }, new Uint8Array(10)), /gap in the buffer: bytes 4\.\.6 belong to no tensor \(before 'b'\)/));
  test('a buffer not fully covered', () => rejects(build({ a: f32([1], 0) }, new Uint8Array(8)), /tensors cover 4 bytes but the buffer holds 8/));
  test('a buffer that does not start at offset 0', () => rejects(build({ a: f32([1], 4) }, new Uint8Array(8)), /gap in the buffer: bytes 0\.\.4/));
  test('size not matching shape x itemsize', () =>
    rejects(build({ a: { dtype: 'BF16', shape: [3], data_offsets: [0, 4] } }, new Uint8Array(4)), /tensor 'a' spans 4 bytes but shape \[3\] of BF16 needs 6 \(3 x 2 bytes\)/));
  test('metadata values not strings', () => {
    rejects(build({ __metadata__: { epoch: 3 } }), /__metadata__ value for 'epoch' is 3; expected a string/);
    rejects(build({ __metadata__: ['x'] }), /__metadata__ is \["x"\]; expected an object of string values/);
  });
});

describe('tensor lookup', () => {
  const names = ['encoder.layer1.weight', 'encoder.layer1.bias', 'encoder.layer2.weight', 'decoder.head.weight', ...Array.from({ length: 20 }, (_, i) => `other.${i}`)];
  const f = parseSafetensors(serializeSafetensors(Object.fromEntries(names.map((n) => [n, HostTensor.zeros([1])]))), 'model.safetensors');

  test('an unknown name lists the nearest existing names', () => {
    assert.throws(
      () => f.get('encoder.layer1.weights'),
      (e: Error) => {
        assert.match(e.message, /^model\.safetensors: no tensor named 'encoder\.layer1\.weights' \(the file has 24\); nearest: 'encoder\.layer1\.weight', /);
        const listed = e.message.split('nearest: ')[1]!.split(', ');
        assert.equal(listed.length, 10);
        assert.ok(listed.includes("'encoder.layer2.weight'") && listed.includes("'encoder.layer1.bias'"));
        return true;
      },
    );
    assert.throws(() => f.info('nope'), /model\.safetensors: no tensor named 'nope'/);
    assert.equal(f.has('encoder.layer1.bias'), true);
    assert.equal(f.has('nope'), false);
  });

  test('a dtype valid in the format but not loadable parses, and fails only on get', () => {
    const g = parseSafetensors(build({ a: { dtype: 'U16', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)), 'u16.safetensors');
    assert.deepEqual(g.info('a'), { dtype: 'U16', shape: [2] });
    assert.throws(() => g.get('a'), /^Error: u16\.safetensors: tensor 'a' has dtype U16, which segkit cannot load/);
  });
});

describe('half precision', () => {
  test('f32ToF16 rounds to nearest even and overflows at 65520', () => {
    const cases: [number, number][] = [
      [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [0.1, 0x2e66], [-0, 0x8000], [0, 0],
      [65519.99, 0x7bff], // just below the 65504/65536 midpoint: stays finite
      [65520, 0x7c00], [-65520, 0xfc00], [1e10, 0x7c00], [Infinity, 0x7c00], [-Infinity, 0xfc00],
      [1 + 2 ** -11, 0x3c00], // halfway between 0x3C00 and 0x3C01: to the even one
      [1 + 3 * 2 ** -11, 0x3c02], // halfway between 0x3C01 and 0x3C02: to the even one
      [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above halfway: up
      [2 ** -24, 0x0001], [2 ** -25, 0], [1.5 * 2 ** -25, 0x0001], [3 * 2 ** -25, 0x0002], // subnormals
      [2 ** -14 - 2 ** -25, 0x0400], // halfway between the largest subnormal and the smallest normal
      [2 ** -30, 0], [-(2 ** -30), 0x8000],
    ];
    for (const [x, bits] of cases) assert.equal(f32ToF16(x), bits, `f32ToF16(${x}) = 0x${f32ToF16(x).toString(16)}`);
    const nan = f32ToF16(NaN);
    assert.ok((nan & 0x7c00) === 0x7c00 && (nan & 0x3ff) !== 0, 'NaN stays NaN');
  });

  test('f16ToF32 decodes every class, and every non-NaN half survives a round trip', () => {
    assert.equal(f16ToF32(0x0001), 2 ** -24);
    assert.equal(f16ToF32(0x03ff), 1023 * 2 ** -24);
    assert.equal(f16ToF32(0x0400), 2 ** -14);
    assert.equal(f16ToF32(0x7c00), Infinity);
    assert.equal(f16ToF32(0xfc00), -Infinity);
    assert.ok(Number.isNaN(f16ToF32(0x7e00)));
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && h & 0x3ff) continue;
      if (f32ToF16(f16ToF32(h)) !== h) assert.fail(`0x${h.toString(16)} does not round-trip`);
    }
  });

  test('bf16ToF32', () => {
    assert.equal(bf16ToF32(0x3f80), 1);
    assert.equal(bf16ToF32(0xc0a0), -5);
    assert.equal(bf16ToF32(0x7f80), Infinity);
    assert.ok(Object.is(bf16ToF32(0x8000), -0));
  });
});

describe('files on disk', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'segkit-st-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('writeSafetensorsFile / readSafetensorsFile round trip, errors name the path', async () => {
    const p = join(dir, 'w.safetensors');
    await writeSafetensorsFile(p, { a: HostTensor.fromArray([1, 2, 3], [3]) }, { epoch: '3' });
    const f = await readSafetensorsFile(p);
    assert.deepEqual([...f.get('a').f32], [1, 2, 3]);
    assert.deepEqual(f.metadata, { epoch: '3' });
    assert.throws(() => f.get('b'), new RegExp(`^Error: ${p.replace(/[.\\]/g, '\\$&')}: no tensor named 'b'`));
    await assert.rejects(readSafetensorsFile(join(dir, 'missing.safetensors')), /missing\.safetensors: cannot read safetensors file: ENOENT/);
    await writeFile(join(dir, 'junk.bin'), 'hello, world');
    await assert.rejects(readSafetensorsFile(join(dir, 'junk.bin')), /junk\.bin: header length \d+ is absurd/);
    assert.deepEqual(await readdir(dir), ['junk.bin', 'w.safetensors']);
  });

  test('writeFileAtomic replaces the file, keeps its permissions and leaves no temp files', async () => {
    const d = await mkdtemp(join(dir, 'ok-'));
    const p = join(d, 'target.txt');
    await writeFileAtomic(p, 'first');
    await chmod(p, 0o640);
    await writeFileAtomic(p, new TextEncoder().encode('second'));
    assert.equal(await readFile(p, 'utf8'), 'second');
    if (process.platform !== 'win32') assert.equal((await stat(p)).mode & 0o777, 0o640);
    assert.deepEqual(await readdir(d), ['target.txt']);
  });

  test('writeFileAtomic: a write that fails midway (file size limit, EFBIG) leaves the old file intact', async (t) => {
    if (process.platform === 'win32') return t.skip('needs a POSIX shell for ulimit -f');
    const d = await mkdtemp(join(dir, 'efbig-'));
    const p = join(d, 'target.bin');
    await writeFile(p, 'old contents');
    // A child process with a 1-block (512 B) file size limit: writing 1 MB gets EFBIG from the kernel
    // after the temp file exists and part of the data is on disk: a real mid-write failure.
    const mod = new URL('../../src/io/atomic-file.ts', import.meta.url).href;
    const script = `import { writeFileAtomic } from ${JSON.stringify(mod)};
      try { await writeFileAtomic(process.env.TARGET, new Uint8Array(1 << 20)); console.log('wrote'); }
      catch (e) { console.log('failed:', e.code); }`;
    const r = spawnSync('sh', ['-c', 'ulimit -f 1 && exec "$0" --import tsx --input-type=module -e "$1"', process.execPath, script], {
      cwd: REPO,
      env: { ...process.env, TARGET: p },
      encoding: 'utf8',
    });
    assert.equal(r.stdout.trim(), 'failed: EFBIG', `child stdout: ${r.stdout} stderr: ${r.stderr}`);
    assert.equal(await readFile(p, 'utf8'), 'old contents');
    assert.deepEqual(await readdir(d), ['target.bin'], 'no temp file left behind');
  });

  test('writeFileAtomic: a failing rename (target is a non-empty directory) cleans up and leaves the target', async () => {
    const d = await mkdtemp(join(dir, 'rename-'));
    const p = join(d, 'target');
    await mkdir(p);
    await writeFile(join(p, 'keep.txt'), 'kept');
    await assert.rejects(writeFileAtomic(p, 'data'), (e: NodeJS.ErrnoException) => ['EISDIR', 'ENOTEMPTY', 'EEXIST', 'EPERM'].includes(e.code ?? ''));
    assert.deepEqual(await readdir(d), ['target']);
    assert.equal(await readFile(join(p, 'keep.txt'), 'utf8'), 'kept');
  });

  test('writeFileAtomic into a directory that does not exist fails without creating anything', async () => {
    await assert.rejects(writeFileAtomic(join(dir, 'gone', 'x.bin'), 'data'), /ENOENT/);
    assert.equal(existsSync(join(dir, 'gone')), false);
  });
});

// ---------------------------------------------------------------------------------------------
// Interop with PyTorch: Python writes a file by hand (struct + json; the safetensors package is not
// needed) from torch tensors, and reads back one segkit wrote.

const PY_SCRIPT = String.raw`
import json, struct, sys, torch
DT = {torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.float64: 'F64', torch.int64: 'I64',
      torch.int32: 'I32', torch.int16: 'I16', torch.int8: 'I8', torch.uint8: 'U8', torch.bool: 'BOOL'}
TD = {v: k for k, v in DT.items()}

def raw(t):  # the tensor's bytes in host order (little-endian wherever torch runs)
    t = t.contiguous().reshape(-1)
    return bytes((t.to(torch.uint8) if t.dtype == torch.bool else t).view(torch.uint8).tolist())

def describe(t, dtype):  # values as strings: exact for floats (repr) and for int64 beyond 2^53
    vals = t.reshape(-1).tolist()
    return {'dtype': dtype, 'shape': list(t.shape), 'values': [repr(float(v)) if t.is_floating_point() else str(int(v)) for v in vals]}

def write(path):
    torch.manual_seed(0)
    src = torch.randn(4000) * torch.pow(2.0, torch.randint(-28, 17, (4000,)).float())  # halves' whole range
    ts = {
        'u8': torch.tensor([0, 7, 255], dtype=torch.uint8),  # 3 bytes first: later tensors start unaligned
        'f32': torch.randn(2, 3),
        'f16': torch.cat([torch.tensor([1.0, -2.0, 65504.0, 2.0 ** -24, float('inf'), -0.0]), torch.randn(6) * 10]).to(torch.float16),
        'bf16': (torch.randn(3, 2) * 1000).to(torch.bfloat16),
        'f64': torch.randn(4, dtype=torch.float64),
        'i64': torch.tensor([-(2 ** 62) - 3, 0, 2 ** 40 + 1], dtype=torch.int64),
        'i32': torch.tensor([[-(2 ** 31), 5], [2 ** 31 - 1, -7]], dtype=torch.int32),
        'i16': torch.tensor([-32768, 1, 32767], dtype=torch.int16),
        'i8': torch.tensor([-128, 0, 127], dtype=torch.int8),
        'bool': torch.tensor([True, False, True]),
        'empty': torch.zeros(0, 3),
        'scalar': torch.tensor(3.5),
        'round_src': src, 'round_f16': src.to(torch.float16),  # torch's float32 -> float16 rounding
    }
    header, blobs, pos = {'__metadata__': {'format': 'pt'}}, [], 0
    for name, t in ts.items():
        b = raw(t)
        header[name] = {'dtype': DT[t.dtype], 'shape': list(t.shape), 'data_offsets': [pos, pos + len(b)]}
        blobs.append(b)
        pos += len(b)
    h = json.dumps(header).encode('utf-8')
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))
    return {name: describe(t, DT[t.dtype]) for name, t in ts.items()}

def read(path):
    data = open(path, 'rb').read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n].decode('utf-8'))
    out = {'header_len': n, 'metadata': header.pop('__metadata__', {}), 'tensors': {}}
    for name, e in header.items():
        b, end = e['data_offsets']
        dt = TD[e['dtype']]
        t = torch.frombuffer(bytearray(data[8 + n + b:8 + n + end]), dtype=dt) if end > b else torch.empty(0, dtype=dt)
        out['tensors'][name] = describe(t.reshape(e['shape']), e['dtype'])
    return out

print(json.dumps(write(sys.argv[2]) if sys.argv[1] == 'write' else read(sys.argv[2])))
`;

interface PyTensor {
  dtype: string;
  shape: number[];
  values: string[];
}

const parseFloatStr = (s: string): number => (s === 'inf' ? Infinity : s === '-inf' ? -Infinity : s === 'nan' ? NaN : Number(s));

function assertMatchesPython(got: HostTensor, want: PyTensor, name: string): void {
  assert.deepEqual(got.shape, want.shape, name);
  const floats = ['F32', 'F16', 'BF16', 'F64'].includes(want.dtype);
  const expected = want.values.map((s) => (floats ? Math.fround(parseFloatStr(s)) : want.dtype === 'I64' ? BigInt(s) : Number(s)));
  assert.deepEqual([...got.data], expected, name);
}

test('interop with PyTorch (hand-written safetensors both ways)', async (t) => {
  const py = findTorchPython();
  if (typeof py === 'string') return t.skip(`python3 with torch is not available (${py})`);
  const dir = await mkdtemp(join(tmpdir(), 'segkit-st-torch-'));
  try {
    const script = join(dir, 'st.py');
    await writeFile(script, PY_SCRIPT);
    const run = (...args: string[]) => {
      const r = spawnSync(py.python, [script, ...args], { env: py.env, encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, `python failed: ${r.stderr}`);
      return JSON.parse(r.stdout) as unknown;
    };

    // Python -> segkit
    const fromPy = join(dir, 'from_torch.safetensors');
    const want = run('write', fromPy) as Record<string, PyTensor>;
    const f = await readSafetensorsFile(fromPy);
    assert.deepEqual(f.metadata, { format: 'pt' });
    assert.deepEqual(f.names(), Object.keys(want));
    for (const [name, w] of Object.entries(want)) {
      assert.equal(f.info(name).dtype, w.dtype, name);
      assertMatchesPython(f.get(name), w, name);
    }
    // f32ToF16 agrees bit for bit with torch's float32 -> float16 conversion.
    const src = f.get('round_src').f32;
    const torchBits = new Uint16Array(f.raw('round_f16').slice().buffer);
    const mismatch = [...src].findIndex((x, i) => f32ToF16(x) !== torchBits[i]);
    assert.equal(mismatch, -1, `f32ToF16(${src[mismatch]}) != torch's 0x${torchBits[mismatch]?.toString(16)}`);

    // segkit -> Python
    const toPy = join(dir, 'from_segkit.safetensors');
    const mine = {
      f32: new HostTensor(new Float32Array([1.5, -0.25, 3e-8, 65504]), [2, 2]),
      f16: new HostTensor(new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001]), [4], 'float16'),
      i64: new HostTensor(new BigInt64Array([-(2n ** 62n) - 3n, 7n]), [2], 'int64'),
      i32: new HostTensor(new Int32Array([-5, 6]), [2], 'int32'),
      u8: new HostTensor(new Uint8Array([255]), [1], 'uint8'),
      i8: new HostTensor(new Int8Array([-128]), [1], 'int8'),
      bool: new HostTensor(new Uint8Array([1, 0]), [2], 'bool'),
    };
    await writeSafetensorsFile(toPy, mine, { source: 'segkit' });
    const back = run('read', toPy) as { header_len: number; metadata: Record<string, string>; tensors: Record<string, PyTensor> };
    assert.equal(back.header_len % 8, 0);
    assert.deepEqual(back.metadata, { source: 'segkit' });
    const g = await readSafetensorsFile(toPy);
    for (const name of Object.keys(mine)) assertMatchesPython(g.get(name), back.tensors[name]!, name);
    assert.deepEqual(back.tensors.f16!.values.map(Number), [1, -2, 65504, 2 ** -24]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
