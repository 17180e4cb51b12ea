// The extension's one context object, built in activate: the hosts (the local daemon now; an SSH host will be one
// more entry), the trees, the status bar, the language client and the panels' services. Two disposal scopes: the
// extension's lifetime (`subscriptions`) and each host connection (inside Host).
import * as vscode from 'vscode';
import { GetRunConfigRequest } from '../daemon/protocol';
import type { MonitorCommands, SupernetView } from '../daemon/protocol/webview';
import { describeSpaceOn } from './hosts/describe-space';
import { Host, type HostSnapshot } from './hosts/host';
import { localSocketPath, socketTransport, stdioTransport } from './hosts/local-transport';
import type { DaemonTransport } from './hosts/connection';
import { ConfigLanguageClient } from './language-client';
import { MonitorPanel, type MonitorServices } from './panels/monitor-panel';
import { VisualizerPanel, type VisualizerServices } from './panels/visualizer-panel';
import { NodeTreeProvider } from './views/trees';
import { hostNodes, runNodes, type RunRef } from './views/tree-model';
import { MantaStatusBar } from './views/status-bar';

export const LOCAL_HOST_ID = 'local';

/** How to reach the local daemon (settings under manta.daemon; a change takes effect on the next connect). */
interface DaemonSettings {
  connect: 'auto' | 'socket' | 'spawn';
  nodePath: string;
  script: string;
  socketPath: string;
}

export class Ctx implements MonitorServices, VisualizerServices {
  readonly log: vscode.LogOutputChannel;
  readonly hosts: Host[] = [];
  readonly languageClient: ConfigLanguageClient;
  readonly hostsTree = new NodeTreeProvider(hostNodes);
  readonly runsTree = new NodeTreeProvider(runNodes);
  readonly statusBar = new MantaStatusBar();

