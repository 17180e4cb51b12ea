// The language server's question about a config's search space (lsp-ext.ts), answered by a host's daemon: only on a
// connection that is already open — a CodeLens must never start a daemon — and with the daemon's refusals turned into
// a phrase the lens can show.
import { DescribeSpaceRequest, MantaErrorCodes, type DescribeSpaceParams } from '../../daemon/protocol';
import type { SpaceCostsAnswer } from '../server/lsp-ext';
import { DaemonRequestError } from './connection';
import type { Host } from './host';

export const NO_DAEMON_REASON = 'start the MANTA daemon';

export async function describeSpaceOn(host: Host, params: DescribeSpaceParams): Promise<SpaceCostsAnswer> {
  try {
    const description = await host.requestIfConnected(DescribeSpaceRequest, params);
    return description ? { kind: 'described', description } : { kind: 'unavailable', reason: NO_DAEMON_REASON, noDaemon: true };
  } catch (e) {
    if (!(e instanceof DaemonRequestError)) return { kind: 'unavailable', reason: `the MANTA daemon failed (${(e as Error).message})` };
    switch (e.code) {
      case MantaErrorCodes.InvalidConfig:
      case MantaErrorCodes.InvalidParams:
        return { kind: 'unavailable', reason: "fix the config's problems first" };
      case MantaErrorCodes.MethodNotFound:
        return { kind: 'unavailable', reason: `update the MANTA daemon on ${host.label} (it cannot describe search spaces)` };
      case MantaErrorCodes.PathOutsideRoots:
        return { kind: 'unavailable', reason: `the config's folder is outside the daemon's allowed roots` };
      default:
        return { kind: 'unavailable', reason: e.message };
    }
  }
}
