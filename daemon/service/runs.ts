// The daemon's runs, as the RPC surface sees them: start, stop, pause, resume, delete, attach and detach, each
// control operation of a run one at a time. The parts live by concern: run-registry.ts (the runs known, run.json,
// listing), run-log.ts (each run's shared event log), run-supervisor.ts (worker lifecycle and exit handling),
// run-resume.ts (the stored config and the checkpoint a resume continues from), attachment.ts (a client's replay).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { DerivedJobOptions, DerivedJobSpec, DerivedKind } from '../pipeline/derived';
import { CONFIG_FILE, createRunFolder } from '../pipeline/run-folder';
import { MantaErrorCodes } from '../protocol/errors';
import type { RunStatus, RunSummary, StartSyntheticRunParams } from '../protocol/methods';
import type { JobPlacement } from '../protocol/values';
import { Attachment, type EventSink } from './attachment';
import type { PreparedRun } from './prepare-run';
import { readRunMeta, writeJsonAtomic, type RunMeta } from './run-files';
import { isResumable, RESUMABLE, RunRegistry, runError, type RunRecord } from './run-registry';
import { pickCheckpoint, resumeJob } from './run-resume';
import { ensureOldWorkerGone, RunSupervisor } from './run-supervisor';
import { testPause } from '../train/test-pause';
import type { WorkerEntry } from './worker-ipc';

export interface RunManagerOptions {
  stateDir: string;
  /** Caches shared by runs (latency tables). */
  cacheDir: string;
  workerEntry: () => WorkerEntry;
  /** The daemon's warnings (stderr and `manta/log`). */
  warn: (message: string, runId?: string) => void;
  /** A run started, changed status or was cut back. */
  onStatus: (run: RunSummary, truncatedToSeq?: number) => void;
  /** A line a worker printed (stdout or stderr). */
  workerOutput: (runId: string, line: string) => void;
  /** How long a worker may take to stop when asked before it is killed (default 20 s). */
  stopGraceMs?: number;
}

export class RunManager {
  private readonly registry: RunRegistry;
  private readonly supervisor: RunSupervisor;
  private closing = false;

  constructor(private readonly opts: RunManagerOptions) {
    this.registry = new RunRegistry({ stateDir: opts.stateDir, warn: opts.warn, onStatus: opts.onStatus });
    this.supervisor = new RunSupervisor(this.registry, opts);
  }

  /** Finds the runs of earlier daemons; one whose run.json says running lost its worker: interrupted. */
  load(): Promise<void> {
    return this.registry.load();
  }

  list(): RunSummary[] {
    return this.registry.list();
  }

  get activeCount(): number {
    return this.registry.all().filter((r) => r.worker).length;
  }

  /** Whether any run is active: a live worker (running, pausing, stopping) or a run waiting for GPUs. */
  get busy(): boolean {
    return this.registry.all().some((r) => r.worker || r.status === 'running');
  }

  /** The directory and config of a run, for tasks (export, latency table). */
  async configOf(runId: string): Promise<{ runDir: string; configDir: string; config: unknown }> {
    const run = this.registry.get(runId);
    return { runDir: run.runDir, configDir: run.meta.configDir, config: await this.registry.storedConfig(run) };
  }

  /** Where a run's files lie on this host and what it is doing, for the run-file methods (run-files-rpc.ts). */
  locate(runId: string): { runDir: string; configDir: string; status: RunStatus; synthetic: boolean } {
    const run = this.registry.get(runId);
    return { runDir: run.runDir, configDir: run.meta.configDir, status: run.status, synthetic: run.meta.synthetic !== undefined };
  }

