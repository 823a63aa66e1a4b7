/**
 * A minimal protobuf decoder: the counterpart of engine/onnx/protobuf.ts's writer, enough to read
 * an ONNX ModelProto back (varints, fixed32/fixed64, length-delimited fields). Length-delimited
 * payloads are returned as views of the input, not copies, so reading a model with large weights
 * costs no extra memory.
 */

/** One decoded field: its number, wire type and value (a bigint varint, a view, or fixed bits). */
export type ProtoField =
  | { field: number; wire: 0; value: bigint }
  | { field: number; wire: 1; value: DataView }
  | { field: number; wire: 2; value: Uint8Array }
  | { field: number; wire: 5; value: DataView };

export class ProtoReader {
  private pos = 0;

  constructor(
    private readonly buf: Uint8Array,
    /** Names the message in errors ('ModelProto.graph'). */
    private readonly where = 'message',
  ) {}

  private fail(what: string): never {
    throw new Error(`ONNX protobuf: ${what} in ${this.where} at byte ${this.pos} of ${this.buf.length}; the file is truncated or not an ONNX model`);
  }

  private varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) this.fail('a varint runs past the end');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) this.fail('a varint is longer than 10 bytes');
    }
  }

  private take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.buf.length) this.fail(`a field of ${n} bytes runs past the end`);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** Every field of the message, in file order. */
  *fields(): Generator<ProtoField> {
    while (this.pos < this.buf.length) {
      const key = Number(this.varint());
      const field = key >>> 3;
      const wire = key & 7;
      if (field === 0) this.fail('field number 0');
      if (wire === 0) yield { field, wire, value: this.varint() };
      else if (wire === 1) {
        const b = this.take(8);
        yield { field, wire, value: new DataView(b.buffer, b.byteOffset, 8) };
      } else if (wire === 2) yield { field, wire, value: this.take(Number(this.varint())) };
      else if (wire === 5) {
        const b = this.take(4);
        yield { field, wire, value: new DataView(b.buffer, b.byteOffset, 4) };
      } else this.fail(`unsupported wire type ${wire} (field ${field})`);
    }
  }
}

/** A varint as a JS number; int64 values beyond ±2^53 are an error (ONNX dims and attrs never need them). */
export function varintNumber(v: bigint, where: string): number {
  const signed = BigInt.asIntN(64, v);
  if (signed > BigInt(Number.MAX_SAFE_INTEGER) || signed < BigInt(Number.MIN_SAFE_INTEGER)) throw new Error(`ONNX protobuf: ${where} holds ${signed}, beyond the safe integer range`);
  return Number(signed);
}

/** A packed repeated varint field (or one unpacked element) as numbers. */
export function packedVarints(f: ProtoField, where: string): number[] {
  if (f.wire === 0) return [varintNumber(f.value, where)];
  if (f.wire !== 2) throw new Error(`ONNX protobuf: ${where} has wire type ${f.wire}; expected varints`);
  const out: number[] = [];
  // A packed field is a run of bare varints (no keys).
  const bytes = f.value;
  let pos = 0;
  while (pos < bytes.length) {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = bytes[pos++];
      if (b === undefined) throw new Error(`ONNX protobuf: a packed varint runs past the end of ${where}`);
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
    }
    out.push(varintNumber(result, where));
  }
  return out;
}

/** A packed repeated float field (or one unpacked element). */
export function packedFloats(f: ProtoField, where: string): number[] {
  if (f.wire === 5) return [f.value.getFloat32(0, true)];
  if (f.wire !== 2 || f.value.length % 4 !== 0) throw new Error(`ONNX protobuf: ${where} is not a float list`);
  const dv = new DataView(f.value.buffer, f.value.byteOffset, f.value.length);
  return Array.from({ length: f.value.length / 4 }, (_, i) => dv.getFloat32(i * 4, true));
}

export const utf8 = (b: Uint8Array): string => new TextDecoder().decode(b);
