// PyTorch checkpoints: files torch.save wrote (ZIP and legacy formats, pickle protocols 1-5, deflated,
// big-endian) load with exactly torch's values for every dtype, view and shared storage; a torchvision
// ResNet-18 checkpoint reproduces torchvision's output in segkit's ResNet; crafted, truncated and
// corrupted files are refused with a CheckpointError.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import { CheckpointError } from '../../src/io/checkpoint-error.js';
import { pyKind, unpickle } from '../../src/io/pickle.js';
import { extractStateDict, loadTorchCheckpoint, type TorchLoadOptions } from '../../src/io/pth.js';
import { readStateDictFile, readTorchCheckpoint } from '../../src/io/pth-node.js';
import { readSafetensorsFile } from '../../src/io/safetensors-node.js';
import { serializeSafetensors } from '../../src/io/safetensors.js';
import { ResNet } from '../../src/models/backbones/resnet.js';
import { compileModule } from '../../src/nn/compile.js';
import { findTorchPython } from '../parity/python.js';
import { buildZip, bytes, str, tensorPickle, torchZip, u64 } from './builders.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'pth');
const GEN = join(FIXTURES, 'gen.py');

interface Expected {
  dtype: string;
  shape: number[];
  hex: string;
}

function sameTensor(t: unknown, want: Expected, what: string): void {
  assert.ok(t instanceof HostTensor, `${what} is not a HostTensor`);
  assert.equal(t.dtype, want.dtype, what);
  assert.deepEqual(t.shape, want.shape, what);
  assert.equal(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex'), want.hex, `${what}: values differ`);
}

/** Every tensor equal to torch's, bit for bit, plus the non-tensor values of the fixture. */
function checkFixture(obj: unknown, expected: Record<string, Expected>, what: string): void {
  const o = obj as { tensors: Record<string, HostTensor>; meta: Record<string, unknown> };
  assert.deepEqual(Object.keys(o.tensors), Object.keys(expected).sort((a, b) => Object.keys(o.tensors).indexOf(a) - Object.keys(o.tensors).indexOf(b)));
  assert.deepEqual(new Set(Object.keys(o.tensors)), new Set(Object.keys(expected)), what);
  for (const [k, want] of Object.entries(expected)) sameTensor(o.tensors[k], want, `${what}: ${k}`);
  assert.equal(o.tensors.tied, o.tensors.base, `${what}: a tensor saved twice is one HostTensor`);
  const m = o.meta;
  assert.equal(m.epoch, 7);
  assert.equal(m.lr, 0.125);
  assert.equal(m.name, 'ünïcode ✓');
  assert.deepEqual(m.flags, [true, false, null]);
  assert.equal(m.big, 2n ** 70n);
  assert.equal(m.neg, -(2 ** 40));
  assert.deepEqual(m.pair, [1, 'a']);
  assert.equal(pyKind(m.pair), 'tuple');
  assert.deepEqual(m.blob, Uint8Array.from([0, 1, 255]));
  assert.deepEqual(m.sizes, [2, 3]);
}

/** `p` rejects with a CheckpointError for `file` whose message matches `re` (and is not an unchecked failure). */
async function refuses(p: Promise<unknown>, re: RegExp, file = 'bad.pth'): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof CheckpointError, `expected a CheckpointError, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    assert.ok(e.message.startsWith(`${file}: `), e.message);
    assert.doesNotMatch(e.message, /unexpected \w+ while reading/);
    assert.match(e.message, re);
    return true;
  });
}
const load = (b: Uint8Array, o?: TorchLoadOptions) => loadTorchCheckpoint(b, 'bad.pth', o);

describe('checkpoints committed as fixtures (no torch needed)', () => {
  const expected = JSON.parse(readFileSync(join(FIXTURES, 'tiny-expected.json'), 'utf8'));
  for (const name of ['tiny-zip.pth', 'tiny-legacy.pth']) {
    test(`${name}: every dtype, view and value as torch saved it`, async () => {
      const ck = await readTorchCheckpoint(join(FIXTURES, name));
      assert.equal(ck.format, name.includes('zip') ? 'zip' : 'legacy');
      checkFixture(ck.object, expected, name);
      assert.deepEqual(ck.notes.sort(), [
        '1 bfloat16 tensor(s) converted to float32 (exact)',
        '1 float64 tensor(s) converted to float32 (HostTensor has no float64; values rounded to nearest)',
        '1 int16 tensor(s) widened to int32 (exact)',
      ]);
    });
  }

  for (const name of ['tiny-zip.pth', 'tiny-legacy.pth']) {
    test(`${name} cut short anywhere: a CheckpointError, never a hang or another error`, async () => {
      const b = new Uint8Array(readFileSync(join(FIXTURES, name)));
      const t0 = performance.now();
      for (let n = 0; n < b.length; n += n > b.length - 300 ? 1 : 3) await refuses(load(b.subarray(0, n)), /./);
      assert.ok(performance.now() - t0 < 30_000);
    });
  }

  test('random corruption of the pickles: the object or a CheckpointError', async () => {
    for (const name of ['tiny-zip.pth', 'tiny-legacy.pth']) {
      const good = new Uint8Array(readFileSync(join(FIXTURES, name)));
      // The pickles: data.pkl starts after its 30-byte header, name and padding; legacy pickles start the file.
      const start = name.includes('zip') ? good.indexOf(0x80) : 0;
      const len = name.includes('zip') ? 1500 : 2000;
      let seed = 99;
      const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
      for (let i = 0; i < 400; i++) {
        const b = good.slice();
        for (let k = 1 + rand(2); k > 0; k--) b[start + rand(len)] = rand(256);
        try {
          await load(b, { verifyCrc: false });
        } catch (e) {
          assert.ok(e instanceof CheckpointError, `${name} mutation ${i}: ${(e as Error).name}: ${(e as Error).message}`);
          assert.doesNotMatch(e.message, /unexpected \w+ while reading/, `${name} mutation ${i}`);
        }
      }
    }
  });
});

describe('checkpoints written by torch.save now', () => {
  const py = findTorchPython();
  const skip = typeof py === 'string' ? `python3 with torch is not available (${py})` : false;
  let dir = '';
  before(async () => {
    if (skip || typeof py === 'string') return;
    dir = await mkdtemp(join(tmpdir(), 'segkit-pth-'));
    const r = spawnSync(py.python, [GEN, 'tensors', dir], { env: py.env, encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => dir && rm(dir, { recursive: true, force: true }));

  const files = ['zip-p1', 'zip-p2', 'zip-p4', 'zip-p5', 'legacy-p1', 'legacy-p2', 'legacy-p4', 'legacy-p5', 'zip-bigendian', 'zip-deflated'];
  for (const name of files) {
    test(`${name}.pth: exactly torch's values for every dtype, views, shared and 0-d tensors`, { skip }, async () => {
      const ck = await readTorchCheckpoint(join(dir, `${name}.pth`));
      checkFixture(ck.object, JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')), name);
      const t = (ck.object as { tensors: Record<string, HostTensor> }).tensors;
      assert.deepEqual(t.scalar_view!.shape, []);
      assert.equal(t.param!.dtype, 'float32', 'an nn.Parameter is a tensor');
    });
  }

  test('a torchvision ResNet-18 checkpoint (DataParallel keys in a training wrapper) reproduces torchvision in segkit', { skip }, async () => {
    const d = await mkdtemp(join(tmpdir(), 'segkit-pth-resnet-'));
    try {
      const r = spawnSync((py as { python: string }).python, [GEN, 'resnet', d], { env: (py as { env: NodeJS.ProcessEnv }).env, encoding: 'utf8', timeout: 300_000 });
      assert.equal(r.status, 0, r.stderr);
      const ck = await readTorchCheckpoint(join(d, 'resnet18.pth'));
      const sd = extractStateDict(ck.object, 'resnet18.pth');
      assert.deepEqual(sd.path, ['state_dict']);
      assert.deepEqual(sd.ignored, ['epoch', 'optimizer']);
      assert.equal(sd.strippedPrefix, 'module.');
      const net = new ResNet(18, { numClasses: 10 });
      net.loadStateDict(sd.tensors); // strict: every key and shape matches
      net.eval();
      const io = await readSafetensorsFile(join(d, 'io.safetensors'));
      const f = compileModule(net, { runtime: nodeRuntime });
      const y = (await f.run(io.get('x'))) as HostTensor;
      await f.dispose();
      const want = io.get('y');
      assert.deepEqual(y.shape, want.shape);
      let maxAbs = 0;
      let scale = 0;
      for (let i = 0; i < want.size; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(y.f32[i]! - want.f32[i]!));
        scale = Math.max(scale, Math.abs(want.f32[i]!));
      }
      console.log(`ResNet-18 from torch.save: max |segkit - torchvision| = ${maxAbs.toExponential(2)} (output scale ${scale.toFixed(2)})`);
      assert.ok(maxAbs / scale <= 1e-4, `relative error ${maxAbs / scale}`);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });
});

