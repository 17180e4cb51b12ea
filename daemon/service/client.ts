// A node client of the daemon (tests, benchmarks, CLI tools): connects over the Unix socket or a pair of streams and
// performs the handshake. The extension has its own connection; it shares the handshake from daemon/protocol.
import * as net from 'node:net';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { handshake } from '../protocol/handshake';
import type { HelloResult } from '../protocol/methods';

export interface DaemonClient {
  connection: MessageConnection;
  hello: HelloResult;
  close(): void;
}

const defaultClient = { name: 'manta-node-client', version: '1' };

export async function connectStreams(
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
  opts: { client?: { name: string; version: string }; protocolVersion?: string; beforeListen?: (c: MessageConnection) => void; onClose?: () => void } = {},
): Promise<DaemonClient> {
  const connection = createMessageConnection(new StreamMessageReader(input), new StreamMessageWriter(output));
  opts.beforeListen?.(connection);
  connection.listen();
  try {
    const hello = await handshake(connection, opts.client ?? defaultClient, opts.protocolVersion);
    return { connection, hello, close: () => (connection.dispose(), opts.onClose?.()) };
  } catch (e) {
    connection.dispose();
    opts.onClose?.();
    throw e;
  }
}

/** Connects to the daemon's socket; `beforeListen` registers notification handlers before any can arrive. */
export async function connectSocket(
  socketPath: string,
  opts: { client?: { name: string; version: string }; protocolVersion?: string; beforeListen?: (c: MessageConnection) => void } = {},
): Promise<DaemonClient> {
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(socketPath);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
  return connectStreams(socket, socket, { ...opts, onClose: () => socket.destroy() });
}
