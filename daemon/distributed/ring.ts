// Ring all-reduce (reduce-scatter, then all-gather) over any ordered list of ranks: each rank sends and receives
// 2(n−1)/n of the vector, the bandwidth optimum, which is why Gloo and NCCL use it for large buffers.
//
// The vector is cut into n segments and every segment into m chunks. Stage k (0 … 2n−3) sends segment (p−k) mod n
// to the right neighbour and receives segment (p−k−1) mod n from the left: stages 0 … n−2 reduce (the received chunk
// is added into our copy and passed on), stage n−2's add also scales by 1/n, which makes that segment final, and
// stages n−1 … 2n−3 pass final segments around. Each received chunk triggers the same chunk of the next stage at
// once, so the ring is pipelined chunk by chunk: the kernel receives chunk j+1 while we add chunk j, and large
// vectors never wait for a whole segment. Every rank scales a segment exactly once and all others receive its
// bits, so all ranks end with bit-identical results.
//
// Buffers are received into and sent from in place. That is safe without copies because of causality: a region
// we sent is only overwritten by a final value that already contains what we sent, so our right neighbour has
// received it, so the kernel has taken it from our memory.
import { bytesOf, FrameType } from './frame';
import { mod, type Transport } from './plan';
import { accumulate, type FlatVector } from './vector';

export class RingAllReduce {
  private readonly n: number;
  private readonly left: number;
  private readonly right: number;
  /** Chunks per segment (the same for every segment, so stages line up). */
  private readonly m: number;
  private readonly maxSeg: number;
  private readonly total: number;
  private processed = 0;
  private armed = false;
  private readonly backlog: number[] = [];

  constructor(
    private readonly t: Transport,
    members: readonly number[],
    private readonly pos: number,
    private readonly vec: FlatVector,
    /** At least (n−1)·ceil(L/n) floats: one region per reduce stage, so a fast left neighbour never overwrites. */
    private readonly scratch: Float32Array,
    chunkFloats: number,
    private readonly scale: number,
    private readonly onComplete: () => void,
  ) {
    const n = members.length;
    this.n = n;
    this.left = members[mod(pos - 1, n)];
    this.right = members[mod(pos + 1, n)];
    const L = vec.length;
    this.maxSeg = Math.ceil(L / n);
    this.m = Math.max(1, Math.ceil(this.maxSeg / chunkFloats));
    this.total = (2 * n - 2) * this.m;
  }

  static scratchFloats(n: number, length: number): number {
    return (n - 1) * Math.ceil(length / n);
  }

  private segStart(k: number): number {
    return Math.floor((k * this.vec.length) / this.n);
  }

  /** Flat range of chunk j of segment q. */
  private chunk(q: number, j: number): [number, number] {
    const s = this.segStart(q);
    const len = this.segStart(q + 1) - s;
    return [s + Math.floor((j * len) / this.m), s + Math.floor(((j + 1) * len) / this.m)];
  }

  /** Posts every receive of the op on the left connection, in the order the left neighbour sends them. */
  post(): void {
    const { n, m } = this;
    for (let k = 0; k <= 2 * n - 3; k++) {
      const q = mod(this.pos - k - 1, n);
      for (let j = 0; j < m; j++) {
        const [a, b] = this.chunk(q, j);
        let parts: Uint8Array[];
        if (k <= n - 2) {
          const off = k * this.maxSeg + (a - this.segStart(q));
          parts = b > a ? [bytesOf(this.scratch, off, off + (b - a))] : [];
        } else {
          parts = this.vec.bytes(a, b);
        }
        this.t.expect(this.left, FrameType.Ring, k, j, parts, () => this.received(k, j));
      }
    }
  }

  /** Starts sending; receives that completed before (a neighbour ahead of us) are processed now, in order. */
  start(): void {
    this.armed = true;
    const q = this.pos;
    for (let j = 0; j < this.m; j++) {
      const [a, b] = this.chunk(q, j);
      this.t.transmit(this.right, FrameType.Ring, 0, j, this.vec.bytes(a, b));
    }
    for (let i = 0; i < this.backlog.length; i += 2) this.process(this.backlog[i], this.backlog[i + 1]);
    this.backlog.length = 0;
    if (this.total === 0) this.onComplete();
  }

  private received(k: number, j: number): void {
    if (this.armed) this.process(k, j);
    else this.backlog.push(k, j);
  }

  private process(k: number, j: number): void {
    const n = this.n;
    const q = mod(this.pos - k - 1, n);
    const [a, b] = this.chunk(q, j);
    if (k <= n - 2) {
      const off = k * this.maxSeg + (a - this.segStart(q));
      accumulate(this.vec.views(a, b), this.scratch, off, k === n - 2 ? this.scale : 1);
    }
    if (k < 2 * n - 3) this.t.transmit(this.right, FrameType.Ring, k + 1, j, this.vec.bytes(a, b));
    if (++this.processed === this.total) this.onComplete();
  }
}