describe('crafted checkpoints', () => {
  const f32 = (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer);
  const view = (o: Parameters<typeof tensorPickle>[0], storages: Record<string, Uint8Array> = { 0: f32(1, 2, 3, 4, 5, 6) }) => torchZip(tensorPickle(o), storages);

  test('a hand-made checkpoint loads (the crafting itself is right)', async () => {
    const ck = await load(await view({ numel: 6, offset: 1, size: [2, 2], stride: [1, 2] }));
    const w = (ck.object as Record<string, HostTensor>).w!;
    assert.deepEqual(w.shape, [2, 2]);
    assert.deepEqual([...w.f32], [2, 4, 3, 5]);
  });

  test('pickled code is refused by name, with the file and the place in it', async () => {
    const evil = await torchZip(bytes(0x80, 2, 'cposix\nsystem\n', '(', str('echo pwned'), 't', 'R', '.'));
    await refuses(load(evil), /^bad\.pth: archive\/data\.pkl, byte 2 \(pickle opcode GLOBAL\): global 'posix\.system' is not allowed/);
    const model = await torchZip(bytes(0x80, 2, 'ctorch.nn.modules.linear\nLinear\n', ')', 0x81, '.'));
    await refuses(load(model), /global 'torch\.nn\.modules\.linear\.Linear' is not allowed.*whole model saved with torch\.save\(model\)\); in Python, save model\.state_dict\(\) instead/);
    const q = await torchZip(bytes(0x80, 2, 'ctorch._utils\n_rebuild_qtensor\n', '.'));
    await refuses(load(q), /'torch\._utils\._rebuild_qtensor' is not allowed.*quantized, sparse/);
    // Legacy files are checked the same way, from their first pickle on.
    await refuses(load(bytes(0x80, 2, 'cos\nsystem\n', '.')), /not a PyTorch checkpoint.*global 'os\.system' is not allowed/);
  });

  test('storages and views that do not fit are refused before anything is allocated', async () => {
    await refuses(load(await view({ numel: 1e15, size: [6], stride: [1] })), /storage '0' should hold 1000000000000000 float32 elements \(4000000000000000 bytes\) but archive\/data\/0 has 24 bytes/);
    await refuses(load(await view({ numel: 6, size: [10], stride: [1] })), /tensor of size \[10\], stride \[1\] at offset 0 reaches element 9 of storage '0', which has 6 float32 elements/);
    await refuses(load(await view({ numel: 6, offset: 5, size: [2], stride: [1] })), /reaches element 6 of storage '0'/);
    await refuses(load(await view({ numel: 6, size: [2, 3], stride: [3, 1], key: '7' })), /storage '7' has no entry archive\/data\/7 in the archive/);
    await refuses(load(await view({ numel: 6, size: [2, 3], stride: [3] })), /size \[2, 3\] and stride \[3\] differ in rank/);
    // An expanded view: one element shown 10^11 times.
    const t0 = performance.now();
    await refuses(load(await view({ numel: 1, size: [100000, 100000, 10], stride: [0, 0, 0] }, { 0: f32(1) })), /the tensors would take more than \d+ bytes \(limit: maxTensorBytes\)/);
    await refuses(load(await view({ numel: 1, size: [2 ** 30, 2 ** 30, 2 ** 30], stride: [0, 0, 0] }, { 0: f32(1) })), /absurdly large/);
    assert.ok(performance.now() - t0 < 1000);
    await refuses(load(await view({ numel: 6, size: [6], stride: [1], storage: 'ComplexFloatStorage' }, { 0: new Uint8Array(48) })), /a tensor of dtype complex64 is not supported; segkit reads float32, float64/);
    await refuses(load(await view({ numel: 6, size: [6], stride: [1], storage: 'NotAStorage' })), /global 'torch\.NotAStorage' is not allowed/);
  });

  test('archives that are not plain checkpoints are named for what they are', async () => {
    await refuses(load(await buildZip([{ name: 'x/data.pkl', data: bytes('N.') }, { name: 'x/constants.pkl', data: bytes('N.') }])), /TorchScript archive \(torch\.jit\.save\)/);
    await refuses(load(await buildZip([{ name: 'readme.txt', data: 'hi' }])), /is a ZIP archive without <archive>\/data\.pkl, so not a PyTorch checkpoint \(entries: 'readme\.txt'\)/);
    await refuses(load(bytes('hello, world')), /is not a PyTorch checkpoint: neither a ZIP archive \(torch >= 1\.6\) nor a legacy pickle stream/);
    await refuses(load(bytes(0x80, 2, '}', '.')), /is not a PyTorch checkpoint: it is a pickle of dict of 0 items, not torch's magic number/);
    await refuses(load(new Uint8Array(0)), /the file is empty/);
    await refuses(load(await torchZip(bytes(0x80, 2, '(', str('module'), str('x'), str('y'), 'K', 0, 'K', 0, 't', 'Q', '.'))), /pickles Python source code/);
    const be = await torchZip(tensorPickle({ numel: 1, size: [], stride: [] }), { 0: f32(1) }, [{ name: 'archive/byteorder', data: 'middle' }]);
    await refuses(load(be), /archive\/byteorder says 'middle'; expected 'little' or 'big'/);
  });

  /** A legacy-format file: magic, protocol, sys_info, the object pickle, the key list, then storages. */
  function legacy(obj: Uint8Array, storages: [string, number, Uint8Array][], little = true): Uint8Array {
    const count = (n: number) => {
      const b = u64(n);
      return little ? b : b.reverse();
    };
    return bytes(
      0x80, 2, 0x8a, 10, [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19], '.',
      0x80, 2, 'M', [0xe9, 0x03], '.',
      0x80, 2, '}', str('little_endian'), little ? 0x88 : 0x89, 's', '.',
      obj,
      0x80, 2, ']', '(', ...storages.map(([k]) => str(k)), 'e', '.',
      ...storages.flatMap(([, n, d]) => [count(n), d]),
    );
  }

  test('legacy format: values, big-endian files, and storages that lie about their size', async () => {
    const ok = await load(legacy(tensorPickle({ numel: 3, size: [3], stride: [1] }), [['0', 3, f32(1, 2, 3)]]));
    assert.equal(ok.format, 'legacy');
    assert.deepEqual([...(ok.object as Record<string, HostTensor>).w!.f32], [1, 2, 3]);
    const beData = new Uint8Array(12);
    [1, 2, 3].forEach((v, i) => new DataView(beData.buffer).setFloat32(4 * i, v, false));
    const be = await load(legacy(tensorPickle({ numel: 3, size: [3], stride: [1] }), [['0', 3, beData]], false));
    assert.deepEqual([...(be.object as Record<string, HostTensor>).w!.f32], [1, 2, 3]);

    await refuses(load(legacy(tensorPickle({ numel: 1e15, size: [3], stride: [1] }), [['0', 3, f32(1, 2, 3)]])), /storage '0' claims 1000000000000000 float32 elements, more than the whole file holds/);
    await refuses(load(legacy(tensorPickle({ numel: 3, size: [3], stride: [1] }), [['0', 2, f32(1, 2)]])), /storage '0' at byte \d+ holds 2 elements but the pickle declared 3/);
    await refuses(load(legacy(tensorPickle({ numel: 3, size: [3], stride: [1] }), [['1', 3, f32(1, 2, 3)]])), /storage '1' \(at byte \d+\) is listed but no tensor declared it/);
    await refuses(load(legacy(tensorPickle({ numel: 3, size: [3], stride: [1] }), [])), /storage '0' is used by a tensor but missing from the storage list/);
    await refuses(load(legacy(tensorPickle({ numel: 3, size: [3], stride: [1] }), [['0', 3, f32(1, 2)]])), /storage '0' needs 12 bytes at byte \d+ but only 8 remain; the file is truncated/);
  });
});

