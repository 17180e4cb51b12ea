// A trainer state as bytes, with a header, lengths and checksums, so that a truncated or half-written checkpoint is
// detected instead of resumed from.
//
// Layout (little-endian):
//   0  "MANTACKP"                  8 bytes magic
//   8  u32 format version (2; 1 is read too: the same layout, written before the teacher group existed)
//   12 u32 H: JSON header bytes
//   16 u64 P: payload bytes
//   24 u32 CRC-32 of bytes [32, end)  (header JSON, its padding and the payload)
//   28 u32 CRC-32 of bytes [0, 28)
//   32 JSON header (the state, each tensor replaced by {shape, offset, length}), zero-padded to a multiple of 4
//   .. payload: the tensors' float32 data back to back (weights, slots, then the teacher's when present)
import * as zlib from 'node:zlib';
import { CheckpointError } from './errors';
import type { TensorRecord, TrainerState } from './state';

const MAGIC = Buffer.from('MANTACKP', 'ascii');
const FORMAT = 2;
/** Layout versions this MANTA decodes. */
const READABLE = new Set([1, 2]);
const PREFIX = 32;

interface TensorRef {
  shape: number[];
  /** Offset in floats from the start of the payload. */
  offset: number;
  length: number;
}

type StoredState = Omit<TrainerState, 'tensors'> & {
  tensors: { weights: Record<string, TensorRef>; slots: Record<string, TensorRef>; teacher?: Record<string, TensorRef> };
};

export function encodeCheckpoint(state: TrainerState): Buffer {
  let floats = 0;
  const refs = (group: Record<string, TensorRecord>): Record<string, TensorRef> => {
    const out: Record<string, TensorRef> = {};
    for (const [name, t] of Object.entries(group)) {
      const length = t.shape.reduce((a, b) => a * b, 1);
      if (length !== t.data.length) {
        throw new CheckpointError(`checkpoint tensor '${name}' has ${t.data.length} values for shape [${t.shape}]`);
      }
      out[name] = { shape: t.shape, offset: floats, length };
      floats += length;
    }
    return out;
  };
  const { weights, slots, teacher } = state.tensors;
  const groups = teacher ? [weights, slots, teacher] : [weights, slots];
  const stored: StoredState = {
    ...state,
    tensors: { weights: refs(weights), slots: refs(slots), ...(teacher ? { teacher: refs(teacher) } : {}) },
  };
  const json = Buffer.from(JSON.stringify(stored), 'utf8');
  const jsonPadded = align4(json.length);
  const payloadBytes = floats * 4;
  const buf = Buffer.alloc(PREFIX + jsonPadded + payloadBytes);
  MAGIC.copy(buf, 0);
  buf.writeUInt32LE(FORMAT, 8);
  buf.writeUInt32LE(json.length, 12);
  buf.writeBigUInt64LE(BigInt(payloadBytes), 16);
  json.copy(buf, PREFIX);
  let at = PREFIX + jsonPadded;
  for (const group of groups) {
    for (const t of Object.values(group)) {
      buf.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
      at += t.data.byteLength;
    }
  }
  buf.writeUInt32LE(crc32(buf.subarray(PREFIX)), 24);
  buf.writeUInt32LE(crc32(buf.subarray(0, 28)), 28);
  return buf;
}

/** Decodes a checkpoint; throws CheckpointError (naming `source`) when it is truncated, corrupt or not one. */
export function decodeCheckpoint(buf: Buffer, source = 'checkpoint'): TrainerState {
  if (buf.length < PREFIX || !buf.subarray(0, 8).equals(MAGIC)) {
    throw new CheckpointError(`${source} is not a MANTA checkpoint (bad header); delete it or pick another`);
  }
  if (buf.readUInt32LE(28) !== crc32(buf.subarray(0, 28))) {
    throw new CheckpointError(`${source} has a corrupt header (checksum mismatch); delete it or pick another`);
  }
  const version = buf.readUInt32LE(8);
  if (!READABLE.has(version)) {
    throw new CheckpointError(`${source} has checkpoint format ${version}, this MANTA reads formats ${[...READABLE].join(' and ')}; it was written by another MANTA version`);
  }
  const jsonBytes = buf.readUInt32LE(12);
  const payloadBytes = Number(buf.readBigUInt64LE(16));
  const expected = PREFIX + align4(jsonBytes) + payloadBytes;
  if (buf.length !== expected) {
    throw new CheckpointError(
      `${source} is ${buf.length < expected ? 'truncated' : 'too long'}: ${buf.length} bytes, expected ${expected}; ` +
        'it was not completely written, use an earlier one',
    );
  }
  if (buf.readUInt32LE(24) !== crc32(buf.subarray(PREFIX))) {
    throw new CheckpointError(`${source} is corrupt (checksum mismatch); use an earlier checkpoint`);
  }
  let stored: StoredState;
  try {
    stored = JSON.parse(buf.subarray(PREFIX, PREFIX + jsonBytes).toString('utf8')) as StoredState;
  } catch {
    throw new CheckpointError(`${source} has an unreadable header; use an earlier checkpoint`);
  }
  const payloadStart = PREFIX + align4(jsonBytes);
  const tensors = (group: Record<string, TensorRef>): Record<string, TensorRecord> => {
    const out: Record<string, TensorRecord> = {};
    for (const [name, ref] of Object.entries(group)) {
      if (ref.offset < 0 || (ref.offset + ref.length) * 4 > payloadBytes) {
        throw new CheckpointError(`${source}: tensor '${name}' lies outside the payload; use an earlier checkpoint`);
      }
      const start = payloadStart + ref.offset * 4;
      // A copy: the result must not alias the caller's buffer, and Float32Array needs 4-byte alignment.
      const bytes = new Uint8Array(buf.buffer, buf.byteOffset + start, ref.length * 4).slice();
      out[name] = { shape: ref.shape, data: new Float32Array(bytes.buffer) };
    }
    return out;
  };
  const { weights, slots, teacher } = stored.tensors;
  return { ...stored, tensors: { weights: tensors(weights), slots: tensors(slots), ...(teacher ? { teacher: tensors(teacher) } : {}) } };
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

// zlib.crc32 exists from Node 20.15; the table version covers older Node 20 releases.
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
let table: Uint32Array | undefined;

export function crc32(data: Uint8Array): number {
  return nativeCrc32 ? nativeCrc32(data) >>> 0 : crc32Portable(data);
}

/** CRC-32 (IEEE) in plain JS, for Node releases without zlib.crc32. */
export function crc32Portable(data: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
