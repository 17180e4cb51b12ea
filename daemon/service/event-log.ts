// A run's append-only event log (events.jsonl): one JSON object per line, `{"seq":N,"kind":…,"time":…,"data":…}`,
// seq increasing by one per event. Appends are buffered and written in batches by a timer (never on the caller's
// path); a line is served to readers only once it is written to the file (so whatever a client saw survives the
// daemon's crash); recent lines stay in memory for live clients; older ones are read back from disk through a sparse
// index, and every line read from disk is parsed before it is served (a damaged one is skipped with a warning).
// Opening repairs what a killed writer leaves: a torn last line (no newline) is cut off with a warning, nothing else;
// a finished run's log is opened read-only and never changed; a symbolic link is refused. CRLF line ends are read.
import { constants as fsConstants, promises as fs } from 'node:fs';
import type { TelemetryEvent, TelemetryEvents, TelemetryKind } from '../protocol/events';
import { testPause, testPausesArmed } from '../train/test-pause';

export type Warn = (message: string) => void;

/** Where a reader left off: the seq it wants next and the byte offset where that line starts. */
export interface ReadHint {
  seq: number;
  offset: number;
}

export interface LineBatch {
  /** Serialized events (no trailing newline), increasing seq; consecutive unless a corrupt line was skipped. */
  lines: string[];
  firstSeq: number;
  /** The seq to read next. */
  nextSeq: number;
  hint?: ReadHint;
}

export interface ReadLimits {
  maxLines: number;
  maxBytes: number;
}

const INDEX_EVERY = 256;
const FLUSH_MS = 50;
const FLUSH_BYTES = 1 << 20;
const RING_LINES = 16384;
const BLOCK = 1 << 20;
const PREFIX = '{"seq":';

/** The part of an event's line after its seq: `"kind":…,"time":…,"data":…}`. Built once, off the hot path. */
export function encodeEventBody(kind: string, time: number, data: unknown): string {
  return `"kind":${JSON.stringify(kind)},"time":${Number.isFinite(time) ? time : 0},"data":${JSON.stringify(data) ?? 'null'}}`;
}

function lineFor(seq: number, body: string): string {
  return `${PREFIX}${seq},${body}`;
}

/** The seq of a well-formed line, or -1. A cheap check (prefix, digits, closing brace); lines are written here. */
export function lineSeq(line: string): number {
  if (!line.startsWith(PREFIX) || line.charCodeAt(line.length - 1) !== 125 /* } */) return -1;
  let seq = 0;
  let i = PREFIX.length;
  for (; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c < 48 || c > 57) break;
    seq = seq * 10 + (c - 48);
  }
  return i > PREFIX.length && line.charCodeAt(i) === 44 /* , */ ? seq : -1;
}

/** Parses a line fully; undefined when it is not a complete event. */
export function parseLine(line: string): { seq: number; kind: string; time: number; data: unknown } | undefined {
  if (lineSeq(line) < 0) return undefined;
  try {
    const v = JSON.parse(line) as { seq: unknown; kind: unknown; time: unknown; data: unknown };
    if (typeof v.seq !== 'number' || typeof v.kind !== 'string' || typeof v.time !== 'number' || !('data' in v)) return undefined;
    return v as { seq: number; kind: string; time: number; data: unknown };
  } catch {
    return undefined;
  }
}

/** One event as the log stores it: seq, kind, time and the kind's data. */
export type StoredEvent<K extends TelemetryKind = TelemetryKind> = Extract<TelemetryEvent, { kind: K }>;

/** Which events `readEvents` yields. */
export interface ReadEventsOptions<K extends TelemetryKind = TelemetryKind> {
  /** The first seq wanted (default 0). */
  fromSeq?: number;
  /** The last seq wanted (default: the end of the log as it is when reading starts). */
  toSeq?: number;
  /** Only events whose `data.step`, where they have one, is at most this (events without a step pass). */
  upToStep?: number;
  /** Only these kinds (matched on the kind field itself, before the line is parsed). */
  kinds?: readonly K[];
}

