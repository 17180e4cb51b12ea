// What the config language server and the extension share beyond LSP, declared once for both.
import { RequestType } from 'vscode-languageserver-protocol';
import type { SupernetView } from '../../daemon/protocol/webview';

/** The command a CodeLens on the supernet runs (contributed by the extension). */
export const SHOW_SUPERNET_COMMAND = 'manta.showSupernet';

export interface SupernetViewParams {
  /** A *.manta.json (open or on disk) or a run's config.json. */
  uri: string;
}
/** Client → server: the supernet of a config as the visualizer draws it (defaults filled from the schema). */
export const SupernetViewRequest = new RequestType<SupernetViewParams, SupernetView | null, void>('manta/supernetView');
