// One client connection (stdio or socket): its handshake state and the sink its attached runs stream into.
import type { MessageConnection, NotificationMessage, NotificationType } from 'vscode-jsonrpc/node';
import type { EventSink } from './attachment';
import type { FramedMessageWriter } from './framing';

let nextId = 1;

export class Session implements EventSink {
  readonly id = nextId++;
  handshaken = false;
  client: { name: string; version: string } | undefined;
  private disposed = false;

  constructor(
    readonly transport: 'stdio' | 'socket',
    private readonly writer: FramedMessageWriter,
    readonly connection: MessageConnection,
    private readonly destroyTransport: () => void,
  ) {}

  get closed(): boolean {
    return this.disposed || this.writer.isClosed;
  }

  writeRaw(json: string): Promise<void> {
    return this.closed ? Promise.resolve() : this.writer.writeRaw(json);
  }

  /** Sends a notification now, in order with everything else written to this client. */
  notify<P>(type: NotificationType<P>, params: P): void {
    if (this.closed) return;
    const message: NotificationMessage = { jsonrpc: '2.0', method: type.method, params: params as NotificationMessage['params'] };
    void this.writer.write(message);
  }

  /** Closes the connection (after what was written has been handed to the transport). */
  close(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.connection.dispose();
    this.destroyTransport();
  }
}
