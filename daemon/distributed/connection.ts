// One authenticated TCP connection to a peer: framed sends, and a receive state machine that lands every payload
// directly in the memory it is meant for (a posted destination or scratch region), never in an intermediate Buffer.
//
// Sockets we dial read with Node's `onread` option: Node asks us, read by read, where the next bytes go, and we
// answer with exactly the rest of the current header or payload region, so the kernel copies straight into the
// caller's Float32Array and no read ever crosses a frame boundary. Sockets we accept cannot take `onread` (net.Server
// has no such option), so they read through 'data' events and copy; the data plane therefore carries data only
// from acceptor to dialer (every rank dials every peer), and accepted sockets see only small control frames.
import * as net from 'node:net';
import { HEADER_BYTES, decodeHeader, encodeHeader, frameOpName, isDataFrame, type FrameHeader } from './frame';

/** A receive the collective expects on this connection, matched in FIFO order against the peer's data frames. */
export interface RecvSlot {
  type: number;
  stage: number;
  seq: number;
  index: number;
  /** Destination regions, filled in order (all non-empty); undefined: any length — a fresh buffer is allocated. */
  parts: Uint8Array[] | undefined;
  /** Expected payload bytes: the sum of `parts`' lengths (ignored for any length). */
  bytes: number;
  /** The whole payload is in place; `payload` is the fresh buffer of an any-length slot. */
  done(payload: Uint8Array | undefined): void;
}

/** A data frame that arrived before its receive was posted (the peer is ahead): kept until the post. */
interface Early {
  hdr: FrameHeader;
  buf: Uint8Array;
  complete: boolean;
}

/** The peer broke the protocol (a frame that matches nothing we expect): the connection's closeError. */
export class ProtocolFault extends Error {}

/** The connection closed while someone waited on it. */
export class ConnectionClosed extends Error {}

/** Control payloads are JSON of a few hundred bytes; anything larger is not ours. */
const MAX_CONTROL_BYTES = 1 << 16;

type Sink = 'slot' | 'early' | 'control';

export class Connection {
  socket!: net.Socket;
  /** The peer's rank, once known. */
  peer = -1;
  /** performance.now() of the last bytes from the peer: the liveness signal behind timeout blame. */
  lastHeard = performance.now();
  bytesIn = 0;
  bytesOut = 0;
  closed = false;
  /** Set on a fault or halt before 'close' arrives (it comes asynchronously): nothing more is read. */
  private dead = false;
  private reported = false;
  /** A group owns it (takeOver): faults are reported, not acted on. */
  private owned = false;
  /** The peer said goodbye on this socket: its close is expected. */
  saidBye = false;
  /**
   * The peer has proven it holds the token. Until then a data frame is refused, so that a stranger cannot make us
   * allocate a buffer of the size it names.
   */
  trusted = false;
  /** Why it closed: the socket error, a ProtocolFault, or undefined for an orderly end. */
  closeError: Error | undefined;
  /** Control frames (heartbeat, abort, bye …) once the owner takes over; before that they queue for nextControl(). */
  onControl: ((type: number, payload: Buffer) => void) | undefined;
  onClose: ((err: Error | undefined) => void) | undefined;

  private readonly hdr = Buffer.alloc(HEADER_BYTES);
  private hdrFill = 0;
  private inPayload = false;
  private cur: FrameHeader = { type: 0, stage: 0, seq: 0, index: 0, length: 0 };
  private parts: Uint8Array[] = [];
  private partIdx = 0;
  private partFill = 0;
  private sink: Sink = 'control';
  private slot: RecvSlot | undefined;
  private anyBuf: Uint8Array | undefined;
  private early: Early | undefined;
  private controlBuf: Buffer | undefined;
  private readonly posted: RecvSlot[] = [];
  private postedHead = 0;
  private readonly earlies: Early[] = [];
  private readonly controlQueue: { type: number; payload: Buffer }[] = [];
  private waiter: { resolve: (c: { type: number; payload: Buffer }) => void; reject: (e: Error) => void } | undefined;

  private constructor() {}

