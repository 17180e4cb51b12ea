// JSON-RPC message framing (Content-Length headers) for the daemon's side of a connection, hardened against what a
// client may send: a reader with size limits that answers unparsable JSON and malformed messages with JSON-RPC
// errors instead of stalling or throwing, and a writer that can also send an already-serialized message (so an
// event-log line is serialized once, however many clients receive it).
import { AbstractMessageReader, AbstractMessageWriter, Disposable } from 'vscode-jsonrpc/node';
import type { DataCallback, Message, MessageReader, MessageWriter } from 'vscode-jsonrpc/node';
import { MantaErrorCodes } from '../protocol/errors';

export interface FramingLimits {
  /** Longest header block accepted, in bytes. */
  maxHeaderBytes: number;
  /** Largest message body accepted, in bytes. */
  maxBodyBytes: number;
}

export const defaultFramingLimits: FramingLimits = { maxHeaderBytes: 8 * 1024, maxBodyBytes: 16 * 1024 * 1024 };

/** Called for a message the daemon cannot dispatch; `fatal` when the stream cannot be re-synchronized. */
export type ProtocolErrorHandler = (error: { code: number; message: string; id: string | number | null; fatal: boolean }) => void;

const HEADER_END = Buffer.from('\r\n\r\n', 'ascii');

