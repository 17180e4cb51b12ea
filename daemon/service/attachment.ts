// One client attached to one run: a cursor over the run's event log. Its pump sends what lies between the cursor
// and the log's end — from disk for the replay, from memory when live — one batch at a time, waiting until the
// client's stream has taken each batch. So replay turns into live with no gap and no duplicate, and a slow client
// only falls behind (and later reads from disk) without holding up the log, the worker or other clients.
import type { EventLog, ReadHint, ReadLimits } from './event-log';

export interface EventSink {
  readonly closed: boolean;
  /** Sends one serialized JSON-RPC message; resolves when the transport has taken it. */
  writeRaw(json: string): Promise<void>;
}

const LIMITS: ReadLimits = { maxLines: 4096, maxBytes: 1 << 20 };

/** The `manta/events` notification for serialized event lines, built without parsing them. */
export function eventsFrame(runIdJson: string, lines: readonly string[]): string {
  return `{"jsonrpc":"2.0","method":"manta/events","params":{"runId":${runIdJson},"events":[${lines.join(',')}]}}`;
}

export class Attachment {
  private cursor: number;
  private hint: ReadHint | undefined;
  /** Bumped when the log is cut back, so a batch read before the cut is not sent after it. */
  private epoch = 0;
  private pumping = false;
  private again = false;
  private closed = false;
  private readonly runIdJson: string;

  constructor(
    readonly runId: string,
    private readonly log: EventLog,
    private readonly sink: EventSink,
    fromSeq: number,
    private readonly warn: (message: string) => void,
  ) {
    this.cursor = fromSeq;
    this.runIdJson = JSON.stringify(runId);
  }

  /** The next seq this client will be sent. */
  get position(): number {
    return this.cursor;
  }

  /** Wakes the pump (after an append, or to start). */
  kick(): void {
    if (this.closed) return;
    if (this.pumping) this.again = true;
    else void this.pump();
  }

  /** The log was cut back to end at `lastSeq`: continue from there (the client was told through runStatus). */
  cutBack(lastSeq: number): void {
    this.epoch++;
    if (this.cursor > lastSeq + 1) {
      this.cursor = lastSeq + 1;
      this.hint = undefined;
    }
    this.kick();
  }

  close(): void {
    this.closed = true;
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      for (;;) {
        this.again = false;
        if (this.closed || this.sink.closed) return;
        const epoch = this.epoch;
        const batch = await this.log.read(this.cursor, LIMITS, this.hint);
        if (this.closed || this.sink.closed) return;
        if (epoch !== this.epoch) continue;
        if (!batch) {
          if (this.again) continue;
          return;
        }
        await this.sink.writeRaw(eventsFrame(this.runIdJson, batch.lines));
        if (epoch === this.epoch) {
          this.cursor = batch.nextSeq;
          this.hint = batch.hint;
        }
      }
    } catch (e) {
      this.warn(`stopped streaming run ${this.runId} to a client: ${(e as Error).message}`);
      this.closed = true;
    } finally {
      this.pumping = false;
    }
  }
}
