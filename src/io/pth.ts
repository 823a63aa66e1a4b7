/**
 * PyTorch checkpoints (`torch.save` → .pth / .pt) without Python and without running code:
 *  - the ZIP format (torch >= 1.6): <archive>/data.pkl holds the object, whose tensors point by
 *    persistent id ('storage', torch.FloatStorage, key, location, numel) at raw storages
 *    <archive>/data/<key>; <archive>/byteorder ('little' | 'big', torch >= 2.1) gives their byte order;
 *  - the legacy format (torch < 1.6, or `_use_new_zipfile_serialization=False`): five pickles in a row
 *    (magic number, protocol 1001, sys_info, the object, the storage keys), then each storage as an
 *    int64 element count followed by its bytes.
 * Tensors are rebuilt with their storage offset and strides (views, shared storages, expanded and 0-d
 * tensors come out as torch shows them) and returned as HostTensor. Only the globals that torch.save
 * writes for tensors, storages and dtypes are allowed on top of pickle.ts's plain containers.
 * No Node imports (files are read through a ByteSource; see pth-node.ts).
 */
import type { DType } from '../engine/dtype.js';
import { HostTensor } from '../engine/host-tensor.js';
import { fmt } from '../engine/shape.js';
import { asCheckpointError, CheckpointError } from './checkpoint-error.js';
import { bf16ArrayToF32 } from './half.js';
import { describe, PyGlobal, pyAttributes, pyKind, unpickle, type GlobalBehaviour, type PickleContext, type PickleLimits } from './pickle.js';
import { bytesSource, looksLikeZip, ZipReader, type ByteSource } from './zip.js';

export interface TorchLoadOptions {
  /** Check each ZIP entry's CRC-32 (default true; costs a pass over the data). */
  verifyCrc?: boolean;
  /**
   * Most bytes all tensors together may take once rebuilt (views of one storage, and expanded
   * tensors, can take more than the file). Default: 4 × the file size + 64 MiB.
   */
  maxTensorBytes?: number;
  limits?: Partial<PickleLimits>;
}

export interface TorchCheckpoint {
  /**
   * What was saved: dicts as plain objects, lists and tuples as arrays, tensors and parameters as
   * HostTensor (float32, float16, int64, int32, int8, uint8, bool). Contiguous tensors may share memory
   * with the source bytes and with each other, as the torch tensors shared their storage.
   */
  readonly object: unknown;
  readonly format: 'zip' | 'legacy';
  /** Dtype conversions made while loading (float64 → float32, bfloat16 → float32, int16 → int32). */
  readonly notes: string[];
}

/** Reads a PyTorch checkpoint from bytes or a ByteSource; every problem is a CheckpointError naming `file`. */
export async function loadTorchCheckpoint(input: Uint8Array | ByteSource, file = '<buffer>', options: TorchLoadOptions = {}): Promise<TorchCheckpoint> {
  const src = input instanceof Uint8Array ? bytesSource(input) : input;
  return asCheckpointError(file, async () => {
    if (src.size === 0) throw new CheckpointError(file, 'the file is empty');
    const head = await src.read(0, Math.min(src.size, 4));
    return looksLikeZip(head) ? loadZip(src, file, options) : loadLegacy(src, file, options);
  });
}

/** True when the bytes start like a PyTorch checkpoint (a ZIP archive or a pickle stream). */
export function looksLikeTorchCheckpoint(head: Uint8Array): boolean {
  return looksLikeZip(head) || head[0] === 0x80;
}

// --- dtypes and storages ---

interface TorchDType {
  name: string;
  size: number;
}

