// The worker process of one run (or one task): forked by the daemon, it runs the job, streams its telemetry to the
// daemon over IPC in batches and reports how it ended. It exits at once when the daemon goes away (the run is then
// interrupted, and a resume continues from its last checkpoint). Built to dist/run-worker.js beside the CLI bundle.
import * as path from 'node:path';
import { CHECKPOINT_DIR } from '../pipeline/run-folder';
import { isUserError } from '../protocol/user-error';
import { checkpointRecorded, pruneOnlyRecordedCheckpoints } from '../train/checkpoint-files';
import { startSystemStats } from './system-stats';
import { EventSender } from './worker-events';
import type { FromWorker, JobOutcome, ToWorker, WorkerJob } from './worker-ipc';

function send(message: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

/** The reason a job was asked to stop, carried by the abort signal. */
export class StopRequest extends Error {
  constructor(readonly kind: 'stop' | 'pause') {
    super(kind === 'pause' ? 'paused by request' : 'stopped by request');
    this.name = 'StopRequest';
  }
}

async function runJob(job: WorkerJob, signal: AbortSignal): Promise<void> {
  const sender = new EventSender(send);
  const warn = (message: string) => sender.emit('log', { level: 'warn', message });
  let outcome: JobOutcome = 'completed';
  let message: string | undefined;
  let reason: string | undefined;
  const stopStats = job.kind === 'task' ? () => undefined : startSystemStats(sender.emit);
  try {
    switch (job.kind) {
      case 'run': {
        const { runConfigJob } = await import('./jobs/config-job');
        await runConfigJob(job, sender.emit, signal);
        break;
      }
      case 'derived': {
        const { runDerived } = await import('./jobs/derived-job');
        await runDerived(job, sender.emit, signal);
        break;
      }
      case 'synthetic': {
        const { runSyntheticJob } = await import('./jobs/synthetic-job');
        await runSyntheticJob(job, sender.emit, signal, warn);
        break;
      }
      case 'task': {
        const { runTask } = await import('./jobs/tasks');
        await send({ type: 'result', value: await runTask(job.task, signal) });
        break;
      }
    }
    if (signal.aborted) outcome = stopKind(signal);
  } catch (e) {
    if (signal.aborted) outcome = stopKind(signal);
    else {
      outcome = 'failed';
      message = (e as Error)?.message ?? String(e);
      if (isUserError(e)) reason = e.reason;
      else process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
    }
  }
  stopStats();
  await sender.flush();
  await send({ type: 'done', outcome, message, reason });
  finished = true;
  process.disconnect?.();
}

function stopKind(signal: AbortSignal): JobOutcome {
  return signal.reason instanceof StopRequest && signal.reason.kind === 'pause' ? 'paused' : 'stopped';
}

if (!process.send) {
  process.stderr.write('run-worker: this is the worker process of `manta daemon`, forked by it; it is not run by hand\n');
  process.exit(2);
}
const controller = new AbortController();
let started = false;
let finished = false;
let checkpointDir: string | undefined;
// The daemon is gone (killed, crashed): stop now. The run's checkpoints stay; the next daemon lists it as interrupted.
process.on('disconnect', () => process.exit(started && !finished ? 70 : 0));
process.on('message', (message: ToWorker) => {
  if (message.type === 'start' && !started) {
    started = true;
    // A checkpoint counts once the daemon has its event in the log: older ones are pruned only after that.
    if (message.job.kind !== 'task') {
      pruneOnlyRecordedCheckpoints();
      checkpointDir = path.join(message.job.runDir, CHECKPOINT_DIR);
    }
    void runJob(message.job, controller.signal);
  } else if (message.type === 'recorded' && checkpointDir) {
    const dir = checkpointDir;
    void checkpointRecorded(dir, message.step).catch((e: Error) => process.stderr.write(`pruning old checkpoints in ${dir}: ${e.message}\n`));
  } else if (message.type === 'stop' && !controller.signal.aborted) {
    controller.abort(new StopRequest(message.reason));
  }
});
