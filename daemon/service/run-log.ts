// A run's event log as the daemon shares it: opened on first use by whoever needs it (a worker streaming events,
// a client replaying them, a resume cutting it back) and closed when the last of them lets go, so an idle daemon
// with many runs holds no file open.
import { EventLog } from './event-log';

export class RunLog {
  private opened: Promise<EventLog> | undefined;
  private refs = 0;
  private closing: Promise<void> = Promise.resolve();

  constructor(
    readonly file: string,
    private readonly warn: (message: string) => void,
    /** Called once the log is open and whenever appended events become readable (to wake the run's clients). */
    private readonly onAppend: (log: EventLog) => void,
    /** Whether the run is finished: its log is then opened read-only and never changed (no repair either). */
    private readonly finished: () => boolean = () => false,
  ) {}

  /** The log, opened on first use; every acquire is matched by one release. */
  acquire(): Promise<EventLog> {
    this.refs++;
    if (!this.opened) {
      const opened = this.closing.then(async () => {
        const log = await EventLog.open(this.file, this.warn, { readOnly: this.finished() });
        log.onAppend(() => this.onAppend(log));
        this.onAppend(log);
        return log;
      });
      opened.catch(() => {
        if (this.opened === opened) this.opened = undefined;
      });
      this.opened = opened;
    }
    return this.opened.catch((e: Error) => {
      this.refs--;
      throw e;
    });
  }

  /** Lets go of the log; the last release closes it. */
  release(): void {
    if (--this.refs > 0 || !this.opened) return;
    this.closeOpened();
  }

  /** The open log, if anyone holds it. */
  get current(): Promise<EventLog> | undefined {
    return this.opened;
  }

  /** Closes the log now, whoever holds it (shutdown, deleting the run); resolves once it is closed. */
  async closeNow(): Promise<void> {
    this.refs = 0;
    if (this.opened) this.closeOpened();
    await this.closing;
  }

  private closeOpened(): void {
    const opened = this.opened!;
    this.opened = undefined;
    this.closing = opened.then((log) => log.close()).catch((e: Error) => this.warn(`closing the event log: ${e.message}`));
  }
}
