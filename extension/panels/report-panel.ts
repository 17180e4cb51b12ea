// A run's report (report.html, fetched from its daemon through the protocol) in a webview panel: no scripts, no
// local resources, a strict Content-Security-Policy. Works alike in desktop VS Code, VS Code server and a browser
// client, where opening a file of the extension host's disk in an external browser would not.
import * as vscode from 'vscode';
import type { RunRef } from '../views/tree-model';
import { reportPageHtml } from './html';

export const REPORT_VIEW_TYPE = 'manta.report';

export class ReportPanel {
  private static readonly panels = new Map<string, ReportPanel>();
  private static last: ReportPanel | undefined;

  /** Shows (or refreshes) the report of a run, one panel per run. */
  static show(ref: RunRef, name: string, reportHtml: string): ReportPanel {
    const key = `${ref.hostId}/${ref.runId}`;
    let panel = ReportPanel.panels.get(key);
    if (panel) {
      panel.panel.reveal();
    } else {
      const p = vscode.window.createWebviewPanel(REPORT_VIEW_TYPE, `Report: ${name}`, vscode.ViewColumn.Active, {
        enableScripts: false,
        enableFindWidget: true,
        localResourceRoots: [],
      });
      panel = new ReportPanel(p, ref, key);
      ReportPanel.panels.set(key, panel);
    }
    panel.setReport(reportHtml);
    ReportPanel.last = panel;
    return panel;
  }

  /** The report panel shown last, while it is open. */
  static get open(): ReportPanel | undefined {
    return ReportPanel.last;
  }

  private html = '';

  private constructor(
    readonly panel: vscode.WebviewPanel,
    readonly ref: RunRef,
    private readonly key: string,
  ) {
    panel.onDidDispose(() => {
      ReportPanel.panels.delete(this.key);
      if (ReportPanel.last === this) ReportPanel.last = undefined;
    });
  }

  /** The report as the daemon sent it. */
  get report(): string {
    return this.html;
  }

  private setReport(reportHtml: string): void {
    this.html = reportHtml;
    this.panel.webview.html = reportPageHtml(reportHtml);
  }
}
