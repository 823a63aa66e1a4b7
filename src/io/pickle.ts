/**
 * A restricted unpickler: reads Python pickles (protocols 0-5) into plain JS values without ever
 * running code. Python's pickle turns a file into function calls (GLOBAL + REDUCE is "call any
 * function with these arguments"), which is how malicious checkpoints run `os.system`. Here a global is
 * only resolved if it is on an allow-list of data-only constructors (containers, and whatever the caller
 * adds, e.g. torch's tensor rebuilders in pth.ts); any other global is refused the moment it is named,
 * before anything could call it.
 *
 * Results: None → null, bool → boolean, int → number (bigint beyond 2^53), float → number, str → string,
 * bytes/bytearray → Uint8Array, list/tuple/set → array (pyKind tells which), dict/OrderedDict → plain
 * object (keys as strings: ints become '3', None 'None', tuples "('a', 1)"), argparse.Namespace → plain
 * object of its attributes, numpy scalars → numbers. Attributes pickled onto an OrderedDict (PyTorch's
 * state-dict `_metadata`) are kept aside: see pyAttributes.
 *
 * Bounded: every declared length is checked against the bytes that remain before anything is
 * allocated; integers are capped in size, the memo and the value stack in count, and the result in
 * nesting depth; the result is refused if it contains a cycle (checkpoints never do, and consumers that
 * recurse would not terminate). Work is linear in the input size. Errors are CheckpointErrors naming the
 * file, the position and the opcode.
 */
import { CheckpointError } from './checkpoint-error.js';
import { f16ToF32 } from './half.js';

export interface PickleLimits {
  /** Deepest nesting of containers in the result (and of MARKs while building it). Default 1000, like Python's recursion limit. */
  maxDepth: number;
  /** Most memo entries. Default 10 million. */
  maxMemo: number;
  /** Most values on the stack at once. Default 10 million. */
  maxStack: number;
  /** Largest binary integer in bytes (LONG1/LONG4); decimal integers may have 4300 digits as in Python. Default 1024. */
  maxIntBytes: number;
}

export const DEFAULT_PICKLE_LIMITS: Readonly<PickleLimits> = { maxDepth: 1000, maxMemo: 10_000_000, maxStack: 10_000_000, maxIntBytes: 1024 };
const MAX_INT_DIGITS = 4300;

/** What an allowed global may do; a global without `call` can only be used as a value (e.g. a dtype). */
export interface GlobalBehaviour {
  /** REDUCE, INST and OBJ: `global(*args)`. */
  call?(args: unknown[], ctx: PickleContext): unknown;
  /** NEWOBJ / NEWOBJ_EX: `cls.__new__(cls, *args, **kwargs)`. */
  newobj?(args: unknown[], kwargs: Record<string, unknown>, ctx: PickleContext): unknown;
  /** BUILD on an object this global created: `obj.__setstate__(state)`, mutating `obj` in place. */
  build?(obj: object, state: unknown, ctx: PickleContext): void;
}

/** A global the pickle named (module and attribute), resolved through the allow-list. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly behaviour: GlobalBehaviour,
  ) {}

  toString(): string {
    return `${this.module}.${this.name}`;
  }
}

/** Helpers handed to global behaviours and persistent loaders. */
export interface PickleContext {
  readonly file: string;
  /** Throws a CheckpointError naming the file, the position and the opcode. */
  fail(reason: string): never;
  /** A new dict (plain object) that SETITEM(S) may fill. */
  dict(): Record<string, unknown>;
  /** Sets a dict entry, converting the Python key to a string key. */
  setItem(d: Record<string, unknown>, key: unknown, value: unknown): void;
  /** Marks an array as a tuple / list / set. */
  seq<T extends unknown[]>(items: T, kind: 'tuple' | 'list' | 'set'): T;
  /** `cls.__new__(cls, *args)` for an allowed class (used by copyreg._reconstructor). */
  newobj(cls: unknown, args: unknown[], kwargs: Record<string, unknown>): unknown;
}

export type PyKind = 'list' | 'tuple' | 'set' | 'dict' | 'object';
/** The Python type of each container an unpickle produced; anything not in here is a leaf. */
const KIND = new WeakMap<object, PyKind>();
const ATTRS = new WeakMap<object, Record<string, unknown>>();

/** The Python container type of an unpickled value (arrays: 'list' | 'tuple' | 'set'), or undefined. */
export function pyKind(v: unknown): PyKind | undefined {
  return typeof v === 'object' && v !== null ? KIND.get(v) : undefined;
}

/** Instance attributes pickled onto a dict subclass (e.g. a state dict's `_metadata`), if any. */
export function pyAttributes(v: object): Record<string, unknown> | undefined {
  return ATTRS.get(v);
}

export interface UnpickleOptions {
  /** The file, for error messages. */
  file: string;
  /** Where in the file the pickle lives (e.g. 'archive/data.pkl'), for error messages. */
  where?: string;
  /** Start offset in `bytes` (default 0). */
  offset?: number;
  /** Allowed globals beyond the standard ones, by 'module.name'. */
  globals?: Readonly<Record<string, GlobalBehaviour>>;
  /** Resolves PERSID/BINPERSID ids (PyTorch's storages); without it persistent ids are refused. */
  persistentLoad?: (pid: unknown, ctx: PickleContext) => unknown;
  /** Extra advice appended when a global is refused (e.g. "save a state_dict instead"). */
  refusalHint?: (qualname: string) => string | undefined;
  limits?: Partial<PickleLimits>;
}

