// What the progress notification of connecting to an SSH host says, as plain logic: the latest step's message, and
// once one step has lasted longer than the threshold (20 s), how long it has been going on — so a host that hangs
// while authenticating or a slow upload never looks like a frozen notification. Also the percentage increments of
// an upload for VS Code's progress bar. Plain: no `vscode` here (test/unit/extension-ssh-ui.test.ts).
import type { SshProgress, SshStep } from '../hosts/ssh/types';

/** A step lasting longer than this gets "still … after N s". */
export const STEP_WATCHDOG_MS = 20_000;

/** "still authenticating on gpu-box after 25 s". */
export function stillMessage(step: SshStep, host: string, ms: number): string {
  return `still ${step} on ${host} after ${Math.floor(ms / 1000)} s`;
}

export class StepWatchdog {
  private current: { step: SshStep; host: string; message: string; since: number } | undefined;

  constructor(private readonly thresholdMs = STEP_WATCHDOG_MS) {}

  /** A progress report arrived: the message to show now. A report of the same step keeps its start time. */
  report(p: SshProgress, now: number): string {
    if (!this.current || this.current.step !== p.step || this.current.host !== p.host) this.current = { step: p.step, host: p.host, message: p.message, since: now };
    else this.current.message = p.message;
    return this.poll(now) ?? p.message;
  }

  /** Called periodically: the message to show when the current step is overdue, else undefined. */
  poll(now: number): string | undefined {
    const c = this.current;
    if (!c) return undefined;
    const ms = now - c.since;
    if (ms <= this.thresholdMs) return undefined;
    return `${stillMessage(c.step, c.host, ms)} — ${c.message}`;
  }

  /** The step going on, and since when. */
  get step(): { step: SshStep; host: string; since: number } | undefined {
    return this.current && { step: this.current.step, host: this.current.host, since: this.current.since };
  }
}

/**
 * Turns byte counts into the increments VS Code's progress takes (percent of a bar that only moves forward): the
 * first upload fills the bar up to 100; a later upload (another total) starts from where the bar is.
 */
export class UploadIncrements {
  private shown = 0;
  private total: number | undefined;
  private base = 0;

  /** The increment to report for `bytes` (0 when the bar does not move). */
  next(bytes: { done: number; total: number }): number {
    if (bytes.total <= 0) return 0;
    if (this.total !== bytes.total) {
      this.total = bytes.total;
      this.base = this.shown;
    }
    const target = this.base + (100 - this.base) * Math.min(1, Math.max(0, bytes.done / bytes.total));
    const inc = target - this.shown;
    if (inc <= 0) return 0;
    this.shown = target;
    return inc;
  }
}