  /**
   * Deletes a run that is not active: refused (InvalidRunState) while it is running or paused, or while a worker of
   * it is alive. Detaches its clients, closes its log, removes its registry pointer and then its folder — the folder
   * only when its run.json names this run, so a damaged pointer never deletes anything else; or, for a run listed
   * because its run.json cannot be read, when run.json is still unreadable and the folder is named by the run id.
   */
  delete(runId: string): Promise<RunSummary> {
    const run = this.registry.get(runId);
    return this.locked(run, async () => {
      if (run.status === 'running' || run.status === 'paused' || run.worker) {
        throw runError(
          MantaErrorCodes.InvalidRunState,
          `run ${runId} is ${run.status}; only a run that is not active can be deleted (stop it first with manta/stopRun)`,
        );
      }
      await ensureOldWorkerGone(run);
      const summary = this.registry.summary(run);
      for (const sink of [...run.attachments.keys()]) this.detach(sink, runId);
      await run.log.closeNow();
      await run.metaWrite;
      await this.registry.remove(run);
      const meta = await readRunMeta(run.runDir).catch(() => undefined);
      const damagedOwnFolder = run.damaged === true && meta === undefined && path.basename(run.runDir) === runId;
      if (meta?.runId === runId || damagedOwnFolder) await fs.rm(run.runDir, { recursive: true, force: true });
      else this.opts.warn(`run ${runId}: kept ${run.runDir}, whose run.json does not name this run; deleted only its registry entry`, runId);
      return summary;
    });
  }

  // ——— starting ———

  async start(prepared: PreparedRun, placement?: JobPlacement): Promise<RunSummary> {
    this.refuseWhenClosing();
    const { runId, runDir } = await createRunFolder(prepared.runsDir, prepared.config.name);
    const meta: RunMeta = { ...this.registry.newMeta(runId, prepared.config.name, prepared.configDir, prepared.configPath), ...(placement ? { job: withoutToken(placement) } : {}) };
    await writeJsonAtomic(path.join(runDir, CONFIG_FILE), prepared.submitted);
    const run = await this.registry.create(meta, runDir);
    const log = await run.log.acquire();
    for (const message of prepared.warnings) log.append('log', { level: 'warn', message });
    this.supervisor.launch(run, { kind: 'run', config: prepared.config, runDir, configDir: prepared.configDir, resume: false, cacheDir: this.opts.cacheDir, ...(placement ? { placement } : {}) });
    run.log.release();
    return this.registry.summary(run);
  }

  /**
   * Starts a derived run of `kind` (daemon/pipeline/derived.ts) from a completed run: a new run folder beside it
   * (run.json's `derivedFrom` and `derived`), its own log and worker. The source run is only read. Refused
   * (InvalidRunState) unless the source completed; a synthetic run has nothing to derive from.
   */
  async startDerived<K extends DerivedKind>(sourceRunId: string, kind: K, options: DerivedJobOptions[K]): Promise<RunSummary> {
    this.refuseWhenClosing();
    const source = this.registry.get(sourceRunId);
    if (source.meta.synthetic) throw runError(MantaErrorCodes.InvalidRunState, `run ${sourceRunId} is a synthetic run: it has no supernet to make a ${kind} run from`);
    if (source.status !== 'completed') {
      throw runError(MantaErrorCodes.InvalidRunState, `run ${sourceRunId} is ${source.status}; a ${kind} run is made from a completed run`);
    }
    const { runId, runDir } = await createRunFolder(path.dirname(source.runDir), `${source.meta.name}-${kind}`);
    const spec = { kind, sourceRunId, sourceRunDir: source.runDir, options } as DerivedJobSpec;
    const meta: RunMeta = { ...this.registry.newMeta(runId, source.meta.name, source.meta.configDir), derivedFrom: { runId: sourceRunId, kind }, derived: spec };
    const run = await this.registry.create(meta, runDir);
    this.supervisor.launch(run, { kind: 'derived', spec, runDir, cacheDir: this.opts.cacheDir, resume: false });
    return this.registry.summary(run);
  }

