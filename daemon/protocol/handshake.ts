// The client's half of the handshake, shared by every client (extension, CLI, tests): send manta/hello, and refuse a
// daemon whose protocol is incompatible — whether the daemon said so or its answer shows it.
import { ResponseError, type MessageConnection } from 'vscode-jsonrpc';
import { MantaErrorCodes } from './errors';
import { HelloRequest, type HelloResult } from './methods';
import { checkProtocolCompatibility, PROTOCOL_VERSION } from './version';

export class IncompatibleDaemonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IncompatibleDaemonError';
  }
}

export async function handshake(
  connection: MessageConnection,
  client: { name: string; version: string },
  protocolVersion: string = PROTOCOL_VERSION,
): Promise<HelloResult> {
  let result: HelloResult;
  try {
    result = await connection.sendRequest(HelloRequest, { protocolVersion, client });
  } catch (e) {
    if (e instanceof ResponseError && e.code === MantaErrorCodes.IncompatibleVersion) throw new IncompatibleDaemonError(e.message);
    throw e;
  }
  const compat = checkProtocolCompatibility(protocolVersion, result.protocolVersion, 'daemon');
  if (!compat.ok) throw new IncompatibleDaemonError(compat.message);
  return result;
}
