// The daemon's runs: each run's directory, status and event log, its worker process, and the clients attached to
// it. Workers stream event bodies; this module numbers them (through the log), stores them in batches and wakes the
// attached clients. Status changes are written to run.json and announced through `onStatus`.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ResponseError } from 'vscode-jsonrpc/node';
import { MantaErrorCodes, type MantaErrorData } from '../protocol/errors';
import type { RunProgress, RunStatus, RunSummary, StartSyntheticRunParams } from '../protocol/methods';
import { decodeCheckpoint } from '../train/checkpoint-codec';
import { listCheckpointFiles, removeStaleTempFiles } from '../train/checkpoint-files';
import { Attachment, type EventSink } from './attachment';
import { EventLog } from './event-log';
import type { PreparedRun } from './prepare-run';
import { applyBodies, applyEvent } from './progress';
import {
  CHECKPOINT_DIR,
  CONFIG_FILE,
  EVENTS_FILE,
  listRegisteredRuns,
  newRunId,
  readRunMeta,
  registerRun,
  writeJsonAtomic,
  writeRunMeta,
  type RunMeta,
} from './run-files';
import { forkWorker, type FromWorker, type JobOutcome, type WorkerEntry, type WorkerJob } from './worker-ipc';

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

interface Run {
  meta: RunMeta;
  runDir: string;
  status: RunStatus;
  nextSeq: number;
  progress: RunProgress;
  log?: Promise<EventLog>;
  logRefs: number;
  logClosing: Promise<void>;
  worker?: ChildProcess;
  exited?: Promise<void>;
  outcome?: { outcome: JobOutcome; message?: string; reason?: string };
  stopping?: 'stop' | 'pause' | 'shutdown';
  lastKind?: string;
  attachments: Map<EventSink, Attachment>;
  outputTail: string[];
  /** Control operations (start, stop, pause, resume) of a run run one at a time. */
  lock: Promise<unknown>;
  /** Writes of run.json, one at a time. */
  metaWrite: Promise<void>;
}

const RESUMABLE: ReadonlySet<RunStatus> = new Set(['paused', 'interrupted']);

function runError(code: number, message: string): ResponseError<MantaErrorData> {
  return new ResponseError<MantaErrorData>(code, message);
}

export class RunManager {
  private readonly runs = new Map<string, Run>();
  private closing = false;

  constructor(private readonly opts: RunManagerOptions) {}

  /** Finds the runs of earlier daemons; one whose run.json says running lost its worker: interrupted. */
  async load(): Promise<void> {
    for (const { runId, runDir } of await listRegisteredRuns(this.opts.stateDir, (m) => this.opts.warn(m))) {
      let meta: RunMeta;
      try {
        meta = await readRunMeta(runDir);
      } catch (e) {
        this.opts.warn(`skipping run ${runId}: ${(e as Error).message}`);
        continue;
      }
      const run = this.record(meta, runDir);
      if (meta.status === 'running') {
        run.status = 'interrupted';
        run.meta.message = 'its daemon stopped before it finished; resume continues from the last checkpoint';
      }
      try {
        const log = await EventLog.open(path.join(runDir, EVENTS_FILE), (m) => this.opts.warn(m, runId));
        run.nextSeq = log.nextSeq;
        for (const e of await log.tail()) {
          applyEvent(run.progress, e.kind, e.data);
          run.lastKind = e.kind;
        }
        await log.close();
      } catch (e) {
        this.opts.warn(`cannot read the event log of run ${runId}: ${(e as Error).message}`, runId);
      }
      this.runs.set(runId, run);
    }
  }

  list(): RunSummary[] {
    return [...this.runs.values()].sort((a, b) => a.meta.createdAt - b.meta.createdAt).map((r) => this.summary(r));
  }

  get activeCount(): number {
    return [...this.runs.values()].filter((r) => r.worker).length;
  }

  /** The directory and config of a run, for tasks (export, latency table). */
  async configOf(runId: string): Promise<{ runDir: string; configDir: string; config: unknown }> {
    const run = this.get(runId);
    const config: unknown = JSON.parse(await fs.readFile(path.join(run.runDir, CONFIG_FILE), 'utf8'));
    return { runDir: run.runDir, configDir: run.meta.configDir, config };
  }

  // ——— starting ———

