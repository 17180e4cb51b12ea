// The supernet visualizer panel: the supernet of a config file or of a run as a diagram, with one subnet
// highlighted — the one the live run is training, or one picked on the Pareto front.
import * as vscode from 'vscode';
import type { TelemetryEvent } from '../../daemon/protocol';
import {
  VISUALIZER_VIEW_TYPE,
  type HighlightedSubnet,
  type SupernetView,
  type VisualizerCommands,
  type VisualizerNotifications,
  type VisualizerState,
  type WebviewMessage,
} from '../../daemon/protocol/webview';
import type { Subscription } from '../hosts/emitter';
import type { Host } from '../hosts/host';
import type { RunRef } from '../views/tree-model';
import { VISUALIZER_COMMAND_GUARDS } from '../../daemon/protocol/webview-guards';
import { PanelHost } from './panel-host';

export interface VisualizerServices {
  extensionUri: vscode.Uri;
  /** Where a message from the page that was dropped as malformed is reported (the MANTA log). */
  log?: { warn(message: string): void };
  host(id: string): Host | undefined;
  /** The supernet of a config file (a *.manta.json), asked of the language server. */
  supernetView(configUri: vscode.Uri): Promise<SupernetView | null>;
  /** The supernet of a run, from its config as its daemon sends it (never read from the run folder). */
  runSupernetView(ref: RunRef): Promise<SupernetView | null>;
}

/** What the diagram shows: a config file, or a run (optionally pinned to one subnet). */
export type VisualizerSource =
  | { kind: 'config'; uri: string }
  | { kind: 'run'; ref: RunRef; name: string; subnet?: HighlightedSubnet };

/** The latest subnet a run sampled, from its events (the live highlight). */
export function latestSampled(events: readonly TelemetryEvent[]): HighlightedSubnet | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e.kind === 'subnet.sampled') return { arch: e.data.arch, source: 'training', label: `step ${e.data.step}, subnet ${e.data.index + 1}` };
  }
  return null;
}

export class VisualizerPanel extends PanelHost<VisualizerCommands, VisualizerNotifications> {
  private static current: VisualizerPanel | undefined;
  private viewState: VisualizerState = { title: 'Supernet', origin: null, supernet: null, subnet: null, followTraining: true, waiting: 'loading the supernet' };
  private source: VisualizerSource | undefined;
  private watch: Subscription | undefined;

  static show(services: VisualizerServices, source: VisualizerSource): VisualizerPanel {
    let panel = VisualizerPanel.current;
    if (!panel) {
      const p = vscode.window.createWebviewPanel(VISUALIZER_VIEW_TYPE, 'MANTA Supernet', vscode.ViewColumn.Beside, {});
      panel = new VisualizerPanel(p, services);
    } else {
      panel.panel.reveal(undefined, true);
    }
    void panel.load(source);
    return panel;
  }

  static revive(p: vscode.WebviewPanel, services: VisualizerServices, source: VisualizerSource | undefined): VisualizerPanel {
    const panel = new VisualizerPanel(p, services);
    if (source) void panel.load(source);
    else panel.update({ waiting: 'nothing to show: run MANTA: Show Supernet on a config or a run' });
    return panel;
  }

  static get open(): VisualizerPanel | undefined {
    return VisualizerPanel.current;
  }

  private constructor(
    p: vscode.WebviewPanel,
    private readonly services: VisualizerServices,
  ) {
    super(p, services.extensionUri, 'visualizer', VISUALIZER_COMMAND_GUARDS, services.log);
    VisualizerPanel.current = this;
    this.disposables.push({
      dispose: () => {
        this.watch?.dispose();
        if (VisualizerPanel.current === this) VisualizerPanel.current = undefined;
      },
    });
  }

  get state(): VisualizerState {
    return this.viewState;
  }

  get currentSource(): VisualizerSource | undefined {
    return this.source;
  }

  private update(patch: Partial<VisualizerState>): void {
    this.viewState = { ...this.viewState, ...patch };
    void this.post('visualizer/state', { state: this.viewState });
  }

  async load(source: VisualizerSource): Promise<void> {
    this.source = source;
    this.watch?.dispose();
    this.watch = undefined;
    if (source.kind === 'config') {
      const uri = vscode.Uri.parse(source.uri);
      const name = uri.path.split('/').pop() ?? 'config';
      this.panel.title = `Supernet: ${name}`;
      this.update({ title: name, origin: { kind: 'config', uri: source.uri }, subnet: null, followTraining: false, waiting: 'reading the config' });
      const supernet = await this.services.supernetView(uri);
      this.update({ supernet, waiting: supernet ? null : `${name} has no valid supernet section yet` });
      return;
    }
    this.panel.title = `Supernet: ${source.name}`;
    const pinned = source.subnet ?? null;
    this.update({ title: source.name, origin: { kind: 'run', hostId: source.ref.hostId, runId: source.ref.runId }, subnet: pinned, followTraining: pinned === null, waiting: 'reading the run\'s config' });
    try {
      const supernet = await this.services.runSupernetView(source.ref);
      this.update({ supernet, waiting: supernet ? null : `the run's config has no valid supernet section` });
    } catch (e) {
      this.update({ supernet: null, waiting: `could not get the run's config from its daemon: ${(e as Error).message}` });
    }
    const host = this.services.host(source.ref.hostId);
    if (!host) return;
    try {
      this.watch = await host.watch(source.ref.runId, {
        onEvents: (events) => {
          if (!this.viewState.followTraining) return;
          const latest = latestSampled(events);
          if (latest) this.update({ subnet: latest });
        },
      });
    } catch (e) {
      this.update({ waiting: `could not follow the run: ${(e as Error).message}` });
    }
  }

  protected async onCommand(m: WebviewMessage<VisualizerCommands>): Promise<void> {
    switch (m.method) {
      case 'core/ready':
        await this.post('core/ready/completion', { state: this.viewState });
        return;
      case 'visualizer/follow': {
        const follow = (m.params as VisualizerCommands['visualizer/follow']).followTraining;
        const src = this.source;
        const host = src?.kind === 'run' ? this.services.host(src.ref.hostId) : undefined;
        const latest = follow && src?.kind === 'run' && host ? latestSampled(host.runEvents(src.ref.runId)) : null;
        this.update({ followTraining: follow, ...(latest ? { subnet: latest } : {}) });
        return;
      }
      case 'core/saveFile': {
        const path = await this.saveFile(m.params as VisualizerCommands['core/saveFile']);
        await this.post('core/saved', { path });
        return;
      }
    }
  }
}