  async startSynthetic(params: StartSyntheticRunParams): Promise<RunSummary> {
    this.refuseWhenClosing();
    const { runId, runDir } = await createRunFolder(path.join(this.opts.stateDir, 'synthetic-runs'), params.name);
    const meta = { ...this.registry.newMeta(runId, params.name, runDir), synthetic: params };
    const run = await this.registry.create(meta, runDir);
    this.supervisor.launch(run, { kind: 'synthetic', params, runDir, resume: false });
    return this.registry.summary(run);
  }

  // ——— control ———

  /** Stops a run for good; waits for its worker to finish (or kills it after the grace period). */
  stop(runId: string): Promise<RunSummary> {
    const run = this.registry.get(runId);
    return this.locked(run, async () => {
      if (run.worker) {
        await this.supervisor.stopWorker(run, 'stop');
      } else if (this.supervisor.dropWaiting(run)) {
        await this.finish(run, 'stopped', 'stopped by request while it waited for GPUs');
      } else if (RESUMABLE.has(run.status)) {
        await this.finish(run, 'stopped', 'stopped by request');
      } else {
        throw runError(MantaErrorCodes.InvalidRunState, `run ${runId} is ${run.status}; only a running, paused or interrupted run can be stopped`);
      }
      return this.registry.summary(run);
    });
  }

  /** Stops a run's worker, keeping what its checkpoints hold; resume continues it. */
  pause(runId: string): Promise<RunSummary> {
    const run = this.registry.get(runId);
    return this.locked(run, async () => {
      if (!run.worker || run.status !== 'running') {
        throw runError(MantaErrorCodes.InvalidRunState, `run ${runId} is ${run.status}; only a running run can be paused`);
      }
      await this.supervisor.stopWorker(run, 'pause');
      return this.registry.summary(run);
    });
  }

  /**
   * Continues a paused or interrupted run from its last good checkpoint: the newest checkpoint file that decodes and
   * whose `checkpoint` event is in the log. The log is cut back to that event, newer checkpoint files (never
   * logged, or corrupt) are removed, and a worker resumes the job from it; the events left before the cut are the
   * earlier attempts' history, which the worker reads back for the job.
   */
  resume(runId: string, placement?: JobPlacement): Promise<RunSummary> {
    const run = this.registry.get(runId);
    return this.locked(run, async () => {
      this.refuseWhenClosing();
      if (!isResumable(run)) {
        throw runError(MantaErrorCodes.InvalidRunState, `run ${runId} is ${run.status}; only a paused or interrupted run can be resumed, or a failed one that trained in a job across hosts`);
      }
      await ensureOldWorkerGone(run);
      const job = await resumeJob(run, this.opts.cacheDir); // first: a config that no longer validates changes nothing
      if (job.kind === 'run') {
        checkResumePlacement(run.meta, placement);
        if (placement) job.placement = placement;
      }
      const log = await run.log.acquire();
      try {
        const checkpoint = await pickCheckpoint(run.runDir, log, (m) => this.opts.warn(`run ${runId}: ${m}`, runId));
        await testPause('resume.picked', runId);
        job.resume = checkpoint !== undefined;
        const lastSeq = checkpoint ? checkpoint.seq : -1;
        if (lastSeq + 1 < log.nextSeq) {
          await log.truncateAfter(lastSeq);
          await testPause('resume.truncated', runId);
          run.nextSeq = log.nextSeq;
          await this.registry.refold(run, log);
          // Tell every client before anything is appended again, then move the cursors back.
          this.registry.announce(run, lastSeq);
          for (const a of run.attachments.values()) a.cutBack(lastSeq);
        }
        if (job.kind === 'run' && checkpoint) job.historyToSeq = lastSeq;
        log.append('log', {
          level: 'info',
          message:
            run.meta.job && run.meta.job.hostIndex > 0
              ? `resuming as host ${run.meta.job.hostIndex + 1} of the job: training continues from the last checkpoint of host '${run.meta.job.hosts[0]}'`
              : checkpoint
                ? `resuming from the checkpoint of step ${checkpoint.step}`
                : 'no usable checkpoint: restarting the run from the beginning',
        });
        // The cut and what the resume continues from are on disk before the worker starts.
        await log.flush();
        this.supervisor.launch(run, job);
      } finally {
        run.log.release();
      }
      return this.registry.summary(run);
    });
  }