  async start(prepared: PreparedRun): Promise<RunSummary> {
    this.refuseWhenClosing();
    const runId = newRunId(prepared.config.name, new Date(), randomBytes(2).toString('hex'));
    const runDir = path.join(prepared.runsDir, runId);
    const meta = this.newMeta(runId, prepared.config.name, prepared.configDir, prepared.configPath);
    await fs.mkdir(runDir, { recursive: true });
    await writeJsonAtomic(path.join(runDir, CONFIG_FILE), prepared.submitted);
    const run = await this.create(meta, runDir);
    const log = await this.acquireLog(run);
    for (const message of prepared.warnings) log.append('log', { level: 'warn', message });
    this.launch(run, { kind: 'run', config: prepared.config, runDir, configDir: prepared.configDir, resume: false, cacheDir: this.opts.cacheDir });
    this.releaseLog(run);
    return this.summary(run);
  }

  async startSynthetic(params: StartSyntheticRunParams): Promise<RunSummary> {
    this.refuseWhenClosing();
    const runId = newRunId(params.name, new Date(), randomBytes(2).toString('hex'));
    const runDir = path.join(this.opts.stateDir, 'synthetic-runs', runId);
    const meta = { ...this.newMeta(runId, params.name, runDir), synthetic: params };
    await fs.mkdir(runDir, { recursive: true });
    const run = await this.create(meta, runDir);
    this.launch(run, { kind: 'synthetic', params, runDir, resume: false });
    return this.summary(run);
  }

  // ——— control ———

  /** Stops a run for good; waits for its worker to finish (or kills it after the grace period). */
  stop(runId: string): Promise<RunSummary> {
    const run = this.get(runId);
    return this.locked(run, async () => {
      if (run.worker) {
        await this.stopWorker(run, 'stop');
      } else if (RESUMABLE.has(run.status)) {
        await this.finish(run, 'stopped', 'stopped by request');
      } else {
        throw runError(MantaErrorCodes.InvalidRunState, `run ${runId} is ${run.status}; only a running, paused or interrupted run can be stopped`);
      }
      return this.summary(run);
    });
  }

  /** Stops a run's worker, keeping what its checkpoints hold; resume continues it. */
  pause(runId: string): Promise<RunSummary> {
    const run = this.get(runId);
    return this.locked(run, async () => {
      if (!run.worker || run.status !== 'running') {
        throw runError(MantaErrorCodes.InvalidRunState, `run ${runId} is ${run.status}; only a running run can be paused`);
      }
      await this.stopWorker(run, 'pause');
      return this.summary(run);
    });
  }

  /**
   * Continues a paused or interrupted run from its last good checkpoint: the newest checkpoint file that decodes and
   * whose `checkpoint` event is in the log. The log is cut back to that event, newer checkpoint files (never
   * logged, or corrupt) are removed, and a worker resumes the job from it.
   */
  resume(runId: string): Promise<RunSummary> {
    const run = this.get(runId);
    return this.locked(run, async () => {
      this.refuseWhenClosing();
      if (!RESUMABLE.has(run.status)) {
        throw runError(MantaErrorCodes.InvalidRunState, `run ${runId} is ${run.status}; only a paused or interrupted run can be resumed`);
      }
      await this.ensureOldWorkerGone(run);
      const job = await this.jobFor(run); // first: a config that no longer validates changes nothing
      const log = await this.acquireLog(run);
      try {
        const checkpoint = await this.pickCheckpoint(run, log);
        job.resume = checkpoint !== undefined;
        const lastSeq = checkpoint ? checkpoint.seq : -1;
        if (lastSeq + 1 < log.nextSeq) {
          await log.truncateAfter(lastSeq);
          run.nextSeq = log.nextSeq;
          run.progress = {};
          run.lastKind = undefined;
          for (const e of await log.tail()) {
            applyEvent(run.progress, e.kind, e.data);
            run.lastKind = e.kind;
          }
          // Tell every client before anything is appended again, then move the cursors back.
          this.opts.onStatus(this.summary(run), lastSeq);
          for (const a of run.attachments.values()) a.cutBack(lastSeq);
        }
        log.append('log', {
          level: 'info',
          message: checkpoint ? `resuming from the checkpoint of step ${checkpoint.step}` : 'no usable checkpoint: restarting the run from the beginning',
        });
        this.launch(run, job);
      } finally {
        this.releaseLog(run);
      }
      return this.summary(run);
    });
  }

  // ——— clients ———