describe('finding the state dict', () => {
  const dict = (o: Record<string, unknown>) => Object.assign(unpickle(bytes('}', '.'), { file: 'x' }).value as object, o);
  const t = () => HostTensor.zeros([1]);

  test('at the top level, under common wrapper keys, with a DataParallel prefix', () => {
    const w = t();
    assert.deepEqual(extractStateDict(dict({ a: w, b: w })), { tensors: { a: w, b: w }, path: [], dropped: [], ignored: [] });
    for (const key of ['state_dict', 'model_state_dict', 'model', 'module', 'net', 'params']) {
      const r = extractStateDict(dict({ epoch: 3, [key]: dict({ 'module.x': w, 'module.y': w }) }));
      assert.deepEqual(r.tensors, { x: w, y: w }, key);
      assert.deepEqual(r.path, [key]);
      assert.deepEqual(r.ignored, ['epoch']);
      assert.equal(r.strippedPrefix, 'module.');
    }
    const nested = extractStateDict(dict({ model: dict({ state_dict: dict({ x: w }), step: 1 }) }));
    assert.deepEqual(nested.path, ['model', 'state_dict']);
    assert.deepEqual(nested.ignored, ['model.step']);
    const partial = extractStateDict(dict({ 'module.x': w, y: w }));
    assert.equal(partial.strippedPrefix, undefined, "only a prefix on every key is DataParallel's");
  });

  test('non-tensor entries are dropped and reported; nothing found is an error listing the keys', () => {
    const r = extractStateDict(dict({ w: t(), version: 2, name: 'x' }));
    assert.deepEqual(Object.keys(r.tensors), ['w']);
    assert.deepEqual(r.dropped, ['version (int 2)', "name (str 'x')"]);
    assert.throws(() => extractStateDict(dict({ epoch: 1, optimizer: dict({}) }), 'ck.pth'), (e: Error) => e instanceof CheckpointError && /^ck\.pth: no state dict found: no tensors at this level and none of 'state_dict', .* holds any \(keys: 'epoch', 'optimizer'\)/.test(e.message));
    assert.throws(() => extractStateDict(t(), 'ck.pth'), /ck\.pth: holds a single tensor, not a dict of tensors/);
  });

  test('readStateDictFile tells .pth and .safetensors apart by content', async () => {
    const fixture = join(FIXTURES, 'tiny-zip.pth');
    await refuses(readStateDictFile(fixture), /no state dict found: .*\(keys: 'tensors', 'meta'\)/, fixture);
    const dir = await mkdtemp(join(tmpdir(), 'segkit-sd-'));
    try {
      const { writeFile } = await import('node:fs/promises');
      const p = join(dir, 'w.pth'); // a misleading extension
      await writeFile(p, serializeSafetensors({ a: HostTensor.fromArray([1, 2], [2]) }));
      const st = await readStateDictFile(p);
      assert.equal(st.format, 'safetensors');
      assert.deepEqual([...st.tensors.a!.f32], [1, 2]);
      await writeFile(p, 'neither');
      await refuses(readStateDictFile(p), /is neither a PyTorch checkpoint .* nor a safetensors file/, p);
      await refuses(readStateDictFile(join(dir, 'missing.pth')), /cannot open: ENOENT/, join(dir, 'missing.pth'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
