/**
 * Reading and writing the safetensors format (https://github.com/huggingface/safetensors), the
 * weight format of Hugging Face and many PyTorch users:
 *   8-byte little-endian u64 N | N bytes of UTF-8 JSON header | byte buffer
 * The header maps each tensor name to {dtype, shape, data_offsets: [begin, end]} (offsets relative to the
 * buffer start) plus an optional "__metadata__" map of strings.
 * No Node imports here: this module runs in the browser as well (see safetensors-node.ts for files).
 */
import { DTYPES, type DType } from '../engine/dtype.js';
import { HostTensor } from '../engine/host-tensor.js';
import { fmt, numel } from '../engine/shape.js';
import { bf16ArrayToF32, f16ArrayToF32 } from './half.js';

/** Element sizes of the safetensors dtypes segkit reads. */
const ITEMSIZE: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
/**
 * Dtypes valid in the format that segkit cannot turn into a HostTensor. Files holding them still parse
 * (so their other tensors stay usable); only get() of such a tensor fails.
 */
const UNREADABLE: Record<string, number> = { U16: 2, U32: 4, U64: 8, F8_E4M3: 1, F8_E5M2: 1 };
/** What serializeSafetensors writes for each HostTensor dtype. */
const WRITE_DTYPE: Record<DType, string> = {
  float32: 'F32', float16: 'F16', int64: 'I64', int32: 'I32', uint8: 'U8', int8: 'I8', bool: 'BOOL',
};
/** Headers beyond this are surely corrupt (the Rust implementation uses the same 100 MB limit). */
const MAX_HEADER = 100_000_000;
const METADATA_KEY = '__metadata__';
/** Typed-array views reinterpret bytes in host order; the format is little-endian. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export interface TensorInfo {
  /** The safetensors dtype name, e.g. 'F32', 'BF16'. */
  dtype: string;
  shape: number[];
}

interface Entry extends TensorInfo {
  begin: number;
  end: number;
}

export interface SafetensorsFile {
  readonly source: string;
  readonly metadata: Record<string, string>;
  /** Tensor names in file order (by data offset). */
  names(): string[];
  has(name: string): boolean;
  info(name: string): TensorInfo;
  /**
   * The tensor as a HostTensor: F32/I64/I32/I8/U8/BOOL keep their type (a zero-copy view of the input
   * bytes when aligned, so writes to one show in the other); F16, BF16 and F64 become float32; I16 is
   * widened to int32.
   */
  get(name: string): HostTensor;
  /** The tensor's raw little-endian bytes (a view), e.g. to keep float16 weights as half bits. */
  raw(name: string): Uint8Array;
  entries(): IterableIterator<[string, HostTensor]>;
}

const fail = (source: string, msg: string): never => {
  throw new Error(`${source}: ${msg}`);
};
const show = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v) ?? String(v));
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export function parseSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsFile {
  if (bytes.length < 8) {
    fail(source, `file is ${bytes.length} bytes, shorter than the 8-byte header length that starts a safetensors file`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER)) {
    fail(source, `header length ${n} is absurd (over ${MAX_HEADER} bytes); not a safetensors file or corrupt`);
  }
  const headerLen = Number(n);
  if (8 + headerLen > bytes.length) {
    fail(source, `header length ${headerLen} is larger than the ${bytes.length - 8} bytes that follow it; file truncated or not safetensors`);
  }
  const header = parseHeader(bytes.subarray(8, 8 + headerLen), source);
  const buffer = bytes.subarray(8 + headerLen);
  const { entries, metadata } = validate(header, buffer.length, source);
  return new ParsedSafetensors(source, buffer, entries, metadata);
}

function parseHeader(raw: Uint8Array, source: string): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    return fail(source, `header (${raw.length} bytes) is not valid UTF-8; expected a UTF-8 JSON object`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text); // JSON.parse accepts the trailing spaces writers pad headers with
  } catch (e) {
    return fail(source, `header is not valid JSON (${(e as Error).message}); starts with ${JSON.stringify(text.slice(0, 60))}`);
  }
  if (!isObject(json)) {
    fail(source, `header is ${Array.isArray(json) ? 'an array' : show(json)}; expected a JSON object of tensor entries`);
  }
  return json as Record<string, unknown>;
}