  async attach(sink: EventSink, runId: string, fromSeq: number): Promise<RunSummary> {
    const run = this.get(runId);
    const old = run.attachments.get(sink);
    if (old) {
      old.close();
      run.attachments.delete(sink);
      this.releaseLog(run);
    }
    const log = await this.acquireLog(run);
    const attachment = new Attachment(runId, log, sink, fromSeq, (m) => this.opts.warn(m, runId));
    run.attachments.set(sink, attachment);
    // Start after the attach response is on its way (the handler returns first).
    setImmediate(() => attachment.kick());
    return this.summary(run);
  }

  detach(sink: EventSink, runId: string): boolean {
    const run = this.get(runId);
    const attachment = run.attachments.get(sink);
    if (!attachment) return false;
    attachment.close();
    run.attachments.delete(sink);
    this.releaseLog(run);
    return true;
  }

  /** A connection closed: detach it everywhere. */
  detachAll(sink: EventSink): void {
    for (const run of this.runs.values()) {
      if (run.attachments.has(sink)) this.detach(sink, run.meta.runId);
    }
  }

  /** Stops every worker, leaving their runs resumable (listed as interrupted by the next daemon). */
  async shutdown(): Promise<string[]> {
    this.closing = true;
    const active = [...this.runs.values()].filter((r) => r.worker);
    await Promise.all(active.map((run) => this.stopWorker(run, 'shutdown')));
    for (const run of this.runs.values()) {
      for (const a of run.attachments.values()) a.close();
      run.attachments.clear();
      if (run.log) {
        const log = await run.log;
        await log.close();
        run.log = undefined;
      }
    }
    return active.map((r) => r.meta.runId);
  }

  // ——— internals ———

  private get(runId: string): Run {
    const run = this.runs.get(runId);
    if (!run) throw runError(MantaErrorCodes.UnknownRun, `no run '${runId}' on this daemon; manta/listRuns lists the runs`);
    return run;
  }

  private refuseWhenClosing(): void {
    if (this.closing) throw runError(MantaErrorCodes.ShuttingDown, 'the daemon is shutting down and starts no runs');
  }

  private locked<T>(run: Run, op: () => Promise<T>): Promise<T> {
    const next = run.lock.then(op, op);
    run.lock = next.catch(() => undefined);
    return next;
  }

  private newMeta(runId: string, name: string, configDir: string, configPath?: string): RunMeta {
    const now = Date.now();
    return { format: 1, runId, name, createdAt: now, updatedAt: now, configDir, ...(configPath ? { configPath } : {}), status: 'running' };
  }

  private record(meta: RunMeta, runDir: string): Run {
    return {
      meta,
      runDir,
      status: meta.status,
      nextSeq: 0,
      progress: {},
      logRefs: 0,
      logClosing: Promise.resolve(),
      attachments: new Map(),
      outputTail: [],
      lock: Promise.resolve(),
      metaWrite: Promise.resolve(),
    };
  }

  private async create(meta: RunMeta, runDir: string): Promise<Run> {
    await writeRunMeta(runDir, meta);
    await registerRun(this.opts.stateDir, meta.runId, runDir);
    const run = this.record(meta, runDir);
    this.runs.set(meta.runId, run);
    return run;
  }

