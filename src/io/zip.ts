/**
 * A minimal, strict ZIP reader: enough for PyTorch checkpoints (torch.save writes a ZIP of stored,
 * 64-byte aligned entries with ZIP64 end records) and for ZIPs re-packed with deflate.
 * Every offset and size is checked against the file before it is used; each problem is a
 * CheckpointError naming the file and the entry. No Node imports: deflate goes through the platform's
 * DecompressionStream('deflate-raw') (Node >= 18, browsers).
 * Not supported (each a clear error): multi-disk archives, encryption, methods other than stored/deflate.
 */
import { CheckpointError } from './checkpoint-error.js';
import { concatBytes } from './concat-bytes.js';

/** Random access to the bytes of a file or buffer, so large archives need not be read whole. */
export interface ByteSource {
  readonly size: number;
  /** Exactly `length` bytes from `offset` (the caller keeps the range within `size`). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A ByteSource over bytes in memory; reads are views (no copies). */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: async (offset, length) => bytes.subarray(offset, offset + length) };
}

export interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflate (others are refused on read). */
  readonly method: number;
  readonly flags: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly crc32: number;
  /** Offset of the entry's local header. */
  readonly headerOffset: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;
const EOCD_SIZE = 22;
const LOCATOR64_SIZE = 20;
const EOCD64_SIZE = 56;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const MAX_ENTRY = 2 ** 32;
/** Deflate cannot expand data by more than about 1032:1; a larger claimed size is a lie (or a bomb). */
const MAX_DEFLATE_RATIO = 1032;

