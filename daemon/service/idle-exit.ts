// The daemon's --idle-exit: a daemon started detached on a remote host (it outlives the SSH connection that started
// it) ends itself once it has had no client and no active run for a while, so abandoned daemons do not pile up.
// Idleness is re-evaluated whenever something changes (a client comes or goes, a run changes status) and, to miss
// nothing, on a slow timer; the time counts from the moment the daemon became idle.

export class IdleWatch {
  private idleSince: number | undefined;
  private readonly timer: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly afterMs: number,
    private readonly isIdle: () => boolean,
    private readonly onIdle: () => void,
    private readonly now: () => number = Date.now,
  ) {
    // A check every quarter of the delay (between 0.25 and 5 s): exact enough, and no busy polling.
    this.timer = setInterval(() => this.check(), Math.min(5000, Math.max(250, afterMs / 4)));
    this.timer.unref();
    this.poke();
  }

  /** Something changed: a client came or went, a run changed status. */
  poke(): void {
    if (this.stopped) return;
    if (!this.isIdle()) this.idleSince = undefined;
    else this.idleSince ??= this.now();
  }

  private check(): void {
    this.poke();
    if (this.stopped || this.idleSince === undefined || this.now() - this.idleSince < this.afterMs) return;
    this.stop();
    this.onIdle();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }
}
