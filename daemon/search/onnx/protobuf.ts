// A write-only protobuf encoder for the eight ONNX messages the exporter emits (ModelProto, GraphProto, NodeProto,
// AttributeProto, TensorProto, ValueInfoProto, TypeProto, OperatorSetIdProto, and the small ones inside them).
// Hand-written rather than protobufjs + a vendored onnx.proto: MANTA only ever writes these messages, never reads
// them, and the wire format needs three field kinds (varint, 32-bit float, length-delimited) — some sixty lines against
// a runtime dependency and a schema file to keep in step. The field numbers are onnx/onnx.proto's (IR version 10).

/** Protobuf wire types (encoding spec, "Message Structure"). */
const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

/** One message being written: fields are appended in order; `bytes()` gives the encoded message. */
export class ProtoMessage {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;

  /** An int32/int64/enum/bool field (negative values as 10-byte two's complement, as protobuf's int64). */
  varint(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.push(encodeVarint(BigInt(value)));
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.push(encodeVarint(BigInt(value.length)));
    this.push(value);
    return this;
  }

  message(field: number, value: ProtoMessage): this {
    return this.bytes(field, value.finish());
  }

  /** A packed repeated int64 field (proto3 packs repeated scalars by default). */
  packedVarints(field: number, values: readonly (number | bigint)[]): this {
    const body = new ProtoMessage();
    for (const v of values) body.push(encodeVarint(BigInt(v)));
    return this.bytes(field, body.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  private tag(field: number, wire: number): void {
    this.push(encodeVarint(BigInt(field) << 3n | BigInt(wire)));
  }

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }
}

function encodeVarint(value: bigint): Uint8Array {
  let v = BigInt.asUintN(64, value);
  const bytes: number[] = [];
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    bytes.push(v > 0n ? low | 0x80 : low);
  } while (v > 0n);
  return Uint8Array.from(bytes);
}
