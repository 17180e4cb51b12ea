// The training monitor panel: replays the focused run's event log (and the overlaid runs') from the daemon into the
// page, then forwards live batches; a reloaded or restored page asks again with `core/ready` and gets the whole log.
import * as vscode from 'vscode';
import type { TelemetryEvent } from '../../daemon/protocol';
import { MONITOR_VIEW_TYPE, type MonitorCommands, type MonitorNotifications, type MonitorState, type WebviewMessage } from '../../daemon/protocol/webview';
import type { Subscription } from '../hosts/emitter';
import type { Host } from '../hosts/host';
import type { RunRef } from '../views/tree-model';
import { MONITOR_COMMAND_GUARDS } from '../../daemon/protocol/webview-guards';
import { PanelHost } from './panel-host';

/** Events per postMessage during a replay: big enough to be quick, small enough to keep the page responsive. */
const REPLAY_CHUNK = 4000;

export interface MonitorServices {
  extensionUri: vscode.Uri;
  /** Where a message from the page that was dropped as malformed is reported (the MANTA log). */
  log?: { warn(message: string): void };
  allHosts(): readonly Host[];
  host(id: string): Host | undefined;
  showSubnet(ref: RunRef, params: MonitorCommands['monitor/showSubnet']): void;
}

/** What the page persists with setState and the serializer hands back after a reload. */
export interface MonitorPersisted {
  selected?: RunRef[];
}

export class MonitorPanel extends PanelHost<MonitorCommands, MonitorNotifications> {
  private static current: MonitorPanel | undefined;
  private runs: RunRef[] = [];
  private readonly subscriptions = new Map<string, Subscription>();
  private error: string | null = null;
  private reveal: MonitorState['reveal'];

  static createOrShow(services: MonitorServices, ref?: RunRef, opts: { compare?: boolean; view?: 'pareto' } = {}): MonitorPanel {
    let panel = MonitorPanel.current;
    if (!panel) {
      const webviewPanel = vscode.window.createWebviewPanel(MONITOR_VIEW_TYPE, 'MANTA Training Monitor', vscode.ViewColumn.Active, {});
      panel = new MonitorPanel(webviewPanel, services);
    } else {
      panel.panel.reveal(undefined, false);
    }
    if (ref) {
      const key = (r: RunRef) => `${r.hostId}/${r.runId}`;
      const rest = opts.compare ? panel.runs.filter((r) => key(r) !== key(ref)) : [];
      void panel.setRuns([ref, ...rest]);
    }
    if (opts.view) {
      panel.reveal = { view: opts.view, seq: (panel.reveal?.seq ?? 0) + 1 };
      void panel.post('monitor/state', { state: panel.state() });
    }
    return panel;
  }

  static revive(webviewPanel: vscode.WebviewPanel, services: MonitorServices, state: MonitorPersisted | undefined): MonitorPanel {
    const panel = new MonitorPanel(webviewPanel, services);
    void panel.setRuns(Array.isArray(state?.selected) ? state.selected : []);
    return panel;
  }

  static get open(): MonitorPanel | undefined {
    return MonitorPanel.current;
  }

  private reattaching = false;

  /**
   * A host was added or changed (SSH hosts come after the panel, and connect later): the page gets the new state, and
   * the runs of hosts that were missing or not connected when they were selected (a monitor restored with the window)
   * are attached once their host is connected — from seq 0 or the last one held, by Host.watch.
   */
  hostsChanged(): void {
    const added = this.services.allHosts().filter((h) => !this.followed.has(h));
    for (const h of added) this.follow(h);
    if (added.length > 0) void this.post('monitor/state', { state: this.state() });
    const waiting = this.runs.some((r) => !this.subscriptions.has(`${r.hostId}/${r.runId}`) && this.services.host(r.hostId)?.isConnected === true);
    if (!waiting || this.reattaching || this.isDisposed) return;
    this.reattaching = true;
    void this.setRuns(this.runs).finally(() => (this.reattaching = false));
  }

  private constructor(
    webviewPanel: vscode.WebviewPanel,
    private readonly services: MonitorServices,
  ) {
    super(webviewPanel, services.extensionUri, 'monitor', MONITOR_COMMAND_GUARDS, services.log);
    MonitorPanel.current = this;
    this.disposables.push({
      dispose: () => {
        for (const s of this.subscriptions.values()) s.dispose();
        this.subscriptions.clear();
        if (MonitorPanel.current === this) MonitorPanel.current = undefined;
      },
    });
    for (const host of services.allHosts()) this.follow(host);
  }

  /** Hosts whose changes the page hears about (SSH hosts come and go after the panel opened). */
  private readonly followed = new WeakSet<Host>();

  private follow(host: Host): void {
    if (this.followed.has(host)) return;
    this.followed.add(host);
    const sub = host.onDidChange.on(() => void this.post('monitor/state', { state: this.state() }));
    this.disposables.push(sub);
  }

  get runRefs(): readonly RunRef[] {
    return this.runs;
  }

  /** The section last asked for (MANTA: Show Pareto Front), if any. */
  get revealedView(): 'pareto' | undefined {
    return this.reveal?.view;
  }

