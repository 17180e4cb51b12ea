// Starts the config language server (dist/config-server.js) over IPC for *.manta.json files, on demand: the client
// knows one fact about the server, the path of its built module. It answers the server's one question to the outside
// (a config's search-space costs) with what it is given, and tells it when the daemon comes or goes.
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import type { DescribeSpaceParams } from '../daemon/protocol';
import type { SupernetView } from '../daemon/protocol/webview';
import { DaemonAvailabilityNotification, DescribeSpaceViaDaemonRequest, SupernetViewRequest, type SpaceCostsAnswer } from './server/lsp-ext';

export const CONFIG_GLOB = '**/*.manta.json';

export class ConfigLanguageClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient> | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly output: vscode.LogOutputChannel,
    /** Answers the server's manta/lsp/describeSpace (from the local daemon, never starting one). */
    private readonly describeSpace: (params: DescribeSpaceParams) => Promise<SpaceCostsAnswer>,
  ) {}

  /** Starts the server once; later calls get the same client. */
  start(): Promise<LanguageClient> {
    if (this.client) return Promise.resolve(this.client);
    if (this.starting) return this.starting;
    const module = vscode.Uri.joinPath(this.extensionUri, 'dist', 'config-server.js').fsPath;
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc },
      debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: 'file', language: 'json', pattern: CONFIG_GLOB },
        { scheme: 'untitled', language: 'json', pattern: CONFIG_GLOB },
      ],
      outputChannel: this.output,
      diagnosticCollectionName: 'manta',
    };
    const client = new LanguageClient('manta-config', 'MANTA Config', serverOptions, clientOptions);
    client.onRequest(DescribeSpaceViaDaemonRequest, (params) => this.describeSpace(params));
    this.starting = client.start().then(
      () => {
        this.client = client;
        this.starting = undefined;
        return client;
      },
      (e: unknown) => {
        this.starting = undefined;
        throw e;
      },
    );
    return this.starting;
  }

  get isRunning(): boolean {
    return this.client !== undefined;
  }

  /** The supernet of a config file, or of a config object (a run's config from its daemon). */
  async supernetView(source: vscode.Uri | { config: unknown }): Promise<SupernetView | null> {
    const client = await this.start();
    return client.sendRequest(SupernetViewRequest, source instanceof vscode.Uri ? { uri: source.toString() } : { config: source.config });
  }

  /** Tells a running server that the daemon connected or went away (its cached costs are then void). */
  daemonAvailability(connected: boolean): void {
    void this.client?.sendNotification(DaemonAvailabilityNotification, { connected }).catch(() => undefined);
  }

  /** Awaited by deactivate, so the server is shut down cleanly. */
  async stop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) await c.stop();
  }

  dispose(): void {
    void this.stop();
  }
}

/** Whether a document is a MANTA config. */
export function isConfigDocument(doc: vscode.TextDocument): boolean {
  return doc.uri.path.endsWith('.manta.json');
}
