// The wire format: every message is a 16-byte header followed by `length` payload bytes. Data frames carry raw
// little-endian float32 (or the broadcast's bytes) and nothing else — no JSON on the data path; only the handshake,
// the rendezvous table and ABORT carry small JSON payloads.
//
//   offset 0  u8   type (FrameType)
//          1  u8   reserved (0)
//          2  u16  stage  (ring step / phase within the op; lets the receiver check it is where the sender is)
//          4  u32  seq    (the op's sequence number: ranks must call collectives in the same order)
//          8  u32  index  (chunk index within the stage)
//         12  u32  length (payload bytes; a chunk is far below 4 GiB)

export const HEADER_BYTES = 16;

export const FrameType = {
  // Handshake and rendezvous (JSON payloads).
  Hello: 1,
  Challenge: 2,
  Proof: 3,
  Accept: 4,
  Refuse: 5,
  Table: 6,
  // Data plane (binary payloads), matched against posted receives.
  Ring: 16,
  ChainReduce: 17,
  ChainBcast: 18,
  Bytes: 19,
  Barrier: 20,
  // Liveness and failure (header only, or a small JSON payload for Abort).
  Heartbeat: 32,
  Abort: 33,
  Bye: 34,
} as const;

export function isDataFrame(type: number): boolean {
  return type >= FrameType.Ring && type <= FrameType.Barrier;
}

/** What a data frame belongs to, for messages that say which collective a rank was in. */
export function frameOpName(type: number): string {
  switch (type) {
    case FrameType.Ring:
      return 'all-reduce (ring)';
    case FrameType.ChainReduce:
    case FrameType.ChainBcast:
      return 'hierarchical all-reduce (intra-node)';
    case FrameType.Bytes:
      return 'broadcastBytes';
    case FrameType.Barrier:
      return 'barrier';
    default:
      return `frame type ${type}`;
  }
}

export interface FrameHeader {
  type: number;
  stage: number;
  seq: number;
  index: number;
  length: number;
}

export function encodeHeader(type: number, stage: number, seq: number, index: number, length: number): Buffer {
  // allocUnsafe takes from Node's shared slab: no per-frame allocation of its own. A header cannot be reused,
  // since the socket may still hold it after write() returns.
  const h = Buffer.allocUnsafe(HEADER_BYTES);
  h[0] = type;
  h[1] = 0;
  h.writeUInt16LE(stage, 2);
  h.writeUInt32LE(seq >>> 0, 4);
  h.writeUInt32LE(index >>> 0, 8);
  h.writeUInt32LE(length >>> 0, 12);
  return h;
}

export function decodeHeader(h: Buffer): FrameHeader {
  return { type: h[0], stage: h.readUInt16LE(2), seq: h.readUInt32LE(4), index: h.readUInt32LE(8), length: h.readUInt32LE(12) };
}

/** A byte view of float32 elements [from, to) of `f`, sharing its memory (sent from / received into directly). */
export function bytesOf(f: Float32Array, from = 0, to = f.length): Uint8Array {
  return new Uint8Array(f.buffer, f.byteOffset + from * 4, (to - from) * 4);
}
