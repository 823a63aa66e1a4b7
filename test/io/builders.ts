// Hand-made ZIP archives and pickles for the importer tests: valid ones in the corners torch does not
// write (ZIP64 extras, deflate, comments) and crafted hostile ones.
import { crc32 } from '../../src/io/zip.js';

/** Bytes from numbers (single bytes), strings (latin-1, e.g. opcodes and text lines) and byte arrays. */
export function bytes(...parts: (number | string | Uint8Array | number[])[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p & 0xff);
    else if (typeof p === 'string') for (let i = 0; i < p.length; i++) out.push(p.charCodeAt(i) & 0xff);
    else for (const b of p) out.push(b);
  }
  return Uint8Array.from(out);
}

export const u16 = (v: number) => [v & 0xff, (v >>> 8) & 0xff];
export const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
export const u64 = (v: number | bigint) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
  return [...b];
};
/** A pickle BINUNICODE string. */
export const str = (s: string) => {
  const b = new TextEncoder().encode(s);
  return bytes('X', u32(b.length), b);
};

export async function deflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const cs = new CompressionStream('deflate-raw');
  const w = cs.writable.getWriter();
  w.write(data as Uint8Array<ArrayBuffer>);
  w.close();
  const chunks: Uint8Array[] = [];
  const r = cs.readable.getReader();
  for (;;) {
    const c = await r.read();
    if (c.done) break;
    chunks.push(c.value);
  }
  return bytes(...chunks);
}

export interface ZipInput {
  name: string;
  data: Uint8Array | string;
  deflate?: boolean;
  /** Write sizes and offset as 0xFFFFFFFF with a ZIP64 extra field in the central directory. */
  zip64?: boolean;
  /** Override fields to build broken archives. */
  crc?: number;
  size?: number;
  method?: number;
  flags?: number;
  localName?: string;
}

export interface ZipOptions {
  comment?: string;
  /** Write ZIP64 end records (as torch does); `saturate` also puts 0xFFFF.. in the classic end record. */
  zip64End?: boolean;
  saturate?: boolean;
}

export async function buildZip(entries: ZipInput[], opts: ZipOptions = {}): Promise<Uint8Array> {
  const local: number[] = [];
  const central: number[] = [];
  for (const e of entries) {
    const raw = typeof e.data === 'string' ? new TextEncoder().encode(e.data) : e.data;
    const body = e.deflate ? await deflateRaw(raw) : raw;
    const name = new TextEncoder().encode(e.name);
    const lname = new TextEncoder().encode(e.localName ?? e.name);
    const crc = e.crc ?? crc32(raw);
    const size = e.size ?? raw.length;
    const method = e.method ?? (e.deflate ? 8 : 0);
    const offset = local.length;
    local.push(...u32(0x04034b50), ...u16(20), ...u16(e.flags ?? 0), ...u16(method), ...u16(0), ...u16(0), ...u32(crc), ...u32(body.length), ...u32(size), ...u16(lname.length), ...u16(0), ...lname);
    for (const b of body) local.push(b);
    const extra = e.zip64 ? [...u16(1), ...u16(24), ...u64(size), ...u64(body.length), ...u64(offset)] : [];
    const sat = (v: number) => (e.zip64 ? 0xffffffff : v);
    central.push(
      ...u32(0x02014b50), ...u16(45), ...u16(45), ...u16(e.flags ?? 0), ...u16(method), ...u16(0), ...u16(0), ...u32(crc),
      ...u32(sat(body.length)), ...u32(sat(size)), ...u16(name.length), ...u16(extra.length), ...u16(0), ...u16(0), ...u16(0), ...u32(0), ...u32(sat(offset)),
      ...name, ...extra,
    );
  }
  const cdOffset = local.length;
  const out = local.concat(central);
  const n = entries.length;
  if (opts.zip64End) {
    const at = out.length;
    out.push(...u32(0x06064b50), ...u64(44), ...u16(45), ...u16(45), ...u32(0), ...u32(0), ...u64(n), ...u64(n), ...u64(central.length), ...u64(cdOffset));
    out.push(...u32(0x07064b50), ...u32(0), ...u64(at), ...u32(1));
  }
  const s = opts.saturate;
  const comment = new TextEncoder().encode(opts.comment ?? '');
  out.push(...u32(0x06054b50), ...u16(0), ...u16(0), ...u16(s ? 0xffff : n), ...u16(s ? 0xffff : n), ...u32(s ? 0xffffffff : central.length), ...u32(s ? 0xffffffff : cdOffset), ...u16(comment.length), ...comment);
  return Uint8Array.from(out);
}

/** A torch-style ZIP checkpoint: <prefix>/data.pkl plus <prefix>/data/<key> storages. */
export function torchZip(pickle: Uint8Array, storages: Record<string, Uint8Array> = {}, extra: ZipInput[] = [], prefix = 'archive'): Promise<Uint8Array> {
  return buildZip(
    [
      { name: `${prefix}/data.pkl`, data: pickle },
      ...Object.entries(storages).map(([k, d]) => ({ name: `${prefix}/data/${k}`, data: d })),
      { name: `${prefix}/version`, data: '3\n' },
      ...extra,
    ],
    { zip64End: true },
  );
}

/**
 * A protocol-2 data.pkl of {'w': tensor} as torch.save writes it, with the storage reference and the
 * view (storage type, numel, offset, size, stride) given, to craft valid and hostile tensors.
 */
export function tensorPickle(o: { storage?: string; numel: number; offset?: number; size: number[]; stride: number[]; key?: string }): Uint8Array {
  const int = (v: number) => (v < 256 ? bytes('K', v) : bytes('J', u32(v)));
  const bigint = (v: number) => (v < 2 ** 31 ? int(v) : bytes(0x8a, 8, u64(v)));
  const tuple = (xs: number[]) => bytes('(', ...xs.map(bigint), 't');
  return bytes(
    0x80, 2, '}', '(', str('w'),
    'ctorch._utils\n_rebuild_tensor_v2\n',
    '(',
    '(', str('storage'), `ctorch\n${o.storage ?? 'FloatStorage'}\n`, str(o.key ?? '0'), str('cpu'), bigint(o.numel), 't', 'Q',
    bigint(o.offset ?? 0), tuple(o.size), tuple(o.stride), 0x89, 'ccollections\nOrderedDict\n', ')', 'R',
    't', 'R',
    'u', '.',
  );
}
