// The process group: joins (rendezvous, then the data mesh), runs collectives one at a time in call order, and
// turns any failure — a lost connection, a peer's ABORT, a deadline — into one CollectiveError that names the peer
// and rejects every pending and future op. A failing rank tells every peer it still has (not just its ring
// neighbours), so the whole group stops promptly instead of each rank waiting out its own deadline.
import { RingAllReduce } from './ring';
import { ChainBroadcast, ChainReduce } from './chain';
import { ProtocolFault, type Connection } from './connection';
import { CollectiveError, describeRanks, errnoOf, isCollectiveErrorKind, seconds, who, type CollectiveErrorKind } from './errors';
import { FrameType } from './frame';
import { DataListener, formMesh } from './mesh';
import { CHUNK_FLOATS, checkOptions, heartbeatMs, type GroupOptions } from './options';
import type { Transport } from './plan';
import { coordinate, rendezvous } from './rendezvous';
import { FlatVector } from './vector';

export interface GroupStats {
  /** Wall time spent inside collectives (from the op's start to its end), ms. */
  collectiveMs: number;
  calls: number;
  bytesSent: number;
  bytesReceived: number;
}

export interface ProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  readonly nodeOf: readonly number[];
  readonly hostOf: readonly string[];
  /** In place: every buffer becomes the element-wise mean over all ranks (ring all-reduce, chunked and pipelined). */
  allReduceMean(buffers: Float32Array[]): Promise<void>;
  /**
   * In place: mean within each node (into its leader, the node's lowest rank), mean over nodes among the leaders
   * (ring), then down to the node's other ranks. Result = (1/N) Σ_nodes (1/|node|) Σ_{w in node} x_w.
   */
  hierarchicalAllReduceMean(buffers: Float32Array[]): Promise<void>;
  /** Root's bytes to every rank (the others need not know the length); resolves to the bytes on every rank. */
  broadcastBytes(bytes: Uint8Array | undefined, root: number): Promise<Uint8Array>;
  barrier(): Promise<void>;
  stats(): GroupStats;
  /** Idempotent; closes every socket and listener. Pending ops reject with kind 'aborted'. */
  close(): Promise<void>;
}

/** What an ABORT frame carries: the first failure, as the rank that detected it (origin) worded it. */
interface FailureReport {
  kind: CollectiveErrorKind;
  /** The rank blamed (dead, stalled, or the origin itself when it aborted or closed). */
  culprit: number;
  origin: number;
  message: string;
}

interface Op {
  name: string;
  seq: number;
  setup: boolean;
  finished: boolean;
  recvLeft: number;
  writesLeft: number;
  /** Receive completions held back until setup has sent what it sends first (order on the wire matters). */
  deferred: (() => void)[];
  waitingFrom: Int32Array;
  writingTo: Int32Array;
  startedAt: number;
  timer: NodeJS.Timeout | undefined;
  result: (() => unknown) | undefined;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/**
 * Joins the group: rank 0 coordinates the rendezvous, the others dial it; then every pair of ranks connects.
 * Rejects with CollectiveError (kinds 'timeout', 'auth', 'rendezvous', 'peer-lost', 'aborted') naming what is missing.
 */
export async function joinGroup(opts: GroupOptions): Promise<ProcessGroup> {
  checkOptions(opts);
  const o: GroupOptions = { ...opts, nodeOf: [...opts.nodeOf], hostOf: [...opts.hostOf], coordinator: { ...opts.coordinator } };
  if (o.signal?.aborted) throw new CollectiveError('aborted', `rank ${o.rank} was aborted before joining the group`);
  if (o.worldSize === 1) return new Group(o, [], []);
  const listener = await DataListener.open(o.bindAddress);
  try {
    const table = o.rank === 0 ? await coordinate(o, listener.port) : await rendezvous(o, listener.port);
    const mesh = await formMesh(o, table, listener);
    return new Group(o, mesh.ins, mesh.outs);
  } finally {
    listener.close();
  }
}

class Group implements ProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  readonly nodeOf: readonly number[];
  readonly hostOf: readonly string[];
  private readonly timeoutMs: number;
  private readonly hbMs: number;
  private seq = 0;
  private active: Op | undefined;
  private readonly queue: { start: () => void; reject: (e: Error) => void }[] = [];
  private failure: CollectiveError | undefined;
  private report: FailureReport | undefined;
  /** Peers that said goodbye (closed their group in good order). */
  private readonly departed = new Set<number>();
  private closing = false;
  private closed: Promise<void> | undefined;
  private readonly heartbeat: NodeJS.Timeout | undefined;
  private readonly unfollow: () => void;
  private scratchBuf = new Float32Array(0);
  private collectiveMs = 0;
  private calls = 0;