/** Unpickles one pickle starting at `offset`; returns its value and the offset just past its STOP. */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): { value: unknown; end: number } {
  return new Unpickler(bytes, options).run();
}

// Opcodes (pickletools names).
const OP = {
  MARK: 0x28, STOP: 0x2e, POP: 0x30, POP_MARK: 0x31, DUP: 0x32, FLOAT: 0x46, INT: 0x49, BININT: 0x4a,
  BININT1: 0x4b, LONG: 0x4c, BININT2: 0x4d, NONE: 0x4e, PERSID: 0x50, BINPERSID: 0x51, REDUCE: 0x52,
  STRING: 0x53, BINSTRING: 0x54, SHORT_BINSTRING: 0x55, UNICODE: 0x56, BINUNICODE: 0x58, APPEND: 0x61,
  BUILD: 0x62, GLOBAL: 0x63, DICT: 0x64, EMPTY_DICT: 0x7d, APPENDS: 0x65, GET: 0x67, BINGET: 0x68,
  INST: 0x69, LONG_BINGET: 0x6a, LIST: 0x6c, EMPTY_LIST: 0x5d, OBJ: 0x6f, PUT: 0x70, BINPUT: 0x71,
  LONG_BINPUT: 0x72, SETITEM: 0x73, TUPLE: 0x74, EMPTY_TUPLE: 0x29, SETITEMS: 0x75, BINFLOAT: 0x47,
  PROTO: 0x80, NEWOBJ: 0x81, EXT1: 0x82, EXT2: 0x83, EXT4: 0x84, TUPLE1: 0x85, TUPLE2: 0x86, TUPLE3: 0x87,
  NEWTRUE: 0x88, NEWFALSE: 0x89, LONG1: 0x8a, LONG4: 0x8b, BINBYTES: 0x42, SHORT_BINBYTES: 0x43,
  SHORT_BINUNICODE: 0x8c, BINUNICODE8: 0x8d, BINBYTES8: 0x8e, EMPTY_SET: 0x8f, ADDITEMS: 0x90,
  FROZENSET: 0x91, NEWOBJ_EX: 0x92, STACK_GLOBAL: 0x93, MEMOIZE: 0x94, FRAME: 0x95, BYTEARRAY8: 0x96,
  NEXT_BUFFER: 0x97, READONLY_BUFFER: 0x98,
} as const;
const OP_NAME = new Map<number, string>(Object.entries(OP).map(([k, v]) => [v, k]));

/** Python 2 module names that Python 3's unpickler maps (fix_imports) for the globals allowed here. */
const PY2_MODULES: Record<string, string> = { __builtin__: 'builtins', copy_reg: 'copyreg' };

const utf8 = new TextDecoder('utf-8', { fatal: true });

