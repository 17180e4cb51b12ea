// A run from a config: daemon/run's job (train → search → results), with the service's telemetry and stop signal.
import { runJob } from '../../pipeline';
import type { Emit } from '../../protocol/events';
import type { WorkerJob } from '../worker-ipc';

export async function runConfigJob(job: Extract<WorkerJob, { kind: 'run' }>, emit: Emit, signal: AbortSignal): Promise<void> {
  await runJob(job.config, { runDir: job.runDir, configDir: job.configDir, emit, onProgress: () => undefined, resume: job.resume, signal, cacheDir: job.cacheDir });
}