/** The test a line must pass: seq range and kind checked on the raw line, the rest after parsing. */
function eventFilter<K extends TelemetryKind>(opts: ReadEventsOptions<K>): (line: string) => StoredEvent<K> | undefined {
  const from = opts.fromSeq ?? 0;
  const to = opts.toSeq ?? Infinity;
  const kinds = opts.kinds?.map((k) => `"kind":${JSON.stringify(k)},`);
  return (line) => {
    const seq = lineSeq(line);
    if (seq < from || seq > to) return undefined;
    if (kinds) {
      const at = PREFIX.length + String(seq).length + 1; // the body follows `{"seq":N,`
      if (!kinds.some((k) => line.startsWith(k, at))) return undefined;
    }
    const event = parseLine(line);
    if (!event) return undefined;
    if (opts.upToStep !== undefined) {
      const step = (event.data as { step?: unknown } | null)?.step;
      if (typeof step === 'number' && step > opts.upToStep) return undefined;
    }
    return event as StoredEvent<K>;
  };
}

/**
 * The one typed reader of an event log: the events of `file` in seq order, parsed, filtered by `opts`. Read-only
 * (it never repairs: a torn or corrupt line is skipped), so a worker may read the log its daemon appends to; it
 * stops at the file's size when it started, or at `toSeq`. `EventLog.events` is the same reader over an open log.
 */