/** torch dtypes by name (the pickle names them 'torch.<name>'); only some can become a HostTensor. */
const TORCH_DTYPES: Record<string, number> = {
  float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
  complex32: 4, complex64: 8, complex128: 16, uint16: 2, uint32: 4, uint64: 8, qint8: 1, quint8: 1, qint32: 4,
  quint4x2: 1, quint2x4: 1, float8_e4m3fn: 1, float8_e5m2: 1, float8_e4m3fnuz: 1, float8_e5m2fnuz: 1,
};
/** The typed storage classes torch.save names, with their element dtype. */
const STORAGE_TYPES: Record<string, string> = {
  FloatStorage: 'float32', DoubleStorage: 'float64', HalfStorage: 'float16', BFloat16Storage: 'bfloat16',
  LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8',
  BoolStorage: 'bool', ComplexFloatStorage: 'complex64', ComplexDoubleStorage: 'complex128',
  QInt8Storage: 'qint8', QUInt8Storage: 'quint8', QInt32Storage: 'qint32', QUInt4x2Storage: 'quint4x2', QUInt2x4Storage: 'quint2x4',
};
const READABLE = ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'];
const dtype = (name: string): TorchDType => ({ name, size: TORCH_DTYPES[name]! });

/** One storage of the file (a ZIP entry, or a block of the legacy stream); `bytes` once read. */
interface StorageRecord {
  key: string;
  dtype: TorchDType;
  nbytes: number;
  bytes?: Uint8Array;
}

/** What a persistent id resolves to: a (part of a) storage with the element type it was saved with. */
class TorchStorage {
  constructor(
    readonly record: StorageRecord,
    readonly byteOffset: number,
    readonly nbytes: number,
    readonly dtype: TorchDType,
  ) {}
}