  // ——— clients ———

  async attach(sink: EventSink, runId: string, fromSeq: number): Promise<RunSummary> {
    const run = this.registry.get(runId);
    const old = run.attachments.get(sink);
    if (old) {
      old.close();
      run.attachments.delete(sink);
      run.log.release();
    }
    const log = await run.log.acquire();
    const attachment = new Attachment(runId, log, sink, fromSeq, (m) => this.opts.warn(m, runId));
    run.attachments.set(sink, attachment);
    // Start after the attach response is on its way (the handler returns first).
    setImmediate(() => attachment.kick());
    return this.registry.summary(run);
  }

  detach(sink: EventSink, runId: string): boolean {
    const run = this.registry.get(runId);
    const attachment = run.attachments.get(sink);
    if (!attachment) return false;
    attachment.close();
    run.attachments.delete(sink);
    run.log.release();
    return true;
  }

  /** A connection closed: detach it everywhere. */
  detachAll(sink: EventSink): void {
    for (const run of this.registry.all()) {
      if (run.attachments.has(sink)) this.detach(sink, run.meta.runId);
    }
  }

  /** Stops every worker, leaving their runs resumable (listed as interrupted by the next daemon). */
  async shutdown(): Promise<string[]> {
    this.closing = true;
    const active = this.registry.all().filter((r) => r.worker);
    await Promise.all(active.map((run) => this.supervisor.stopWorker(run, 'shutdown')));
    for (const run of this.registry.all()) {
      for (const a of run.attachments.values()) a.close();
      run.attachments.clear();
      await run.log.closeNow();
    }
    return active.map((r) => r.meta.runId);
  }

  // ——— internals ———

  private refuseWhenClosing(): void {
    if (this.closing) throw runError(MantaErrorCodes.ShuttingDown, 'the daemon is shutting down and starts no runs');
  }

  private locked<T>(run: RunRecord, op: () => Promise<T>): Promise<T> {
    const next = run.lock.then(op, op);
    run.lock = next.catch(() => undefined);
    return next;
  }

  /** Finishes a run that has no worker (stop of a paused or interrupted run). */
  private async finish(run: RunRecord, status: 'stopped', message: string): Promise<void> {
    const log = await run.log.acquire();
    try {
      if (run.lastKind !== 'run.finished') log.append('run.finished', { status, message, wallMs: Date.now() - run.meta.createdAt });
      await log.sync();
    } finally {
      run.log.release();
    }
    await this.registry.setStatus(run, status, message);
  }
}

function withoutToken(p: JobPlacement): Omit<JobPlacement, 'token'> {
  const { token: _token, ...rest } = p;
  return rest;
}

/** A run that trained across hosts resumes only as the same host of the same job (its peers resume with it). */
function checkResumePlacement(meta: RunMeta, placement: JobPlacement | undefined): void {
  const was = meta.job;
  if (!was && !placement) return;
  if (was && !placement) {
    throw runError(MantaErrorCodes.InvalidRunState, `run ${meta.runId} trained as host ${was.hostIndex + 1} of a job across ${was.hosts.join(', ')}; resume it with the job's placement (manta/resumeRun with job), on every host of the job`);
  }
  if (!was && placement) throw runError(MantaErrorCodes.InvalidRunState, `run ${meta.runId} trained on this host alone; it cannot resume as part of a job across hosts`);
  if (was && placement && (was.hostIndex !== placement.hostIndex || was.hosts.join('\n') !== placement.hosts.join('\n') || was.workersPerHost !== placement.workersPerHost)) {
    throw runError(MantaErrorCodes.InvalidRunState, `run ${meta.runId} was host ${was.hostIndex + 1} of ${was.hosts.join(', ')} with ${was.workersPerHost} workers each; resume it with the same hosts, position and workers`);
  }
}
