// One daemon host as the extension sees it — the local daemon, or one on an SSH host: how to reach it, the
// connection's state, what the host is (HostInfo), its runs, and the events of the runs someone is watching. A host
// that may lose its connection (SSH) reconnects with backoff and re-attaches every watched run from the last seq it
// holds, so watchers miss nothing and see nothing twice.
// Plain Node: no `vscode` here, so it is tested against a real daemon without VS Code.
import {
  AttachRequest,
  DetachRequest,
  EventsNotification,
  HostInfoRequest,
  ListRunsRequest,
  RunStatusNotification,
  DaemonLogNotification,
  type DaemonLogParams,
  type HostInfo,
  type MantaErrorData,
  type RunSummary,
  type TelemetryEvent,
} from '../../daemon/protocol';
import type { RequestType } from 'vscode-jsonrpc';
import { DaemonConnection, type DaemonTransport } from './connection';
import { Emitter, type Subscription } from './emitter';
import { RunEvents } from './run-events';

export type HostKind = 'local' | 'ssh';

export type HostState =
  | { kind: 'disconnected' }
  | { kind: 'connecting' }
  | { kind: 'connected'; via: string; daemonVersion: string }
  /** The connection was lost; attempt `attempt` follows in `delayMs` (the runs go on on the host). */
  | { kind: 'reconnecting'; attempt: number; delayMs: number; message: string }
  | { kind: 'failed'; message: string };

/** Reconnecting after a lost connection: the waits between attempts (the last one repeats). */
export interface ReconnectPolicy {
  delaysMs: number[];
  /** False for errors no retry can fix (a changed host key, a refused login): the host then stays failed. */
  retryable?(error: unknown): boolean;
}

/** What the Hosts and Runs views show of a host: plain data. */
export interface HostSnapshot {
  id: string;
  label: string;
  kind: HostKind;
  state: HostState;
  info?: HostInfo;
  runs: RunSummary[];
}

/** Someone watching a run's events (a monitor panel, the status bar). */
export interface RunWatcher {
  onEvents(events: readonly TelemetryEvent[]): void;
  onTruncate?(toSeq: number): void;
}

export class Host {
  private state: HostState = { kind: 'disconnected' };
  private connection: DaemonConnection | undefined;
  private connecting: Promise<DaemonConnection> | undefined;
  private info: HostInfo | undefined;
  private readonly runs = new Map<string, RunSummary>();
  private readonly events = new Map<string, RunEvents>();
  private readonly watchers = new Map<string, Set<RunWatcher>>();
  readonly onDidChange = new Emitter<HostSnapshot>();
  readonly onDaemonLog = new Emitter<DaemonLogParams>();
  readonly onRunStatus = new Emitter<RunSummary>();
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  private reconnectAttempt = 0;

  constructor(
    readonly id: string,
    readonly label: string,
    readonly kind: HostKind,
    private readonly openTransport: () => Promise<DaemonTransport>,
    private readonly client: { name: string; version: string },
    private readonly reconnectPolicy?: ReconnectPolicy,
  ) {}

  snapshot(): HostSnapshot {
    return {
      id: this.id,
      label: this.label,
      kind: this.kind,
      state: this.state,
      info: this.info,
      runs: [...this.runs.values()].sort((a, b) => b.createdAt - a.createdAt),
    };
  }

  get isConnected(): boolean {
    return this.connection !== undefined && !this.connection.isClosed;
  }

  run(runId: string): RunSummary | undefined {
    return this.runs.get(runId);
  }