class Unpickler {
  private pos: number;
  private opStart = 0;
  private op = 0;
  private stack: unknown[] = [];
  private readonly marks: unknown[][] = [];
  private readonly memo = new Map<number, unknown>();
  private readonly limits: PickleLimits;
  private readonly globals: Readonly<Record<string, GlobalBehaviour>>;
  /** Objects created by a global with a `build` behaviour, so BUILD on them can be honoured. */
  private readonly builtBy = new WeakMap<object, PyGlobal>();
  private readonly ctx: PickleContext;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly opts: UnpickleOptions,
  ) {
    this.pos = opts.offset ?? 0;
    this.limits = { ...DEFAULT_PICKLE_LIMITS, ...opts.limits };
    this.globals = { ...STANDARD_GLOBALS, ...opts.globals };
    this.ctx = {
      file: opts.file,
      fail: (reason) => this.fail(reason),
      dict: newDict,
      setItem: (d, k, v) => setItem(d, k, v, this.ctx),
      seq: (items, kind) => mark(items, kind),
      newobj: (cls, args, kwargs) => this.newobj(cls, args, kwargs),
    };
  }

  fail(reason: string): never {
    const where = this.opts.where ? `${this.opts.where}, ` : '';
    const op = OP_NAME.get(this.op) ?? `0x${this.op.toString(16).padStart(2, '0')}`;
    throw new CheckpointError(this.opts.file, `${where}byte ${this.opStart} (pickle opcode ${op}): ${reason}`);
  }

  run(): { value: unknown; end: number } {
    const b = this.bytes;
    const L = this.limits;
    if (this.pos >= b.length) {
      this.op = -1;
      throw new CheckpointError(this.opts.file, `${this.opts.where ? `${this.opts.where}, ` : ''}byte ${this.pos}: expected a pickle but the data ends here; the file is truncated`);
    }
    for (;;) {
      if (this.pos >= b.length) {
        this.opStart = this.pos;
        this.fail('the pickle ends without a STOP opcode; the file is truncated');
      }
      this.opStart = this.pos;
      this.op = b[this.pos++]!;
      if (this.stack.length > L.maxStack) this.fail(`more than ${L.maxStack} values on the pickle stack; refusing`);
      switch (this.op) {
        // --- structure ---
        case OP.PROTO: {
          const v = this.u8();
          if (v > 5) this.fail(`pickle protocol ${v} is not supported (0 to 5 are)`);
          break;
        }
        case OP.FRAME: {
          const n = this.u64();
          if (n > b.length - this.pos) this.fail(`frame of ${n} bytes but only ${b.length - this.pos} remain; the file is truncated`);
          break;
        }
        case OP.STOP: {
          if (this.stack.length === 0) this.fail('STOP with an empty stack');
          const value = this.stack.pop();
          checkStructure(value, L.maxDepth, (r) => this.fail(r));
          return { value, end: this.pos };
        }
        case OP.MARK:
          if (this.marks.length >= L.maxDepth) this.fail(`MARKs nested deeper than ${L.maxDepth}; refusing (nesting bomb?)`);
          this.marks.push(this.stack);
          this.stack = [];
          break;
        case OP.POP:
          if (this.stack.length) this.stack.pop();
          else this.popMark();
          break;
        case OP.POP_MARK:
          this.popMark();
          break;
        case OP.DUP:
          this.push(this.top());
          break;
        case OP.READONLY_BUFFER:
          this.top();
          break;
        // --- constants ---
        case OP.NONE:
          this.push(null);
          break;
        case OP.NEWTRUE:
          this.push(true);
          break;
        case OP.NEWFALSE:
          this.push(false);
          break;
        case OP.INT: {
          const line = this.line();
          this.push(line === '00' ? false : line === '01' ? true : this.decimal(line));
          break;
        }
        case OP.LONG:
          this.push(this.decimal(this.line().replace(/L$/, '')));
          break;
        case OP.BININT:
          this.push(this.view(4).getInt32(0, true));
          break;
        case OP.BININT1:
          this.push(this.u8());
          break;
        case OP.BININT2:
          this.push(this.view(2).getUint16(0, true));
          break;
        case OP.LONG1:
          this.push(this.long(this.u8()));
          break;
        case OP.LONG4: {
          const n = this.view(4).getInt32(0, true);
          if (n < 0) this.fail(`negative integer length ${n}`);
          this.push(this.long(n));
          break;
        }
        case OP.FLOAT:
          this.push(this.float(this.line()));
          break;
        case OP.BINFLOAT:
          this.push(this.view(8).getFloat64(0, false));
          break;
        case OP.STRING:
          this.push(this.decodeUtf8(escapeDecode(this.line(), (r) => this.fail(r))));
          break;
        case OP.BINSTRING: {
          const n = this.view(4).getInt32(0, true);
          if (n < 0) this.fail(`negative string length ${n}`);
          this.push(this.decodeUtf8(this.take(n)));
          break;
        }
        case OP.SHORT_BINSTRING:
          this.push(this.decodeUtf8(this.take(this.u8())));
          break;
        case OP.UNICODE:
          this.push(rawUnicodeEscape(this.lineBytes(), (r) => this.fail(r)));
          break;
        case OP.BINUNICODE:
          this.push(this.decodeUtf8(this.take(this.u32())));
          break;
        case OP.SHORT_BINUNICODE:
          this.push(this.decodeUtf8(this.take(this.u8())));
          break;
        case OP.BINUNICODE8:
          this.push(this.decodeUtf8(this.take(this.u64())));
          break;
        case OP.BINBYTES:
          this.push(this.take(this.u32()).slice());
          break;
        case OP.SHORT_BINBYTES:
          this.push(this.take(this.u8()).slice());
          break;
        case OP.BINBYTES8:
        case OP.BYTEARRAY8:
          this.push(this.take(this.u64()).slice());
          break;
        // --- containers ---
        case OP.EMPTY_LIST:
          this.push(mark([], 'list'));
          break;
        case OP.LIST:
          this.push(mark(this.popMark(), 'list'));
          break;
        case OP.APPEND: {
          const v = this.pop();
          this.listTarget().push(v);
          break;
        }
        case OP.APPENDS: {
          const items = this.popMark();
          const list = this.listTarget();
          for (const v of items) list.push(v);
          break;
        }
        case OP.EMPTY_TUPLE:
          this.push(mark([], 'tuple'));
          break;
        case OP.TUPLE:
          this.push(mark(this.popMark(), 'tuple'));
          break;
        case OP.TUPLE1:
        case OP.TUPLE2:
        case OP.TUPLE3: {
          const n = this.op - OP.TUPLE1 + 1;
          if (this.stack.length < n) this.fail(`needs ${n} values on the stack, found ${this.stack.length}`);
          this.push(mark(this.stack.splice(this.stack.length - n, n), 'tuple'));
          break;
        }
        case OP.EMPTY_DICT:
          this.push(newDict());
          break;
        case OP.DICT: {
          const items = this.popMark();
          if (items.length % 2) this.fail(`odd number of items (${items.length}) for a dict`);
          const d = newDict();
          for (let i = 0; i < items.length; i += 2) setItem(d, items[i], items[i + 1], this.ctx);
          this.push(d);
          break;
        }
        case OP.SETITEM: {
          const v = this.pop();
          const k = this.pop();
          setItem(this.dictTarget(), k, v, this.ctx);
          break;
        }
        case OP.SETITEMS: {
          const items = this.popMark();
          if (items.length % 2) this.fail(`odd number of items (${items.length}) for SETITEMS`);
          const d = this.dictTarget();
          for (let i = 0; i < items.length; i += 2) setItem(d, items[i], items[i + 1], this.ctx);
          break;
        }
        case OP.EMPTY_SET:
          this.push(mark([], 'set'));
          break;
        case OP.ADDITEMS: {
          const items = this.popMark();
          const s = this.top();
          if (pyKind(s) !== 'set') this.fail(`ADDITEMS to ${describe(s)}; only sets can be added to`);
          for (const v of items) (s as unknown[]).push(v);
          break;
        }
        case OP.FROZENSET:
          this.push(mark(this.popMark(), 'set'));
          break;
        // --- memo ---
        case OP.PUT:
          this.memoPut(this.index(this.line()));
          break;
        case OP.BINPUT:
          this.memoPut(this.u8());
          break;
        case OP.LONG_BINPUT:
          this.memoPut(this.u32());
          break;
        case OP.MEMOIZE:
          this.memoPut(this.memo.size);
          break;
        case OP.GET:
          this.memoGet(this.index(this.line()));
          break;
        case OP.BINGET:
          this.memoGet(this.u8());
          break;
        case OP.LONG_BINGET:
          this.memoGet(this.u32());
          break;
        // --- globals and objects: where code would run in Python ---
        case OP.GLOBAL: {
          const module = this.decodeUtf8(this.lineBytes());
          const name = this.decodeUtf8(this.lineBytes());
          this.push(this.resolve(module, name));
          break;
        }
        case OP.STACK_GLOBAL: {
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string') this.fail(`STACK_GLOBAL needs two strings, got ${describe(module)} and ${describe(name)}`);
          this.push(this.resolve(module as string, name as string));
          break;
        }
        case OP.REDUCE: {
          const args = this.pop();
          const fn = this.pop();
          this.push(this.call(fn, this.tupleArg(args, 'REDUCE arguments')));
          break;
        }
        case OP.INST: {
          const module = this.decodeUtf8(this.lineBytes());
          const name = this.decodeUtf8(this.lineBytes());
          const cls = this.resolve(module, name);
          this.push(this.call(cls, this.popMark()));
          break;
        }
        case OP.OBJ: {
          const items = this.popMark();
          if (items.length === 0) this.fail('OBJ without a class');
          const cls = items.shift();
          this.push(this.call(cls, items));
          break;
        }
        case OP.NEWOBJ: {
          const args = this.pop();
          const cls = this.pop();
          this.push(this.newobj(cls, this.tupleArg(args, 'NEWOBJ arguments'), {}));
          break;
        }
        case OP.NEWOBJ_EX: {
          const kwargs = this.pop();
          const args = this.pop();
          const cls = this.pop();
          if (pyKind(kwargs) !== 'dict') this.fail(`NEWOBJ_EX keyword arguments must be a dict, got ${describe(kwargs)}`);
          this.push(this.newobj(cls, this.tupleArg(args, 'NEWOBJ_EX arguments'), kwargs as Record<string, unknown>));
          break;
        }
        case OP.BUILD: {
          const state = this.pop();
          const obj = this.top();
          const g = typeof obj === 'object' && obj !== null ? this.builtBy.get(obj) : undefined;
          if (!g?.behaviour.build) this.fail(`BUILD (setting the state of) ${describe(obj)} is not allowed; only objects of allowed classes may be built`);
          g.behaviour.build(obj as object, state, this.ctx);
          break;
        }
        case OP.PERSID:
          this.push(this.persistent(this.decodeUtf8(this.lineBytes())));
          break;
        case OP.BINPERSID:
          this.push(this.persistent(this.pop()));
          break;
        case OP.EXT1:
        case OP.EXT2:
        case OP.EXT4:
          this.fail('copyreg extension codes are not supported (they name globals through a registry)');
          break;
        case OP.NEXT_BUFFER:
          this.fail('out-of-band buffers (protocol 5 NEXT_BUFFER) are not supported');
          break;
        default:
          this.fail(`unknown opcode 0x${this.op.toString(16).padStart(2, '0')}; the data is not a pickle or is corrupt`);
      }
    }
  }

  // --- stack helpers ---
  private push(v: unknown): void {
    this.stack.push(v);
  }

  private pop(): unknown {
    if (this.stack.length === 0) this.fail('needs a value but the stack is empty (or only a MARK is there)');
    return this.stack.pop();
  }

  private top(): unknown {
    if (this.stack.length === 0) this.fail('needs a value but the stack is empty (or only a MARK is there)');
    return this.stack[this.stack.length - 1];
  }

  private popMark(): unknown[] {
    const items = this.stack;
    const prev = this.marks.pop();
    if (!prev) this.fail('no MARK to pop to');
    this.stack = prev;
    return items;
  }

  private listTarget(): unknown[] {
    const t = this.top();
    if (pyKind(t) !== 'list') this.fail(`appending to ${describe(t)}; only lists can be appended to`);
    return t as unknown[];
  }

  private dictTarget(): Record<string, unknown> {
    const t = this.top();
    if (pyKind(t) !== 'dict') this.fail(`setting an item on ${describe(t)}; only dicts can take items`);
    return t as Record<string, unknown>;
  }

  private tupleArg(v: unknown, what: string): unknown[] {
    if (!Array.isArray(v) || pyKind(v) === 'set') this.fail(`${what} must be a tuple, got ${describe(v)}`);
    return v as unknown[];
  }

  private memoPut(i: number): void {
    if (this.memo.size >= this.limits.maxMemo && !this.memo.has(i)) this.fail(`more than ${this.limits.maxMemo} memo entries; refusing`);
    this.memo.set(i, this.top());
  }

  private memoGet(i: number): void {
    if (!this.memo.has(i)) this.fail(`memo entry ${i} was never stored; the pickle is corrupt`);
    this.push(this.memo.get(i));
  }

  // --- globals ---
  private resolve(module: string, name: string): PyGlobal {
    const mod = PY2_MODULES[module] ?? module;
    const qual = `${mod}.${name}`;
    const b = Object.hasOwn(this.globals, qual) ? this.globals[qual] : undefined;
    if (!b) {
      const hint = this.opts.refusalHint?.(qual);
      this.fail(`global '${qual}' is not allowed: loading a checkpoint never runs code, and only tensors, storages, dtypes and plain containers may be named${hint ? `. ${hint}` : ''}`);
    }
    return new PyGlobal(mod, name, b);
  }

  private call(fn: unknown, args: unknown[]): unknown {
    if (!(fn instanceof PyGlobal)) this.fail(`calling ${describe(fn)}: only allowed globals can be called`);
    if (!fn.behaviour.call) this.fail(`'${fn}' cannot be called (it is allowed only as a value)`);
    const r = fn.behaviour.call(args, this.ctx);
    if (fn.behaviour.build && typeof r === 'object' && r !== null) this.builtBy.set(r, fn);
    return r;
  }

  private newobj(cls: unknown, args: unknown[], kwargs: Record<string, unknown>): unknown {
    if (!(cls instanceof PyGlobal)) this.fail(`instantiating ${describe(cls)}: only allowed classes can be instantiated`);
    if (!cls.behaviour.newobj) this.fail(`'${cls}' cannot be instantiated with __new__`);
    const r = cls.behaviour.newobj(args, kwargs, this.ctx);
    if (cls.behaviour.build && typeof r === 'object' && r !== null) this.builtBy.set(r, cls);
    return r;
  }

  private persistent(pid: unknown): unknown {
    if (!this.opts.persistentLoad) this.fail(`persistent id ${describe(pid)} but this pickle is not read with a persistent loader`);
    return this.opts.persistentLoad(pid, this.ctx);
  }

  // --- reading ---
  private need(n: number): void {
    if (n > this.bytes.length - this.pos) this.fail(`needs ${n} bytes but only ${this.bytes.length - this.pos} remain; the file is truncated or the size is corrupt`);
  }

  private take(n: number): Uint8Array {
    this.need(n);
    const s = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  private view(n: number): DataView {
    const s = this.take(n);
    return new DataView(s.buffer, s.byteOffset, n);
  }

  private u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  private u32(): number {
    return this.view(4).getUint32(0, true);
  }

  private u64(): number {
    const n = this.view(8).getBigUint64(0, true);
    if (n > BigInt(this.bytes.length)) this.fail(`declares ${n} bytes but only ${this.bytes.length - this.pos} remain; the file is truncated or the size is corrupt`);
    return Number(n);
  }

  private lineBytes(): Uint8Array {
    const nl = this.bytes.indexOf(0x0a, this.pos);
    if (nl < 0) this.fail('a text argument has no terminating newline; the file is truncated');
    const s = this.bytes.subarray(this.pos, nl);
    this.pos = nl + 1;
    return s;
  }

  private line(): string {
    let s = '';
    for (const c of this.lineBytes()) s += String.fromCharCode(c);
    return s.replace(/\r$/, '');
  }

  private decodeUtf8(b: Uint8Array): string {
    try {
      return utf8.decode(b);
    } catch {
      return this.fail(`a string of ${b.length} bytes is not valid UTF-8`);
    }
  }

  private decimal(s: string): number | bigint {
    const t = s.trim();
    if (!/^[+-]?\d+$/.test(t)) this.fail(`'${t.slice(0, 40)}' is not an integer`);
    if (t.length > MAX_INT_DIGITS) this.fail(`integer of ${t.length} digits exceeds the ${MAX_INT_DIGITS}-digit limit`);
    return normInt(BigInt(t));
  }

  private index(s: string): number {
    const v = this.decimal(s);
    if (typeof v !== 'number' || v < 0 || v > 0xffffffff) this.fail(`memo index ${String(v).slice(0, 40)} is out of range`);
    return v as number;
  }

  private float(s: string): number {
    const t = s.trim();
    if (/^[+-]?inf(inity)?$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
    if (/^[+-]?nan$/i.test(t)) return NaN;
    if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) this.fail(`'${t.slice(0, 40)}' is not a float`);
    return Number(t);
  }

  private long(n: number): number | bigint {
    if (n > this.limits.maxIntBytes) this.fail(`integer of ${n} bytes exceeds the ${this.limits.maxIntBytes}-byte limit`);
    const b = this.take(n);
    if (n === 0) return 0;
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
    return normInt(v);
  }
}

