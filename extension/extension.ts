// extension/: the VS Code extension — commands, the Hosts and Runs views, the status bar, the config language
// client, the daemon connections (the local daemon and SSH hosts: ssh-ui/, hosts/ssh/) and the two webview panels. It
// talks to daemons only through daemon/protocol.
import * as vscode from 'vscode';
import { MONITOR_VIEW_TYPE, VISUALIZER_VIEW_TYPE, type VisualizerOrigin, type VisualizerState } from '../daemon/protocol/webview';
import type { HostSnapshot } from './hosts/host';
import { registerCommands } from './commands';
import { Ctx, type RunEndNotice } from './ctx';
import { isConfigDocument } from './language-client';
import { MonitorPanel, type MonitorPersisted } from './panels/monitor-panel';
import { ReportPanel } from './panels/report-panel';
import { VisualizerPanel } from './panels/visualizer-panel';
import type { TreeNode } from './views/tree-model';

/** What activate returns: for other extensions and the integration tests. */
export interface MantaApi {
  /** Milliseconds activate took. */
  activationMs: number;
  hosts(): HostSnapshot[];
  hostsTree(): readonly TreeNode[];
  runsTree(): readonly TreeNode[];
  /** The open monitor's runs and how many events each has received (the panel's host side). */
  monitor(): { selected: { hostId: string; runId: string }[]; events: Record<string, number>; view?: 'pareto' } | undefined;
  /** What the status-bar item shows, and the run it follows. */
  statusBar(): { text: string; tooltip: string; visible: boolean; runId?: string };
  /** The notifications said when runs this window saw running ended, oldest first. */
  runEndNotices(): readonly RunEndNotice[];
  /** The language client is up (diagnostics flow). */
  languageServerReady(): Promise<void>;
  /** The report panel shown last: its run and the report as its daemon sent it. */
  report(): { hostId: string; runId: string; html: string } | undefined;
  /** The open supernet visualizer: what it shows. */
  visualizer(): VisualizerState | undefined;
}

let ctx: Ctx | undefined;

export function activate(context: vscode.ExtensionContext): MantaApi {
  const t0 = performance.now();
  try {
    ctx = new Ctx(context);
    const c = ctx;
    context.subscriptions.push(
      ...registerCommands(c),
      vscode.window.registerWebviewPanelSerializer(MONITOR_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const persisted = state as MonitorPersisted | undefined;
          MonitorPanel.revive(panel, c, persisted);
        },
      }),
      vscode.window.registerWebviewPanelSerializer(VISUALIZER_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const origin = (state as { origin?: VisualizerOrigin } | undefined)?.origin;
          if (origin?.kind === 'config') return void VisualizerPanel.revive(panel, c, { kind: 'config', uri: origin.uri });
          if (origin?.kind === 'run') {
            const host = c.host(origin.hostId);
            await host?.connect().catch(() => undefined);
            const run = host?.run(origin.runId);
            if (run) return void VisualizerPanel.revive(panel, c, { kind: 'run', ref: origin, name: run.name });
          }
          VisualizerPanel.revive(panel, c, undefined);
        },
      }),
    );
    // The language server starts with the first config document, not at activation.
    const maybeStart = (doc: vscode.TextDocument) => {
      if (isConfigDocument(doc)) c.languageClient.start().catch((e: unknown) => c.log.error(`config language server: ${(e as Error).message}`));
    };
    vscode.workspace.textDocuments.forEach(maybeStart);
    context.subscriptions.push(vscode.workspace.onDidOpenTextDocument(maybeStart));
    // The views connect to the local daemon when they are first shown, not at start-up.
    const hostsView = vscode.window.createTreeView('manta.hosts', { treeDataProvider: c.hostsTree });
    const runsView = vscode.window.createTreeView('manta.runs', { treeDataProvider: c.runsTree });
    const connectWhenShown = (view: vscode.TreeView<TreeNode>) =>
      view.onDidChangeVisibility((e) => {
        if (e.visible && !c.localHost.isConnected) void c.localHost.connect().catch((err: unknown) => c.log.warn(`connect: ${(err as Error).message}`));
      });
    context.subscriptions.push(hostsView, runsView, connectWhenShown(hostsView), connectWhenShown(runsView));
  } catch (e) {
    // VS Code does not show activation failures to the user: say what broke.
    void vscode.window.showErrorMessage(`MANTA failed to start: ${(e as Error).message}`);
    throw e;
  }
  const activationMs = performance.now() - t0;
  ctx.log.info(`activated in ${activationMs.toFixed(1)} ms`);
  const c = ctx;
  return {
    activationMs,
    hosts: () => c.snapshots(),
    hostsTree: () => c.hostsTree.nodes,
    runsTree: () => c.runsTree.nodes,
    monitor: () => {
      const m = MonitorPanel.open;
      if (!m) return undefined;
      const events: Record<string, number> = {};
      for (const r of m.runRefs) events[r.runId] = c.host(r.hostId)?.runEvents(r.runId).length ?? 0;
      return { selected: m.runRefs.map((r) => ({ hostId: r.hostId, runId: r.runId })), events, ...(m.revealedView ? { view: m.revealedView } : {}) };
    },
    statusBar: () => c.statusBar.shown,
    runEndNotices: () => c.runEndNotices,
    languageServerReady: async () => {
      await c.languageClient.start();
    },
    report: () => {
      const r = ReportPanel.open;
      return r ? { hostId: r.ref.hostId, runId: r.ref.runId, html: r.report } : undefined;
    },
    visualizer: () => VisualizerPanel.open?.state,
  };
}

export async function deactivate(): Promise<void> {
  const c = ctx;
  ctx = undefined;
  await c?.languageClient.stop();
}