  /** Connects (once; concurrent callers share the attempt), then loads host info and the runs. */
  connect(): Promise<DaemonConnection> {
    if (this.connection && !this.connection.isClosed) return Promise.resolve(this.connection);
    if (this.connecting) return this.connecting;
    this.cancelReconnect();
    this.setState({ kind: 'connecting' });
    this.connecting = (async () => {
      try {
        const transport = await this.openTransport();
        const connection = await DaemonConnection.open(transport, this.client);
        this.wire(connection);
        this.connection = connection;
        this.setState({ kind: 'connected', via: connection.describe, daemonVersion: connection.hello.daemon.version });
        this.reconnectAttempt = 0;
        await this.refresh();
        // Watchers that outlived a lost connection pick up where their events stop (a run this daemon does not
        // know — another daemon now behind the same settings — is only reported).
        for (const runId of this.watchers.keys()) {
          await this.sendAttach(runId).catch((e: unknown) => this.onDaemonLog.fire({ level: 'warn', message: `cannot follow run ${runId} on this daemon: ${(e as Error).message}`, runId }));
        }
        return connection;
      } catch (e) {
        this.setState({ kind: 'failed', message: (e as Error).message });
        throw e;
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  disconnect(): void {
    this.cancelReconnect();
    this.reconnectAttempt = 0;
    const c = this.connection;
    this.connection = undefined; // before dispose: its close is ours, not a lost connection
    c?.dispose();
    this.connection = undefined;
    this.setState({ kind: 'disconnected' });
  }

  /** Drops the connection and what came from it (runs, events), then connects again: after the way to reach the
   * daemon changed, the daemon may be another one. */
  reconnect(): Promise<DaemonConnection> {
    this.info = undefined;
    this.runs.clear();
    this.events.clear();
    this.disconnect(); // its state change tells the listeners, once
    return this.connect();
  }

  /** Reloads host info and the run list. */
  async refresh(): Promise<void> {
    const c = this.connection;
    if (!c) return;
    const [info, list] = await Promise.all([c.request(HostInfoRequest, {}), c.request(ListRunsRequest, {})]);
    this.info = info;
    this.runs.clear();
    for (const r of list.runs) this.runs.set(r.runId, r);
    this.changed();
  }

  async request<P, R>(type: RequestType<P, R, MantaErrorData>, params: P): Promise<R> {
    const c = await this.connect();
    return c.request(type, params);
  }

  /** Sends a request on the live connection only, never connecting: undefined when there is none. */
  async requestIfConnected<P, R>(type: RequestType<P, R, MantaErrorData>, params: P): Promise<R | undefined> {
    const c = this.connection;
    if (!c || c.isClosed) return undefined;
    return c.request(type, params);
  }

  /** Records a run the daemon told us about in a reply (start, stop …) without waiting for its notification. */
  noteRun(run: RunSummary): void {
    this.runs.set(run.runId, run);
    this.onRunStatus.fire(run);
    this.changed();
  }

  /** Drops a run the daemon deleted, with its events. */
  forgetRun(runId: string): void {
    const had = this.runs.delete(runId);
    this.events.delete(runId);
    if (had) this.changed();
  }

  /** The events held for a run (complete from seq 0 once a watcher has attached). */
  runEvents(runId: string): readonly TelemetryEvent[] {
    return this.events.get(runId)?.all ?? [];
  }

  /**
   * Watches a run: the watcher first gets every event held so far, then new ones as they arrive. The first watcher
   * of a run attaches to it on the daemon (replay from the last held seq); the last one to leave detaches.
   */
  async watch(runId: string, watcher: RunWatcher): Promise<Subscription> {
    let set = this.watchers.get(runId);
    const first = !set;
    if (!set) {
      set = new Set();
      this.watchers.set(runId, set);
    }
    set.add(watcher);
    const held = this.runEvents(runId);
    if (held.length > 0) watcher.onEvents(held);
    if (first) {
      try {
        await this.connect();
        await this.sendAttach(runId);
      } catch (e) {
        set.delete(watcher);
        if (set.size === 0) this.watchers.delete(runId);
        throw e;
      }
    }
    return {
      dispose: () => {
        const s = this.watchers.get(runId);
        if (!s) return;
        s.delete(watcher);
        if (s.size === 0) {
          this.watchers.delete(runId);
          if (this.isConnected) void this.connection!.request(DetachRequest, { runId }).catch(() => undefined);
        }
      },
    };
  }

  dispose(): void {
    this.disconnect();
    this.disposed = true;
    this.onDidChange.clear();
    this.onDaemonLog.clear();
    this.onRunStatus.clear();
  }

  private async sendAttach(runId: string): Promise<void> {
    const store = this.storeOf(runId);
    const { run } = await this.connection!.request(AttachRequest, { runId, fromSeq: store.nextSeq });
    this.runs.set(run.runId, run);
    this.changed();
  }

  private storeOf(runId: string): RunEvents {
    let s = this.events.get(runId);
    if (!s) {
      s = new RunEvents();
      this.events.set(runId, s);
    }
    return s;
  }

  private wire(connection: DaemonConnection): void {
    connection.onNotification(EventsNotification, ({ runId, events }) => {
      const fresh = this.storeOf(runId).append(events);
      if (fresh.length === 0) return;
      for (const w of this.watchers.get(runId) ?? []) w.onEvents(fresh);
    });
    connection.onNotification(RunStatusNotification, ({ run, truncatedToSeq, deleted }) => {
      if (deleted) return this.forgetRun(run.runId);
      if (truncatedToSeq !== undefined) {
        this.storeOf(run.runId).truncate(truncatedToSeq);
        for (const w of this.watchers.get(run.runId) ?? []) w.onTruncate?.(truncatedToSeq);
      }
      this.runs.set(run.runId, run);
      this.onRunStatus.fire(run);
      this.changed();
    });
    connection.onNotification(DaemonLogNotification, (p) => this.onDaemonLog.fire(p));
    connection.onClose(() => {
      if (this.connection !== connection) return;
      this.connection = undefined;
      const message = `the connection to the daemon closed (${connection.describe})`;
      if (this.reconnectPolicy) this.scheduleReconnect(message);
      else this.setState({ kind: 'failed', message });
    });
  }

  /** After a lost connection: the next attempt after the policy's wait; each failure waits longer. */
  private scheduleReconnect(message: string): void {
    const policy = this.reconnectPolicy!;
    if (this.disposed) return;
    const delays = policy.delaysMs.length ? policy.delaysMs : [1000];
    const delayMs = delays[Math.min(this.reconnectAttempt, delays.length - 1)];
    this.reconnectAttempt++;
    this.setState({ kind: 'reconnecting', attempt: this.reconnectAttempt, delayMs, message });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect().catch((e: unknown) => {
        if (policy.retryable && !policy.retryable(e)) return; // connect() left the host failed, with the reason
        this.scheduleReconnect((e as Error).message);
      });
    }, delayMs);
  }

  private cancelReconnect(): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }

  private setState(state: HostState): void {
    this.state = state;
    this.changed();
  }

  private changed(): void {
    this.onDidChange.fire(this.snapshot());
  }
}
