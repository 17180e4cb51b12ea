// A worker's side of telemetry: `emit` only queues the event (no JSON, no I/O on the caller's path); a timer
// serializes the queue and sends it to the daemon in one IPC message, at most one message in flight.
import type { Emit, TelemetryKind } from '../protocol/events';
import { encodeEventBody } from './event-log';
import type { FromWorker } from './worker-ipc';

/** Kinds worth sending at once: a checkpoint's event must reach the log before the worker can be killed. */
const URGENT = new Set<TelemetryKind>(['run.started', 'run.finished', 'checkpoint', 'phase', 'error']);

export class EventSender {
  private queue: { kind: string; time: number; data: unknown }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly send: (message: FromWorker) => Promise<void>,
    private readonly intervalMs = 50,
    private readonly maxQueue = 4096,
  ) {}

  readonly emit: Emit = (kind, data) => {
    this.queue.push({ kind, time: Date.now(), data });
    if (URGENT.has(kind) || this.queue.length >= this.maxQueue) {
      this.immediate ??= setImmediate(() => void this.flush());
    } else {
      this.timer ??= setTimeout(() => void this.flush(), this.intervalMs);
    }
  };

  /** Sends everything queued; resolves when the daemon's channel has taken it. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    if (this.queue.length === 0) return this.sending;
    const batch = this.queue;
    this.queue = [];
    this.sending = this.sending.then(() => this.send({ type: 'events', bodies: batch.map((e) => encodeEventBody(e.kind, e.time, e.data)) }));
    return this.sending;
  }
}