  private summary(run: Run): RunSummary {
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
      resumable: RESUMABLE.has(run.status),
    };
  }

  /** The log, opened on first use and closed when neither a worker nor a client needs it. */
  private acquireLog(run: Run): Promise<EventLog> {
    run.logRefs++;
    if (!run.log) {
      const file = path.join(run.runDir, EVENTS_FILE);
      run.log = run.logClosing.then(async () => {
        const log = await EventLog.open(file, (m) => this.opts.warn(m, run.meta.runId));
        log.onAppend(() => {
          run.nextSeq = log.nextSeq;
          for (const a of run.attachments.values()) a.kick();
        });
        run.nextSeq = log.nextSeq;
        return log;
      });
      run.log.catch(() => {
        run.log = undefined;
      });
    }
    return run.log.catch((e: Error) => {
      run.logRefs--;
      throw e;
    });
  }

  private releaseLog(run: Run): void {
    if (--run.logRefs > 0 || !run.log) return;
    const opened = run.log;
    run.log = undefined;
    run.logClosing = opened.then((log) => log.close()).catch((e: Error) => this.opts.warn(`closing the event log: ${e.message}`, run.meta.runId));
  }

  private async setStatus(run: Run, status: RunStatus, message?: string, truncatedToSeq?: number): Promise<void> {
    run.status = status;
    run.meta.status = status;
    run.meta.updatedAt = Date.now();
    if (message !== undefined) run.meta.message = message;
    else delete run.meta.message;
    const snapshot = { ...run.meta };
    run.metaWrite = run.metaWrite.then(() =>
      writeRunMeta(run.runDir, snapshot).catch((e: Error) => this.opts.warn(`cannot write ${path.join(run.runDir, 'run.json')}: ${e.message}`, run.meta.runId)),
    );
    await run.metaWrite;
    this.opts.onStatus(this.summary(run), truncatedToSeq);
  }

  private launch(run: Run, job: WorkerJob): void {
    const runId = run.meta.runId;
    let logReady: Promise<EventLog> | undefined = this.acquireLog(run);
    logReady.catch((e: Error) => this.opts.warn(`cannot open the event log of run ${runId}: ${e.message}; its events are lost`, runId));
    const child = forkWorker(this.opts.workerEntry());
    run.worker = child;
    run.outcome = undefined;
    run.stopping = undefined;
    run.outputTail = [];
    run.meta.workerPid = child.pid;
    void this.setStatus(run, 'running');
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
          await this.workerExited(run, code, signal).catch((e: Error) => this.opts.warn(`run ${runId}: ${e.message}`, runId));
          logReady = undefined;
          this.releaseLog(run);
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

  private workerLine(run: Run, line: string): void {
    if (line.trim() === '') return;
    run.outputTail.push(line);
    if (run.outputTail.length > 20) run.outputTail.shift();
    this.opts.workerOutput(run.meta.runId, line);
  }

  private async workerExited(run: Run, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    run.worker = undefined;
    const log = await run.log;
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
    await this.setStatus(run, status, message);
  }

  private async stopWorker(run: Run, why: 'stop' | 'pause' | 'shutdown'): Promise<void> {
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

  /** Finishes a run that has no worker (stop of a paused or interrupted run). */
  private async finish(run: Run, status: 'stopped', message: string): Promise<void> {
    const log = await this.acquireLog(run);
    try {
      if (run.lastKind !== 'run.finished') log.append('run.finished', { status, message, wallMs: Date.now() - run.meta.createdAt });
      await log.sync();
    } finally {
      this.releaseLog(run);
    }
    await this.setStatus(run, status, message);
  }

  /** The job that resumes `run` (from its last checkpoint; `resume` is cleared when there is none). */
  private async jobFor(run: Run): Promise<Extract<WorkerJob, { kind: 'run' | 'synthetic' }>> {
    const resume = true;
    if (run.meta.synthetic) return { kind: 'synthetic', params: run.meta.synthetic, runDir: run.runDir, resume };
    const { validateConfig } = await import('../../schemas');
    const submitted: unknown = JSON.parse(await fs.readFile(path.join(run.runDir, CONFIG_FILE), 'utf8'));
    const result = validateConfig(submitted);
    if (!result.ok) {
      throw runError(MantaErrorCodes.InvalidConfig, `the stored config of run ${run.meta.runId} no longer validates: ${result.problems.map((p) => p.message).join('; ')}`);
    }
    return { kind: 'run', config: result.config, runDir: run.runDir, configDir: run.meta.configDir, resume, cacheDir: this.opts.cacheDir };
  }

  /** The newest checkpoint that decodes and was logged; newer files are removed so the job resumes from this one. */
  private async pickCheckpoint(run: Run, log: EventLog): Promise<{ step: number; seq: number } | undefined> {
    const dir = path.join(run.runDir, CHECKPOINT_DIR);
    await removeStaleTempFiles(dir);
    const logged = new Map<number, number>();
    for (const e of await log.findLines('"kind":"checkpoint"')) {
      const step = (e.data as { step?: unknown }).step;
      if (e.kind === 'checkpoint' && typeof step === 'number') logged.set(step, e.seq);
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
      this.opts.warn(`run ${run.meta.runId}: discarding checkpoint ${path.basename(file.path)}: ${why}`, run.meta.runId);
      await fs.rm(file.path, { force: true });
    }
    return undefined;
  }

  /** A worker of an earlier daemon may still be finishing (it exits when it notices): make sure it is gone. */
  private async ensureOldWorkerGone(run: Run): Promise<void> {
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
}
