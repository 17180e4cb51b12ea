// A connection to one MANTA daemon over any pair of byte streams (a child's stdio, a Unix socket, later an SSH
// channel): JSON-RPC framing, the hello handshake with the protocol-version check, typed requests and the daemon's
// notifications. Nothing here knows how the streams were obtained.
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  ResponseError,
  type MessageConnection,
  type RequestType,
  type NotificationType,
  type Disposable,
} from 'vscode-jsonrpc/node';
import {
  checkProtocolCompatibility,
  HelloRequest,
  PROTOCOL_VERSION,
  type HelloResult,
  type MantaErrorData,
} from '../../daemon/protocol';

/** A pair of streams to a daemon, and how to let go of it. */
export interface DaemonTransport {
  readable: NodeJS.ReadableStream;
  writable: NodeJS.WritableStream;
  /** A line for logs and the Hosts view: 'stdio of pid 1234', 'socket /run/user/1000/manta/daemon.sock'. */
  describe: string;
  /** Ends the transport (closes the socket, ends the child). */
  close(): void;
}

/** A request failed: the daemon's message is a sentence for the user; `data.problems` lists every problem. */
export class DaemonRequestError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly data?: MantaErrorData,
  ) {
    super(message);
    this.name = 'DaemonRequestError';
  }
}

/** The daemon refused us, or we refused it: a user error with what to update. */
export class DaemonHandshakeError extends Error {
  override name = 'DaemonHandshakeError';
}

export class DaemonConnection {
  private closed = false;
  private readonly closeListeners: (() => void)[] = [];

  private constructor(
    private readonly rpc: MessageConnection,
    private readonly transport: DaemonTransport,
    readonly hello: HelloResult,
  ) {
    rpc.onClose(() => this.markClosed());
  }

  /** Opens JSON-RPC on the transport and does the handshake; the transport is closed if that fails. */
  static async open(transport: DaemonTransport, client: { name: string; version: string }): Promise<DaemonConnection> {
    const rpc = createMessageConnection(new StreamMessageReader(transport.readable), new StreamMessageWriter(transport.writable));
    // Before listen(): notifications that arrive during the handshake are queued by the connection, not lost.
    rpc.listen();
    let hello: HelloResult;
    try {
      hello = await rpc.sendRequest(HelloRequest, { protocolVersion: PROTOCOL_VERSION, client });
    } catch (e) {
      rpc.dispose();
      transport.close();
      if (e instanceof ResponseError) throw new DaemonHandshakeError(`the MANTA daemon refused the connection: ${e.message}`);
      throw new DaemonHandshakeError(`the MANTA daemon did not answer the handshake (${transport.describe}): ${(e as Error).message}`);
    }
    const compat = checkProtocolCompatibility(PROTOCOL_VERSION, hello.protocolVersion, 'daemon');
    if (!compat.ok) {
      rpc.dispose();
      transport.close();
      throw new DaemonHandshakeError(compat.message);
    }
    return new DaemonConnection(rpc, transport, hello);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get describe(): string {
    return this.transport.describe;
  }

  async request<P, R>(type: RequestType<P, R, MantaErrorData>, params: P): Promise<R> {
    if (this.closed) throw new DaemonRequestError('the MANTA daemon connection is closed', -1);
    try {
      // `as never`: vscode-jsonrpc's RequestParam<P> is a conditional type a generic P cannot be matched against.
      return await this.rpc.sendRequest<P, R, MantaErrorData>(type, params as never);
    } catch (e) {
      if (e instanceof ResponseError) throw new DaemonRequestError(e.message, e.code, e.data as MantaErrorData | undefined);
      throw e;
    }
  }

  onNotification<P>(type: NotificationType<P>, handler: (params: P) => void): Disposable {
    return this.rpc.onNotification(type, handler);
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  dispose(): void {
    if (this.closed) return;
    this.rpc.dispose();
    this.transport.close();
    this.markClosed();
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.closeListeners.splice(0)) l();
  }
}
