// What a resume continues from: the run's stored config, checked again through schemas/'s one config path, and its
// last good checkpoint — the newest checkpoint file that decodes and whose `checkpoint` event is in the event log
// (read with the log's typed reader).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isConfigError, resolveConfig } from '../../schemas/load-config';
import { CHECKPOINT_DIR, CONFIG_FILE } from '../pipeline/run-folder';
import { MantaErrorCodes } from '../protocol/errors';
import { decodeCheckpoint } from '../train/checkpoint-codec';
import { listCheckpointFiles, removeStaleTempFiles } from '../train/checkpoint-files';
import type { EventLog } from './event-log';
import { runError, type RunRecord } from './run-registry';
import type { WorkerJob } from './worker-ipc';

/** The job that resumes `run` (from its last checkpoint; the caller clears `resume` when there is none). */
export async function resumeJob(run: RunRecord, cacheDir: string): Promise<Extract<WorkerJob, { kind: 'run' | 'synthetic' | 'derived' }>> {
  const resume = true;
  if (run.meta.synthetic) return { kind: 'synthetic', params: run.meta.synthetic, runDir: run.runDir, resume };
  // A derived run has no checkpoint of its own: its job starts again from the beginning (it trains no supernet).
  if (run.meta.derived) return { kind: 'derived', spec: run.meta.derived, runDir: run.runDir, cacheDir, resume };
  const file = path.join(run.runDir, CONFIG_FILE);
  try {
    const { config } = resolveConfig({ text: await fs.readFile(file, 'utf8'), source: file });
    return { kind: 'run', config, runDir: run.runDir, configDir: run.meta.configDir, resume, cacheDir };
  } catch (e) {
    if (!isConfigError(e)) throw e;
    throw runError(MantaErrorCodes.InvalidConfig, `the stored config of run ${run.meta.runId} no longer validates: ${e.problems.map((p) => p.message).join('; ')}`);
  }
}

/** The newest checkpoint that decodes and was logged; newer files are removed so the job resumes from this one. */
export async function pickCheckpoint(runDir: string, log: EventLog, warn: (message: string) => void): Promise<{ step: number; seq: number } | undefined> {
  const dir = path.join(runDir, CHECKPOINT_DIR);
  await removeStaleTempFiles(dir);
  const logged = new Map<number, number>();
  for await (const e of log.events({ kinds: ['checkpoint'] })) {
    if (typeof e.data.step === 'number') logged.set(e.data.step, e.seq);
  }
  const files = await listCheckpointFiles(dir);
  for (let i = files.length - 1; i >= 0; i--) {
    const file = files[i];
    const seq = logged.get(file.step);
    let why: string | undefined;
    if (seq === undefined) why = 'its checkpoint event never reached the event log';
    else {
      try {
        decodeCheckpoint(await fs.readFile(file.path), file.path);
        return { step: file.step, seq };
      } catch (e) {
        why = (e as Error).message;
      }
    }
    warn(`discarding checkpoint ${path.basename(file.path)}: ${why}`);
    await fs.rm(file.path, { force: true });
  }
  return undefined;
}
