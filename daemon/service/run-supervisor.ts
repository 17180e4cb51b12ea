// The worker of a run: forked with its job, its events numbered (through the run's log) in arrival order, its
// output kept for the message of an early exit, asked to stop or pause (killed after a grace period), and its exit
// turned into the run's next status. Workers of an earlier daemon are made sure to be gone before a resume.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { RunStatus } from '../protocol/methods';
import type { EventLog } from './event-log';
import { applyBodies, bodyKind } from './progress';
import type { RunRecord, RunRegistry } from './run-registry';
import { MantaErrorCodes } from '../protocol/errors';
import { detectGpus, GpuLedger, gpusWanted, RUN_GPUS_ENV } from './devices';
import { runError } from './run-registry';
import { forkWorker, type FromWorker, type ToWorker, type WorkerEntry, type WorkerJob } from './worker-ipc';

export interface RunSupervisorOptions {
  workerEntry: () => WorkerEntry;
  warn: (message: string, runId?: string) => void;
  /** A line a worker printed (stdout or stderr). */
  workerOutput: (runId: string, line: string) => void;
  /** How long a worker may take to stop when asked before it is killed (default 20 s). */
  stopGraceMs?: number;
  /** The GPUs runs may use (default: what nvidia-smi lists). */
  gpus?: number[];
}

export class RunSupervisor {
  private readonly gpus: GpuLedger;
  /** Runs waiting for GPUs, in the order they asked. */
  private waiting: { run: RunRecord; job: WorkerJob; count: number }[] = [];

  constructor(
    private readonly registry: RunRegistry,
    private readonly opts: RunSupervisorOptions,
  ) {
    this.gpus = new GpuLedger(opts.gpus ?? detectGpus());
  }

  /**
   * Forks a worker for `job`; the run is running until the worker exits. A run that needs GPUs gets its own (one per
   * training worker) or waits, running but without a worker, until another run gives enough back.
   */
  launch(run: RunRecord, job: WorkerJob): void {
    const count = job.kind === 'run' ? gpusWanted(job.config, this.gpus.gpus.length, job.placement) : 0;
    if (count > this.gpus.gpus.length) {
      throw runError(MantaErrorCodes.InvalidParams, `the run asks for ${count} training workers, one per GPU, and this host has ${this.gpus.gpus.length} GPUs; set /distributed/workersPerHost to at most ${this.gpus.gpus.length}`);
    }
    const mine = count > 0 ? this.gpus.take(run.meta.runId, count) : [];
    if (!mine) {
      this.waiting.push({ run, job, count });
      void this.registry.setStatus(run, 'running', `waiting for ${count} free GPU${count > 1 ? 's' : ''}`);
      void run.log.acquire().then((log) => {
        log.append('waiting', { reason: `${count} free GPU${count > 1 ? 's' : ''} (${this.gpus.describe()})` });
        run.log.release();
      });
      return;
    }
    this.fork(run, job, mine);
  }

  /** Takes a waiting run off the queue (stopped before it got its GPUs); whether it was waiting. */
  dropWaiting(run: RunRecord): boolean {
    const before = this.waiting.length;
    this.waiting = this.waiting.filter((w) => w.run !== run);
    return this.waiting.length < before;
  }

  private releaseGpus(run: RunRecord): void {
    this.gpus.release(run.meta.runId);
    const still: typeof this.waiting = [];
    for (const w of this.waiting) {
      const got = this.gpus.take(w.run.meta.runId, w.count);
      if (got) this.fork(w.run, w.job, got);
      else still.push(w);
    }
    this.waiting = still;
  }