export class GuardedMessageReader extends AbstractMessageReader implements MessageReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private bodyLength = -1;
  private stopped = false;

  constructor(
    private readonly readable: NodeJS.ReadableStream,
    private readonly onProtocolError: ProtocolErrorHandler,
    private readonly limits: FramingLimits = defaultFramingLimits,
    /** Called after each message is handed on, with its size in bytes (the daemon's backpressure counts there). */
    private readonly afterMessage: (message: Message, bytes: number) => void = () => undefined,
  ) {
    super();
  }

  listen(callback: DataCallback): Disposable {
    const onData = (chunk: Buffer | string) => this.onData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, callback);
    const onError = (error: Error) => this.fireError(error);
    const onClose = () => this.fireClose();
    this.readable.on('data', onData);
    this.readable.on('error', onError);
    this.readable.on('close', onClose);
    this.readable.on('end', onClose);
    return Disposable.create(() => {
      this.readable.off('data', onData);
      this.readable.off('error', onError);
      this.readable.off('close', onClose);
      this.readable.off('end', onClose);
    });
  }

  private onData(chunk: Buffer, callback: DataCallback): void {
    if (this.stopped) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (!this.stopped) {
      if (this.bodyLength < 0) {
        if (this.buffered < HEADER_END.length) return;
        const head = this.peek(Math.min(this.buffered, this.limits.maxHeaderBytes + HEADER_END.length));
        const end = head.indexOf(HEADER_END);
        if (end < 0) {
          if (this.buffered > this.limits.maxHeaderBytes) this.fatal(`no message header within ${this.limits.maxHeaderBytes} bytes`);
          return;
        }
        const length = this.parseHeader(head.subarray(0, end).toString('ascii'));
        if (length === undefined) return;
        this.take(end + HEADER_END.length);
        this.bodyLength = length;
      }
      if (this.buffered < this.bodyLength) return;
      const body = this.take(this.bodyLength);
      this.bodyLength = -1;
      const message = this.decode(body);
      if (message) {
        callback(message);
        this.afterMessage(message, body.length);
      }
    }
  }

  /** Content-Length of a header block, or undefined after reporting a fatal framing error. */
  private parseHeader(text: string): number | undefined {
    let length: number | undefined;
    for (const line of text.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) return this.fatal(`malformed header line ${JSON.stringify(line.slice(0, 80))}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') {
        if (!/^\d{1,12}$/.test(value)) return this.fatal(`Content-Length ${JSON.stringify(value.slice(0, 40))} is not a byte count`);
        length = Number(value);
      } else if (name === 'content-type') {
        if (!/json/i.test(value) || (/charset=/i.test(value) && !/charset=utf-?8/i.test(value))) {
          return this.fatal(`unsupported Content-Type ${JSON.stringify(value.slice(0, 80))} (JSON in UTF-8 only)`);
        }
      }
    }
    if (length === undefined) return this.fatal('message header without Content-Length');
    if (length > this.limits.maxBodyBytes) return this.fatal(`message of ${length} bytes exceeds the limit of ${this.limits.maxBodyBytes} bytes (maxFrameBytes)`);
    return length;
  }

  private decode(body: Buffer): Message | undefined {
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch (e) {
      this.onProtocolError({ code: MantaErrorCodes.ParseError, message: `Parse error: ${(e as Error).message}`, id: null, fatal: false });
      return undefined;
    }
    const problem = messageProblem(value);
    if (problem) {
      const raw = (value as { id?: unknown } | null)?.id;
      const id = typeof raw === 'string' || typeof raw === 'number' ? raw : null;
      this.onProtocolError({ code: MantaErrorCodes.InvalidRequest, message: `Invalid request: ${problem}`, id, fatal: false });
      return undefined;
    }
    return value as Message;
  }

  private fatal(message: string): undefined {
    this.stopped = true;
    this.chunks = [];
    this.buffered = 0;
    this.onProtocolError({ code: MantaErrorCodes.ParseError, message: `Parse error: ${message}; closing the connection`, id: null, fatal: true });
    return undefined;
  }

  private peek(n: number): Buffer {
    if (this.chunks.length === 1 || this.chunks[0].length >= n) return this.chunks[0].subarray(0, n);
    const merged = Buffer.concat(this.chunks);
    this.chunks = [merged];
    return merged.subarray(0, n);
  }

  private take(n: number): Buffer {
    const merged = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const out = merged.subarray(0, n);
    const rest = merged.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }
}

/** Why a parsed value is not a JSON-RPC 2.0 request, notification or response; undefined when it is one. */
export function messageProblem(value: unknown): string | undefined {
  if (Array.isArray(value)) return 'batch messages are not supported; send one message per frame';
  if (typeof value !== 'object' || value === null) return 'a message must be a JSON object';
  const m = value as Record<string, unknown>;
  if (m.jsonrpc !== '2.0') return "property 'jsonrpc' must be \"2.0\"";
  if ('id' in m && m.id !== null && typeof m.id !== 'string' && !(typeof m.id === 'number' && Number.isFinite(m.id))) {
    return "property 'id' must be a string, a number or null";
  }
  if ('method' in m) {
    if (typeof m.method !== 'string' || m.method.length === 0) return "property 'method' must be a non-empty string";
    if ('params' in m && m.params !== undefined && (typeof m.params !== 'object' || m.params === null)) {
      return "property 'params' must be an object";
    }
    return undefined;
  }
  if ('id' in m && ('result' in m || 'error' in m)) return undefined;
  return "a message needs a 'method' (request or notification) or an 'id' with 'result' or 'error' (response)";
}

/** Writes framed messages to a stream; each message is one header and one body written back to back. */
export class FramedMessageWriter extends AbstractMessageWriter implements MessageWriter {
  private closed = false;

  constructor(private readonly writable: NodeJS.WritableStream) {
    super();
    writable.on('error', (error: Error) => this.fireError(error, undefined, 1));
    writable.on('close', () => {
      this.closed = true;
      this.fireClose();
    });
  }

  write(msg: Message): Promise<void> {
    return this.writeRaw(JSON.stringify(msg));
  }

  /** Sends `json`, which must be one serialized JSON-RPC message. Resolves once the stream has taken it. */
  writeRaw(json: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    const body = Buffer.from(json, 'utf8');
    return new Promise((resolve) => {
      this.writable.write(`Content-Length: ${body.length}\r\n\r\n`, 'ascii');
      // A failed write (peer gone) resolves too: the error and close events tear the connection down.
      this.writable.write(body, () => resolve());
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  end(): void {
    this.closed = true;
    this.writable.end();
  }
}
