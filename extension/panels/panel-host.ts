// What both webview panels share: options limiting local resources to the built webview bundles, the HTML shell with
// a fresh nonce, typed messages in both directions (each message from the page checked at run time against its
// command's guard, daemon/protocol/webview-guards.ts; a malformed one is dropped and logged), file saving for
// exports, and one disposables list.
import * as vscode from 'vscode';
import { webviewMessage, type SaveFileParams, type WebviewMessage } from '../../daemon/protocol/webview';
import { checkWebviewCommand, type CommandGuards } from '../../daemon/protocol/webview-guards';
import { makeNonce, webviewPageHtml } from './html';

/** The one place that decides what a MANTA webview may load. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webviews')],
    enableFindWidget: true,
  };
}

/** Sets the panel's HTML: the bundle `dist/webviews/<bundle>.js` and its CSS, through asWebviewUri. */
export function renderWebview(webview: vscode.Webview, extensionUri: vscode.Uri, bundle: 'monitor' | 'visualizer', title: string): void {
  const asset = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webviews', file)).toString();
  webview.html = webviewPageHtml({
    title,
    cspSource: webview.cspSource,
    scriptUri: asset(`${bundle}.js`),
    styleUris: [asset(`${bundle}.css`)],
    nonce: makeNonce(),
  });
}

/** A panel that speaks one typed protocol: `Commands` arrive from the page, `Notifications` go to it. */
export abstract class PanelHost<Commands, Notifications> implements vscode.Disposable {
  protected readonly disposables: vscode.Disposable[] = [];
  private disposed = false;
  readonly onDidDispose: vscode.Event<void>;
  private readonly disposeEmitter = new vscode.EventEmitter<void>();

  constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    bundle: 'monitor' | 'visualizer',
    guards: CommandGuards<Commands>,
    /** Where a dropped message is reported (the MANTA log); the extension host's console when not given. */
    log: { warn(message: string): void } = console,
  ) {
    this.onDidDispose = this.disposeEmitter.event;
    panel.webview.options = webviewOptions(extensionUri);
    renderWebview(panel.webview, extensionUri, bundle, panel.title);
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: unknown) => {
        const checked = checkWebviewCommand(guards, m);
        if (!checked.ok) {
          log.warn(`the ${bundle} page sent a malformed message, dropped: ${checked.reason}`);
          return;
        }
        void Promise.resolve(this.onCommand(checked.message)).catch((e: unknown) => this.onError(e));
      }),
    );
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  protected abstract onCommand(message: WebviewMessage<Commands>): void | Promise<void>;

  protected onError(e: unknown): void {
    void vscode.window.showErrorMessage(`MANTA: ${(e as Error).message ?? String(e)}`);
  }

  /** Posts a notification; dropped (false) while the panel is hidden — the page reloads and asks again on show. */
  protected post<K extends keyof Notifications>(method: K, params: Notifications[K]): Thenable<boolean> {
    if (this.disposed || !this.panel.visible) return Promise.resolve(false);
    return this.panel.webview.postMessage(webviewMessage<Notifications, K>(method, params));
  }

  /** Saves what the page exported (PNG, CSV, SVG) where the user picks. */
  protected async saveFile(p: SaveFileParams): Promise<string | null> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const target = await vscode.window.showSaveDialog({
      defaultUri: folder ? vscode.Uri.joinPath(folder, p.suggestedName) : undefined,
      saveLabel: 'Export',
    });
    if (!target) return null;
    const bytes = p.encoding === 'base64' ? Buffer.from(p.content, 'base64') : Buffer.from(p.content, 'utf8');
    await vscode.workspace.fs.writeFile(target, bytes);
    return target.fsPath;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposeEmitter.fire();
    this.disposeEmitter.dispose();
    this.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
