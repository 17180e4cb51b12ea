// The CLI's one progress line on stderr, shared by the long commands (search, evaluate).

/** The one-line progress display: rewritten in place on a TTY, plain lines (at most every few seconds) otherwise. */
export class ProgressLine {
  private last = '';
  private lastPrinted = 0;
  private lastStage = '';
  private readonly tty: boolean;
  private readonly started = Date.now();

  constructor(private readonly out: NodeJS.WriteStream) {
    this.tty = Boolean(out.isTTY);
  }

  /** `total` 0: no count shown. */
  update(p: { stage: string; done: number; total: number; detail?: string }): void {
    const elapsed = Math.round((Date.now() - this.started) / 1000);
    const frac = p.total > 0 ? ` ${p.done}/${p.total}` : '';
    const text = `[${String(Math.floor(elapsed / 60)).padStart(2, '0')}:${String(elapsed % 60).padStart(2, '0')}] ${p.stage}${frac}${p.detail ? ' · ' + p.detail : ''}`;
    if (this.tty) {
      const cols = this.out.columns || 100;
      this.last = text.length > cols - 1 ? text.slice(0, cols - 2) + '…' : text;
      this.out.write(`\r\x1b[2K${this.last}`);
    } else if (p.stage !== this.lastStage || Date.now() - this.lastPrinted > 5000 || (p.total > 0 && p.done === p.total)) {
      if (text !== this.last) this.out.write(text + '\n');
      this.last = text;
      this.lastPrinted = Date.now();
    }
    this.lastStage = p.stage;
  }

  /** A message on its own line, keeping the progress line below it. */
  note(message: string): void {
    if (this.tty) this.out.write(`\r\x1b[2K${message}\n${this.last}`);
    else this.out.write(message + '\n');
  }

  /** A run's `log` event of level warn or error, on its own line (the others stay in the event log only). */
  noteWarning(kind: string, data: unknown): void {
    if (kind !== 'log') return;
    const d = data as { level: string; message: string };
    if (d.level === 'warn' || d.level === 'error') this.note(`${d.level}: ${d.message}`);
  }

  done(): void {
    if (this.tty && this.last) this.out.write('\r\x1b[2K');
    this.last = '';
  }
}