  /** Dials host:port; resolves once connected (rejects with the socket error, or ETIMEDOUT after timeoutMs). */
  static dial(host: string, port: number, timeoutMs: number): Promise<Connection> {
    const conn = new Connection();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(Object.assign(new Error(`connecting to ${host}:${port} timed out`), { code: 'ETIMEDOUT' }));
      }, Math.max(1, timeoutMs));
      const socket = net.connect({
        host,
        port,
        noDelay: true,
        onread: {
          buffer: () => conn.target(),
          callback: (n: number) => {
            conn.advance(n);
            return true; // keep reading
          },
        },
      });
      const onError = (e: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(e);
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        conn.attach(socket);
        resolve(conn);
      });
    });
  }

  static accept(socket: net.Socket): Connection {
    const conn = new Connection();
    socket.setNoDelay(true);
    conn.attach(socket);
    socket.on('data', (chunk: Buffer) => conn.feed(chunk));
    return conn;
  }

  private attach(socket: net.Socket): void {
    this.socket = socket;
    socket.on('error', (e) => {
      this.closeError ??= e;
    });
    socket.on('close', () => {
      this.closed = true;
      this.dead = true;
      const err = this.closeError;
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w.reject(new ConnectionClosed(err ? err.message : 'the connection closed'));
      }
      this.report(err);
    });
  }

  /** Tells the owner once: the connection is gone (or, for a protocol fault, unusable). */
  private report(err: Error | undefined): void {
    if (this.reported) return;
    this.reported = true;
    this.onClose?.(err);
  }

  /**
   * Stops reading for good and forgets posted receives: after a failure no more bytes may land in buffers the
   * caller has been given back. (Reading cannot be steered elsewhere: the next read goes where the last answer of
   * target() pointed, so it must stop.)
   */
  halt(): void {
    this.dead = true;
    this.posted.length = 0;
    this.postedHead = 0;
    this.slot = undefined;
    if (!this.socket.destroyed) this.socket.pause();
  }

  /** Writes a last frame, ends, and destroys once it has left (we no longer read, so the peer's FIN goes unseen). */
  finish(last?: { type: number; body: unknown }): void {
    if (this.closed || this.socket.destroyed) return;
    if (last) this.sendJson(last.type, last.body);
    const cut = setTimeout(() => this.socket.destroy(), 1000);
    cut.unref();
    this.socket.once('finish', () => {
      clearTimeout(cut);
      setTimeout(() => this.socket.destroy(), 50).unref();
    });
    this.socket.end();
  }

  // ---- receiving ----

  /** Where the next bytes from the socket go: the rest of the header, or the rest of the current payload region. */
  private target(): Uint8Array {
    if (!this.inPayload) return this.hdrFill === 0 ? this.hdr : this.hdr.subarray(this.hdrFill);
    const part = this.parts[this.partIdx];
    return this.partFill === 0 ? part : part.subarray(this.partFill);
  }

  /** n bytes landed in target(). Exceptions from handlers must not escape into Node's read path. */
  private advance(n: number): void {
    if (this.dead) return;
    try {
      this.bytesIn += n;
      this.lastHeard = performance.now();
      if (!this.inPayload) {
        this.hdrFill += n;
        if (this.hdrFill === HEADER_BYTES) {
          this.hdrFill = 0;
          this.beginFrame(decodeHeader(this.hdr));
        }
        return;
      }
      this.partFill += n;
      if (this.partFill === this.parts[this.partIdx].length) {
        this.partFill = 0;
        if (++this.partIdx === this.parts.length) this.endFrame();
      }
    } catch (e) {
      this.fault(e instanceof Error ? e.message : String(e));
    }
  }

  /** The 'data' path of accepted sockets: copy into target() piece by piece. */
  private feed(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length && !this.dead) {
      const t = this.target();
      const k = Math.min(t.length, chunk.length - off);
      t.set(k === chunk.length && off === 0 ? chunk : chunk.subarray(off, off + k));
      off += k;
      this.advance(k);
    }
  }

  private beginFrame(h: FrameHeader): void {
    this.cur = h;
    if (isDataFrame(h.type)) {
      if (!this.trusted) return this.fault('a data frame before authentication');
      if (this.earlies.length === 0 && this.postedHead < this.posted.length) {
        const slot = this.takePosted();
        const problem = mismatch(slot, h);
        if (problem) return this.fault(problem);
        this.slot = slot;
        this.sink = 'slot';
        if (slot.parts) {
          this.anyBuf = undefined;
          this.parts = slot.parts;
        } else {
          this.anyBuf = new Uint8Array(h.length);
          this.parts = h.length > 0 ? [this.anyBuf] : [];
        }
      } else {
        // The peer is ahead of us: keep the frame until the receive is posted (one copy, the rare path).
        const early: Early = { hdr: h, buf: new Uint8Array(h.length), complete: false };
        this.earlies.push(early);
        this.early = early;
        this.sink = 'early';
        this.parts = h.length > 0 ? [early.buf] : [];
      }
    } else {
      if (h.length > MAX_CONTROL_BYTES) return this.fault(`a control frame of ${h.length} bytes (type ${h.type}) is not part of the protocol`);
      this.controlBuf = Buffer.allocUnsafe(h.length);
      this.sink = 'control';
      this.parts = h.length > 0 ? [this.controlBuf] : [];
    }
    if (this.parts.length === 0) return this.endFrame();
    this.inPayload = true;
    this.partIdx = 0;
    this.partFill = 0;
  }

  private endFrame(): void {
    this.inPayload = false;
    if (this.sink === 'slot') {
      const slot = this.slot as RecvSlot;
      this.slot = undefined;
      slot.done(this.anyBuf);
    } else if (this.sink === 'early') {
      (this.early as Early).complete = true;
      this.early = undefined;
      this.match();
    } else {
      const payload = this.controlBuf as Buffer;
      this.controlBuf = undefined;
      this.deliverControl(this.cur.type, payload);
    }
  }

  private deliverControl(type: number, payload: Buffer): void {
    if (this.onControl) return this.onControl(type, payload);
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      return w.resolve({ type, payload });
    }
    this.controlQueue.push({ type, payload });
  }

  private takePosted(): RecvSlot {
    const slot = this.posted[this.postedHead];
    this.posted[this.postedHead++] = undefined as unknown as RecvSlot;
    if (this.postedHead === this.posted.length) {
      this.posted.length = 0;
      this.postedHead = 0;
    }
    return slot;
  }

  /** Pairs early frames with posted receives, oldest first. */
  private match(): void {
    while (this.earlies.length > 0 && this.earlies[0].complete && this.postedHead < this.posted.length) {
      const early = this.earlies.shift() as Early;
      const slot = this.takePosted();
      const problem = mismatch(slot, early.hdr);
      if (problem) return this.fault(problem);
      if (!slot.parts) {
        slot.done(early.buf);
        continue;
      }
      let off = 0;
      for (const p of slot.parts) {
        p.set(early.buf.subarray(off, off + p.length));
        off += p.length;
      }
      slot.done(undefined);
    }
  }

  /** Expects a data frame; a frame already here is matched at once (slot.done may run inside this call). */
  post(slot: RecvSlot): void {
    if (this.closed) return;
    this.posted.push(slot);
    if (this.earlies.length > 0) {
      try {
        this.match();
      } catch (e) {
        this.fault(e instanceof Error ? e.message : String(e));
      }
    }
  }

  /** The owner takes over control frames and the close; frames that queued meanwhile are delivered now. */
  takeOver(onControl: (type: number, payload: Buffer) => void, onClose: (err: Error | undefined) => void): void {
    this.owned = true;
    this.onControl = onControl;
    this.onClose = onClose;
    for (const c of this.controlQueue.splice(0)) onControl(c.type, c.payload);
    if (this.closed) this.report(this.closeError);
  }

  /** The next control frame while no owner handles them (the handshake). */
  nextControl(): Promise<{ type: number; payload: Buffer }> {
    const queued = this.controlQueue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closed) return Promise.reject(new ConnectionClosed(this.closeError ? this.closeError.message : 'the connection closed'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  // ---- sending ----

  /** One frame: header and payload regions go out in one writev (cork), without copying the payload. */
  send(type: number, stage: number, seq: number, index: number, payload: readonly Uint8Array[], cb?: (err?: Error | null) => void): void {
    let length = 0;
    for (const p of payload) length += p.length;
    const h = encodeHeader(type, stage, seq, index, length);
    this.bytesOut += HEADER_BYTES + length;
    const s = this.socket;
    if (length === 0) {
      s.write(h, cb);
      return;
    }
    s.cork();
    s.write(h);
    let last = -1;
    for (let i = 0; i < payload.length; i++) if (payload[i].length > 0) last = i;
    for (let i = 0; i <= last; i++) if (payload[i].length > 0) s.write(payload[i], i === last ? cb : undefined);
    s.uncork();
  }

  sendJson(type: number, body: unknown): void {
    if (this.closed || this.socket.destroyed) return;
    this.send(type, 0, 0, 0, [Buffer.from(JSON.stringify(body), 'utf8')]);
  }

  /** Orderly end after what is queued (FIN). */
  end(): void {
    if (!this.socket.destroyed) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /**
   * The peer sent something we cannot take. An owned connection stops reading and reports at once, so that the
   * owner can still send its ABORT on this socket (the peer then learns why, instead of seeing a reset); during a
   * handshake the connection is simply destroyed.
   */
  private fault(message: string): void {
    if (this.dead) return;
    const err = new ProtocolFault(message);
    this.closeError = err;
    if (this.owned) {
      this.halt();
      this.report(err);
    } else {
      this.dead = true;
      this.socket.destroy();
    }
  }
}

function mismatch(slot: RecvSlot, h: FrameHeader): string | undefined {
  if (h.seq !== slot.seq || h.type !== slot.type) {
    return `it sent ${frameOpName(h.type)} data of op #${h.seq} while this rank waits in ${frameOpName(slot.type)} (op #${slot.seq}): every rank must call the same collectives in the same order`;
  }
  if (h.stage !== slot.stage || h.index !== slot.index) {
    return `it sent stage ${h.stage} chunk ${h.index} of op #${h.seq} where stage ${slot.stage} chunk ${slot.index} was due: the ranks disagree on the shape of the op (group layouts or buffer lengths differ)`;
  }
  if (slot.parts && h.length !== slot.bytes) {
    return `it sent ${h.length} bytes where ${slot.bytes} were due (stage ${h.stage} chunk ${h.index} of op #${h.seq}): the buffers differ in length between ranks`;
  }
  return undefined;
}