/** A JS number when exactly representable, else a bigint. */
function normInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function mark<T extends object>(v: T, kind: PyKind): T {
  KIND.set(v, kind);
  return v;
}

function newDict(): Record<string, unknown> {
  return mark({}, 'dict');
}

/** Sets d[key] with a Python key turned into a string; '__proto__' stays an ordinary own key. */
function setItem(d: Record<string, unknown>, key: unknown, value: unknown, ctx: PickleContext): void {
  const k = keyString(key, ctx);
  if (k === '__proto__') Object.defineProperty(d, k, { value, enumerable: true, writable: true, configurable: true });
  else d[k] = value;
}

function keyString(k: unknown, ctx: PickleContext, nested = false): string {
  if (typeof k === 'string') return nested ? `'${k.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : k;
  if (typeof k === 'number' || typeof k === 'bigint') return String(k);
  if (typeof k === 'boolean') return k ? 'True' : 'False';
  if (k === null) return 'None';
  if (!nested && pyKind(k) === 'tuple') {
    const items = (k as unknown[]).map((x) => keyString(x, ctx, true));
    return `(${items.join(', ')}${items.length === 1 ? ',' : ''})`;
  }
  return ctx.fail(`dict key ${describe(k)} is not supported (keys may be strings, numbers, booleans, None or flat tuples of those)`);
}

/** A short description of a value for error messages (never recursive). */
export function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return `str '${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  if (typeof v === 'number') return Number.isInteger(v) ? `int ${v}` : `float ${v}`;
  if (typeof v === 'bigint') return `int ${v}`;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (v instanceof PyGlobal) return `global '${v}'`;
  if (v instanceof Uint8Array) return `bytes of length ${v.length}`;
  const kind = pyKind(v);
  if (Array.isArray(v)) return `${kind ?? 'array'} of ${v.length} items`;
  if (kind === 'dict') return `dict of ${Object.keys(v as object).length} items`;
  return `a ${(v as object).constructor?.name ?? 'object'}`;
}

