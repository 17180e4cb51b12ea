// A derived run in this process (`manta search --from`, `manta finetune`): its folder beside the source run,
// run.json saying where it comes from, its own event log, a progress line on stderr and Ctrl-C to stop — then
// daemon/pipeline's derived-job frame does the work. The source run is only read.
import { dirname, join, relative } from 'node:path';
import { runDerivedJob, type DerivedJobOptions, type DerivedJobSpec, type DerivedKind } from '../pipeline/derived';
import type { JobResult } from '../pipeline/job';
import { createRunFolder, EVENTS_FILE } from '../pipeline/run-folder';
import type { Emit } from '../protocol/events';
import { UserError } from '../protocol/user-error';
import { EventLog } from '../service/event-log';
import { readRunMeta, writeRunMeta, type RunMeta } from '../service/run-files';
import { ProgressLine } from './progress-line';
import { recordRunEnd, stopOnCtrlC } from './run-here';

export interface DerivedCommandResult {
  status: 'completed' | 'stopped';
  /** The new run's folder. */
  runDir: string;
  result: JobResult;
}

/** Runs a derived job of `kind` from the finished run in `sourceRunDir` (absolute) as a new run beside it. */
export async function runDerivedCommand<K extends DerivedKind>(sourceRunDir: string, kind: K, options: DerivedJobOptions[K]): Promise<DerivedCommandResult> {
  const source = await readRunMeta(sourceRunDir).catch(() => {
    throw new UserError(`${sourceRunDir} is not a MANTA run directory (no readable run.json)`, 'run.open');
  });
  if (source.status === 'running' || source.status === 'paused' || source.status === 'interrupted') {
    throw new UserError(`run ${source.runId} is ${source.status}; a ${kind} run is made from a finished run (wait for it, or resume it first)`, 'run.not-finished');
  }
  const { runId, runDir } = await createRunFolder(dirname(sourceRunDir), `${source.name}-${kind}`);
  const spec = { kind, sourceRunId: source.runId, sourceRunDir, options } as DerivedJobSpec;
  const meta: RunMeta = {
    format: 1,
    runId,
    name: source.name,
    createdAt: Date.now(),
    updatedAt: Date.now(),
    configDir: source.configDir,
    status: 'running',
    // This process runs the job: `manta delete` refuses the folder while it lives.
    workerPid: process.pid,
    derivedFrom: { runId: source.runId, kind },
    derived: spec,
  };
  await writeRunMeta(runDir, meta);

  const display = new ProgressLine(process.stderr);
  const log = await EventLog.open(join(runDir, EVENTS_FILE), (m) => display.note(`warning: ${m}`));
  const emit: Emit = (eventKind, data) => {
    log.append(eventKind, data);
    display.noteWarning(eventKind, data);
  };
  const ctrlC = stopOnCtrlC(display, 'stopping… (Ctrl-C again to quit at once)');
  display.note(`run ${runId} (${kind} from ${source.runId}): ${relative(process.cwd(), runDir) || '.'}`);
  const result = await recordRunEnd({ runDir, meta, display, log, ctrlC }, () =>
    runDerivedJob(spec, { runDir, emit, onProgress: (p) => display.update(p), signal: ctrlC.signal }),
  );
  return { status: result.status, runDir, result };
}