  constructor(
    o: GroupOptions,
    private readonly ins: Connection[],
    private readonly outs: Connection[],
  ) {
    this.rank = o.rank;
    this.worldSize = o.worldSize;
    this.nodeOf = Object.freeze([...o.nodeOf]);
    this.hostOf = Object.freeze([...o.hostOf]);
    this.timeoutMs = o.timeoutMs;
    this.hbMs = heartbeatMs(o.timeoutMs);
    for (let p = 0; p < this.worldSize; p++) {
      if (p === this.rank) continue;
      for (const c of [ins[p], outs[p]]) {
        // The group never keeps the process alive by itself; an op in flight does, through its deadline timer.
        c.socket.unref();
        c.takeOver(
          (type, payload) => this.control(p, c, type, payload),
          (err) => this.lost(p, c, err),
        );
      }
    }
    if (this.worldSize > 1) {
      // Heartbeats go on the dialed sockets' idle direction, so they never wait behind queued data.
      this.heartbeat = setInterval(() => {
        for (let p = 0; p < this.worldSize; p++) {
          const c = this.ins[p];
          if (p !== this.rank && c && !c.closed && c.socket.writableLength < 4096) c.send(FrameType.Heartbeat, 0, 0, 0, []);
        }
      }, this.hbMs);
      this.heartbeat.unref();
    }
    const signal = o.signal;
    const onAbort = (): void => {
      const op = this.active;
      const during = op ? ` during ${op.name} #${op.seq}` : '';
      this.fail(new CollectiveError('aborted', `${who(this.rank, this.hostOf)} was aborted (its signal)${during}`, { rank: this.rank, host: this.hostOf[this.rank] }));
      void this.close();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    this.unfollow = () => signal?.removeEventListener('abort', onAbort);
  }

  // ---- collectives ----

  allReduceMean(buffers: Float32Array[]): Promise<void> {
    let vec: FlatVector;
    try {
      vec = new FlatVector(checkBuffers(buffers));
    } catch (e) {
      return Promise.reject(e);
    }
    return this.enqueue<void>('allReduceMean', (t) => {
      const n = this.worldSize;
      if (n === 1 || vec.length === 0) return undefined;
      const members = Array.from({ length: n }, (_, i) => i);
      const ring = new RingAllReduce(t, members, this.rank, vec, this.scratch(RingAllReduce.scratchFloats(n, vec.length)), CHUNK_FLOATS, 1 / n, () => {});
      ring.post();
      ring.start();
      return undefined;
    });
  }

  hierarchicalAllReduceMean(buffers: Float32Array[]): Promise<void> {
    let vec: FlatVector;
    try {
      vec = new FlatVector(checkBuffers(buffers));
    } catch (e) {
      return Promise.reject(e);
    }
    return this.enqueue<void>('hierarchicalAllReduceMean', (t) => {
      if (this.worldSize === 1 || vec.length === 0) return undefined;
      const L = vec.length;
      const members: number[] = [];
      const leaderOf = new Map<number, number>();
      for (let r = 0; r < this.worldSize; r++) {
        if (this.nodeOf[r] === this.nodeOf[this.rank]) members.push(r);
        if (!leaderOf.has(this.nodeOf[r])) leaderOf.set(this.nodeOf[r], r);
      }
      const leaders = [...leaderOf.values()].sort((a, b) => a - b);
      const pos = members.indexOf(this.rank);
      const reduceFloats = pos < members.length - 1 ? L : 0;
      const ringFloats = pos === 0 && leaders.length > 1 ? RingAllReduce.scratchFloats(leaders.length, L) : 0;
      const scratch = this.scratch(reduceFloats + ringFloats);
      const bcast = new ChainBroadcast(t, members, pos, vec, CHUNK_FLOATS);
      const ring = ringFloats > 0 ? new RingAllReduce(t, leaders, leaders.indexOf(this.rank), vec, scratch.subarray(reduceFloats), CHUNK_FLOATS, 1 / leaders.length, () => bcast.start()) : undefined;
      const reduce = new ChainReduce(t, members, pos, vec, scratch.subarray(0, reduceFloats), CHUNK_FLOATS, () => {
        if (pos !== 0) return;
        if (ring) ring.start();
        else bcast.start();
      });
      reduce.post();
      ring?.post();
      bcast.post();
      reduce.start();
      return undefined;
    });
  }

  broadcastBytes(bytes: Uint8Array | undefined, root: number): Promise<Uint8Array> {
    if (!Number.isInteger(root) || root < 0 || root >= this.worldSize) return Promise.reject(new RangeError(`root must be a rank in 0…${this.worldSize - 1}, not ${String(root)}`));
    if (this.rank === root && !(bytes instanceof Uint8Array)) return Promise.reject(new TypeError('broadcastBytes: the root must pass its bytes (a Uint8Array)'));
    if (this.rank === root && (bytes as Uint8Array).length > 0xffffffff) return Promise.reject(new RangeError('broadcastBytes: at most 4 GiB'));
    return this.enqueue<Uint8Array>('broadcastBytes', (t, op) => {
      if (this.rank === root) {
        const b = bytes as Uint8Array;
        for (let p = 0; p < this.worldSize; p++) if (p !== root) t.transmit(p, FrameType.Bytes, 0, 0, b.length > 0 ? [b] : []);
        return () => b;
      }
      let got: Uint8Array = new Uint8Array(0);
      this.expectAny(op, root, FrameType.Bytes, (payload) => {
        got = payload;
      });
      return () => got;
    });
  }

  barrier(): Promise<void> {
    return this.enqueue<void>('barrier', (t) => {
      for (let p = 0; p < this.worldSize; p++) {
        if (p === this.rank) continue;
        t.expect(p, FrameType.Barrier, 0, 0, [], () => {});
        t.transmit(p, FrameType.Barrier, 0, 0, []);
      }
      return undefined;
    });
  }

  stats(): GroupStats {
    let bytesSent = 0;
    let bytesReceived = 0;
    for (const c of [...this.ins, ...this.outs]) {
      if (!c) continue;
      bytesSent += c.bytesOut;
      bytesReceived += c.bytesIn;
    }
    return { collectiveMs: this.collectiveMs, calls: this.calls, bytesSent, bytesReceived };
  }

  // ---- running ops ----

  /** Scratch memory reused across ops (ops run one at a time), grown to the largest need. */
  private scratch(floats: number): Float32Array {
    if (this.scratchBuf.length < floats) this.scratchBuf = new Float32Array(floats);
    return this.scratchBuf.subarray(0, floats);
  }

  private enqueue<T>(name: string, setup: (t: Transport, op: Op) => (() => T) | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      const start = (): void => this.start(name, setup, resolve as (v: unknown) => void, reject);
      if (this.active || this.queue.length > 0) this.queue.push({ start, reject });
      else start();
    });
  }

  private start(name: string, setup: (t: Transport, op: Op) => (() => unknown) | undefined, resolve: (v: unknown) => void, reject: (e: Error) => void): void {
    if (this.failure) return reject(this.failure);
    const n = this.worldSize;
    const op: Op = {
      name,
      seq: ++this.seq,
      setup: true,
      finished: false,
      recvLeft: 0,
      writesLeft: 0,
      deferred: [],
      waitingFrom: new Int32Array(n),
      writingTo: new Int32Array(n),
      startedAt: performance.now(),
      timer: undefined,
      result: undefined,
      resolve,
      reject,
    };
    this.active = op;
    this.calls++;
    if (this.departed.size > 0) {
      const p = [...this.departed][0];
      return this.fail(new CollectiveError('peer-lost', `${name} #${op.seq} cannot run: ${who(p, this.hostOf)} has closed the group`, { rank: p, host: this.hostOf[p] }));
    }
    if (n > 1) op.timer = setTimeout(() => this.timedOut(op), this.timeoutMs);
    try {
      op.result = setup(this.transport(op), op);
    } catch (e) {
      return this.fail(new CollectiveError('protocol', `${name} #${op.seq} failed on ${who(this.rank, this.hostOf)}: ${e instanceof Error ? e.message : String(e)}`));
    }
    op.setup = false;
    for (const run of op.deferred.splice(0)) {
      if (op.finished) return;
      run();
    }
    this.maybeFinish(op);
  }

  private transport(op: Op): Transport {
    return {
      expect: (peer, type, stage, index, parts, onDone) => {
        let bytes = 0;
        for (const p of parts) bytes += p.length;
        this.post(op, peer, type, stage, index, parts.filter((p) => p.length > 0), bytes, onDone);
      },
      transmit: (peer, type, stage, index, parts) => {
        if (op.finished) return;
        op.writesLeft++;
        op.writingTo[peer]++;
        this.outs[peer].send(type, stage, op.seq, index, parts, (err) => {
          if (err || op.finished) return; // a failed write closes the socket: lost() reports it
          op.writesLeft--;
          op.writingTo[peer]--;
          this.maybeFinish(op);
        });
      },
    };
  }

  private expectAny(op: Op, peer: number, type: number, onDone: (payload: Uint8Array) => void): void {
    this.post(op, peer, type, 0, 0, undefined, 0, (payload) => onDone(payload ?? new Uint8Array(0)));
  }

  private post(op: Op, peer: number, type: number, stage: number, index: number, parts: Uint8Array[] | undefined, bytes: number, onDone: (payload: Uint8Array | undefined) => void): void {
    op.recvLeft++;
    op.waitingFrom[peer]++;
    this.ins[peer].post({
      type,
      stage,
      seq: op.seq,
      index,
      parts,
      bytes,
      done: (payload) => {
        if (op.finished) return;
        op.waitingFrom[peer]--;
        const run = (): void => {
          if (op.finished) return;
          onDone(payload);
          op.recvLeft--;
          this.maybeFinish(op);
        };
        if (op.setup) op.deferred.push(run);
        else run();
      },
    });
  }

  private maybeFinish(op: Op): void {
    if (op.setup || op.finished || op.recvLeft > 0 || op.writesLeft > 0) return;
    op.finished = true;
    clearTimeout(op.timer);
    this.collectiveMs += performance.now() - op.startedAt;
    this.active = undefined;
    op.resolve(op.result?.());
    // The next queued op starts outside the callback that finished this one (no re-entrancy, no deep recursion).
    const next = this.queue.shift();
    if (next) queueMicrotask(next.start);
  }

  // ---- failure ----

  /** The deadline passed: blame the peer we wait on — or, when that peer is alive, one that has gone silent. */
  private timedOut(op: Op): void {
    if (op.finished) return;
    const now = performance.now();
    const silence = (p: number): number => now - Math.max(this.ins[p].lastHeard, this.outs[p].lastHeard);
    const threshold = 3 * this.hbMs;
    const waiting: number[] = [];
    for (let p = 0; p < this.worldSize; p++) if (op.waitingFrom[p] > 0) waiting.push(p);
    if (waiting.length === 0) for (let p = 0; p < this.worldSize; p++) if (op.writingTo[p] > 0) waiting.push(p);
    const silent: number[] = [];
    for (let p = 0; p < this.worldSize; p++) if (p !== this.rank && silence(p) > threshold) silent.push(p);
    silent.sort((a, b) => silence(b) - silence(a));
    const blame = silent.find((p) => waiting.includes(p)) ?? silent[0] ?? waiting[0];
    let message = `${op.name} #${op.seq} timed out after ${seconds(this.timeoutMs)} on ${who(this.rank, this.hostOf)}`;
    if (waiting.length > 0) message += `, waiting for ${describeRanks(waiting, this.hostOf)}`;
    if (blame !== undefined && silence(blame) > threshold) message += `; nothing heard from ${who(blame, this.hostOf)} for ${seconds(Math.round(silence(blame) / 100) * 100)} (stopped, hung, or its link is down)`;
    this.fail(new CollectiveError('timeout', message, blame === undefined ? undefined : { rank: blame, host: this.hostOf[blame] }));
  }

  /** A connection to `peer` closed. Expected after its goodbye on that socket or our close; else the peer is lost. */
  private lost(peer: number, conn: Connection, err: Error | undefined): void {
    if (this.closing || this.failure || (conn.saidBye && !(err instanceof ProtocolFault))) return;
    const op = this.active;
    const during = op ? ` during ${op.name} #${op.seq}` : '';
    if (err instanceof ProtocolFault) {
      this.fail(new CollectiveError('protocol', `protocol error with ${who(peer, this.hostOf)}${during}: ${err.message}`, { rank: peer, host: this.hostOf[peer] }));
      return;
    }
    const how = err ? `failed (${errnoOf(err) ?? err.message})` : 'closed';
    this.fail(new CollectiveError('peer-lost', `${who(peer, this.hostOf)} was lost: its connection ${how}${during} — the process exited or was killed, or the network failed`, { rank: peer, host: this.hostOf[peer] }));
  }

  private control(peer: number, conn: Connection, type: number, payload: Buffer): void {
    if (type === FrameType.Heartbeat) return;
    if (type === FrameType.Bye) {
      conn.saidBye = true;
      // Only the data socket's goodbye is ordered after the peer's data: the other may overtake it.
      if (conn !== this.ins[peer]) return;
      this.departed.add(peer);
      const op = this.active;
      if (op && op.waitingFrom[peer] > 0) this.fail(new CollectiveError('peer-lost', `${who(peer, this.hostOf)} closed the group while ${op.name} #${op.seq} waited for it`, { rank: peer, host: this.hostOf[peer] }));
      return;
    }
    if (type === FrameType.Abort) {
      if (this.failure || this.closing) return;
      const r = parseReport(payload, this.worldSize) ?? { kind: 'peer-lost' as const, culprit: peer, origin: peer, message: `${who(peer, this.hostOf)} reported a failure` };
      const blame = r.culprit === this.rank ? r.origin : r.culprit;
      const relayed = r.origin === r.culprit ? r.message : `${r.message} (reported by ${who(r.origin, this.hostOf)})`;
      this.fail(new CollectiveError(r.kind, relayed, { rank: blame, host: this.hostOf[blame] }), r);
      return;
    }
    this.fail(new CollectiveError('protocol', `protocol error with ${who(peer, this.hostOf)}: unexpected control frame type ${type}`, { rank: peer, host: this.hostOf[peer] }));
  }

  /**
   * The group has failed: remember the first error, tell every peer still there (so ranks that are not our
   * neighbours stop too), and reject the op in flight and every queued one.
   */
  private fail(err: CollectiveError, relayed?: FailureReport): void {
    if (this.failure) return;
    this.failure = err;
    this.report = relayed ?? { kind: err.kind, culprit: err.peerRank ?? this.rank, origin: this.rank, message: err.message };
    clearInterval(this.heartbeat);
    // Stop reading first (no byte may land in buffers handed back), then tell every peer still there and let go of
    // each socket once the notice has left, whether or not close() is ever called.
    for (let p = 0; p < this.worldSize; p++) {
      if (p === this.rank) continue;
      for (const c of [this.outs[p], this.ins[p]]) {
        if (!c) continue;
        c.halt();
        c.finish(this.departed.has(p) ? undefined : { type: FrameType.Abort, body: this.report });
      }
    }
    const op = this.active;
    this.active = undefined;
    if (op && !op.finished) {
      op.finished = true;
      clearTimeout(op.timer);
      this.collectiveMs += performance.now() - op.startedAt;
      op.reject(err);
    }
    for (const q of this.queue.splice(0)) q.reject(err);
  }

  close(): Promise<void> {
    if (this.closed) return this.closed;
    this.closing = true;
    this.unfollow();
    clearInterval(this.heartbeat);
    const inFlight = this.active?.finished === false || this.queue.length > 0;
    if (!this.failure) {
      const op = this.active;
      const what = op ? ` during ${op.name} #${op.seq}` : '';
      if (inFlight) {
        // Peers may be waiting on us: an abort, so that they fail now and name us.
        this.fail(new CollectiveError('aborted', `${who(this.rank, this.hostOf)} closed the group${what}`, { rank: this.rank, host: this.hostOf[this.rank] }));
      } else {
        // Goodbye on both sockets of every peer, then end: peers answer with their own end, which closes both.
        this.failure = new CollectiveError('aborted', `the group was closed by ${who(this.rank, this.hostOf)}`);
        for (let p = 0; p < this.worldSize; p++) {
          if (p === this.rank) continue;
          for (const c of [this.outs[p], this.ins[p]]) {
            if (!c || c.closed) continue;
            c.send(FrameType.Bye, 0, 0, 0, []);
            c.end();
          }
        }
      }
    }
    const conns = [...this.ins, ...this.outs].filter((c): c is Connection => !!c && !c.closed);
    this.closed = new Promise<void>((resolve) => {
      let left = conns.length;
      if (left === 0) return resolve();
      // Peers answer our end with theirs; one that cannot (stopped, gone) is cut off after a short grace.
      const grace = setTimeout(() => {
        for (const c of conns) if (!c.closed) c.destroy();
      }, 1000);
      for (const c of conns) {
        c.socket.once('close', () => {
          if (--left === 0) {
            clearTimeout(grace);
            resolve();
          }
        });
      }
    });
    return this.closed;
  }
}

function checkBuffers(buffers: Float32Array[]): Float32Array[] {
  if (!Array.isArray(buffers) || !buffers.every((b) => b instanceof Float32Array)) throw new TypeError('expected an array of Float32Array');
  return buffers;
}

function parseReport(payload: Buffer, n: number): FailureReport | undefined {
  try {
    const v = JSON.parse(payload.toString('utf8')) as Partial<Record<keyof FailureReport, unknown>>;
    const rank = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < n;
    if (!isCollectiveErrorKind(v.kind) || !rank(v.culprit) || !rank(v.origin) || typeof v.message !== 'string') return undefined;
    return { kind: v.kind, culprit: v.culprit, origin: v.origin, message: v.message };
  } catch {
    return undefined;
  }
}