/**
 * Refuses a result with a cycle or nested deeper than `maxDepth`, iteratively (so the check itself
 * cannot overflow the JS stack) and visiting each shared sub-structure once.
 */
function checkStructure(root: unknown, maxDepth: number, fail: (r: string) => never): void {
  const height = new Map<object, number>();
  const onPath = new Set<object>();
  const stack: { node: object; kids: unknown[]; i: number; h: number }[] = [];
  const enter = (node: object) => {
    if (stack.length >= maxDepth) fail(`the result nests containers deeper than ${maxDepth} levels; refusing (nesting bomb?)`);
    onPath.add(node);
    stack.push({ node, kids: children(node), i: 0, h: 0 });
  };
  if (isContainer(root)) enter(root);
  while (stack.length) {
    const f = stack[stack.length - 1]!;
    if (f.i < f.kids.length) {
      const c = f.kids[f.i++];
      if (!isContainer(c)) continue;
      if (onPath.has(c)) fail('the result contains itself (a reference cycle); checkpoints never do, refusing');
      const h = height.get(c);
      if (h === undefined) {
        enter(c);
        continue;
      }
      if (stack.length + h > maxDepth) fail(`the result nests containers deeper than ${maxDepth} levels; refusing (nesting bomb?)`);
      f.h = Math.max(f.h, h);
    } else {
      stack.pop();
      onPath.delete(f.node);
      height.set(f.node, f.h + 1);
      const parent = stack[stack.length - 1];
      if (parent) parent.h = Math.max(parent.h, f.h + 1);
    }
  }
}

