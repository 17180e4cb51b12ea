// The options of a group, their checks, and the few tuning constants.
import { createHash } from 'node:crypto';

export interface GroupOptions {
  /** 0 … worldSize−1. */
  rank: number;
  worldSize: number;
  /** Node id of every rank (length worldSize); ranks of a node need not be contiguous. */
  nodeOf: number[];
  /** Host label of every rank, for messages ("rank 3 on host 'b'"). */
  hostOf: string[];
  /** Rank 0 runs the rendezvous listener here (bound to its bindAddress); the others dial it. Port 0 is refused. */
  coordinator: { host: string; port: number };
  /** Address this rank's listeners bind to (rank 0's rendezvous too). */
  bindAddress: string;
  /** The job secret; never sent, never logged. */
  token: string;
  /** Rendezvous deadline, data-mesh deadline, and the deadline of every collective. */
  timeoutMs: number;
  /** Aborting closes the group and rejects pending ops (kind 'aborted'). */
  signal?: AbortSignal;
}

/**
 * Chunk of the ring and the chains: large enough that per-frame costs (header, read callbacks, writev) vanish,
 * small enough that adding chunk j overlaps with receiving chunk j+1 and the received chunk is still in cache when
 * it is added. Swept interleaved from 128 KiB to 4 MiB (2–4 processes, 64 K–8 M floats): 512 KiB–1 MiB is best or
 * within noise everywhere; with 3–4 processes on 2 cores the size hardly matters.
 */
export const CHUNK_BYTES = 1024 * 1024;
export const CHUNK_FLOATS = CHUNK_BYTES / 4;

/** Heartbeat period: often enough that a silent (stopped) peer stands out well within one timeout. */
export function heartbeatMs(timeoutMs: number): number {
  return Math.min(1000, Math.max(20, Math.floor(timeoutMs / 8)));
}

/** Throws TypeError/RangeError on options no group could run with (before touching the network). */
export function checkOptions(o: GroupOptions): void {
  const int = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
  if (!int(o.worldSize) || o.worldSize < 1) throw new RangeError(`worldSize must be a positive integer, not ${String(o.worldSize)}`);
  if (!int(o.rank) || o.rank < 0 || o.rank >= o.worldSize) throw new RangeError(`rank must be an integer in 0…${o.worldSize - 1}, not ${String(o.rank)}`);
  if (!Array.isArray(o.nodeOf) || o.nodeOf.length !== o.worldSize || !o.nodeOf.every(int)) throw new RangeError(`nodeOf must list an integer node id for each of the ${o.worldSize} ranks`);
  if (!Array.isArray(o.hostOf) || o.hostOf.length !== o.worldSize || !o.hostOf.every((h) => typeof h === 'string')) throw new RangeError(`hostOf must list a host label for each of the ${o.worldSize} ranks`);
  if (typeof o.token !== 'string' || o.token.length === 0) throw new TypeError('token must be a non-empty string (the job secret)');
  if (typeof o.timeoutMs !== 'number' || !(o.timeoutMs > 0) || !Number.isFinite(o.timeoutMs)) throw new RangeError(`timeoutMs must be a positive number of milliseconds, not ${String(o.timeoutMs)}`);
  if (typeof o.bindAddress !== 'string' || o.bindAddress.length === 0) throw new TypeError('bindAddress must name the address to listen on');
  if (o.worldSize > 1) {
    const c = o.coordinator;
    if (!c || typeof c.host !== 'string' || c.host.length === 0) throw new TypeError('coordinator.host must name rank 0');
    if (!int(c.port) || c.port < 1 || c.port > 65535) throw new RangeError(`coordinator.port must be a fixed port in 1…65535 (the other ranks must know it), not ${String(c.port)}`);
  }
}

/** A digest of the layout every rank must agree on, compared at the rendezvous. */
export function layoutDigest(o: GroupOptions): string {
  return createHash('sha256').update(JSON.stringify([o.worldSize, o.nodeOf, o.hostOf])).digest('hex').slice(0, 16);
}

export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '::0';
}