function validate(header: Record<string, unknown>, bufLen: number, source: string) {
  const metadata: Record<string, string> = {};
  const entries = new Map<string, Entry>();
  for (const [name, v] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      if (v === null) continue; // the Rust reader accepts null as "no metadata"
      if (!isObject(v)) fail(source, `__metadata__ is ${show(v)}; expected an object of string values`);
      for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
        if (typeof s !== 'string') fail(source, `__metadata__ value for '${k}' is ${show(s)}; expected a string`);
        // defineProperty: a '__proto__' key must become data, not replace the object's prototype
        Object.defineProperty(metadata, k, { value: s, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    const where = `tensor '${name}'`;
    if (!isObject(v)) fail(source, `${where} has entry ${show(v)}; expected an object {dtype, shape, data_offsets}`);
    const e = v as Record<string, unknown>;
    for (const key of ['dtype', 'shape', 'data_offsets']) if (!(key in e)) fail(source, `${where} is missing '${key}'`);
    const { dtype, shape, data_offsets: off } = e;
    if (typeof dtype !== 'string') fail(source, `${where} has dtype ${show(dtype)}; expected a string`);
    const itemsize = ITEMSIZE[dtype as string] ?? UNREADABLE[dtype as string];
    if (itemsize === undefined) {
      fail(source, `${where} has unknown dtype ${show(dtype)}; valid: ${[...Object.keys(ITEMSIZE), ...Object.keys(UNREADABLE)].join(', ')}`);
    }
    if (!Array.isArray(shape)) fail(source, `${where} has shape ${show(shape)}; expected an array of non-negative integers`);
    const badDim = (shape as unknown[]).find((d) => !isIndex(d));
    if (badDim !== undefined) fail(source, `${where} has dimension ${show(badDim)} in shape ${show(shape)}; dimensions must be non-negative integers`);
    if (!Array.isArray(off) || off.length !== 2 || !off.every(isIndex)) {
      fail(source, `${where} has data_offsets ${show(off)}; expected [begin, end], two non-negative integers`);
    }
    const [begin, end] = off as [number, number];
    if (begin > end || end > bufLen) {
      fail(source, `${where} has data_offsets [${begin}, ${end}] out of range; expected begin <= end <= ${bufLen} (the buffer size)`);
    }
    const dims = shape as number[];
    const want = numel(dims) * itemsize!;
    if (end - begin !== want) {
      fail(source, `${where} spans ${end - begin} bytes but shape ${fmt(dims)} of ${dtype} needs ${want} (${numel(dims)} x ${itemsize} bytes)`);
    }
    entries.set(name, { dtype: dtype as string, shape: dims, begin, end });
  }
  // The spec requires the tensors to tile the buffer exactly: no overlaps (aliasing) and no gaps
  // (hidden data). Sorting by (begin, end) lets empty tensors sit at any boundary.
  const sorted = [...entries].sort(([, a], [, b]) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev = '';
  for (const [name, e] of sorted) {
    if (e.begin < pos) fail(source, `tensor '${name}' data_offsets [${e.begin}, ${e.end}] overlap tensor '${prev}' (ends at ${pos}); expected it to start at ${pos}`);
    if (e.begin > pos) fail(source, `gap in the buffer: bytes ${pos}..${e.begin} belong to no tensor (before '${name}'); expected tensors to be contiguous`);
    pos = e.end;
    prev = name;
  }
  if (pos !== bufLen) fail(source, `tensors cover ${pos} bytes but the buffer holds ${bufLen}; expected them to cover it exactly`);
  return { entries: new Map(sorted), metadata };
}

class ParsedSafetensors implements SafetensorsFile {
  constructor(
    readonly source: string,
    private readonly buffer: Uint8Array,
    private readonly entries_: Map<string, Entry>,
    readonly metadata: Record<string, string>,
  ) {}

  names(): string[] {
    return [...this.entries_.keys()];
  }

  has(name: string): boolean {
    return this.entries_.has(name);
  }

  info(name: string): TensorInfo {
    const e = this.entry(name);
    return { dtype: e.dtype, shape: [...e.shape] };
  }

  raw(name: string): Uint8Array {
    const e = this.entry(name);
    return this.buffer.subarray(e.begin, e.end);
  }

  get(name: string): HostTensor {
    const e = this.entry(name);
    const n = numel(e.shape);
    const at = (size: number) => place(this.buffer, e.begin, n * size, size);
    switch (e.dtype) {
      case 'F32':
        return new HostTensor(new Float32Array(...at(4)), e.shape, 'float32');
      case 'F16':
        return new HostTensor(f16ArrayToF32(new Uint16Array(...at(2))), e.shape, 'float32');
      case 'BF16':
        return new HostTensor(bf16ArrayToF32(new Uint16Array(...at(2))), e.shape, 'float32');
      case 'F64':
        return new HostTensor(Float32Array.from(new Float64Array(...at(8))), e.shape, 'float32');
      case 'I64':
        return new HostTensor(new BigInt64Array(...at(8)), e.shape, 'int64');
      case 'I32':
        return new HostTensor(new Int32Array(...at(4)), e.shape, 'int32');
      case 'I16':
        return new HostTensor(Int32Array.from(new Int16Array(...at(2))), e.shape, 'int32');
      case 'I8':
        return new HostTensor(new Int8Array(...at(1)), e.shape, 'int8');
      case 'U8':
        return new HostTensor(new Uint8Array(...at(1)), e.shape, 'uint8');
      case 'BOOL':
        return new HostTensor(new Uint8Array(...at(1)), e.shape, 'bool');
      default:
        throw new Error(`${this.source}: tensor '${name}' has dtype ${e.dtype}, which segkit cannot load (readable: ${Object.keys(ITEMSIZE).join(', ')})`);
    }
  }

  *entries(): IterableIterator<[string, HostTensor]> {
    for (const name of this.entries_.keys()) yield [name, this.get(name)];
  }

  private entry(name: string): Entry {
    const e = this.entries_.get(name);
    if (e) return e;
    const all = this.names();
    if (all.length === 0) throw new Error(`${this.source}: no tensor named '${name}'; the file holds no tensors`);
    const near = nearestNames(name, all, 10);
    throw new Error(`${this.source}: no tensor named '${name}' (the file has ${all.length}); nearest: ${near.map((s) => `'${s}'`).join(', ')}`);
  }
}

/**
 * Where `len` bytes at `off` can be read as elements of `size` bytes in host order, as the
 * (buffer, byteOffset, length) a typed-array constructor takes: a zero-copy view when aligned on a
 * little-endian host, else an aligned copy (byte-swapped per element on big-endian hosts).
 * Unaligned data is legal: writers other than the Rust one need not order tensors by alignment.
 */
function place(buf: Uint8Array, off: number, len: number, size: number): [ArrayBufferLike, number, number] {
  const start = buf.byteOffset + off;
  if (LITTLE_ENDIAN && start % size === 0) return [buf.buffer, start, len / size];
  const copy = buf.slice(off, off + len);
  if (!LITTLE_ENDIAN && size > 1) for (let i = 0; i < len; i += size) copy.subarray(i, i + size).reverse();
  return [copy.buffer, 0, len / size];
}

/** Up to `k` names closest to `want`: smallest edit distance first, then longest shared prefix. */
export function nearestNames(want: string, names: readonly string[], k = 10): string[] {
  const prefix = (s: string) => {
    let i = 0;
    while (i < s.length && i < want.length && s[i] === want[i]) i++;
    return i;
  };
  return names
    .map((s) => ({ s, d: editDistance(want, s), p: prefix(s) }))
    .sort((a, b) => a.d - b.d || b.p - a.p || (a.s < b.s ? -1 : 1))
    .slice(0, k)
    .map((x) => x.s);
}

/** Levenshtein distance with one rolling row (only runs on the error path, so plain O(n*m) is fine). */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}

/**
 * Encodes tensors as a safetensors file. Output is deterministic: tensors are ordered by element size
 * (largest first) and then by name, which is what the Rust implementation does too: with the header
 * padded to a multiple of 8, every tensor then starts at a multiple of its element size, so readers
 * (this one, numpy/torch memory maps) can view the data in place instead of copying it.
 * float16 tensors are written as F16 from their raw bits; bool values are normalised to 0/1.
 */
export function serializeSafetensors(
  tensors: Record<string, HostTensor> | Map<string, HostTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const list = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))];
  for (const [name, t] of list) {
    if (name === METADATA_KEY) throw new Error(`serializeSafetensors: '${METADATA_KEY}' is reserved for metadata and cannot name a tensor`);
    if (!(t instanceof HostTensor)) throw new Error(`serializeSafetensors: '${name}' is ${show(t)}; expected a HostTensor`);
    // A mislabelled tensor (say dtype 'float32' over an Int32Array) would otherwise be written as garbage.
    const want = WRITE_DTYPE[t.dtype] === undefined ? undefined : DTYPES[t.dtype].create(0).constructor;
    if (t.data.constructor !== want) {
      throw new Error(`serializeSafetensors: '${name}' has dtype ${t.dtype} but its data is a ${t.data.constructor.name}`);
    }
  }
  list.sort(([a, x], [b, y]) => y.data.BYTES_PER_ELEMENT - x.data.BYTES_PER_ELEMENT || (a < b ? -1 : a > b ? 1 : 0));

  const parts: string[] = [];
  if (metadata && Object.keys(metadata).length > 0) {
    const kv = Object.keys(metadata).sort().map((k) => {
      const v = metadata[k];
      if (typeof v !== 'string') throw new Error(`serializeSafetensors: metadata '${k}' is ${show(v)}; safetensors metadata values must be strings`);
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`"${METADATA_KEY}":{${kv.join(',')}}`);
  }
  let pos = 0;
  for (const [name, t] of list) {
    const end = pos + t.data.byteLength;
    parts.push(`${JSON.stringify(name)}:{"dtype":"${WRITE_DTYPE[t.dtype]}","shape":[${t.shape.join(',')}],"data_offsets":[${pos},${end}]}`);
    pos = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLen = Math.ceil(json.length / 8) * 8; // space padding keeps the buffer 8-byte aligned

  const out = new Uint8Array(8 + headerLen + pos);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let at = 8 + headerLen;
  for (const [, t] of list) {
    const src = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const size = t.data.BYTES_PER_ELEMENT;
    if (t.dtype === 'bool') for (let i = 0; i < src.length; i++) out[at + i] = src[i] ? 1 : 0;
    else out.set(src, at);
    if (!LITTLE_ENDIAN && size > 1) for (let i = at; i < at + src.length; i += size) out.subarray(i, i + size).reverse();
    at += src.length;
  }
  return out;
}