const isContainer = (v: unknown): v is object => typeof v === 'object' && v !== null && KIND.has(v);

/** A container's values, including attributes kept aside by pyAttributes. */
function children(node: object): unknown[] {
  const own = Array.isArray(node) ? node : Object.values(node);
  const attrs = ATTRS.get(node);
  return attrs ? [...own, ...Object.values(attrs)] : own;
}

/** Python's escape_decode for protocol-0 STRING arguments: a quoted repr of a byte string. */
function escapeDecode(line: string, fail: (r: string) => never): Uint8Array {
  const q = line[0];
  if (line.length < 2 || (q !== "'" && q !== '"') || line[line.length - 1] !== q) fail('STRING argument is not a quoted string');
  const s = line.slice(1, -1);
  const out: number[] = [];
  const simple: Record<string, number> = { n: 10, r: 13, t: 9, '\\': 92, "'": 39, '"': 34, a: 7, b: 8, f: 12, v: 11, '\n': -1 };
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 92) {
      out.push(c & 0xff);
      continue;
    }
    const e = s[++i];
    if (e === undefined) fail('STRING argument ends with a lone backslash');
    if (e in simple) {
      if (simple[e]! >= 0) out.push(simple[e]!);
    } else if (e === 'x') {
      const h = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) fail(`invalid \\x escape in STRING argument`);
      out.push(parseInt(h, 16));
      i += 2;
    } else if (/[0-7]/.test(e!)) {
      let j = i;
      while (j < i + 3 && j < s.length && /[0-7]/.test(s[j]!)) j++;
      out.push(parseInt(s.slice(i, j), 8) & 0xff);
      i = j - 1;
    } else {
      out.push(92, e!.charCodeAt(0) & 0xff); // Python keeps unknown escapes as they are
    }
  }
  return Uint8Array.from(out);
}