  state(): MonitorState {
    const hosts = this.services.allHosts().map((h) => h.snapshot());
    // Only the hosts of the runs shown matter (the local one when none is): an SSH host nobody uses is no reason to wait.
    const relevant = hosts.filter((h) => (this.runs.length ? this.runs.some((r) => r.hostId === h.id) : h.kind === 'local'));
    const waitingFor = (): string | null => {
      const down = relevant.find((h) => h.state.kind === 'failed');
      if (down && down.state.kind === 'failed') return `the daemon on ${down.label} is not reachable: ${down.state.message}`;
      const back = relevant.find((h) => h.state.kind === 'reconnecting');
      if (back && back.state.kind === 'reconnecting') return `reconnecting to ${back.label} (attempt ${back.state.attempt}); the run goes on there`;
      if (relevant.some((h) => h.state.kind === 'connecting')) return 'connecting to the daemon';
      if (this.runs.length === 0) return 'no run selected: pick one in the Runs view or start a search';
      return null;
    };
    return {
      selected: this.runs.map((r) => ({ hostId: r.hostId, runId: r.runId })),
      runs: hosts.flatMap((h) => h.runs),
      hosts: hosts.map((h) => ({
        id: h.id,
        label: h.label,
        connection: h.state.kind === 'connected' ? 'connected' : h.state.kind === 'connecting' || h.state.kind === 'reconnecting' ? 'connecting' : 'down',
        backend: h.info?.defaultBackend ? `${h.info.defaultBackend.backend} · ${h.info.defaultBackend.device}` : undefined,
      })),
      waiting: waitingFor(),
      error: this.error,
      ...(this.reveal ? { reveal: this.reveal } : {}),
    };
  }

  private async setRuns(runs: RunRef[]): Promise<void> {
    this.runs = runs;
    const wanted = new Set(runs.map((r) => `${r.hostId}/${r.runId}`));
    for (const [key, sub] of this.subscriptions) {
      if (!wanted.has(key)) {
        sub.dispose();
        this.subscriptions.delete(key);
      }
    }
    void this.post('monitor/state', { state: this.state() });
    for (const ref of runs) {
      const key = `${ref.hostId}/${ref.runId}`;
      if (this.subscriptions.has(key)) continue;
      const host = this.services.host(ref.hostId);
      if (!host) continue;
      try {
        // The watcher gets what is held at once, which the page also gets on ready: only forward live batches here.
        let replaying = true;
        const sub = await host.watch(ref.runId, {
          onEvents: (events) => {
            if (!replaying) void this.postEvents(ref.runId, events);
          },
          onTruncate: (toSeq) => void this.post('monitor/truncate', { runId: ref.runId, toSeq }),
        });
        replaying = false;
        if (this.isDisposed) {
          sub.dispose();
          return;
        }
        this.subscriptions.set(key, sub);
        // Whatever arrived while attaching is in the host's store: send the whole log once.
        await this.postEvents(ref.runId, host.runEvents(ref.runId));
        this.error = null;
      } catch (e) {
        this.error = `could not attach to run ${ref.runId}: ${(e as Error).message}`;
      }
      void this.post('monitor/state', { state: this.state() });
    }
  }

  private sentUpTo = new Map<string, number>();
  private posting: Promise<void> = Promise.resolve();

  /** Posts events in chunks, in order (one posting at a time) and never one twice to the same page load. */
  private postEvents(runId: string, events: readonly TelemetryEvent[]): Promise<void> {
    this.posting = this.posting.then(() => this.postEventsNow(runId, events)).catch(() => undefined);
    return this.posting;
  }

  private async postEventsNow(runId: string, events: readonly TelemetryEvent[]): Promise<void> {
    const from = this.sentUpTo.get(runId) ?? -1;
    const fresh = events.filter((e) => e.seq > from);
    for (let i = 0; i < fresh.length; i += REPLAY_CHUNK) {
      const chunk = fresh.slice(i, i + REPLAY_CHUNK);
      const delivered = await this.post('monitor/events', { runId, events: chunk });
      if (!delivered) return;
      this.sentUpTo.set(runId, chunk[chunk.length - 1].seq);
    }
  }

  protected async onCommand(m: WebviewMessage<MonitorCommands>): Promise<void> {
    switch (m.method) {
      case 'core/ready': {
        // A (re)loaded page holds nothing: send the state and every held event again.
        this.sentUpTo.clear();
        await this.post('core/ready/completion', { state: this.state() });
        for (const ref of this.runs) {
          const host = this.services.host(ref.hostId);
          if (host) await this.postEvents(ref.runId, host.runEvents(ref.runId));
        }
        return;
      }
      case 'monitor/selectRuns': {
        const params = m.params as MonitorCommands['monitor/selectRuns'];
        await this.setRuns(params.selected.filter((r) => this.services.host(r.hostId) !== undefined));
        return;
      }
      case 'monitor/showSubnet': {
        const params = m.params as MonitorCommands['monitor/showSubnet'];
        const ref = this.runs.find((r) => r.runId === params.runId);
        if (ref) this.services.showSubnet(ref, params);
        return;
      }
      case 'core/saveFile': {
        const path = await this.saveFile(m.params as MonitorCommands['core/saveFile']);
        await this.post('core/saved', { path });
        return;
      }
    }
  }
}