export async function* readEvents<K extends TelemetryKind = TelemetryKind>(file: string, opts: ReadEventsOptions<K> = {}): AsyncGenerator<StoredEvent<K>> {
  let handle: fs.FileHandle;
  try {
    handle = await openLogFile(file, true);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try {
    const size = (await handle.stat()).size;
    yield* scanEvents(handle, size, opts);
  } finally {
    await handle.close();
  }
}

async function* scanEvents<K extends TelemetryKind>(handle: fs.FileHandle, size: number, opts: ReadEventsOptions<K>): AsyncGenerator<StoredEvent<K>> {
  const accept = eventFilter(opts);
  const to = opts.toSeq ?? Infinity;
  for await (const lines of blockLines(handle, 0, size)) {
    for (const { line } of lines) {
      const event = accept(line);
      if (event) yield event;
      else if (lineSeq(line) > to) return;
    }
  }
}

/**
 * The complete lines in [start, end) of a file, one block's worth at a time, each with its byte offset and the offset
 * of the line after it. A CR before the newline (a log converted to CRLF line ends) is not part of the line.
 */
async function* blockLines(handle: fs.FileHandle, start: number, end: number): AsyncGenerator<{ line: string; offset: number; next: number }[]> {
  let pos = start;
  let carry = Buffer.alloc(0);
  let carryStart = start;
  const block = Buffer.allocUnsafe(BLOCK);
  while (pos < end) {
    const want = Math.min(BLOCK, end - pos);
    const { bytesRead } = await handle.read(block, 0, want, pos);
    if (bytesRead <= 0) break;
    pos += bytesRead;
    const chunk = carry.length > 0 ? Buffer.concat([carry, block.subarray(0, bytesRead)]) : block.subarray(0, bytesRead);
    const lines: { line: string; offset: number; next: number }[] = [];
    let lineStart = 0;
    for (;;) {
      const nl = chunk.indexOf(10, lineStart);
      if (nl < 0) break;
      const lineEnd = nl > lineStart && chunk[nl - 1] === 13 ? nl - 1 : nl;
      lines.push({ line: chunk.toString('utf8', lineStart, lineEnd), offset: carryStart + lineStart, next: carryStart + nl + 1 });
      lineStart = nl + 1;
    }
    carry = Buffer.from(chunk.subarray(lineStart));
    carryStart += lineStart;
    yield lines;
  }
}

export class EventLog {
  private handle: fs.FileHandle;
  private size: number;
  private next: number;
  private flushed: number;
  /** Readers are served lines below this seq: those written to the file (or, once the disk failed, all). */
  private readable: number;
  /** The seq of the first line not yet handed to a write. */
  private queued: number;
  /** Recent lines (all unflushed ones among them) for live readers: ring[i] has seq ringStart + i. */
  private ring: string[] = [];
  private ringStart: number;
  private pending: string[] = [];
  private pendingBytes = 0;
  private unencoded: { kind: string; time: number; data: unknown }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** Sparse index of line offsets (line idxSeq[i] starts at byte idxOff[i]), complete once `scanned`. */
  private idxSeq: number[] = [];
  private idxOff: number[] = [];
  private scanned = false;
  private scanning: Promise<void> | undefined;
  private listeners = new Set<() => void>();
  private closed = false;
  private failure: Error | undefined;

  private constructor(
    readonly file: string,
    handle: fs.FileHandle,
    size: number,
    nextSeq: number,
    private readonly warn: Warn,
  ) {
    this.handle = handle;
    this.size = size;
    this.next = nextSeq;
    this.flushed = nextSeq;
    this.readable = nextSeq;
    this.queued = nextSeq;
    this.ringStart = nextSeq;
  }

  /**
   * Opens (creating if needed) and repairs the log: a torn last line (no newline: its writer was killed) is cut off
   * with a warning, nothing more. `readOnly` (a finished run's log): opened read-only and never changed, a torn last
   * line only ignored. A symbolic link or anything but a regular file is refused (and left alone).
   */
  static async open(file: string, warn: Warn, opts: { readOnly?: boolean } = {}): Promise<EventLog> {
    const handle = await openLogFile(file, opts.readOnly === true);
    try {
      const { size, lastSeq } = await repairTail(handle, file, warn, opts.readOnly === true);
      return new EventLog(file, handle, size, lastSeq + 1, warn);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  /** The seq the next appended event gets (= the number of events, barring skipped corrupt lines). */
  get nextSeq(): number {
    return this.next;
  }

  /** Calls `listener` whenever appended lines become readable (written to the file), to wake live readers. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Appends one event; it is serialized by the next flush, not now. Returns its seq. */
  append<K extends TelemetryKind>(kind: K, data: TelemetryEvents[K], time = Date.now()): number {
    this.unencoded.push({ kind, time, data });
    const seq = this.next++;
    this.scheduleFlush();
    return seq;
  }

  /** Appends events already serialized by `encodeEventBody` (a worker does that). Returns the first seq. */
  appendBodies(bodies: readonly string[]): number {
    this.encodePending();
    const first = this.next;
    for (const body of bodies) {
      const line = lineFor(this.next++, body);
      this.ring.push(line);
      this.pending.push(line);
      this.pendingBytes += line.length + 1;
    }
    this.scheduleFlush();
    return first;
  }

  /**
   * Up to `limits` lines from `fromSeq` on, only lines already written to the file: from memory when recent, else
   * from disk (hint: where the previous read ended), where every line is parsed first and a damaged one skipped with
   * a warning. Undefined when there is nothing readable at or after fromSeq yet.
   */
  async read(fromSeq: number, limits: ReadLimits, hint?: ReadHint): Promise<LineBatch | undefined> {
    if (fromSeq >= this.readable) return undefined;
    if (fromSeq >= this.ringStart) {
      const lines: string[] = [];
      let bytes = 0;
      const end = Math.min(this.ring.length, this.readable - this.ringStart);
      for (let i = fromSeq - this.ringStart; i < end && lines.length < limits.maxLines && bytes < limits.maxBytes; i++) {
        lines.push(this.ring[i]);
        bytes += this.ring[i].length;
      }
      return { lines, firstSeq: fromSeq, nextSeq: fromSeq + lines.length };
    }
    return this.readDisk(fromSeq, limits, hint);
  }

  /** Writes every appended event to the file now. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.encodePending();
    if (this.pending.length === 0) return this.writing;
    const lines = this.pending;
    const firstSeq = this.queued;
    this.queued += lines.length;
    this.pending = [];
    this.pendingBytes = 0;
    this.writing = this.writing.then(() => this.writeLines(lines, firstSeq));
    return this.writing;
  }

  /** Flushes and forces the file to disk (at run boundaries: finish, pause, stop). */
  async sync(): Promise<void> {
    await this.flush();
    if (!this.closed && !this.failure) await this.handle.datasync().catch((e: Error) => {
      if (!this.closed) throw e;
    });
  }

  /**
   * Cuts the log back so that `lastSeq` is its last event (a resume from the checkpoint logged there). Readers must
   * be told (their cursors may lie beyond).
   */
  async truncateAfter(lastSeq: number): Promise<void> {
    await this.flush();
    if (lastSeq + 1 >= this.next) return;
    const offset = await this.locate(lastSeq + 1);
    await this.handle.truncate(offset);
    this.size = offset;
    this.next = this.flushed = this.readable = this.queued = this.ringStart = lastSeq + 1;
    this.ring = [];
    const keep = this.idxOff.findIndex((o) => o >= offset);
    if (keep >= 0) {
      this.idxSeq.length = keep;
      this.idxOff.length = keep;
    }
  }

  /** `readEvents` over this log: everything appended so far is flushed first, then read from the file. */
  async *events<K extends TelemetryKind = TelemetryKind>(opts: ReadEventsOptions<K> = {}): AsyncGenerator<StoredEvent<K>> {
    await this.flush();
    await this.writing;
    yield* scanEvents(this.handle, this.size, { ...opts, toSeq: Math.min(opts.toSeq ?? Infinity, this.next - 1) });
  }

  /** The last events of the log (up to `maxBytes` of it), parsed, oldest first. */
  async tail(maxBytes = 256 * 1024): Promise<{ seq: number; kind: string; time: number; data: unknown }[]> {
    await this.flush();
    const start = Math.max(0, this.size - maxBytes);
    const out: { seq: number; kind: string; time: number; data: unknown }[] = [];
    await this.scanFile(start, this.size, (line) => {
      const event = parseLine(line); // the first line may be cut (the block starts mid-line): it fails to parse
      if (event) out.push(event);
    });
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    this.listeners.clear();
    await this.writing.catch(() => undefined);
    await this.handle.close();
  }

  /** The first write error, if the disk failed (the log then stops writing and says so once). */
  get error(): Error | undefined {
    return this.failure;
  }

  // ——— internals ———

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  private scheduleFlush(): void {
    if (this.pendingBytes >= FLUSH_BYTES || this.unencoded.length >= 4096) {
      setImmediate(() => void this.flush());
      return;
    }
    if (!this.timer) this.timer = setTimeout(() => void this.flush(), FLUSH_MS);
  }

  private encodePending(): void {
    if (this.unencoded.length === 0) return;
    let seq = this.next - this.unencoded.length;
    for (const e of this.unencoded) {
      const line = lineFor(seq++, encodeEventBody(e.kind, e.time, e.data));
      this.ring.push(line);
      this.pending.push(line);
      this.pendingBytes += line.length + 1;
    }
    this.unencoded = [];
  }

  private async writeLines(lines: string[], firstSeq: number): Promise<void> {
    if (this.closed) return;
    if (this.failure) return this.servedFromMemory(firstSeq + lines.length);
    const checkpointPause = testPausesArmed && lines.some((l) => l.includes(',"kind":"checkpoint",'));
    if (checkpointPause) await testPause('log.before-checkpoint-write', this.file);
    const buf = Buffer.from(lines.join('\n') + '\n', 'utf8');
    let offset = this.size;
    for (let i = 0; i < lines.length; i++) {
      const seq = firstSeq + i;
      if (this.scanned && seq % INDEX_EVERY === 0) {
        this.idxSeq.push(seq);
        this.idxOff.push(offset);
      }
      offset += Buffer.byteLength(lines[i], 'utf8') + 1;
    }
    try {
      let written = 0;
      while (written < buf.length) {
        const r = await this.handle.write(buf, written, buf.length - written, this.size + written);
        written += r.bytesWritten;
      }
    } catch (e) {
      this.failure = e as Error;
      this.warn(`cannot write the event log ${this.file}: ${(e as Error).message}; events are kept in memory only`);
      return this.servedFromMemory(firstSeq + lines.length);
    }
    this.size += buf.length;
    if (checkpointPause) await testPause('log.after-checkpoint-write', this.file);
    this.flushed = firstSeq + lines.length;
    this.readable = this.flushed;
    this.notify();
    // Keep the ring to its size, but never drop a line before it is on disk.
    const drop = Math.min(this.ring.length - RING_LINES, this.flushed - this.ringStart);
    if (drop > 0) {
      this.ring.splice(0, drop);
      this.ringStart += drop;
    }
  }

  /** The disk failed: live readers are served from memory (they were told the log cannot be written). */
  private servedFromMemory(upTo: number): void {
    this.readable = Math.max(this.readable, upTo);
    this.notify();
  }

  /**
   * Builds the sparse index of the file's lines, once, on the first disk read. It runs in the write chain, so no
   * write lands while it scans; afterwards every write indexes its own lines.
   */
  private ensureIndex(): Promise<void> {
    if (this.scanned) return Promise.resolve();
    if (!this.scanning) {
      const scan = this.writing.then(async () => {
        // Damaged lines are not indexed; a read that meets one reports it (readDisk).
        const seqs: number[] = [];
        const offs: number[] = [];
        let expected = -1;
        await this.scanFile(0, this.size, (line, offset) => {
          const seq = lineSeq(line);
          if (seq < 0) return;
          if (seq % INDEX_EVERY === 0 || seq !== expected) {
            seqs.push(seq);
            offs.push(offset);
          }
          expected = seq + 1;
        });
        this.idxSeq = seqs;
        this.idxOff = offs;
        this.scanned = true;
      });
      this.writing = scan.catch(() => undefined);
      this.scanning = scan.finally(() => {
        this.scanning = undefined;
      });
    }
    return this.scanning;
  }

  /** Byte offset of the first line with seq ≥ `seq` (the file's size when there is none). */
  private async locate(seq: number): Promise<number> {
    await this.ensureIndex();
    let offset = this.startOffset(seq);
    let found = -1;
    await this.scanFile(offset, this.size, (line, at) => {
      if (found < 0 && lineSeq(line) >= seq) found = at;
    }, () => found >= 0);
    offset = found >= 0 ? found : this.size;
    return offset;
  }

  private startOffset(seq: number): number {
    let lo = 0;
    let hi = this.idxSeq.length - 1;
    let best = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.idxSeq[mid] <= seq) {
        best = this.idxOff[mid];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best;
  }

  private async readDisk(fromSeq: number, limits: ReadLimits, hint?: ReadHint): Promise<LineBatch | undefined> {
    let offset: number;
    if (hint && hint.seq === fromSeq) offset = hint.offset;
    else {
      await this.ensureIndex();
      offset = this.startOffset(fromSeq);
    }
    const end = this.size;
    const lines: string[] = [];
    let bytes = 0;
    let firstSeq = -1;
    let nextSeq = fromSeq;
    let nextOffset = offset;
    // Damaged lines met on the way: those of unknown seq count once a good line at or after fromSeq follows them.
    const damaged: number[] = [];
    let unplaced: number[] = [];
    await this.scanFile(offset, end, (line, at, next) => {
      const seq = lineSeq(line);
      if (seq >= 0 && seq < fromSeq) {
        unplaced = [];
        return;
      }
      // Every line is parsed before it is served: one that only looks like an event would break the whole frame.
      const event = seq >= 0 ? parseLine(line) : undefined;
      if (!event || event.seq !== seq) {
        if (line.trim() !== '') (seq >= 0 ? damaged : unplaced).push(at);
        if (seq >= 0) nextOffset = next;
        return;
      }
      damaged.push(...unplaced);
      unplaced = [];
      if (firstSeq < 0) firstSeq = seq;
      lines.push(line);
      bytes += line.length;
      nextSeq = seq + 1;
      nextOffset = next;
    }, () => lines.length >= limits.maxLines || bytes >= limits.maxBytes);
    if (!(lines.length >= limits.maxLines || bytes >= limits.maxBytes) && unplaced.length > 0) {
      damaged.push(...unplaced); // damaged lines at the end of what is on disk
      nextOffset = end;
    }
    if (damaged.length > 0) {
      damaged.sort((a, b) => a - b);
      const where = damaged.slice(0, 5).join(', ') + (damaged.length > 5 ? ', …' : '');
      this.warn(`${this.file}: skipping ${damaged.length} corrupt line${damaged.length > 1 ? 's' : ''} (not a valid event) at byte ${where}; the other events are served`);
    }
    if (lines.length === 0) {
      // Only corrupt lines (or none) before the memory ring: continue from there.
      if (fromSeq < this.ringStart) return this.read(this.ringStart, limits);
      return undefined;
    }
    return { lines, firstSeq, nextSeq, hint: { seq: nextSeq, offset: nextOffset } };
  }

  /** Calls `onLine(line, offset, next)` for each complete line in [start, end); `stop` ends the scan early. */
  private async scanFile(
    start: number,
    end: number,
    onLine: (line: string, offset: number, next: number) => void,
    stop: () => boolean = () => false,
  ): Promise<void> {
    if (stop()) return;
    for await (const lines of blockLines(this.handle, start, end)) {
      for (const { line, offset, next } of lines) {
        onLine(line, offset, next);
        if (stop()) return;
      }
    }
  }
}

/**
 * Opens a log file without following a symbolic link (O_NOFOLLOW: a link planted as events.jsonl is refused, and its
 * target never read or cut) and only when it is a regular file. Read-only, or read-write creating it (mode 0600).
 */
async function openLogFile(file: string, readOnly: boolean): Promise<fs.FileHandle> {
  const noFollow = fsConstants.O_NOFOLLOW ?? 0;
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, readOnly ? fsConstants.O_RDONLY | noFollow : fsConstants.O_RDWR | fsConstants.O_CREAT | noFollow, 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'EMLINK') {
      throw new Error(`${file} is a symbolic link; MANTA does not follow links in a run folder and leaves it and its target alone (replace it with the log file itself)`);
    }
    throw e;
  }
  const stat = await handle.stat().catch(async (e: Error) => {
    await handle.close();
    throw e;
  });
  if (!stat.isFile()) {
    await handle.close();
    throw new Error(`${file} is not a regular file; MANTA leaves it alone`);
  }
  return handle;
}

/** The complete lines before `end` (which follows a newline, or is 0), last first; CR before a newline dropped. */
async function* linesBackward(handle: fs.FileHandle, end: number): AsyncGenerator<string> {
  let pos = end;
  let chunk = Buffer.alloc(0); // the bytes [pos, …) not yet yielded; they end with a newline
  for (;;) {
    if (chunk.length > 0) {
      const nl = chunk.length - 1;
      const prev = chunk.lastIndexOf(10, nl - 1);
      if (prev >= 0 || pos === 0) {
        const lineEnd = nl > prev + 1 && chunk[nl - 1] === 13 ? nl - 1 : nl;
        yield chunk.toString('utf8', prev + 1, lineEnd);
        chunk = chunk.subarray(0, prev + 1);
        continue;
      }
    }
    if (pos === 0) return;
    const n = Math.min(64 * 1024, pos);
    pos -= n;
    const buf = Buffer.alloc(n);
    await handle.read(buf, 0, n, pos);
    chunk = Buffer.concat([buf, chunk]);
  }
}

/**
 * What a killed writer leaves at the end of a log: a torn last line, i.e. bytes after the last newline. Only that
 * line is cut off (with a warning; in a read-only log only left out of the size); complete lines are never cut, even
 * damaged ones, which readers skip with a warning. Returns the log's size and its last seq: that of the last line
 * that parses, plus one for each damaged line after it (so numbering continues past them; -1 for an empty log).
 */
async function repairTail(handle: fs.FileHandle, file: string, warn: Warn, readOnly: boolean): Promise<{ size: number; lastSeq: number }> {
  const original = (await handle.stat()).size;
  let size = original;
  if (original > 0) {
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, original - 1);
    if (last[0] !== 10) {
      // Find the last newline, looking back in growing windows.
      size = 0;
      for (let window = 64 * 1024, end = original; end > 0; window *= 2) {
        const start = Math.max(0, end - window);
        const buf = Buffer.alloc(end - start);
        await handle.read(buf, 0, buf.length, start);
        const nl = buf.lastIndexOf(10);
        if (nl >= 0) {
          size = start + nl + 1;
          break;
        }
        end = start;
      }
    }
  }
  let lastSeq = -1;
  let after = 0;
  for await (const line of linesBackward(handle, size)) {
    const event = parseLine(line);
    if (event) {
      lastSeq = event.seq + after;
      break;
    }
    if (line.trim() !== '') after++;
  }
  if (lastSeq < 0) lastSeq = after - 1;
  if (size < original) {
    if (readOnly) {
      warn(`${file}: its last ${original - size} bytes are a truncated last line (no newline); they are ignored, and the log of a finished run is never changed`);
    } else {
      warn(`${file}: cut off ${original - size} bytes of a truncated last line (no newline: its writer was killed mid-line); the log now ends at seq ${lastSeq}`);
      await handle.truncate(size);
    }
  }
  return { size, lastSeq };
}
