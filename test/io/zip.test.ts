// The ZIP reader: archives written by torch.save, Python's zipfile and by hand (ZIP64 fields, deflate,
// comments) read back exactly; broken, truncated and hostile archives give a CheckpointError naming
// the file and the entry.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CheckpointError } from '../../src/io/checkpoint-error.js';
import { bytesSource, crc32, ZipReader } from '../../src/io/zip.js';
import { buildZip, bytes, u16, u32, u64, type ZipInput } from './builders.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'pth');
const open = (b: Uint8Array) => ZipReader.open(bytesSource(b), 'a.zip');
const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function rejects(p: () => Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof CheckpointError, `expected a CheckpointError, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    assert.ok(e.message.startsWith('a.zip: '), e.message);
    assert.match(e.message, re);
    return true;
  });
}

/** Opens the archive and reads every entry. */
async function readAll(b: Uint8Array): Promise<Record<string, Uint8Array>> {
  const z = await open(b);
  const out: Record<string, Uint8Array> = {};
  for (const e of z.entries) out[e.name] = await z.read(e);
  return out;
}

const big = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 251);

describe('reading ZIP archives', () => {
  test('CRC-32 matches the standard check value', () => {
    assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
    assert.equal(crc32(new Uint8Array(0)), 0);
  });

  test('stored and deflated entries, with and without ZIP64 fields and a comment', async () => {
    const entries: ZipInput[] = [
      { name: 'a.txt', data: 'hello' },
      { name: 'dir/b.bin', data: big, deflate: true },
      { name: 'c.bin', data: big, zip64: true },
      { name: 'd.bin', data: big.subarray(0, 1000), deflate: true, zip64: true },
      { name: 'empty', data: '' },
      { name: 'ünï.txt', data: 'x' },
    ];
    for (const opts of [{}, { comment: 'a comment PK\x05\x06 with a fake signature' }, { zip64End: true }, { zip64End: true, saturate: true }]) {
      const all = await readAll(await buildZip(entries, opts));
      assert.deepEqual(Object.keys(all), entries.map((e) => e.name), JSON.stringify(opts));
      assert.equal(text(all['a.txt']!), 'hello');
      assert.deepEqual(all['dir/b.bin'], big);
      assert.deepEqual(all['c.bin'], big);
      assert.deepEqual(all['d.bin'], big.subarray(0, 1000));
      assert.equal(all.empty!.length, 0);
    }
  });

  test("an archive torch.save wrote (ZIP64 end records, aligned stored entries, data descriptors)", async () => {
    const b = new Uint8Array(readFileSync(join(FIXTURES, 'tiny-zip.pth')));
    const z = await ZipReader.open(bytesSource(b), 'tiny-zip.pth');
    assert.ok(z.entry('tiny-zip/data.pkl'));
    assert.equal(text(await z.read('tiny-zip/version')).trim(), '3');
    for (const e of z.entries) await z.read(e); // every CRC checks out
  });

  test("archives written by Python's zipfile (stored, deflated, forced ZIP64)", { skip: spawnSync('python3', ['-c', '1']).status === 0 ? false : 'python3 is not available' }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'segkit-zip-'));
    try {
      const path = join(dir, 'py.zip');
      const code = `import zipfile,sys
data = bytes((i * 7919) % 251 for i in range(70000))
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    z.writestr('stored', data, compress_type=zipfile.ZIP_STORED)
    z.writestr('deflated', data, compress_type=zipfile.ZIP_DEFLATED)
    with z.open('forced64', 'w', force_zip64=True) as f:
        f.write(data)
    z.comment = b'py'`;
      const r = spawnSync('python3', ['-c', code, path], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const all = await readAll(new Uint8Array(readFileSync(path)));
      for (const k of ['stored', 'deflated', 'forced64']) assert.deepEqual(all[k], big, k);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('broken and hostile ZIP archives', () => {
  const ok = () => buildZip([{ name: 'a', data: 'hello' }, { name: 'b', data: big, deflate: true }]);

  test('not a ZIP, or cut before the end record', async () => {
    await rejects(() => open(new Uint8Array(10)), /10 bytes is too short for a ZIP archive/);
    await rejects(() => open(new Uint8Array(100)), /no ZIP end-of-central-directory record/);
    const b = await ok();
    await rejects(() => open(b.subarray(0, b.length - 1)), /no ZIP end-of-central-directory record at the end of the file; the file is truncated/);
  });

  test('truncated at every byte: always a CheckpointError, on open or on read', async () => {
    for (const b of [await ok(), await buildZip([{ name: 'a', data: big.subarray(0, 300) }], { zip64End: true })]) {
      for (let n = 0; n < b.length; n++) {
        await assert.rejects(() => readAll(b.subarray(0, n)), (e: unknown) => e instanceof CheckpointError, `cut at ${n}`);
      }
    }
  });

  test('random corruption gives the data or a CheckpointError, never another exception', async () => {
    const good = await buildZip([{ name: 'a', data: 'hello' }, { name: 'b', data: big.subarray(0, 2000), deflate: true }, { name: 'c', data: 'x', zip64: true }], { zip64End: true });
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (let i = 0; i < 1500; i++) {
      const b = good.slice();
      // Mostly hit the headers (the last ~250 bytes are the central directory and end records).
      for (let k = 1 + rand(3); k > 0; k--) b[rand(3) ? b.length - 1 - rand(260) : rand(b.length)] = rand(256);
      try {
        await readAll(b);
      } catch (e) {
        assert.ok(e instanceof CheckpointError, `mutation ${i}: ${(e as Error).name}: ${(e as Error).message}`);
      }
    }
  });

  test('a corrupt entry fails its CRC check', async () => {
    const b = await buildZip([{ name: 'a', data: 'hello' }]);
    b[30 + 1 + 1] ^= 1; // a byte of the data, after the 30-byte header and the 1-byte name
    const z = await open(b);
    await rejects(() => z.read('a'), /entry 'a': CRC-32 mismatch \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\); the file is corrupt/);
    assert.equal(text(await z.read('a', { verify: false })), 'hdllo');
  });

  test('refused: encryption, unknown methods, duplicates, mismatched local names, multi-disk', async () => {
    await rejects(async () => open(await buildZip([{ name: 'a', data: 'x', flags: 1 }])), /entry 'a' is encrypted/);
    const z = await open(await buildZip([{ name: 'a', data: 'x', method: 12 }]));
    await rejects(() => z.read('a'), /entry 'a': compression method 12 is not supported/);
    await rejects(async () => open(await buildZip([{ name: 'a', data: 'x' }, { name: 'a', data: 'y' }])), /entry 'a' appears twice/);
    const z2 = await open(await buildZip([{ name: 'a', data: 'x', localName: 'b' }]));
    await rejects(() => z2.read('a'), /entry 'a': the local header names it 'b'/);
    const b = await buildZip([{ name: 'a', data: 'x' }]);
    b[b.length - 22 + 4] = 1; // end record: this disk's number
    await rejects(() => open(b), /multi-disk/);
    await rejects(async () => (await open(await buildZip([{ name: 'a', data: 'x' }]))).read('zz'), /no entry 'zz' in the archive/);
  });

  test('sizes and offsets out of range are refused before reading', async () => {
    // The end record claims a central directory larger than the file.
    const b = await buildZip([{ name: 'a', data: 'hello' }]);
    const v = new DataView(b.buffer);
    v.setUint32(b.length - 22 + 12, 0x7fffffff, true);
    await rejects(() => open(b), /central directory \(offset \d+, 2147483647 bytes\) runs past the end records/);
    // An entry claiming 2^52 bytes through its ZIP64 extra field.
    const e = await buildZip([{ name: 'a', data: 'hello', zip64: true }]);
    const cd = e.length - 22 - (46 + 1 + 28);
    new DataView(e.buffer).setBigUint64(cd + 46 + 1 + 4 + 8, 2n ** 52n, true);
    await rejects(() => open(e), /entry 'a' \(header at 0, 4503599627370496 bytes\) runs past the start of the central directory/);
    // A ZIP64 locator pointing past the file.
    const l = await buildZip([{ name: 'a', data: 'x' }], { zip64End: true });
    new DataView(l.buffer).setBigUint64(l.length - 22 - 20 + 8, 2n ** 40n, true);
    await rejects(() => open(l), /ZIP64 end record offset 1099511627776 is out of range/);
    // Sentinels in the end record with no ZIP64 records to resolve them.
    const s = bytes(u32(0x06054b50), u16(0), u16(0), u16(0xffff), u16(0xffff), u32(0xffffffff), u32(0xffffffff), u16(0));
    await rejects(() => open(s), /defers to ZIP64 fields but there is no ZIP64 locator/);
    // A u64 beyond 2^53.
    const h = await buildZip([{ name: 'a', data: 'x' }], { zip64End: true });
    const at = Number(new DataView(h.buffer).getBigUint64(h.length - 22 - 20 + 8, true));
    h.set(u64(2n ** 60n), at + 48);
    await rejects(() => open(h), /ZIP64 central directory offset 1152921504606846976 is beyond any file size/);
  });

  test('overlapping entries (a ZIP bomb technique) are refused', async () => {
    const b = await buildZip([{ name: 'a', data: 'hello world' }, { name: 'b', data: 'x' }]);
    // Point b's central record at a's header offset + 5, inside a.
    const cdB = b.length - 22 - (46 + 1);
    new DataView(b.buffer).setUint32(cdB + 42, 5, true);
    await rejects(() => open(b), /entries 'a' and 'b' overlap/);
  });

  test('deflate bombs and lies are refused without allocating the claimed size', async () => {
    await rejects(async () => (await open(await buildZip([{ name: 'a', data: big, deflate: true, size: 2 ** 31 }]))).read('a'), /claims 2147483648 bytes from \d+ deflated bytes, beyond deflate's maximum ratio/);
    await rejects(async () => (await open(await buildZip([{ name: 'a', data: big, deflate: true, size: 1000 }]))).read('a'), /inflates to more than the 1000 bytes the archive declares/);
    await rejects(async () => (await open(await buildZip([{ name: 'a', data: big, deflate: true, size: big.length + 5 }]))).read('a'), /inflates to 70000 bytes but the archive declares 70005/);
    const garbage = await buildZip([{ name: 'a', data: bytes(0xff, 0xff, 0xff, 0xff), method: 8, crc: 0, size: 10 }]);
    await rejects(async () => (await open(garbage)).read('a'), /entry 'a': deflate data is corrupt/);
  });
});
