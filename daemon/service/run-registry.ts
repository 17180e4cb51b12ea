// The runs this daemon knows: each run's record (folder, run.json, status, progress, shared event log, attached
// clients, worker), found again at start through the registry's pointer files, listed as summaries, and every
// status change written to run.json and announced.
import type { ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ResponseError } from 'vscode-jsonrpc/node';
import { CONFIG_FILE, EVENTS_FILE, RUN_META_FILE } from '../pipeline/run-folder';
import { MantaErrorCodes, type MantaErrorData } from '../protocol/errors';
import type { RunProgress, RunStatus, RunSummary } from '../protocol/methods';
import type { Attachment, EventSink } from './attachment';
import { EventLog } from './event-log';
import { applyEvent } from './progress';
import { listRegisteredRuns, readRunMeta, registerRun, runPointerFile, unregisterRun, writeRunMeta, type RunMeta } from './run-files';
import { RunLog } from './run-log';
import type { JobOutcome } from './worker-ipc';

/** Everything the daemon holds of one run. */
export interface RunRecord {
  meta: RunMeta;
  runDir: string;
  status: RunStatus;
  nextSeq: number;
  progress: RunProgress;
  log: RunLog;
  lastKind?: string;
  attachments: Map<EventSink, Attachment>;
  /** Its worker, while one runs (run-supervisor.ts). */
  worker?: ChildProcess;
  exited?: Promise<void>;
  outcome?: { outcome: JobOutcome; message?: string; reason?: string };
  stopping?: 'stop' | 'pause' | 'shutdown';
  outputTail: string[];
  /** Set when its run.json could not be read at load: listed as failed (with why), it can only be deleted. */
  damaged?: boolean;
  /** Control operations (start, stop, pause, resume, delete) of a run run one at a time. */
  lock: Promise<unknown>;
  /** Writes of run.json, one at a time. */
  metaWrite: Promise<void>;
}

export const RESUMABLE: ReadonlySet<RunStatus> = new Set(['paused', 'interrupted']);
/** Final statuses: such a run's log is only read, never changed. */
export const FINISHED: ReadonlySet<RunStatus> = new Set(['completed', 'failed', 'stopped']);

/** Whether manta/resumeRun applies: a paused or interrupted run, or one of a job across hosts that failed (a peer lost). */
export function isResumable(run: { status: RunStatus; meta: { job?: unknown }; damaged?: boolean }): boolean {
  return RESUMABLE.has(run.status) || (run.status === 'failed' && run.meta.job !== undefined && !run.damaged);
}

export function runError(code: number, message: string): ResponseError<MantaErrorData> {
  return new ResponseError<MantaErrorData>(code, message);
}

export interface RunRegistryOptions {
  stateDir: string;
  warn: (message: string, runId?: string) => void;
  /** A run started, changed status or was cut back. */
  onStatus: (run: RunSummary, truncatedToSeq?: number) => void;
}

export class RunRegistry {
  private readonly runs = new Map<string, RunRecord>();

  constructor(private readonly opts: RunRegistryOptions) {}

  /**
   * Finds the runs of earlier daemons; one whose run.json says running lost its worker: interrupted. One whose
   * run.json cannot be read is listed as failed, its message naming the file and what to do, so it can be deleted.
   */
  async load(): Promise<void> {
    for (const { runId, runDir } of await listRegisteredRuns(this.opts.stateDir, (m) => this.opts.warn(m))) {
      let meta: RunMeta;
      let damaged = false;
      try {
        meta = await readRunMeta(runDir);
      } catch (e) {
        meta = await damagedMeta(runId, runDir, this.opts.stateDir, e as Error);
        damaged = true;
        this.opts.warn(`run ${runId}: ${meta.message}`, runId);
      }
      const run = this.record(meta, runDir);
      if (damaged) run.damaged = true;
      if (meta.status === 'running') {
        run.status = 'interrupted';
        run.meta.message = 'its daemon stopped before it finished; resume continues from the last checkpoint';
      }
      try {
        const log = await EventLog.open(path.join(runDir, EVENTS_FILE), (m) => this.opts.warn(m, runId), { readOnly: FINISHED.has(run.status) && !isResumable(run) });
        run.nextSeq = log.nextSeq;
        await this.refold(run, log);
        await log.close();
      } catch (e) {
        this.opts.warn(`cannot read the event log of run ${runId}: ${(e as Error).message}`, runId);
      }
      this.runs.set(runId, run);
    }
  }

  /** Recomputes a run's progress and last event kind from the end of its log. */
  async refold(run: RunRecord, log: EventLog): Promise<void> {
    run.progress = {};
    run.lastKind = undefined;
    for (const e of await log.tail()) {
      applyEvent(run.progress, e.kind, e.data);
      run.lastKind = e.kind;
    }
  }

