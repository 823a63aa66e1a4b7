/**
 * A protobuf encoder that copies each payload once. engine/onnx/protobuf.ts's ProtoWriter
 * flattens every nested message as it is embedded, so a weight tensor is copied once per nesting
 * level (tensor, graph, model: three times); here a message keeps references to its payloads and
 * nested messages, and `finish()` sizes the whole tree and writes it into one buffer. Rewriting
 * a model of hundreds of megabytes is then one copy of its weights.
 */

/** Payloads at least this long are referenced instead of copied into the pending byte run. */
const REFERENCE_BYTES = 256;

export class PieceWriter {
  private readonly items: (Uint8Array | PieceWriter)[] = [];
  private pending: number[] = [];
  private size = -1;

  private flushPending(): void {
    if (this.pending.length) {
      this.items.push(Uint8Array.from(this.pending));
      this.pending = [];
    }
  }

  private varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.pending.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.pending.push(Number(x));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  private frozen(): void {
    if (this.size >= 0) throw new Error('PieceWriter: a message cannot change after it was measured (embedded or finished)');
  }

  int(field: number, v: number | bigint): this {
    this.frozen();
    this.tag(field, 0);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.frozen();
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.pending.push(...b);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.frozen();
    this.tag(field, 2);
    this.varint(data.length);
    if (data.length >= REFERENCE_BYTES) {
      this.flushPending();
      this.items.push(data);
    } else for (let i = 0; i < data.length; i++) this.pending.push(data[i]!);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, m: PieceWriter): this {
    this.frozen();
    this.tag(field, 2);
    this.varint(m.length());
    this.flushPending();
    this.items.push(m);
    return this;
  }

  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new PieceWriter();
    for (const v of values) inner.varint(v);
    return this.bytes(field, Uint8Array.from(inner.pending));
  }

  packedFloats(field: number, values: readonly number[]): this {
    const data = new Uint8Array(values.length * 4);
    const dv = new DataView(data.buffer);
    values.forEach((v, i) => dv.setFloat32(i * 4, v, true));
    return this.bytes(field, data);
  }

  /** Encoded length in bytes (the message is frozen from here on). */
  length(): number {
    if (this.size < 0) {
      this.flushPending();
      this.size = this.items.reduce((a, it) => a + (it instanceof PieceWriter ? it.length() : it.length), 0);
    }
    return this.size;
  }

  private writeTo(out: Uint8Array, offset: number): number {
    for (const it of this.items) {
      if (it instanceof PieceWriter) offset = it.writeTo(out, offset);
      else {
        out.set(it, offset);
        offset += it.length;
      }
    }
    return offset;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length());
    this.writeTo(out, 0);
    return out;
  }
}
