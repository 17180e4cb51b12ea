// The extension's one context object, built in activate: the hosts (the local daemon first, then the SSH hosts of
// ~/.ssh/config and manta.remoteHosts, see ssh-ui/ssh-hosts.ts), the trees, the status bar, the language client and
// the panels' services. Two disposal scopes: the extension's lifetime (`subscriptions`) and each host connection
// (inside Host).
import * as vscode from 'vscode';
import { delimiter } from 'node:path';
import { GetRunConfigRequest, GetRunResultsRequest, type ParetoPoint, type RunStatus, type RunSummary } from '../daemon/protocol';
import type { MonitorCommands, SupernetView } from '../daemon/protocol/webview';
import { describeSpaceOn } from './hosts/describe-space';
import { Host, type HostSnapshot } from './hosts/host';
import { runFront } from './hosts/run-files';
import { localSocketPath, socketTransport, stdioTransport } from './hosts/local-transport';
import type { DaemonTransport } from './hosts/connection';
import { ConfigLanguageClient } from './language-client';
import { MonitorPanel, type MonitorServices } from './panels/monitor-panel';
import { VisualizerPanel, type VisualizerServices } from './panels/visualizer-panel';
import { NodeTreeProvider } from './views/trees';
import { hostNodes, localHostLabel, runNodes, type RunRef } from './views/tree-model';
import { SshHosts, type SshHostsOwner } from './ssh-ui/ssh-hosts';
import { MantaStatusBar } from './views/status-bar';
import { bestFrontEntry, describeFinetune, describePoint } from './views/run-progress';

export const LOCAL_HOST_ID = 'local';

/** How to reach the local daemon (settings under manta.daemon; a change takes effect on the next connect). */
interface DaemonSettings {
  connect: 'auto' | 'socket' | 'spawn';
  nodePath: string;
  script: string;
  socketPath: string;
  /** Where a daemon the extension starts may write besides a config's folder (--allow-roots). */
  allowedRoots: string[];
}

/** What the extension told the user when a run it saw running ended (for the integration tests). */
export interface RunEndNotice {
  hostId: string;
  runId: string;
  status: RunStatus;
  message: string;
  actions: string[];
}

export class Ctx implements MonitorServices, VisualizerServices, SshHostsOwner {
  readonly log: vscode.LogOutputChannel;
  readonly hosts: Host[] = [];
  readonly languageClient: ConfigLanguageClient;
  /** The SSH hosts (set in the constructor, after the local host). */
  readonly ssh: SshHosts;
  readonly hostsTree = new NodeTreeProvider((snaps) => hostNodes(snaps, this.ssh?.extras()));
  readonly runsTree = new NodeTreeProvider(runNodes);
  readonly statusBar = new MantaStatusBar((id) => this.host(id));
  readonly runEndNotices: RunEndNotice[] = [];
  /** The settings the local host's current transport was opened with (a change to others does not reconnect). */
  private transportKey: string | undefined;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('MANTA', { log: true });
    this.languageClient = new ConfigLanguageClient(extension.extensionUri, this.log, (params) => describeSpaceOn(this.localHost, params));
    extension.subscriptions.push(this.log, this.languageClient, this.hostsTree, this.runsTree, this.statusBar);
    this.registerHost(new Host(LOCAL_HOST_ID, localHostLabel(vscode.env.remoteName), 'local', () => this.openLocalTransport(), this.clientInfo()));
    // SSH hosts: listed once ~/.ssh/config is read; those connected in the last session connect again.
    this.ssh = new SshHosts(this);
    extension.subscriptions.push(this.ssh);
    void this.ssh.rebuild().then(() => this.ssh.connectRemembered());
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
          if (JSON.stringify(this.settings()) === this.transportKey) return; // already reconnected with them
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

