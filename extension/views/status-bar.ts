// One status-bar item: the run it follows (the most recently active one) — phase and step while it trains, then
// measuring, searching and done, folded from the run's own events (run-progress.ts) — opening its monitor;
// otherwise the daemon's health.
import * as vscode from 'vscode';
import type { Subscription } from '../hosts/emitter';
import type { Host, HostSnapshot } from '../hosts/host';
import { foldEvents, progressFromSummary, runStatusText, type LiveProgress } from './run-progress';
import { activeRun, type RunRef } from './tree-model';

interface Followed extends RunRef {
  progress: LiveProgress;
  subscription?: Subscription;
}

export class MantaStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('manta.status', vscode.StatusBarAlignment.Left, 10);
  private followed: Followed | undefined;
  private last: readonly HostSnapshot[] = [];
  private disposed = false;

  /** `hostOf` gives the Host behind a snapshot, to watch the followed run's events. */
  constructor(private readonly hostOf: (id: string) => Host | undefined = () => undefined) {
    this.item.name = 'MANTA';
  }

  /** What the item shows now (for the integration tests). */
  get shown(): { text: string; tooltip: string; visible: boolean; runId?: string } {
    const tooltip = typeof this.item.tooltip === 'string' ? this.item.tooltip : (this.item.tooltip?.value ?? '');
    return { text: this.item.text, tooltip, visible: this.visible, ...(this.followed ? { runId: this.followed.runId } : {}) };
  }

  private visible = false;

  update(hosts: readonly HostSnapshot[]): void {
    if (this.disposed) return;
    this.last = hosts;
    const active = activeRun(hosts);
    if (active && (this.followed?.runId !== active.runId || this.followed.hostId !== active.hostId)) this.follow(active);
    if (this.followed) {
      const run = hosts.find((h) => h.id === this.followed!.hostId)?.runs.find((r) => r.runId === this.followed!.runId);
      if (run) {
        // Still watched after it ends: its last events (the measured front, run.finished) may follow its status.
        const { text, tooltip } = runStatusText(run.name, run.status, this.followed.progress);
        this.item.text = text;
        this.item.tooltip = tooltip;
        this.item.command = { command: 'manta.openMonitor', title: 'Open Training Monitor', arguments: [{ hostId: this.followed.hostId, runId: this.followed.runId }] };
        this.item.backgroundColor = run.status === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
        this.show();
        return;
      }
      // The run is gone (deleted, or another daemon now behind the settings).
      this.unwatch();
      this.followed = undefined;
    }
    // An SSH host that failed says so where it was connected (notification, Hosts view); the local one here too.
    const failed = hosts.find((h) => h.state.kind === 'failed' && h.kind === 'local');
    const reconnecting = hosts.find((h) => h.state.kind === 'reconnecting');
    const connected = hosts.some((h) => h.state.kind === 'connected');
    if (reconnecting && reconnecting.state.kind === 'reconnecting') {
      this.item.text = '$(sync~spin) MANTA';
      this.item.tooltip = `MANTA: reconnecting to ${reconnecting.label} (attempt ${reconnecting.state.attempt}); its runs go on there`;
      this.item.command = 'manta.hosts.focus';
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
      this.show();
    } else if (failed && failed.state.kind === 'failed') {
      this.item.text = '$(error) MANTA';
      this.item.tooltip = `MANTA daemon not reachable: ${failed.state.message} — click to retry`;
      this.item.command = { command: 'manta.connectHost', title: 'Connect', arguments: [failed.id] };
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
      this.show();
    } else if (connected) {
      this.item.text = '$(vm-active) MANTA';
      this.item.tooltip = 'MANTA daemon connected — no run active';
      this.item.command = 'manta.runs.focus';
      this.item.backgroundColor = undefined;
      this.show();
    } else {
      this.visible = false;
      this.item.hide();
    }
  }

  dispose(): void {
    this.disposed = true;
    this.unwatch();
    this.item.dispose();
  }

  private show(): void {
    this.visible = true;
    this.item.show();
  }

  /** Follows a run that became active: its summary's progress at once, then its events (replayed, then live). */
  private follow(active: RunRef & { run: { progress: HostSnapshot['runs'][number]['progress'] } }): void {
    this.unwatch();
    const followed: Followed = { hostId: active.hostId, runId: active.runId, progress: progressFromSummary(active.run.progress) };
    this.followed = followed;
    const host = this.hostOf(active.hostId);
    if (!host) return;
    host
      .watch(active.runId, {
        onEvents: (events) => {
          if (this.followed !== followed) return;
          foldEvents(followed.progress, events);
          this.update(this.last);
        },
        onTruncate: () => {
          // A resumed run cut its log back: fold again from what the host still holds.
          if (this.followed !== followed) return;
          followed.progress = foldEvents({ stage: 'starting' }, host.runEvents(followed.runId));
          this.update(this.last);
        },
      })
      .then(
        (sub) => {
          if (this.followed === followed && !this.disposed) followed.subscription = sub;
          else sub.dispose();
        },
        () => undefined,
      );
  }

  private unwatch(): void {
    this.followed?.subscription?.dispose();
    if (this.followed) this.followed.subscription = undefined;
  }
}
