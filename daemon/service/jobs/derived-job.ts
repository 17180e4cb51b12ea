// A derived run in the daemon's worker (search again, fine-tune): daemon/pipeline's derived-job frame with the
// service's telemetry and stop signal. A resume starts the job again: the files of an earlier attempt are replaced.
import { runDerivedJob } from '../../pipeline/derived';
import type { Emit } from '../../protocol/events';
import type { WorkerJob } from '../worker-ipc';

export async function runDerived(job: Extract<WorkerJob, { kind: 'derived' }>, emit: Emit, signal: AbortSignal): Promise<void> {
  await runDerivedJob(job.spec, { runDir: job.runDir, emit, signal, cacheDir: job.cacheDir });
}