  /** Connects a host, with progress in the status bar (an SSH host: a notification of its own); failures are shown
   * with a retry and the log. */
  async connected(host: Host = this.localHost): Promise<Host> {
    if (host.isConnected) return host;
    try {
      if (this.ssh?.isSsh(host)) await this.ssh.connect(host);
      else {
        await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Window, title: `MANTA: connecting to the daemon on ${host.label}` },
          () => host.connect(),
        );
      }
      return host;
    } catch (e) {
      const message = (e as Error).message;
      this.log.error(`connecting to ${host.label}: ${message}`);
      if (this.ssh?.isSsh(host)) {
        this.ssh.showConnectError(host, e, () => void this.connected(host).catch(() => undefined));
        throw new NotConnectedError(message);
      }
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

  openMonitor(ref?: RunRef, compare = false, view?: 'pareto'): MonitorPanel {
    return MonitorPanel.createOrShow(this, ref, { compare, ...(view ? { view } : {}) });
  }

  /** The local host is connected to the user's own daemon on its socket, not to one the extension started over
   * stdio: its allowed roots are its command line's, which no setting changes. */
  get localDaemonIsUsers(): boolean {
    const state = this.localHost.snapshot().state;
    return state.kind === 'connected' && !state.via.startsWith('stdio');
  }

  /**
   * Lets the local daemon write into `folder` (a runs folder it refused): adds it to the machine setting
   * manta.daemon.allowedRoots and restarts the daemon the extension started with it. False when that cannot help —
   * the local host is the user's own daemon on its socket (its roots are its command line's) — or the user declined
   * to interrupt active runs.
   */
  async allowFolder(folder: string): Promise<boolean> {
    const host = this.localHost;
    if (this.localDaemonIsUsers) return false;
    const active = host.snapshot().runs.filter((r) => r.status === 'running').length;
    if (active > 0) {
      const pick = await vscode.window.showWarningMessage(
        `Restart the MANTA daemon to allow ${folder}?`,
        { modal: true, detail: `Its ${active} active run${active === 1 ? '' : 's'} will be interrupted; resume ${active === 1 ? 'it' : 'them'} afterwards (MANTA: Resume).` },
        'Restart',
      );
      if (pick !== 'Restart') return false;
    }
    const c = vscode.workspace.getConfiguration('manta.daemon');
    const roots = c.get<string[]>('allowedRoots', []) ?? [];
    if (!roots.includes(folder)) await c.update('allowedRoots', [...roots, folder], vscode.ConfigurationTarget.Global);
    this.log.info(`allowed ${folder} for runs and exports (manta.daemon.allowedRoots): restarting the local daemon`);
    await host.reconnect();
    return true;
  }

  // ——— internals ———

  /** Refreshes the views and the context keys from every host's snapshot. */
  refreshViews(): void {
    const snaps = this.snapshots();
    this.hostsTree.update(snaps);
    this.runsTree.update(snaps);
    this.statusBar.update(snaps);
    void vscode.commands.executeCommand('setContext', 'manta.connected', this.hosts.some((h) => h.isConnected));
    void vscode.commands.executeCommand('setContext', 'manta.hasRuns', snaps.some((s) => s.runs.length > 0));
    void vscode.commands.executeCommand('setContext', 'manta.sshConnected', this.hosts.some((h) => h.kind === 'ssh' && h.isConnected));
    MonitorPanel.open?.hostsChanged();
  }

  /** A host that went away (an SSH host removed from the settings): out of the views; its owner disposes it. */
  unregisterHost(host: Host): void {
    const i = this.hosts.indexOf(host);
    if (i > 0) this.hosts.splice(i, 1);
    this.refreshViews();
  }

  /** Adds a host to the views, with its run notifications and its daemon's log lines. */
  registerHost(host: Host): void {
    this.hosts.push(host);
    const refresh = () => this.refreshViews();
    host.onDidChange.on(refresh);
    // A run this window saw running that ends gets a notification (runs that ended while nobody watched do not).
    const lastStatus = new Map<string, RunStatus>();
    host.onRunStatus.on((run) => {
      const before = lastStatus.get(run.runId);
      lastStatus.set(run.runId, run.status);
      if (before === 'running' && (run.status === 'completed' || run.status === 'failed' || run.status === 'stopped')) void this.runEnded(host, run);
    });
    host.onDidChange.on((snap) => {
      for (const r of snap.runs) if (!lastStatus.has(r.runId) || r.status === 'running') lastStatus.set(r.runId, r.status);
    });
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
    // SSH hosts are disposed by their owner (SshHosts), when removed or with the extension.
    if (host.kind === 'local') this.extension.subscriptions.push({ dispose: () => host.dispose() });
    refresh();
  }

  /** Says that a run ended: with the best entry of its Pareto front and buttons to its report and front. */
  private async runEnded(host: Host, run: RunSummary): Promise<void> {
    const ref = { hostId: host.id, runId: run.runId };
    let message: string;
    let actions: string[];
    if (run.status === 'completed' && run.derivedFrom?.kind === 'finetune') {
      // A fine-tune: what it gained, before and after.
      const summary = await host
        .request(GetRunResultsRequest, { runId: run.runId })
        .then(({ results }) => results.finetune)
        .catch((e: unknown) => void this.log.warn(`run ${run.runId} completed, but its results could not be read: ${(e as Error).message}`));
      message = `MANTA: fine-tuning ${run.name} completed${summary ? ` — ${describeFinetune(summary)}` : ''}.`;
      actions = ['Open Monitor'];
    } else if (run.status === 'completed') {
      let best: ParetoPoint | undefined;
      let size = 0;
      let metric = 'accuracy';
      try {
        const { front, task } = await runFront(host.request.bind(host), run.runId);
        size = front.length;
        best = bestFrontEntry(front, task?.higherIsBetter ?? true);
        metric = task?.metric ?? 'accuracy';
      } catch (e) {
        this.log.warn(`run ${run.runId} completed, but its results could not be read: ${(e as Error).message}`);
      }
      message = `MANTA: run ${run.name} completed${best ? ` — best of its ${size}-subnet Pareto front: ${describePoint(best, metric)}` : ''}.`;
      actions = ['Open Report', 'Show Pareto Front'];
    } else if (run.status === 'failed') {
      message = `MANTA: run ${run.name} failed${run.message ? `: ${run.message}` : ''}.`;
      actions = ['Open Monitor', 'Show Log'];
    } else {
      message = `MANTA: run ${run.name} stopped${run.progress.step !== undefined && run.progress.totalSteps ? ` at step ${run.progress.step}/${run.progress.totalSteps}` : ''}.`;
      actions = ['Open Monitor'];
    }
    this.runEndNotices.push({ ...ref, status: run.status, message, actions });
    const show = run.status === 'failed' ? vscode.window.showErrorMessage : vscode.window.showInformationMessage;
    const pick = await show(message, ...actions);
    if (pick === 'Open Report') void vscode.commands.executeCommand('manta.openRunReport', ref);
    else if (pick === 'Show Pareto Front') void vscode.commands.executeCommand('manta.showParetoFront', ref);
    else if (pick === 'Open Monitor') this.openMonitor(ref);
    else if (pick === 'Show Log') this.log.show();
  }

  clientInfo(): { name: string; version: string } {
    return { name: 'manta-vscode', version: String((this.extension.extension.packageJSON as { version?: string }).version ?? '0.0.0') };
  }

  private settings(): DaemonSettings {
    const c = vscode.workspace.getConfiguration('manta.daemon');
    return {
      connect: c.get<'auto' | 'socket' | 'spawn'>('connect', 'auto'),
      nodePath: c.get<string>('nodePath', '') || process.execPath,
      script: c.get<string>('script', '') || vscode.Uri.joinPath(this.extensionUri, 'dist', 'manta.js').fsPath,
      socketPath: c.get<string>('socketPath', '') || localSocketPath(),
      allowedRoots: (c.get<string[]>('allowedRoots', []) ?? []).filter((r) => typeof r === 'string' && r.length > 0),
    };
  }

  /** The user's own daemon through its socket when one answers; else a daemon of our own over stdio. */
  private async openLocalTransport(): Promise<DaemonTransport> {
    const s = this.settings();
    this.transportKey = JSON.stringify(s);
    if (s.connect !== 'spawn') {
      try {
        const t = await socketTransport(s.socketPath);
        this.log.info(`connected to the daemon at ${s.socketPath}`);
        return t;
      } catch (e) {
        if (s.connect === 'socket') throw new Error(`no daemon listens on ${s.socketPath} (${(e as Error).message}); start one with 'manta daemon'`);
      }
    }
    const args = s.allowedRoots.length > 0 ? ['--allow-roots', s.allowedRoots.join(delimiter)] : [];
    this.log.info(`starting ${s.nodePath} ${s.script} daemon --stdio ${args.join(' ')}`.trimEnd());
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    return stdioTransport({
      mantaScript: s.script,
      nodePath: s.nodePath,
      args,
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
