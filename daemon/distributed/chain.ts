// The intra-node phases of the hierarchical all-reduce, as chains through the node's ranks in rank order (leader
// first): a pipelined reduce towards the leader (each rank adds what comes from the next one and passes the partial
// sum on, chunk by chunk), and a pipelined broadcast from the leader back down. A chain moves each byte once per
// link, like the ring, instead of making the leader receive |node|−1 full vectors.
// In-place safety is the ring's causality argument: the final value of a chunk contains what we sent of it.
import { bytesOf, FrameType } from './frame';
import type { Transport } from './plan';
import { accumulate, type FlatVector } from './vector';

function chunks(length: number, chunkFloats: number): number {
  return Math.max(1, Math.ceil(length / chunkFloats));
}

function chunkRange(length: number, m: number, j: number): [number, number] {
  return [Math.floor((j * length) / m), Math.floor(((j + 1) * length) / m)];
}

/** Leader ends with the node's mean (sum · 1/|node|); other ranks end with partial sums (overwritten later). */
export class ChainReduce {
  private readonly m: number;
  private processed = 0;

  constructor(
    private readonly t: Transport,
    private readonly members: readonly number[],
    private readonly pos: number,
    private readonly vec: FlatVector,
    /** vec.length floats (ranks that receive). */
    private readonly scratch: Float32Array,
    chunkFloats: number,
    private readonly onComplete: () => void,
  ) {
    this.m = chunks(vec.length, chunkFloats);
  }

  private get last(): boolean {
    return this.pos === this.members.length - 1;
  }

  post(): void {
    if (this.last) return;
    const from = this.members[this.pos + 1];
    for (let j = 0; j < this.m; j++) {
      const [a, b] = chunkRange(this.vec.length, this.m, j);
      this.t.expect(from, FrameType.ChainReduce, 0, j, b > a ? [bytesOf(this.scratch, a, b)] : [], () => this.received(j));
    }
  }

  start(): void {
    if (!this.last) return;
    // The tail sends its own data; a node of one rank is already reduced.
    if (this.pos > 0) {
      const to = this.members[this.pos - 1];
      for (let j = 0; j < this.m; j++) {
        const [a, b] = chunkRange(this.vec.length, this.m, j);
        this.t.transmit(to, FrameType.ChainReduce, 0, j, this.vec.bytes(a, b));
      }
    }
    this.onComplete();
  }

  private received(j: number): void {
    const [a, b] = chunkRange(this.vec.length, this.m, j);
    const leader = this.pos === 0;
    accumulate(this.vec.views(a, b), this.scratch, a, leader ? 1 / this.members.length : 1);
    if (!leader) this.t.transmit(this.members[this.pos - 1], FrameType.ChainReduce, 0, j, this.vec.bytes(a, b));
    if (++this.processed === this.m) this.onComplete();
  }
}

/** The leader's vector down the chain: received in place and passed on chunk by chunk. */
export class ChainBroadcast {
  private readonly m: number;

  constructor(
    private readonly t: Transport,
    private readonly members: readonly number[],
    private readonly pos: number,
    private readonly vec: FlatVector,
    chunkFloats: number,
  ) {
    this.m = chunks(vec.length, chunkFloats);
  }

  /** Non-leaders: every chunk lands directly in the caller's buffers. */
  post(): void {
    if (this.pos === 0) return;
    const from = this.members[this.pos - 1];
    for (let j = 0; j < this.m; j++) {
      const [a, b] = chunkRange(this.vec.length, this.m, j);
      this.t.expect(from, FrameType.ChainBcast, 0, j, this.vec.bytes(a, b), () => this.forward(j));
    }
  }

  /** The leader, once its vector is final. */
  start(): void {
    if (this.pos !== 0) return;
    for (let j = 0; j < this.m; j++) this.forward(j);
  }

  private forward(j: number): void {
    if (this.pos + 1 >= this.members.length) return;
    const [a, b] = chunkRange(this.vec.length, this.m, j);
    this.t.transmit(this.members[this.pos + 1], FrameType.ChainBcast, 0, j, this.vec.bytes(a, b));
  }
}