  private fork(run: RunRecord, job: WorkerJob, gpus: number[]): void {
    const runId = run.meta.runId;
    let logReady: Promise<EventLog> | undefined = run.log.acquire();
    logReady.catch((e: Error) => this.opts.warn(`cannot open the event log of run ${runId}: ${e.message}; its events are lost`, runId));
    // The run's process (its first training worker) sees its first GPU only; it hands the others to its workers.
    const env = gpus.length > 0 ? { ...process.env, CUDA_VISIBLE_DEVICES: String(gpus[0]), [RUN_GPUS_ENV]: gpus.join(',') } : process.env;
    const child = forkWorker(this.opts.workerEntry(), env);
    run.worker = child;
    run.outcome = undefined;
    run.stopping = undefined;
    run.outputTail = [];
    run.meta.workerPid = child.pid;
    void this.registry.setStatus(run, 'running');
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (text: string) => {
        const lines = (partial + text).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) this.workerLine(run, line);
      });
    }
    // Events are numbered in arrival order; the log is open before the worker can send any.
    let queue = Promise.resolve();
    child.on('message', (message: FromWorker) => {
      if (message.type === 'events') {
        const bodies = message.bodies;
        queue = queue
          .then(async () => {
            const log = await logReady!;
            log.appendBodies(bodies);
            const last = applyBodies(run.progress, bodies);
            if (last) run.lastKind = last;
            const step = checkpointStep(bodies);
            if (step !== undefined) void this.confirmCheckpoint(run, child, log, step);
          })
          .catch(() => undefined);
      } else if (message.type === 'done') {
        run.outcome = { outcome: message.outcome, message: message.message, reason: message.reason };
      }
    });
    run.exited = new Promise((resolve) => {
      let ended = false;
      const end = (code: number | null, signal: NodeJS.Signals | null) => {
        if (ended) return;
        ended = true;
        void queue.then(async () => {
          this.releaseGpus(run);
          await this.workerExited(run, code, signal).catch((e: Error) => this.opts.warn(`run ${runId}: ${e.message}`, runId));
          logReady = undefined;
          run.log.release();
          resolve();
        });
      };
      child.on('exit', end);
      child.on('error', (e) => {
        this.opts.warn(`worker of run ${runId}: ${e.message}`, runId);
        if (child.pid === undefined) end(null, null); // it never started: no exit event follows
      });
    });
    child.send({ type: 'start', job });
  }

  /** Asks a run's worker to stop (or pause, or go with the daemon) and waits until it has exited. */
  async stopWorker(run: RunRecord, why: 'stop' | 'pause' | 'shutdown'): Promise<void> {
    const child = run.worker;
    if (!child) return;
    run.stopping = why;
    if (why === 'shutdown') {
      // The worker exits by itself when its channel to the daemon closes.
      child.disconnect();
    } else {
      child.send({ type: 'stop', reason: why });
    }
    const grace = why === 'shutdown' ? 5000 : (this.opts.stopGraceMs ?? 20000);
    const timer = setTimeout(() => child.kill('SIGKILL'), grace);
    await run.exited;
    clearTimeout(timer);
  }

  /**
   * Tells the worker that the `checkpoint` event of `step` is recorded — written to the log and synced — so it may
   * prune older checkpoints (checkpoint-files.ts): until then the previous recorded checkpoint stays on disk.
   */
  private async confirmCheckpoint(run: RunRecord, child: ChildProcess, log: EventLog, step: number): Promise<void> {
    try {
      await log.sync();
    } catch (e) {
      this.opts.warn(`run ${run.meta.runId}: cannot sync the event log: ${(e as Error).message}; older checkpoints are kept`, run.meta.runId);
      return;
    }
    if (log.error) return;
    if (child.connected) child.send({ type: 'recorded', step } satisfies ToWorker, (e) => void e);
  }

  private workerLine(run: RunRecord, line: string): void {
    if (line.trim() === '') return;
    run.outputTail.push(line);
    if (run.outputTail.length > 20) run.outputTail.shift();
    this.opts.workerOutput(run.meta.runId, line);
  }

  private async workerExited(run: RunRecord, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    run.worker = undefined;
    const log = await run.log.current;
    const outcome = run.outcome;
    const requested = run.stopping;
    if (requested === 'shutdown') {
      // Stay 'running' on disk: the next daemon lists the run as interrupted and can resume it.
      run.status = 'interrupted';
      run.meta.message = 'the daemon shut down before it finished; resume continues from the last checkpoint';
      await log?.sync();
      return;
    }
    let status: RunStatus;
    let message: string | undefined;
    if (outcome?.outcome === 'failed') {
      status = 'failed';
      message = outcome.message ?? 'the job failed';
    } else if (outcome) {
      status = outcome.outcome === 'paused' ? 'paused' : outcome.outcome;
    } else if (requested) {
      status = requested === 'pause' ? 'paused' : 'stopped';
      message = `its worker did not stop in time and was killed`;
    } else {
      status = 'interrupted';
      const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
      const last = run.outputTail.length ? `; last output: ${run.outputTail[run.outputTail.length - 1]}` : '';
      message = `its worker ${how} before the run finished${last}; resume continues from the last checkpoint`;
    }
    if (log) {
      if ((status === 'stopped' || status === 'failed') && run.lastKind !== 'run.finished') {
        log.append('run.finished', { status, wallMs: Date.now() - run.meta.createdAt, ...(message ? { message } : {}) });
      } else if (status === 'interrupted') {
        log.append('log', { level: 'warn', message: `run ${message}` });
      } else if (status === 'paused') {
        log.append('log', { level: 'info', message: 'paused by request; resume continues from the last checkpoint' });
      }
      await log.sync();
    }
    await this.registry.setStatus(run, status, message);
  }
}

/** A worker of an earlier daemon may still be finishing (it exits when it notices): make sure it is gone. */
export async function ensureOldWorkerGone(run: RunRecord): Promise<void> {
  const pid = run.meta.workerPid;
  if (!pid || pid === process.pid) return;
  const isOurWorker = (): boolean => {
    try {
      process.kill(pid, 0);
    } catch {
      return false;
    }
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('run-worker');
    } catch {
      return false; // no /proc: cannot tell it from an unrelated process that got the pid
    }
  };
  for (let i = 0; i < 50 && isOurWorker(); i++) await new Promise((r) => setTimeout(r, 100));
  if (isOurWorker()) {
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 50 && isOurWorker(); i++) await new Promise((r) => setTimeout(r, 100));
  }
}

/** The step of the last `checkpoint` event among encoded bodies, if any. */
function checkpointStep(bodies: readonly string[]): number | undefined {
  for (let i = bodies.length - 1; i >= 0; i--) {
    if (bodyKind(bodies[i]) !== 'checkpoint') continue;
    try {
      const step = (JSON.parse('{' + bodies[i]) as { data?: { step?: unknown } }).data?.step;
      if (typeof step === 'number') return step;
    } catch {
      // not an event the worker could have produced
    }
  }
  return undefined;
}
