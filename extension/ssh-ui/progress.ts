// Connecting to and deploying on an SSH host inside one VS Code progress notification titled "MANTA · <host>": every
// SshProgress of that host becomes its message (uploads move the bar), and a step that lasts more than 20 s says so
// (watchdog.ts). Reconnect attempts in the background show in the status bar instead of a notification.
import * as vscode from 'vscode';
import type { SshProgress } from '../hosts/ssh/types';
import { StepWatchdog, UploadIncrements } from './watchdog';

interface Sink {
  report(p: SshProgress): void;
}

export class SshProgressUi {
  private readonly sinks = new Map<string, Sink>();

  constructor(private readonly log: (line: string) => void) {}

  /** Where the SSH layer reports (SshConnectDeps.progress): to the operation running for that host, and the log. */
  readonly report = (p: SshProgress): void => {
    if (p.step !== 'uploading' || !p.bytes || p.bytes.done === 0 || p.bytes.done === p.bytes.total) this.log(`${p.host}: ${p.message}`);
    this.sinks.get(p.host)?.report(p);
  };

  /** Runs `work` for `host` with its progress shown (a notification, or the status bar when `quiet`). */
  run<T>(host: string, work: () => Promise<T>, options: { quiet?: boolean; title?: string } = {}): Promise<T> {
    return Promise.resolve(
      vscode.window.withProgress(
        { location: options.quiet ? vscode.ProgressLocation.Window : vscode.ProgressLocation.Notification, title: options.title ?? `MANTA · ${host}` },
        async (progress) => {
          const watchdog = new StepWatchdog();
          const increments = new UploadIncrements();
          const sink: Sink = {
            report: (p) => {
              const message = watchdog.report(p, Date.now());
              const increment = p.bytes ? increments.next(p.bytes) : 0;
              progress.report(increment > 0 ? { message, increment } : { message });
            },
          };
          const previous = this.sinks.get(host);
          this.sinks.set(host, sink);
          const timer = setInterval(() => {
            const overdue = watchdog.poll(Date.now());
            if (overdue) progress.report({ message: overdue });
          }, 1000);
          try {
            return await work();
          } finally {
            clearInterval(timer);
            if (this.sinks.get(host) === sink) {
              if (previous) this.sinks.set(host, previous);
              else this.sinks.delete(host);
            }
          }
        },
      ),
    );
  }
}
