// One status-bar item: the active run (phase, step, images/s) opening its monitor; otherwise the daemon's health.
import * as vscode from 'vscode';
import type { HostSnapshot } from '../hosts/host';
import { activeRun, runProgressText } from './tree-model';

export class MantaStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('manta.status', vscode.StatusBarAlignment.Left, 10);

  constructor() {
    this.item.name = 'MANTA';
  }

  update(hosts: readonly HostSnapshot[]): void {
    const active = activeRun(hosts);
    if (active) {
      const p = active.run.progress;
      const speed = p.imagesPerSec !== undefined ? ` · ${Math.round(p.imagesPerSec)} img/s` : '';
      this.item.text = `$(sync~spin) ${active.run.name}: ${runProgressText(active.run) || 'starting'}${speed}`;
      this.item.tooltip = `MANTA run ${active.run.runId} — click to open the training monitor`;
      this.item.command = { command: 'manta.openMonitor', title: 'Open Training Monitor', arguments: [{ hostId: active.hostId, runId: active.runId }] };
      this.item.backgroundColor = undefined;
      this.item.show();
      return;
    }
    const failed = hosts.find((h) => h.state.kind === 'failed');
    const connected = hosts.some((h) => h.state.kind === 'connected');
    if (failed && failed.state.kind === 'failed') {
      this.item.text = '$(error) MANTA';
      this.item.tooltip = `MANTA daemon not reachable: ${failed.state.message} — click to retry`;
      this.item.command = { command: 'manta.connectHost', title: 'Connect', arguments: [failed.id] };
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
      this.item.show();
    } else if (connected) {
      this.item.text = '$(vm-active) MANTA';
      this.item.tooltip = 'MANTA daemon connected — no run active';
      this.item.command = 'manta.runs.focus';
      this.item.backgroundColor = undefined;
      this.item.show();
    } else {
      this.item.hide();
    }
  }

  dispose(): void {
    this.item.dispose();
  }
}
