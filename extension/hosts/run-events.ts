// The events of one run as the extension holds them: the replayed log then live batches, in seq order, each once;
// cut back when a resumed run truncates its log. Panels read it whole when they (re)load.
import type { TelemetryEvent } from '../../daemon/protocol';

export class RunEvents {
  private readonly list: TelemetryEvent[] = [];

  /** The seq the next event should have: where a new attach resumes. */
  get nextSeq(): number {
    return this.list.length === 0 ? 0 : this.list[this.list.length - 1].seq + 1;
  }

  get all(): readonly TelemetryEvent[] {
    return this.list;
  }

  /** Adds a batch, skipping events already held (a re-attach may overlap); returns the ones that were new. */
  append(batch: readonly TelemetryEvent[]): TelemetryEvent[] {
    const fresh: TelemetryEvent[] = [];
    for (const e of batch) {
      if (e.seq < this.nextSeq) continue;
      this.list.push(e);
      fresh.push(e);
    }
    return fresh;
  }

  /** Drops every event after `toSeq` (a resume cut the log back to a checkpoint). */
  truncate(toSeq: number): void {
    let n = this.list.length;
    while (n > 0 && this.list[n - 1].seq > toSeq) n--;
    this.list.length = n;
  }
}