/** Python's raw-unicode-escape codec (protocol-0 UNICODE): latin-1 bytes with \uXXXX and \UXXXXXXXX escapes. */
function rawUnicodeEscape(b: Uint8Array, fail: (r: string) => never): string {
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c !== 92) {
      s += String.fromCharCode(c);
      continue;
    }
    // Only a backslash that is not itself preceded by an odd run of backslashes starts an escape.
    let run = 1;
    while (i + run < b.length && b[i + run] === 92) run++;
    const next = b[i + run];
    if (run % 2 === 1 && (next === 0x75 || next === 0x55)) {
      s += '\\'.repeat(run - 1);
      const n = next === 0x75 ? 4 : 8;
      const hex = String.fromCharCode(...b.subarray(i + run + 1, i + run + 1 + n));
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) fail(`truncated \\${String.fromCharCode(next)} escape in UNICODE argument`);
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) fail(`\\U escape ${hex} is beyond Unicode`);
      s += String.fromCodePoint(cp);
      i += run + n;
    } else {
      s += '\\'.repeat(run);
      i += run - 1;
    }
  }
  return s;
}

// --- the standard allow-list: data-only constructors that appear in checkpoints ---

const asStr = (v: unknown, what: string, ctx: PickleContext): string => (typeof v === 'string' ? v : ctx.fail(`${what} must be a str, got ${describe(v)}`));

function encodeStr(s: string, encoding: string, ctx: PickleContext): Uint8Array {
  const enc = encoding.toLowerCase().replace(/_/g, '-');
  if (enc === 'latin1' || enc === 'latin-1' || enc === 'iso-8859-1') {
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 255) ctx.fail(`cannot encode character U+${c.toString(16)} as latin-1`);
      out[i] = c;
    }
    return out;
  }
  if (enc === 'utf-8' || enc === 'utf8') return new TextEncoder().encode(s);
  return ctx.fail(`encoding '${encoding}' is not supported (latin-1 and utf-8 are)`);
}

function bytesFrom(args: unknown[], ctx: PickleContext, what: string): Uint8Array {
  if (args.length === 0) return new Uint8Array(0);
  const [src, enc] = args;
  if (typeof src === 'string') return encodeStr(src, enc === undefined ? 'utf-8' : asStr(enc, 'encoding', ctx), ctx);
  if (src instanceof Uint8Array) return src.slice();
  if (Array.isArray(src) && src.every((x) => Number.isInteger(x) && (x as number) >= 0 && (x as number) < 256)) return Uint8Array.from(src as number[]);
  return ctx.fail(`${what}(${describe(src)}) is not supported`);
}

function setOf(args: unknown[], ctx: PickleContext): unknown[] {
  if (args.length === 0) return ctx.seq([], 'set');
  const [src] = args;
  if (!Array.isArray(src)) ctx.fail(`set(${describe(src)}) is not supported; expected a list`);
  return ctx.seq([...(src as unknown[])], 'set');
}

/** dicts, lists of pairs or tuples of pairs as OrderedDict's argument. */
function orderedDict(args: unknown[], ctx: PickleContext): Record<string, unknown> {
  const d = ctx.dict();
  if (args.length > 1) ctx.fail(`OrderedDict takes at most 1 argument, got ${args.length}`);
  const [src] = args;
  if (src === undefined) return d;
  if (pyKind(src) === 'dict') {
    for (const [k, v] of Object.entries(src as object)) ctx.setItem(d, k, v);
    return d;
  }
  if (!Array.isArray(src)) return ctx.fail(`OrderedDict(${describe(src)}) is not supported`);
  for (const pair of src as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2) ctx.fail(`OrderedDict items must be (key, value) pairs, got ${describe(pair)}`);
    ctx.setItem(d, (pair as unknown[])[0], (pair as unknown[])[1]);
  }
  return d;
}

/** obj.__dict__.update(state) for the default BUILD: state is a dict or (dict, slots dict). */
function stateDicts(state: unknown, ctx: PickleContext): Record<string, unknown>[] {
  if (state === null) return [];
  if (pyKind(state) === 'dict') return [state as Record<string, unknown>];
  if (pyKind(state) === 'tuple' && (state as unknown[]).length === 2) {
    return (state as unknown[]).filter((s) => s !== null).map((s) => (pyKind(s) === 'dict' ? (s as Record<string, unknown>) : ctx.fail(`state part ${describe(s)} is not a dict`)));
  }
  return ctx.fail(`object state ${describe(state)} is not supported; expected a dict`);
}