/** A tensor described by the pickle, turned into a HostTensor once the storages are read. */
class TensorRef {
  constructor(
    readonly storage: TorchStorage,
    readonly dtype: TorchDType,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

/** State shared by the globals while one file is unpickled. */
class Loader {
  readonly storages = new Map<string, StorageRecord>();
  readonly converted: Record<string, number> = {};
  private tensorBytes = 0;

  constructor(
    private readonly maxTensorBytes: number,
    /** Checks a storage the pickle declares (exists, fits), per format. */
    private readonly declare: (key: string, dtype: TorchDType, numel: number, ctx: PickleContext) => void,
  ) {}

  persistentLoad = (pid: unknown, ctx: PickleContext): TorchStorage => {
    if (pyKind(pid) !== 'tuple' || (pid as unknown[]).length < 5) ctx.fail(`persistent id ${describe(pid)} is not a torch storage reference`);
    const [typename, stype, key, , numel, view] = pid as unknown[];
    if (typename === 'module') ctx.fail('the file pickles Python source code (a whole-model save from old PyTorch); load it in Python and save model.state_dict() instead');
    if (typename !== 'storage') ctx.fail(`persistent id of type ${describe(typename)} is not supported (only 'storage')`);
    const tname = stype instanceof PyGlobal ? STORAGE_OF.get(String(stype)) : undefined;
    if (!tname) return ctx.fail(`storage type ${describe(stype)} is not a torch storage class`);
    if (typeof key !== 'string' || !/^[\w.-]{1,64}$/.test(key)) ctx.fail(`storage key ${describe(key)} is not valid`);
    if (!isIndex(numel)) ctx.fail(`storage '${key}' has element count ${describe(numel)}; expected a non-negative integer`);
    const dt = dtype(tname);
    const k = key as string;
    let rec = this.storages.get(k);
    if (!rec) {
      this.declare(k, dt, numel as number, ctx);
      rec = { key: k, dtype: dt, nbytes: (numel as number) * dt.size };
      this.storages.set(k, rec);
    } else if (rec.dtype.name !== dt.name || rec.nbytes !== (numel as number) * dt.size) {
      ctx.fail(`storage '${k}' is declared twice differently (${rec.dtype.name} × ${rec.nbytes / rec.dtype.size}, then ${dt.name} × ${numel})`);
    }
    if (view === undefined || view === null) return new TorchStorage(rec, 0, rec.nbytes, dt);
    // Legacy files from torch < 0.4 saved storage views as (view key, offset, size) into a root storage.
    if (pyKind(view) !== 'tuple' || (view as unknown[]).length !== 3) ctx.fail(`storage view ${describe(view)} is not (key, offset, size)`);
    const [, off, n] = view as unknown[];
    if (!isIndex(off) || !isIndex(n) || (off as number) + (n as number) > (numel as number)) {
      ctx.fail(`storage view (offset ${describe(off)}, size ${describe(n)}) does not fit storage '${k}' of ${numel} elements`);
    }
    return new TorchStorage(rec, (off as number) * dt.size, (n as number) * dt.size, dt);
  };

  /** _rebuild_tensor(_v2/_v3): validates the view against its storage and the memory budget. */
  tensor(args: unknown[], ctx: PickleContext, as?: TorchDType): TensorRef {
    const [storage, offset, size, stride] = args;
    if (!(storage instanceof TorchStorage)) return ctx.fail(`tensor storage is ${describe(storage)}, not a storage reference`);
    const dt = as ?? storage.dtype;
    if (!READABLE.includes(dt.name)) ctx.fail(`a tensor of dtype ${dt.name} is not supported; segkit reads ${READABLE.join(', ')}`);
    if (!isIndex(offset)) ctx.fail(`tensor storage offset ${describe(offset)} is not a non-negative integer`);
    const dims = intList(size, 'size', ctx);
    const steps = intList(stride, 'stride', ctx);
    if (dims.length !== steps.length) ctx.fail(`tensor size ${fmt(dims)} and stride ${fmt(steps)} differ in rank`);
    let numel = 1;
    let last = offset as number;
    for (let i = 0; i < dims.length; i++) {
      numel *= dims[i]!;
      if (dims[i]! > 0) last += (dims[i]! - 1) * steps[i]!;
    }
    if (!Number.isSafeInteger(numel) || !Number.isSafeInteger(last)) ctx.fail(`tensor size ${fmt(dims)} with stride ${fmt(steps)} is absurdly large`);
    const have = Math.floor(storage.nbytes / dt.size);
    if (numel > 0 && last >= have) {
      ctx.fail(`tensor of size ${fmt(dims)}, stride ${fmt(steps)} at offset ${offset} reaches element ${last} of storage '${storage.record.key}', which has ${have} ${dt.name} elements`);
    }
    this.tensorBytes += numel * outSize(dt.name);
    if (this.tensorBytes > this.maxTensorBytes) {
      ctx.fail(`the tensors would take more than ${this.maxTensorBytes} bytes (limit: maxTensorBytes); refusing (size ${fmt(dims)} overflowed it)`);
    }
    return new TensorRef(storage, dt, offset as number, dims, steps);
  }
}

const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function intList(v: unknown, what: string, ctx: PickleContext): number[] {
  if (!Array.isArray(v) || !v.every(isIndex)) return ctx.fail(`tensor ${what} ${describe(v)} is not a tuple of non-negative integers`);
  if (v.length > 64) ctx.fail(`tensor of rank ${v.length} is not supported`);
  return v as number[];
}

const outSize = (name: string): number => (name === 'float64' || name === 'bfloat16' ? 4 : name === 'int16' ? 4 : TORCH_DTYPES[name]!);

const STORAGE_OF = new Map<string, string>();
for (const [cls, dt] of Object.entries(STORAGE_TYPES)) {
  STORAGE_OF.set(`torch.${cls}`, dt);
  STORAGE_OF.set(`torch.cuda.${cls}`, dt); // torch 1.6-1.12 named the CUDA class for GPU tensors
}
for (const name of ['torch.UntypedStorage', 'torch.storage.UntypedStorage', 'torch.storage._UntypedStorage', 'torch.cuda.UntypedStorage']) STORAGE_OF.set(name, 'uint8');

/** The globals torch.save writes, bound to one load. */
function torchGlobals(L: Loader): Record<string, GlobalBehaviour> {
  const g: Record<string, GlobalBehaviour> = {};
  for (const name of STORAGE_OF.keys()) g[name] = {};
  for (const name of Object.keys(TORCH_DTYPES)) g[`torch.${name}`] = {};
  g['torch.Tensor'] = {};
  g['torch.nn.parameter.Parameter'] = {};
  const v2: GlobalBehaviour = { call: (a, ctx) => L.tensor(a, ctx) };
  g['torch._utils._rebuild_tensor'] = v2;
  g['torch._utils._rebuild_tensor_v2'] = v2;
  g['torch._utils._rebuild_tensor_v3'] = {
    // (storage, offset, size, stride, requires_grad, hooks, dtype[, metadata]) over an untyped storage
    call(a, ctx) {
      const d = a[6];
      const name = d instanceof PyGlobal && d.module === 'torch' ? d.name : undefined;
      if (!name || !(name in TORCH_DTYPES)) return ctx.fail(`_rebuild_tensor_v3 dtype ${describe(d)} is not a torch dtype`);
      return L.tensor(a, ctx, dtype(name));
    },
  };
  const parameter: GlobalBehaviour = {
    call(a, ctx) {
      if (!(a[0] instanceof TensorRef)) ctx.fail(`parameter data is ${describe(a[0])}, not a tensor`);
      return a[0];
    },
  };
  g['torch._utils._rebuild_parameter'] = parameter;
  g['torch._utils._rebuild_parameter_with_state'] = parameter;
  g['torch._tensor._rebuild_from_type_v2'] = {
    // (func, type, args, state): how torch >= 2 pickles tensors carrying Python attributes
    call(a, ctx) {
      const [fn, type, args] = a;
      if (!(fn instanceof PyGlobal) || !fn.behaviour.call || !String(fn).startsWith('torch._utils._rebuild_')) ctx.fail(`_rebuild_from_type_v2 with ${describe(fn)} is not allowed`);
      if (!(type instanceof PyGlobal) || !['torch.Tensor', 'torch.nn.parameter.Parameter'].includes(String(type))) ctx.fail(`tensor subclass ${describe(type)} is not supported`);
      if (!Array.isArray(args)) ctx.fail(`_rebuild_from_type_v2 arguments ${describe(args)} are not a tuple`);
      return (fn as PyGlobal).behaviour.call!(args as unknown[], ctx);
    },
  };
  g['torch.Size'] = {
    call(a, ctx) {
      if (!Array.isArray(a[0]) || !a[0].every(isIndex)) ctx.fail(`torch.Size(${describe(a[0])}) is not a tuple of sizes`);
      return ctx.seq([...(a[0] as number[])], 'tuple');
    },
  };
  g['torch.device'] = {
    call(a, ctx) {
      const [type, index] = a;
      if (typeof type !== 'string' || (index !== undefined && index !== null && !isIndex(index))) ctx.fail(`torch.device(${describe(type)}, ${describe(index)}) is not supported`);
      return index === undefined || index === null ? type : `${type}:${index}`;
    },
  };
  return g;
}

/** Why a refused global is refused, when we can tell more than "not allowed". */
function refusalHint(qual: string): string | undefined {
  if (/^torch\._utils\._rebuild_/.test(qual) || /^torch\._tensor\./.test(qual)) return 'It rebuilds a kind of tensor segkit does not read (quantized, sparse, nested, meta or a tensor subclass)';
  if (qual === 'torch.storage._load_from_bytes') return 'The tensors were pickled with plain pickle rather than torch.save (each storage is a nested torch.save); re-save them with torch.save';
  if (/^numpy\b/.test(qual)) return 'numpy arrays are not read (only numpy scalars); store torch tensors instead';
  if (/^(torch\.nn|torchvision|timm|mmseg|mmcv|mmdet|mmengine|transformers|segmentation_models_pytorch|detectron2|models?|__main__|__torch__)\./.test(qual)) {
    return 'The file seems to pickle Python objects (e.g. a whole model saved with torch.save(model)); in Python, save model.state_dict() instead';
  }
  return undefined;
}

// --- the ZIP format ---

async function loadZip(src: ByteSource, file: string, options: TorchLoadOptions): Promise<TorchCheckpoint> {
  const zip = await ZipReader.open(src, file);
  const pkls = zip.entries.filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (pkls.length !== 1) {
    const names = zip.entries.slice(0, 8).map((e) => `'${e.name}'`).join(', ');
    throw new CheckpointError(file, pkls.length ? `holds ${pkls.length} <archive>/data.pkl entries; expected one` : `is a ZIP archive without <archive>/data.pkl, so not a PyTorch checkpoint (entries: ${names}${zip.entries.length > 8 ? ', …' : ''})`);
  }
  const prefix = pkls[0]!.name.slice(0, -'data.pkl'.length);
  if (zip.entry(`${prefix}constants.pkl`) || zip.entries.some((e) => e.name.startsWith(`${prefix}code/`))) {
    throw new CheckpointError(file, 'is a TorchScript archive (torch.jit.save), which holds code; in Python, load it and save model.state_dict() with torch.save instead');
  }
  const verify = options.verifyCrc ?? true;
  let bigEndian = false;
  const bo = zip.entry(`${prefix}byteorder`);
  if (bo) {
    const text = new TextDecoder().decode(await zip.read(bo, { verify })).trim();
    if (text !== 'little' && text !== 'big') throw new CheckpointError(file, `${bo.name} says '${text.slice(0, 20)}'; expected 'little' or 'big'`);
    bigEndian = text === 'big';
  }
  const L = new Loader(options.maxTensorBytes ?? 4 * src.size + 64 * 2 ** 20, (key, dt, numel, ctx) => {
    const e = zip.entry(`${prefix}data/${key}`);
    if (!e) return ctx.fail(`storage '${key}' has no entry ${prefix}data/${key} in the archive`);
    if (e.size < numel * dt.size) ctx.fail(`storage '${key}' should hold ${numel} ${dt.name} elements (${numel * dt.size} bytes) but ${e.name} has ${e.size} bytes`);
  });
  const pkl = await zip.read(pkls[0]!, { verify });
  const { value } = unpickle(pkl, { file, where: pkls[0]!.name, globals: torchGlobals(L), persistentLoad: L.persistentLoad, refusalHint, limits: options.limits });
  for (const rec of L.storages.values()) rec.bytes = await zip.read(`${prefix}data/${rec.key}`, { verify });
  return { object: materialize(value, bigEndian, L), format: 'zip', notes: notes(L) };
}

// --- the legacy format ---

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

async function loadLegacy(src: ByteSource, file: string, options: TorchLoadOptions): Promise<TorchCheckpoint> {
  if (src.size > 2 ** 32) throw new CheckpointError(file, `is a legacy-format (pre-ZIP) checkpoint of ${src.size} bytes; over 4 GiB is not supported, re-save it with torch >= 1.6`);
  const bytes = await src.read(0, src.size);
  if (bytes.length > 262 && String.fromCharCode(...bytes.subarray(257, 262)) === 'ustar') {
    throw new CheckpointError(file, 'is a tar-format checkpoint (PyTorch before 0.4), which is not supported; re-save it with a newer PyTorch');
  }
  const fail = (reason: string): never => {
    throw new CheckpointError(file, reason);
  };
  const limits = options.limits;
  let first;
  try {
    first = unpickle(bytes, { file, where: 'legacy header', limits });
  } catch (e) {
    throw new CheckpointError(file, `is not a PyTorch checkpoint: neither a ZIP archive (torch >= 1.6) nor a legacy pickle stream (${(e as CheckpointError).reason ?? (e as Error).message})`, { cause: e });
  }
  if (first.value !== LEGACY_MAGIC) fail(`is not a PyTorch checkpoint: it is a pickle of ${describe(first.value)}, not torch's magic number (load plain pickles in Python)`);
  const proto = unpickle(bytes, { file, where: 'legacy header', offset: first.end, limits });
  if (proto.value !== LEGACY_PROTOCOL) fail(`legacy protocol version ${describe(proto.value)} is not supported (expected ${LEGACY_PROTOCOL})`);
  const info = unpickle(bytes, { file, where: 'legacy sys_info', offset: proto.end, limits });
  const sys = info.value as Record<string, unknown>;
  if (pyKind(sys) !== 'dict' || typeof sys.little_endian !== 'boolean') fail(`legacy sys_info ${describe(sys)} has no little_endian flag`);
  const little = sys.little_endian as boolean;

  const L = new Loader(options.maxTensorBytes ?? 4 * src.size + 64 * 2 ** 20, (key, dt, numel, ctx) => {
    if (numel * dt.size > bytes.length) ctx.fail(`storage '${key}' claims ${numel} ${dt.name} elements, more than the whole file holds`);
  });
  const obj = unpickle(bytes, { file, where: 'legacy object pickle', offset: info.end, globals: torchGlobals(L), persistentLoad: L.persistentLoad, refusalHint, limits });
  const keysP = unpickle(bytes, { file, where: 'legacy storage key list', offset: obj.end, limits });
  const keys = keysP.value;
  if (pyKind(keys) !== 'list' || !(keys as unknown[]).every((k) => typeof k === 'string')) fail(`legacy storage key list is ${describe(keys)}; expected a list of strings`);
  let pos = keysP.end;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const key of keys as string[]) {
    const rec = L.storages.get(key);
    if (!rec) fail(`storage '${key}' (at byte ${pos}) is listed but no tensor declared it`);
    if (rec!.bytes) fail(`storage '${key}' is listed twice`);
    if (pos + 8 > bytes.length) fail(`storage '${key}': its element count at byte ${pos} is cut off; the file is truncated`);
    const n = dv.getBigInt64(pos, little);
    const want = rec!.nbytes / rec!.dtype.size;
    if (n !== BigInt(want)) fail(`storage '${key}' at byte ${pos} holds ${n} elements but the pickle declared ${want}`);
    pos += 8;
    if (pos + rec!.nbytes > bytes.length) fail(`storage '${key}' needs ${rec!.nbytes} bytes at byte ${pos} but only ${bytes.length - pos} remain; the file is truncated`);
    rec!.bytes = bytes.subarray(pos, pos + rec!.nbytes);
    pos += rec!.nbytes;
  }
  for (const rec of L.storages.values()) if (!rec.bytes) fail(`storage '${rec.key}' is used by a tensor but missing from the storage list`);
  return { object: materialize(obj.value, !little, L), format: 'legacy', notes: notes(L) };
}

// --- tensors ---

function notes(L: Loader): string[] {
  const say: Record<string, string> = {
    float64: 'float64 tensor(s) converted to float32 (HostTensor has no float64; values rounded to nearest)',
    bfloat16: 'bfloat16 tensor(s) converted to float32 (exact)',
    int16: 'int16 tensor(s) widened to int32 (exact)',
  };
  return Object.entries(L.converted).map(([k, n]) => `${n} ${say[k]}`);
}

/** Replaces every TensorRef in the unpickled value by a HostTensor (shared refs stay shared). */
function materialize(root: unknown, bigEndian: boolean, L: Loader): unknown {
  const done = new Map<TensorRef, HostTensor>();
  const get = (t: TensorRef) => {
    let h = done.get(t);
    if (!h) done.set(t, (h = buildTensor(t, bigEndian, L)));
    return h;
  };
  if (root instanceof TensorRef) return get(root);
  const seen = new Set<object>();
  const todo: object[] = [];
  const visit = (v: unknown) => {
    if (typeof v === 'object' && v !== null && pyKind(v) && !seen.has(v)) {
      seen.add(v);
      todo.push(v);
    }
  };
  visit(root);
  while (todo.length) {
    const node = todo.pop()! as Record<string, unknown>;
    for (const holder of [node, pyAttributes(node)]) {
      if (!holder) continue;
      for (const k of Object.keys(holder)) {
        const v = (holder as Record<string, unknown>)[k];
        if (v instanceof TensorRef) (holder as Record<string, unknown>)[k] = get(v);
        else visit(v);
      }
    }
  }
  return root;
}

type Elements = { [i: number]: number | bigint; readonly length: number };
const VIEWS: Record<string, new (b: ArrayBufferLike, off: number, n: number) => Elements> = {
  float32: Float32Array, float64: Float64Array, float16: Uint16Array, bfloat16: Uint16Array, int64: BigInt64Array,
  int32: Int32Array, int16: Int16Array, int8: Int8Array, uint8: Uint8Array, bool: Uint8Array,
};
const HOST_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function buildTensor(t: TensorRef, bigEndian: boolean, L: Loader): HostTensor {
  const { storage, dtype: dt, size, stride, offset } = t;
  const bytes = storage.record.bytes!;
  const numel = size.reduce((a, b) => a * b, 1);
  let last = offset;
  for (let i = 0; i < size.length; i++) if (size[i]! > 1) last += (size[i]! - 1) * stride[i]!;
  const n = numel === 0 ? 0 : last - offset + 1;
  const Ctor = VIEWS[dt.name]!;
  if (numel === 0) return convert(new Ctor(new ArrayBuffer(0), 0, 0), t, L);
  // The elements [offset, last] of the storage, in host order: a view when aligned, else a copy.
  const start = storage.byteOffset + offset * dt.size;
  const swap = bigEndian === HOST_LITTLE && dt.size > 1;
  let region: Elements;
  if (!swap && (bytes.byteOffset + start) % dt.size === 0) region = new Ctor(bytes.buffer, bytes.byteOffset + start, n);
  else {
    const copy = bytes.slice(start, start + n * dt.size);
    if (swap) for (let i = 0; i < copy.length; i += dt.size) copy.subarray(i, i + dt.size).reverse();
    region = new Ctor(copy.buffer, 0, n);
  }
  let data = region;
  if (!isContiguous(size, stride) && numel > 0) {
    data = new Ctor(new ArrayBuffer(numel * dt.size), 0, numel);
    gather(region, data, size, stride);
  }
  return convert(data, t, L);
}

/** The HostTensor of a tensor's row-major elements, converting dtypes HostTensor lacks. */
function convert(data: Elements, t: TensorRef, L: Loader): HostTensor {
  const host = (d: Elements, ty: DType) => new HostTensor(d as unknown as HostTensor['data'], t.size, ty);
  switch (t.dtype.name) {
    case 'float64':
      L.converted.float64 = (L.converted.float64 ?? 0) + 1;
      return host(Float32Array.from(data as Float64Array), 'float32');
    case 'bfloat16':
      L.converted.bfloat16 = (L.converted.bfloat16 ?? 0) + 1;
      return host(bf16ArrayToF32(data as Uint16Array), 'float32');
    case 'int16':
      L.converted.int16 = (L.converted.int16 ?? 0) + 1;
      return host(Int32Array.from(data as Int16Array), 'int32');
    default:
      return host(data, t.dtype.name as DType);
  }
}

/** torch's is_contiguous: row-major strides, ignoring dimensions of size 1. */
function isContiguous(size: number[], stride: number[]): boolean {
  let expected = 1;
  for (let i = size.length - 1; i >= 0; i--) {
    if (size[i] === 1) continue;
    if (stride[i] !== expected) return false;
    expected *= size[i]!;
  }
  return true;
}

/** Copies a strided view (element 0 = `src[0]`) into row-major `out`. */
function gather(src: Elements, out: Elements, size: number[], stride: number[]): void {
  const rank = size.length;
  const inner = size[rank - 1]!;
  const step = stride[rank - 1]!;
  const idx = new Array<number>(rank).fill(0);
  let base = 0;
  for (let o = 0; o < out.length; ) {
    for (let j = 0; j < inner; j++) out[o++] = src[base + j * step]!;
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]!++;
      base += stride[d]!;
      if (idx[d]! < size[d]!) break;
      base -= stride[d]! * size[d]!;
      idx[d] = 0;
    }
  }
}