/** True when the bytes start like a ZIP archive (a local file header). */
export function looksLikeZip(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

export class ZipReader {
  private readonly byName: Map<string, ZipEntry>;

  private constructor(
    private readonly src: ByteSource,
    readonly file: string,
    readonly entries: readonly ZipEntry[],
    /** Where the central directory starts: every entry's data must end before it. */
    private readonly dataEnd: number,
  ) {
    this.byName = new Map(entries.map((e) => [e.name, e]));
  }

  /** Reads and validates the central directory. */
  static async open(src: ByteSource, file = '<buffer>'): Promise<ZipReader> {
    const fail = (reason: string): never => {
      throw new CheckpointError(file, reason);
    };
    const size = src.size;
    if (size < EOCD_SIZE) fail(`${size} bytes is too short for a ZIP archive (the end record alone is ${EOCD_SIZE}); file truncated?`);
    const tailLen = Math.min(size, EOCD_SIZE + 0xffff + LOCATOR64_SIZE);
    const tailStart = size - tailLen;
    const tail = await src.read(tailStart, tailLen);
    const tv = view(tail);
    // The end record is the last one whose comment reaches exactly to the end of the file.
    let eocd = -1;
    for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
      if (tv.getUint32(i, true) === SIG_EOCD && i + EOCD_SIZE + tv.getUint16(i + 20, true) === tail.length) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) fail('no ZIP end-of-central-directory record at the end of the file; the file is truncated or not a ZIP archive');
    const disk = tv.getUint16(eocd + 4, true);
    const cdDisk = tv.getUint16(eocd + 6, true);
    let count: number = tv.getUint16(eocd + 10, true);
    let cdSize: number = tv.getUint32(eocd + 12, true);
    let cdOffset: number = tv.getUint32(eocd + 16, true);
    let recordsStart = tailStart + eocd; // central directory (and ZIP64 records) must end before this
    if (disk !== 0 || cdDisk !== 0) fail(`multi-disk (split) ZIP archives are not supported (disk ${disk}, directory on disk ${cdDisk})`);

    // ZIP64: a locator right before the end record points to the ZIP64 end record with 64-bit fields.
    // torch.save always writes one; other writers only when a field overflows (then it is 0xFFFF...).
    const loc = eocd - LOCATOR64_SIZE;
    if (loc >= 0 && tv.getUint32(loc, true) === SIG_LOCATOR64) {
      const at = u64(tv, loc + 8, 'ZIP64 end record offset', fail);
      if (tv.getUint32(loc + 16, true) > 1) fail('multi-disk (split) ZIP64 archives are not supported');
      if (at + EOCD64_SIZE > tailStart + loc) fail(`ZIP64 end record offset ${at} is out of range (must end by ${tailStart + loc})`);
      const rec = view(await src.read(at, EOCD64_SIZE));
      if (rec.getUint32(0, true) !== SIG_EOCD64) fail(`no ZIP64 end record at offset ${at}, where the ZIP64 locator points`);
      if (rec.getUint32(16, true) !== 0 || rec.getUint32(20, true) !== 0) fail('multi-disk (split) ZIP64 archives are not supported');
      count = u64(rec, 32, 'ZIP64 entry count', fail);
      cdSize = u64(rec, 40, 'ZIP64 central directory size', fail);
      cdOffset = u64(rec, 48, 'ZIP64 central directory offset', fail);
      recordsStart = at;
    } else if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      fail('the end record defers to ZIP64 fields but there is no ZIP64 locator; the file is truncated or corrupt');
    }
    if (cdOffset + cdSize > recordsStart) {
      fail(`central directory (offset ${cdOffset}, ${cdSize} bytes) runs past the end records at ${recordsStart}; the file is truncated or corrupt`);
    }
    if (count * CENTRAL_SIZE > cdSize) fail(`the end record claims ${count} entries, more than a ${cdSize}-byte central directory can hold`);

    const cd = await src.read(cdOffset, cdSize);
    const cv = view(cd);
    const entries: ZipEntry[] = [];
    const seen = new Set<string>();
    const utf8 = new TextDecoder('utf-8');
    let p = 0;
    for (let i = 0; i < count; i++) {
      const where = `central directory entry ${i} (at offset ${cdOffset + p})`;
      if (p + CENTRAL_SIZE > cd.length) fail(`${where} runs past the end of the ${cdSize}-byte central directory`);
      if (cv.getUint32(p, true) !== SIG_CENTRAL) fail(`${where} has a bad signature; the central directory is corrupt`);
      const flags = cv.getUint16(p + 8, true);
      const method = cv.getUint16(p + 10, true);
      const crc32 = cv.getUint32(p + 16, true);
      let compressedSize: number = cv.getUint32(p + 20, true);
      let size: number = cv.getUint32(p + 24, true);
      const nameLen = cv.getUint16(p + 28, true);
      const extraLen = cv.getUint16(p + 30, true);
      const commentLen = cv.getUint16(p + 32, true);
      let diskStart: number = cv.getUint16(p + 34, true);
      let headerOffset: number = cv.getUint32(p + 42, true);
      const end = p + CENTRAL_SIZE + nameLen + extraLen + commentLen;
      if (end > cd.length) fail(`${where}: name, extra field and comment run past the end of the central directory`);
      const name = utf8.decode(cd.subarray(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLen));
      // ZIP64 extended information (extra field 0x0001) holds, in this order, exactly the fields saturated above.
      let q = p + CENTRAL_SIZE + nameLen;
      const extraEnd = q + extraLen;
      while (q + 4 <= extraEnd) {
        const id = cv.getUint16(q, true);
        const len = cv.getUint16(q + 2, true);
        const body = q + 4;
        if (body + len > extraEnd) fail(`entry '${name}': extra field 0x${id.toString(16)} of ${len} bytes runs past the extra data`);
        if (id === 0x0001) {
          let r = body;
          const take = (what: string): number => {
            if (r + 8 > body + len) fail(`entry '${name}': ZIP64 extra field is too short for the ${what}`);
            const v = u64(cv, r, `entry '${name}' ${what}`, fail);
            r += 8;
            return v;
          };
          if (size === 0xffffffff) size = take('size');
          if (compressedSize === 0xffffffff) compressedSize = take('compressed size');
          if (headerOffset === 0xffffffff) headerOffset = take('header offset');
          if (diskStart === 0xffff) {
            if (r + 4 > body + len) fail(`entry '${name}': ZIP64 extra field is too short for the disk number`);
            diskStart = cv.getUint32(r, true);
          }
        }
        q = body + len;
      }
      if (diskStart !== 0) fail(`entry '${name}' starts on disk ${diskStart}; multi-disk archives are not supported`);
      if (flags & 1) fail(`entry '${name}' is encrypted; encrypted ZIP archives are not supported`);
      if (seen.has(name)) fail(`entry '${name}' appears twice; refusing an ambiguous archive`);
      if (headerOffset + LOCAL_SIZE + nameLen + compressedSize > cdOffset) {
        fail(`entry '${name}' (header at ${headerOffset}, ${compressedSize} bytes) runs past the start of the central directory at ${cdOffset}; the file is truncated or corrupt`);
      }
      seen.add(name);
      entries.push({ name, method, flags, compressedSize, size, crc32, headerOffset });
      p = end;
    }
    // Entries must not overlap: overlapping entries are a known way to build ZIP bombs and to hide data.
    const sorted = [...entries].sort((a, b) => a.headerOffset - b.headerOffset);
    for (let i = 1; i < sorted.length; i++) {
      const a = sorted[i - 1]!;
      const b = sorted[i]!;
      const aEnd = a.headerOffset + LOCAL_SIZE + new TextEncoder().encode(a.name).length + a.compressedSize;
      if (b.headerOffset < aEnd) fail(`entries '${a.name}' and '${b.name}' overlap (at offsets ${a.headerOffset} and ${b.headerOffset})`);
    }
    return new ZipReader(src, file, entries, cdOffset);
  }

  /** The entry of that exact name, if any. */
  entry(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  /**
   * An entry's uncompressed bytes (a view into the source's bytes for a stored entry read from memory).
   * `verify` (default true) checks the CRC-32 the archive records.
   */
  async read(entryOrName: ZipEntry | string, { verify = true } = {}): Promise<Uint8Array> {
    const e = typeof entryOrName === 'string' ? this.byName.get(entryOrName) : entryOrName;
    if (!e) throw new CheckpointError(this.file, `no entry '${String(entryOrName)}' in the archive`);
    const fail = (reason: string): never => {
      throw new CheckpointError(this.file, `entry '${e.name}': ${reason}`);
    };
    if (e.method !== 0 && e.method !== 8) fail(`compression method ${e.method} is not supported (only 0 = stored and 8 = deflate)`);
    if (e.size > MAX_ENTRY) fail(`holds ${e.size} bytes; entries over ${MAX_ENTRY} bytes (4 GiB, the largest typed array) are not supported`);
    const lh = view(await this.src.read(e.headerOffset, LOCAL_SIZE));
    if (lh.getUint32(0, true) !== SIG_LOCAL) fail(`no local file header at offset ${e.headerOffset}; the archive is corrupt`);
    const nameLen = lh.getUint16(26, true);
    const extraLen = lh.getUint16(28, true);
    const dataOffset = e.headerOffset + LOCAL_SIZE + nameLen + extraLen;
    if (dataOffset + e.compressedSize > this.dataEnd) {
      fail(`data (offset ${dataOffset}, ${e.compressedSize} bytes) runs past the start of the central directory at ${this.dataEnd}`);
    }
    const localName = new TextDecoder('utf-8').decode(await this.src.read(e.headerOffset + LOCAL_SIZE, nameLen));
    if (localName !== e.name) fail(`the local header names it '${localName}'; refusing an ambiguous archive`);
    const raw = await this.src.read(dataOffset, e.compressedSize);
    let data: Uint8Array;
    if (e.method === 0) {
      if (e.size !== e.compressedSize) fail(`stored entry has size ${e.size} but ${e.compressedSize} stored bytes`);
      data = raw;
    } else {
      if (e.size > e.compressedSize * MAX_DEFLATE_RATIO + 1024) {
        fail(`claims ${e.size} bytes from ${e.compressedSize} deflated bytes, beyond deflate's maximum ratio; refusing a likely ZIP bomb`);
      }
      data = await inflateRaw(raw, e.size, fail);
    }
    if (verify) {
      const crc = crc32(data);
      if (crc !== e.crc32) fail(`CRC-32 mismatch (stored 0x${e.crc32.toString(16).padStart(8, '0')}, computed 0x${crc.toString(16).padStart(8, '0')}); the file is corrupt`);
    }
    return data;
  }
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

function u64(v: DataView, at: number, what: string, fail: (r: string) => never): number {
  const n = v.getBigUint64(at, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${what} ${n} is beyond any file size`);
  return Number(n);
}

/**
 * Inflates raw deflate data that must produce exactly `size` bytes. Output is collected as it comes
 * (memory follows what is really produced, not the claim) and reading stops as soon as it exceeds `size`.
 */
async function inflateRaw(raw: Uint8Array, size: number, fail: (r: string) => never): Promise<Uint8Array> {
  if (typeof DecompressionStream === 'undefined') fail('is deflate-compressed and this platform has no DecompressionStream');
  const chunks: Uint8Array[] = [];
  let got = 0;
  const ds = new DecompressionStream('deflate-raw');
  const writer = ds.writable.getWriter();
  // Rejections of the write side resurface on the read side; these catches only keep them from being unhandled.
  writer.write(raw as Uint8Array<ArrayBuffer>).catch(() => {});
  writer.close().catch(() => {});
  const reader = ds.readable.getReader();
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        return fail(`deflate data is corrupt (${(e as Error).message})`);
      }
      if (chunk.done) break;
      got += chunk.value.length;
      if (got > size) fail(`inflates to more than the ${size} bytes the archive declares; the archive is corrupt`);
      chunks.push(chunk.value);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  if (got !== size) fail(`inflates to ${got} bytes but the archive declares ${size}`);
  return concatBytes(chunks);
}

/** CRC-32 (IEEE, as in ZIP), slicing by 4 bytes for speed on large stored tensors. */
export function crc32(data: Uint8Array): number {
  const t = CRC_TABLES;
  let c = 0xffffffff;
  let i = 0;
  const n4 = data.length - (data.length % 4);
  for (; i < n4; i += 4) {
    c ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    c = t[768 + (c & 0xff)]! ^ t[512 + ((c >>> 8) & 0xff)]! ^ t[256 + ((c >>> 16) & 0xff)]! ^ t[c >>> 24]!;
  }
  for (; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const CRC_TABLES = (() => {
  const t = new Int32Array(1024);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 4; k++) t[k * 256 + n] = t[(k - 1) * 256 + n]! >>> 8 ^ t[t[(k - 1) * 256 + n]! & 0xff]!;
  }
  return t;
})();
