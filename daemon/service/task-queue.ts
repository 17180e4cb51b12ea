// One FIFO queue for the requests that fork a worker (exportSubnet, measureLatencyTable, the host probe): at most
// `concurrency` run at once, the rest wait in arrival order, and a full queue refuses with an error naming the limit.
// A request cancelled while it waits leaves the queue without ever forking.
import { ResponseError, type CancellationToken } from 'vscode-jsonrpc/node';
import { MantaErrorCodes, type MantaErrorData } from '../protocol/errors';
import { limitReason, limits } from './limits';

interface Waiter {
  start: () => void;
  cancelled: boolean;
}

export class TaskQueue {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(private readonly settings: () => { concurrency: number; maxQueued: number } = () => ({ concurrency: limits.taskConcurrency, maxQueued: limits.maxQueuedTasks })) {}

  get active(): number {
    return this.running;
  }
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `job` once a slot is free; rejects at once when the queue is full, or when `token` cancels it while it waits. */
  run<T>(what: string, job: () => Promise<T>, token?: CancellationToken): Promise<T> {
    const { concurrency, maxQueued } = this.settings();
    if (this.running >= concurrency && this.waiting.length >= maxQueued) {
      return Promise.reject(
        new ResponseError<MantaErrorData>(
          MantaErrorCodes.UserError,
          `${what} refused: ${this.running} worker tasks are running and ${this.waiting.length} are waiting, the limit of the daemon's task queue (maxQueuedTasks = ${maxQueued}, taskConcurrency = ${concurrency}); retry when some have finished`,
          { reason: limitReason('maxQueuedTasks') },
        ),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.running++;
        job()
          .then(resolve, reject)
          .finally(() => {
            this.running--;
            this.next();
          });
      };
      if (this.running < concurrency) return start();
      const waiter: Waiter = { start, cancelled: false };
      this.waiting.push(waiter);
      const cancel = token?.onCancellationRequested(() => {
        if (waiter.cancelled) return;
        const i = this.waiting.indexOf(waiter);
        if (i < 0) return; // already started: the job's own cancellation handles it
        this.waiting.splice(i, 1);
        waiter.cancelled = true;
        reject(new ResponseError<MantaErrorData>(MantaErrorCodes.TaskFailed, `${what}: cancelled while waiting in the task queue`));
      });
      waiter.start = () => {
        cancel?.dispose();
        start();
      };
    });
  }

  private next(): void {
    while (this.running < this.settings().concurrency && this.waiting.length > 0) this.waiting.shift()!.start();
  }
}