// --- finding the weights ---

/** Keys under which training code commonly nests the state dict, in the order they are tried. */
export const STATE_DICT_KEYS = ['state_dict', 'model_state_dict', 'model', 'module', 'net', 'params'] as const;

export interface ExtractedStateDict {
  /** Tensors by key (after removing a DataParallel 'module.' prefix). */
  tensors: Record<string, HostTensor>;
  /** Where the state dict was found: [] for the top level, e.g. ['state_dict'] or ['model']. */
  path: string[];
  /** Entries of the state dict that are not tensors and were dropped, as "key (what)". */
  dropped: string[];
  /** Entries beside the state dict (optimizer, epoch, ...) that were ignored. */
  ignored: string[];
  /** 'module.' when every key carried DataParallel's prefix and it was removed. */
  strippedPrefix?: string;
}

const isDict = (v: unknown): v is Record<string, unknown> => pyKind(v) === 'dict' || pyKind(v) === 'object';

/**
 * Finds the state dict inside a loaded checkpoint: the top-level dict if it holds tensors, else the
 * first of STATE_DICT_KEYS (searched up to three levels deep) that does. Non-tensor entries are dropped
 * and reported; a 'module.' prefix on every key (nn.DataParallel / DistributedDataParallel) is removed.
 */
export function extractStateDict(obj: unknown, file = '<checkpoint>'): ExtractedStateDict {
  const hasTensors = (d: Record<string, unknown>) => Object.values(d).some((v) => v instanceof HostTensor);
  const path: string[] = [];
  const ignored: string[] = [];
  let node = obj;
  for (let depth = 0; ; depth++) {
    if (!isDict(node)) {
      const what = node instanceof HostTensor ? 'a single tensor' : describe(node);
      throw new CheckpointError(file, `holds ${path.length ? `${path.join('.')} = ` : ''}${what}, not a dict of tensors (a state dict)`);
    }
    if (hasTensors(node)) break;
    const d = node;
    const key = depth < 3 ? STATE_DICT_KEYS.find((k) => isDict(d[k]) && containsTensors(d[k] as Record<string, unknown>, 3 - depth)) : undefined;
    if (!key) {
      const keys = Object.keys(d);
      throw new CheckpointError(
        file,
        `no state dict found${path.length ? ` under ${path.join('.')}` : ''}: no tensors at this level and none of ${STATE_DICT_KEYS.map((k) => `'${k}'`).join(', ')} holds any (keys: ${keys.slice(0, 12).map((k) => `'${k}'`).join(', ') || 'none'}${keys.length > 12 ? ', …' : ''})`,
      );
    }
    ignored.push(...Object.keys(d).filter((k) => k !== key).map((k) => [...path, k].join('.')));
    path.push(key);
    node = d[key];
  }
  const tensors: Record<string, HostTensor> = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (v instanceof HostTensor) Object.defineProperty(tensors, k, { value: v, enumerable: true, writable: true, configurable: true });
    else dropped.push(`${k} (${describe(v)})`);
  }
  const keys = Object.keys(tensors);
  const prefix = 'module.';
  if (keys.length && keys.every((k) => k.startsWith(prefix))) {
    const stripped: Record<string, HostTensor> = {};
    for (const k of keys) Object.defineProperty(stripped, k.slice(prefix.length), { value: tensors[k], enumerable: true, writable: true, configurable: true });
    return { tensors: stripped, path, dropped, ignored, strippedPrefix: prefix };
  }
  return { tensors, path, dropped, ignored };
}

/** Whether a dict holds a tensor within `depth` levels (through STATE_DICT_KEYS only). */
function containsTensors(d: Record<string, unknown>, depth: number): boolean {
  if (Object.values(d).some((v) => v instanceof HostTensor)) return true;
  return depth > 0 && STATE_DICT_KEYS.some((k) => isDict(d[k]) && containsTensors(d[k] as Record<string, unknown>, depth - 1));
}
