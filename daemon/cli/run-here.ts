// The frame of the commands that run a job in this process (`manta search`, its `--from`, `manta finetune`): Ctrl-C
// asks the job to stop (a second quits at once), and however the job ends, run.json records it and the event log,
// the progress line and the Ctrl-C handler are closed.
import type { EventLog } from '../service/event-log';
import { writeRunMeta, type RunMeta } from '../service/run-files';
import type { ProgressLine } from './progress-line';

/** Aborts `signal` at the first Ctrl-C, noting `stopping` on the display, and exits 130 at the second; `release` removes the handler. */
export function stopOnCtrlC(display: ProgressLine, stopping: string): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    if (++interrupts > 1) process.exit(130);
    display.note(stopping);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, release: () => process.off('SIGINT', onSigint) };
}

export interface RunHere {
  runDir: string;
  /** run.json as written when the job started (status 'running'). */
  meta: RunMeta;
  display: ProgressLine;
  log: EventLog;
  ctrlC: { release: () => void };
}

/**
 * Runs `job` and records how it ended in run.json: its status, or 'failed' with the error's message (then rethrown).
 * The event log is synced before run.json is written, so a finished run's events are on disk.
 */
export async function recordRunEnd<R extends { status: 'completed' | 'stopped' }>(run: RunHere, job: () => Promise<R>): Promise<R> {
  const { runDir, meta, display, log } = run;
  try {
    const result = await job();
    display.done();
    await log.sync();
    await writeRunMeta(runDir, { ...meta, status: result.status, updatedAt: Date.now() });
    return result;
  } catch (e) {
    display.done();
    await log.sync().catch(() => undefined);
    await writeRunMeta(runDir, { ...meta, status: 'failed', message: (e as Error)?.message, updatedAt: Date.now() }).catch(() => undefined);
    throw e;
  } finally {
    run.ctrlC.release();
    await log.close().catch(() => undefined);
  }
}
