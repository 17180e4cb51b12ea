// A run from a config: daemon/pipeline's job (train → search → results), with the service's telemetry and stop
// signal. On resume, the earlier attempts' events are read here with the event log's typed reader and handed to
// the job (the pipeline never parses the log itself).
import { join } from 'node:path';
import { CURVE_KINDS, runJob } from '../../pipeline';
import { EVENTS_FILE } from '../../pipeline/run-folder';
import type { Emit, TelemetryKind } from '../../protocol/events';
import { readEvents, type StoredEvent } from '../event-log';
import type { WorkerJob } from '../worker-ipc';

/** What a resumed run needs of its earlier attempts' events: the pipeline's report curves. */
export const HISTORY_KINDS: readonly TelemetryKind[] = CURVE_KINDS;

/** The events of a run's log up to `toSeq` of the kinds a resumed job needs. */
export async function readHistory(eventsFile: string, toSeq?: number): Promise<StoredEvent[]> {
  const history: StoredEvent[] = [];
  for await (const e of readEvents(eventsFile, { kinds: HISTORY_KINDS, ...(toSeq !== undefined ? { toSeq } : {}) })) history.push(e);
  return history;
}

export async function runConfigJob(job: Extract<WorkerJob, { kind: 'run' }>, emit: Emit, signal: AbortSignal): Promise<void> {
  const history = job.resume && job.historyToSeq !== undefined ? await readHistory(join(job.runDir, EVENTS_FILE), job.historyToSeq) : undefined;
  await runJob(job.config, {
    runDir: job.runDir,
    configDir: job.configDir,
    emit,
    onProgress: () => undefined,
    resume: job.resume,
    signal,
    cacheDir: job.cacheDir,
    ...(job.placement ? { placement: job.placement } : {}),
    ...(history ? { history } : {}),
  });
}