// numpy scalars (mmcv/mmseg store metrics such as best_score as numpy floats in checkpoint metadata).
const NP_TYPES: Record<string, { size: number; read: (v: DataView, le: boolean) => number | bigint | boolean }> = {
  b1: { size: 1, read: (v) => v.getUint8(0) !== 0 },
  i1: { size: 1, read: (v) => v.getInt8(0) },
  u1: { size: 1, read: (v) => v.getUint8(0) },
  i2: { size: 2, read: (v, le) => v.getInt16(0, le) },
  u2: { size: 2, read: (v, le) => v.getUint16(0, le) },
  i4: { size: 4, read: (v, le) => v.getInt32(0, le) },
  u4: { size: 4, read: (v, le) => v.getUint32(0, le) },
  i8: { size: 8, read: (v, le) => normInt(v.getBigInt64(0, le)) },
  u8: { size: 8, read: (v, le) => normInt(v.getBigUint64(0, le)) },
  f2: { size: 2, read: (v, le) => f16ToF32(v.getUint16(0, le)) },
  f4: { size: 4, read: (v, le) => v.getFloat32(0, le) },
  f8: { size: 8, read: (v, le) => v.getFloat64(0, le) },
};
const NP_DTYPE = new WeakMap<object, { code: string; order: string }>();

const npDtype: GlobalBehaviour = {
  call(args, ctx) {
    const code = asStr(args[0], 'numpy dtype', ctx).replace(/^[<>|=]/, '');
    if (!(code in NP_TYPES)) ctx.fail(`numpy dtype '${String(args[0])}' is not supported (numeric scalars only: ${Object.keys(NP_TYPES).join(', ')})`);
    const obj = mark({ numpy_dtype: code }, 'object');
    NP_DTYPE.set(obj, { code, order: /^>/.test(args[0] as string) ? '>' : '<' });
    return obj;
  },
  build(obj, state, ctx) {
    const info = NP_DTYPE.get(obj);
    if (!info || pyKind(state) !== 'tuple') return ctx.fail(`numpy dtype state ${describe(state)} is not supported`);
    const order = (state as unknown[])[1];
    if (order === '>' || order === '<') info.order = order;
    else if (order !== '|' && order !== '=') ctx.fail(`numpy byte order ${describe(order)} is not supported`);
  },
};

const npScalar: GlobalBehaviour = {
  call(args, ctx) {
    const [dt, raw] = args;
    const info = typeof dt === 'object' && dt !== null ? NP_DTYPE.get(dt) : undefined;
    if (!info) return ctx.fail(`numpy scalar of ${describe(dt)}: expected a numpy dtype`);
    if (!(raw instanceof Uint8Array)) return ctx.fail(`numpy scalar data must be bytes, got ${describe(raw)}`);
    const t = NP_TYPES[info.code]!;
    if (raw.length !== t.size) ctx.fail(`numpy ${info.code} scalar needs ${t.size} bytes, got ${raw.length}`);
    return t.read(new DataView(raw.buffer, raw.byteOffset, raw.length), info.order !== '>');
  },
};

const namespace: GlobalBehaviour = {
  newobj(args, _kwargs, ctx) {
    if (args.length) ctx.fail(`argparse.Namespace.__new__ takes no arguments, got ${args.length}`);
    return mark({}, 'object');
  },
  build(obj, state, ctx) {
    for (const d of stateDicts(state, ctx)) for (const [k, v] of Object.entries(d)) ctx.setItem(obj as Record<string, unknown>, k, v);
  },
};

/** Always allowed: they only build data. */
const STANDARD_GLOBALS: Readonly<Record<string, GlobalBehaviour>> = {
  'collections.OrderedDict': {
    call: orderedDict,
    build(obj, state, ctx) {
      const attrs = ATTRS.get(obj) ?? {};
      for (const d of stateDicts(state, ctx)) for (const [k, v] of Object.entries(d)) ctx.setItem(attrs, k, v);
      ATTRS.set(obj, attrs);
    },
  },
  'builtins.set': { call: setOf },
  'builtins.frozenset': { call: setOf },
  'builtins.bytes': { call: (a, ctx) => bytesFrom(a, ctx, 'bytes') },
  'builtins.bytearray': { call: (a, ctx) => bytesFrom(a, ctx, 'bytearray') },
  '_codecs.encode': { call: (a, ctx) => encodeStr(asStr(a[0], 'codecs.encode argument', ctx), a[1] === undefined ? 'utf-8' : asStr(a[1], 'encoding', ctx), ctx) },
  'builtins.object': {},
  'copyreg._reconstructor': {
    call(args, ctx) {
      const [cls, base, state] = args;
      if (!(base instanceof PyGlobal) || String(base) !== 'builtins.object' || state !== null) {
        ctx.fail(`copyreg._reconstructor is only allowed for plain objects (base object, no state), got ${describe(base)}, ${describe(state)}`);
      }
      return ctx.newobj(cls, [], {});
    },
  },
  'argparse.Namespace': namespace,
  'numpy.dtype': npDtype,
  'numpy.core.multiarray.scalar': npScalar,
  'numpy._core.multiarray.scalar': npScalar,
};