  get(runId: string): RunRecord {
    const run = this.runs.get(runId);
    if (!run) throw runError(MantaErrorCodes.UnknownRun, `no run '${runId}' on this daemon; manta/listRuns lists the runs`);
    return run;
  }

  all(): RunRecord[] {
    return [...this.runs.values()];
  }

  list(): RunSummary[] {
    return this.all()
      .sort((a, b) => a.meta.createdAt - b.meta.createdAt)
      .map((r) => this.summary(r));
  }

  /** The stored config of a run (as submitted), read from its folder. */
  async storedConfig(run: RunRecord): Promise<unknown> {
    return JSON.parse(await fs.readFile(path.join(run.runDir, CONFIG_FILE), 'utf8')) as unknown;
  }

  newMeta(runId: string, name: string, configDir: string, configPath?: string): RunMeta {
    const now = Date.now();
    return { format: 1, runId, name, createdAt: now, updatedAt: now, configDir, ...(configPath ? { configPath } : {}), status: 'running' };
  }

  /** A new run: its run.json and registry pointer are written before it is known. */
  async create(meta: RunMeta, runDir: string): Promise<RunRecord> {
    await writeRunMeta(runDir, meta);
    await registerRun(this.opts.stateDir, meta.runId, runDir);
    const run = this.record(meta, runDir);
    this.runs.set(meta.runId, run);
    return run;
  }

  /** Forgets a run: its registry pointer goes (its folder is the caller's to remove). */
  async remove(run: RunRecord): Promise<void> {
    this.runs.delete(run.meta.runId);
    await unregisterRun(this.opts.stateDir, run.meta.runId);
  }

  summary(run: RunRecord): RunSummary {
    return {
      runId: run.meta.runId,
      name: run.meta.name,
      status: run.status,
      runDir: run.runDir,
      ...(run.meta.configPath ? { configPath: run.meta.configPath } : {}),
      createdAt: run.meta.createdAt,
      updatedAt: run.meta.updatedAt,
      nextSeq: run.nextSeq,
      progress: { ...run.progress },
      ...(run.meta.message && run.status !== 'running' ? { message: run.meta.message } : {}),
      resumable: isResumable(run),
      ...(run.meta.derivedFrom ? { derivedFrom: { ...run.meta.derivedFrom } } : {}),
    };
  }

  /** Sets a run's status: run.json is written (in order) and every client told. */
  async setStatus(run: RunRecord, status: RunStatus, message?: string, truncatedToSeq?: number): Promise<void> {
    run.status = status;
    run.meta.status = status;
    run.meta.updatedAt = Date.now();
    if (message !== undefined) run.meta.message = message;
    else delete run.meta.message;
    const snapshot = { ...run.meta };
    run.metaWrite = run.metaWrite.then(() =>
      writeRunMeta(run.runDir, snapshot).catch((e: Error) => this.opts.warn(`cannot write ${path.join(run.runDir, RUN_META_FILE)}: ${e.message}`, run.meta.runId)),
    );
    await run.metaWrite;
    this.opts.onStatus(this.summary(run), truncatedToSeq);
  }

  /** Tells every client of a run's summary as it is, e.g. after its log was cut back to `truncatedToSeq`. */
  announce(run: RunRecord, truncatedToSeq?: number): void {
    this.opts.onStatus(this.summary(run), truncatedToSeq);
  }

  private record(meta: RunMeta, runDir: string): RunRecord {
    const run: RunRecord = {
      meta,
      runDir,
      status: meta.status,
      nextSeq: 0,
      progress: {},
      log: new RunLog(
        path.join(runDir, EVENTS_FILE),
        (m) => this.opts.warn(m, meta.runId),
        (log) => {
          run.nextSeq = log.nextSeq;
          for (const a of run.attachments.values()) a.kick();
        },
        () => FINISHED.has(run.status) && !isResumable(run),
      ),
      attachments: new Map(),
      outputTail: [],
      lock: Promise.resolve(),
      metaWrite: Promise.resolve(),
    };
    return run;
  }
}

/** What is listed for a run whose run.json cannot be read: failed, with a message naming the file and what to do. */
async function damagedMeta(runId: string, runDir: string, stateDir: string, error: Error): Promise<RunMeta> {
  const file = path.join(runDir, RUN_META_FILE);
  const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : `cannot be read (${error.message})`;
  const when = await fs
    .stat(runPointerFile(stateDir, runId))
    .then((s) => s.mtimeMs)
    .catch(() => 0);
  return {
    format: 1,
    runId,
    name: runId,
    createdAt: when,
    updatedAt: when,
    configDir: runDir,
    status: 'failed',
    message:
      `its run file ${file} ${why}, so the run cannot be resumed or shown; ` +
      `delete the run (manta/deleteRun, or Delete in the Runs view) to remove it and its folder, or restore the file and restart the daemon`,
  };
}