  constructor(readonly extension: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('MANTA', { log: true });
    this.languageClient = new ConfigLanguageClient(extension.extensionUri, this.log, (params) => describeSpaceOn(this.localHost, params));
    extension.subscriptions.push(this.log, this.languageClient, this.hostsTree, this.runsTree, this.statusBar);
    this.addHost(new Host(LOCAL_HOST_ID, 'Local', 'local', () => this.openLocalTransport(), this.clientInfo()));
    // Another way to reach the daemon may lead to another daemon: reconnect, forgetting the old one's runs (once for
    // several settings changed together).
    let pending: ReturnType<typeof setTimeout> | undefined;
    extension.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration('manta.daemon')) return;
        clearTimeout(pending);
        pending = setTimeout(() => {
          const host = this.localHost;
          if (host.snapshot().state.kind === 'disconnected') return;
          this.log.info('the manta.daemon settings changed: reconnecting the local host');
          void host.reconnect().catch((err: unknown) => this.log.warn(`reconnecting the local host: ${(err as Error).message}`));
        }, 300);
      }),
      { dispose: () => clearTimeout(pending) },
    );
  }

  get extensionUri(): vscode.Uri {
    return this.extension.extensionUri;
  }

  get localHost(): Host {
    return this.hosts[0];
  }

  allHosts(): readonly Host[] {
    return this.hosts;
  }

  host(id: string): Host | undefined {
    return this.hosts.find((h) => h.id === id);
  }

  snapshots(): HostSnapshot[] {
    return this.hosts.map((h) => h.snapshot());
  }

  /** Connects a host, with progress in the status bar; failures are shown with a retry and the log. */
  async connected(host: Host = this.localHost): Promise<Host> {
    if (host.isConnected) return host;
    try {
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: `MANTA: connecting to the daemon on ${host.label}` },
        () => host.connect(),
      );
      return host;
    } catch (e) {
      const message = (e as Error).message;
      this.log.error(`connecting to ${host.label}: ${message}`);
      void vscode.window.showErrorMessage(`MANTA: the daemon on ${host.label} is not reachable: ${message}`, 'Retry', 'Show Log').then((pick) => {
        if (pick === 'Retry') void this.connected(host).catch(() => undefined);
        if (pick === 'Show Log') this.log.show();
      });
      throw new NotConnectedError(message);
    }
  }

  // ——— panels' services ———

  showSubnet(ref: RunRef, params: MonitorCommands['monitor/showSubnet']): void {
    const run = this.host(ref.hostId)?.run(ref.runId);
    if (!run) return;
    const p = params.point;
    VisualizerPanel.show(this, {
      kind: 'run',
      ref,
      name: run.name,
      subnet: {
        arch: p.arch,
        source: 'pareto',
        label: `Pareto point ${params.index + 1}`,
        macs: p.macs,
        params: p.params,
        accuracy: p.validationAccuracy ?? p.predictedAccuracy,
      },
    });
  }

  supernetView(uri: vscode.Uri): Promise<SupernetView | null> {
    return this.languageClient.supernetView(uri);
  }

  /** A run's supernet: its config through the protocol (the run folder may be on another host), drawn by the
   * language server as a config file's is. */
  async runSupernetView(ref: RunRef): Promise<SupernetView | null> {
    const host = this.host(ref.hostId);
    if (!host) throw new Error(`no host '${ref.hostId}'`);
    const { config } = await host.request(GetRunConfigRequest, { runId: ref.runId });
    return this.languageClient.supernetView({ config });
  }

  openMonitor(ref?: RunRef, compare = false): MonitorPanel {
    return MonitorPanel.createOrShow(this, ref, { compare });
  }

  // ——— internals ———

  private addHost(host: Host): void {
    this.hosts.push(host);
    const refresh = () => {
      const snaps = this.snapshots();
      this.hostsTree.update(snaps);
      this.runsTree.update(snaps);
      this.statusBar.update(snaps);
      void vscode.commands.executeCommand('setContext', 'manta.connected', this.hosts.some((h) => h.isConnected));
      void vscode.commands.executeCommand('setContext', 'manta.hasRuns', snaps.some((s) => s.runs.length > 0));
    };
    host.onDidChange.on(refresh);
    if (host.id === LOCAL_HOST_ID) {
      // The language server's search-space costs come from this host: tell it when they can (or no longer can).
      let connected = host.isConnected;
      host.onDidChange.on(() => {
        if (host.isConnected !== connected) {
          connected = host.isConnected;
          this.languageClient.daemonAvailability(connected);
        }
      });
    }
    host.onDaemonLog.on((l) => this.log[l.level === 'warn' ? 'warn' : l.level](`[${host.label}${l.runId ? ` ${l.runId}` : ''}] ${l.message}`));
    this.extension.subscriptions.push({ dispose: () => host.dispose() });
    refresh();
  }

  private clientInfo(): { name: string; version: string } {
    return { name: 'manta-vscode', version: String((this.extension.extension.packageJSON as { version?: string }).version ?? '0.0.0') };
  }

  private settings(): DaemonSettings {
    const c = vscode.workspace.getConfiguration('manta.daemon');
    return {
      connect: c.get<'auto' | 'socket' | 'spawn'>('connect', 'auto'),
      nodePath: c.get<string>('nodePath', '') || process.execPath,
      script: c.get<string>('script', '') || vscode.Uri.joinPath(this.extensionUri, 'dist', 'manta.js').fsPath,
      socketPath: c.get<string>('socketPath', '') || localSocketPath(),
    };
  }

  /** The user's own daemon through its socket when one answers; else a daemon of our own over stdio. */
  private async openLocalTransport(): Promise<DaemonTransport> {
    const s = this.settings();
    if (s.connect !== 'spawn') {
      try {
        const t = await socketTransport(s.socketPath);
        this.log.info(`connected to the daemon at ${s.socketPath}`);
        return t;
      } catch (e) {
        if (s.connect === 'socket') throw new Error(`no daemon listens on ${s.socketPath} (${(e as Error).message}); start one with 'manta daemon'`);
      }
    }
    this.log.info(`starting ${s.nodePath} ${s.script} daemon --stdio`);
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    return stdioTransport({
      mantaScript: s.script,
      nodePath: s.nodePath,
      cwd: folder,
      onStderr: (line) => this.log.info(`[daemon] ${line}`),
      onExit: (code, signal) => this.log.info(`the daemon exited (${signal ?? `code ${code}`})`),
    });
  }
}

/** A command needed a daemon and none could be reached (already shown to the user). */
export class NotConnectedError extends Error {
  override name = 'NotConnectedError';
}
