// What the config language server and the extension share beyond LSP, declared once for both.
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';
import type { DescribeSpaceParams, DescribeSpaceResult } from '../../daemon/protocol/methods';
import type { SupernetView } from '../../daemon/protocol/webview';

/** The command a CodeLens on the supernet runs (contributed by the extension). */
export const SHOW_SUPERNET_COMMAND = 'manta.showSupernet';
/** The command the "start the MANTA daemon" CodeLens runs: connects the local host, starting a daemon if none runs. */
export const CONNECT_DAEMON_COMMAND = 'manta.connectHost';

/** A *.manta.json (open or on disk) by its URI, or a config object (a run's config, as the daemon sent it). */
export type SupernetViewParams = { uri: string; config?: undefined } | { config: unknown; uri?: undefined };
/** Client → server: the supernet of a config as the visualizer draws it (defaults filled from the schema). */
export const SupernetViewRequest = new RequestType<SupernetViewParams, SupernetView | null, void>('manta/supernetView');

/** What the client knows of a config's search-space costs. */
export type SpaceCostsAnswer =
  | { kind: 'described'; description: DescribeSpaceResult }
  /** `reason` is a phrase for the user ("start the MANTA daemon"); `noDaemon`: connecting one is the fix. */
  | { kind: 'unavailable'; reason: string; noDaemon?: boolean };

/** Server → client: the daemon's `manta/describeSpace` for a config, forwarded by the client to the local host's
 * connection. The client answers at once, `unavailable` with noDaemon, when no daemon is connected: it never starts
 * one for this. The server waits only briefly and caches answers per config text. */
export const DescribeSpaceViaDaemonRequest = new RequestType<DescribeSpaceParams, SpaceCostsAnswer, void>('manta/lsp/describeSpace');

export interface DaemonAvailabilityParams {
  connected: boolean;
}
/** Client → server: the local daemon connected or went away, so cached answers are void. */
export const DaemonAvailabilityNotification = new NotificationType<DaemonAvailabilityParams>('manta/lsp/daemonAvailability');
