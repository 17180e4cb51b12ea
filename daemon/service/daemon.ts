// The daemon: serves the protocol on stdio and/or the Unix socket, checks every request (handshake, method, params)
// before its handler runs, owns the runs, and shuts down cleanly on manta/shutdown or SIGTERM — leaving running
// runs resumable. Nothing a client sends can take it down: framing errors close that connection, bad requests get
// JSON-RPC errors.
import type * as net from 'node:net';
import * as path from 'node:path';
import {
  createMessageConnection,
  ResponseError,
  type CancellationToken,
  type Logger,
  type Message,
  type NotificationType,
} from 'vscode-jsonrpc/node';
import { checkGpuEngine } from '../engine/gpu-check';
import { MantaErrorCodes, type MantaErrorData } from '../protocol/errors';
import { DaemonLogNotification, Methods, RunStatusNotification, type GpuEngineStatus, type RequestMethod } from '../protocol/methods';
import { PROTOCOL_VERSION } from '../protocol/version';
import { isUserError } from '../protocol/user-error';
import { FramedMessageWriter, GuardedMessageReader } from './framing';
import { handlers, type DaemonServices } from './handlers';
import type { HostProbe } from './jobs/tasks';
import { checkParams, invalidParams } from './params';
import { RunManager } from './runs';
import { Session } from './session';
import { IdleWatch } from './idle-exit';
import { acquireInstanceLock, type InstanceLock, type LockHolder } from './instance-lock';
import { limitReason, limits } from './limits';
import { ensurePrivateDir, ensureStateDir } from './paths';
import { listenOnSocket, type SocketListener } from './socket-server';
import { TaskQueue } from './task-queue';
import { resolveWorkerEntry, type WorkerEntry, type WorkerTask } from './worker-ipc';
import { runWorkerTask } from './worker-task';

export interface DaemonOptions {
  /** MANTA's version, reported by hello and hostInfo. */
  version: string;
  /** Listen on this Unix socket (absent: no socket). */
  socketPath?: string;
  /** Serve one client on these streams (the stdin/stdout of `manta daemon --stdio`). */
  stdio?: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream };
  /** The daemon's state: the registry of runs, synthetic runs. */
  stateDir: string;
  /** Caches (latency tables). */
  cacheDir: string;
  /** Roots every path of a request must lie in (besides a config's own folder); empty: no extra limit. */
  allowedRoots: string[];
  /** Serve manta/startSyntheticRun (benchmarks, tests). */
  syntheticRuns?: boolean;
  /** Where the daemon's own log lines go (stderr). */
  log: (line: string) => void;
  /** Exit (as manta/shutdown does) after this long with no client and no active run; 0 or absent: never. */
  idleExitMs?: number;
  workerEntry?: () => WorkerEntry;
  stopGraceMs?: number;
}

export class Daemon implements DaemonServices {
  readonly runs: RunManager;
  readonly startedAt = Date.now();
  private readonly sessions = new Set<Session>();
  private socket: SocketListener | undefined;
  private readonly locks: InstanceLock[] = [];
  /** The one queue of worker-forking requests (limits.taskConcurrency at once). */
  private readonly tasks = new TaskQueue();
  private probe: Promise<HostProbe> | undefined;
  private gpuCheck: Promise<GpuEngineStatus> | undefined;
  private idle: IdleWatch | undefined;
  private stopping: Promise<void> | undefined;
  private resolveClosed!: () => void;
  /** Resolves once the daemon has shut down. */
  readonly closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));
  private readonly entry: () => WorkerEntry;

  private constructor(private readonly opts: DaemonOptions) {
    let cached: WorkerEntry | undefined;
    this.entry = opts.workerEntry ?? (() => (cached ??= resolveWorkerEntry()));
    this.runs = new RunManager({
      stateDir: opts.stateDir,
      cacheDir: opts.cacheDir,
      workerEntry: this.entry,
      warn: (message, runId) => this.warn(message, runId),
      onStatus: (run, truncatedToSeq) => {
        this.idle?.poke();
        this.broadcast(RunStatusNotification, { run, ...(truncatedToSeq !== undefined ? { truncatedToSeq } : {}) });
      },
      workerOutput: (runId, line) => opts.log(`[${runId}] ${line}`),
      stopGraceMs: opts.stopGraceMs,
    });
  }

  static async start(opts: DaemonOptions): Promise<Daemon> {
    const daemon = new Daemon(opts);
    try {
      await daemon.lock();
      await daemon.runs.load();
    } catch (e) {
      await daemon.unlock();
      throw e;
    }
    if (opts.socketPath) {
      try {
        daemon.socket = await listenOnSocket(opts.socketPath, (s) => daemon.serveSocket(s), {
          pid: process.pid,
          version: opts.version,
          protocolVersion: PROTOCOL_VERSION,
          startedAt: daemon.startedAt,
        }, (e) => opts.log(`socket: ${e.message}`));
      } catch (e) {
        await daemon.runs.shutdown().catch(() => undefined);
        await daemon.unlock();
        throw e;
      }
    }
    if (opts.stdio) daemon.serve(opts.stdio.input, opts.stdio.output, 'stdio', () => undefined);
    opts.log(`manta daemon ${opts.version} (protocol ${PROTOCOL_VERSION}) pid ${process.pid}${opts.socketPath ? ` on ${opts.socketPath}` : ''}${opts.stdio ? ' and stdio' : ''}`);
    if (opts.idleExitMs && opts.idleExitMs > 0) {
      const seconds = opts.idleExitMs / 1000;
      opts.log(`exits after ${seconds} s with no client and no active run (--idle-exit)`);
      daemon.idle = new IdleWatch(opts.idleExitMs, () => daemon.sessions.size === 0 && !daemon.runs.busy, () => {
        opts.log(`no client and no active run for ${seconds} s (--idle-exit ${seconds}): exiting`);
        void daemon.shutdown();
      });
    }
    return daemon;
  }

  /**
   * One daemon per state folder and per socket: takes both locks (instance-lock.ts) before anything of the state is
   * read, or throws naming the daemon that holds them.
   */
  private async lock(): Promise<void> {
    const holder: LockHolder = { pid: process.pid, version: this.opts.version, stateDir: this.opts.stateDir, startedAt: this.startedAt, ...(this.opts.socketPath ? { socketPath: this.opts.socketPath } : {}) };
    await ensureStateDir(this.opts.stateDir);
    this.locks.push(await acquireInstanceLock(this.opts.stateDir, 'state', holder, `the state folder ${this.opts.stateDir}`));
    if (this.opts.socketPath) {
      const dir = path.dirname(this.opts.socketPath);
      await ensurePrivateDir(dir);
      this.locks.push(await acquireInstanceLock(dir, `socket:${path.basename(this.opts.socketPath)}`, holder, `the socket ${this.opts.socketPath}`));
    }
  }

  private async unlock(): Promise<void> {
    for (const l of this.locks.splice(0).reverse()) await l.release().catch(() => undefined);
  }

  get version(): string {
    return this.opts.version;
  }
  get socketPath(): string | undefined {
    return this.opts.socketPath;
  }
  get allowedRoots(): string[] {
    return this.opts.allowedRoots;
  }
  get cacheDir(): string {
    return this.opts.cacheDir;
  }
  get syntheticRuns(): boolean {
    return this.opts.syntheticRuns ?? false;
  }

  /** The backend probe (in a worker, once; a failed probe is retried next time). */
  probeHost(): Promise<HostProbe> {
    if (!this.probe) {
      this.probe = this.runTask({ name: 'hostProbe' }) as Promise<HostProbe>;
      this.probe.catch(() => (this.probe = undefined));
    }
    return this.probe;
  }

  /** The GPU engine check (a child process, once; a failed check is retried next time). */
  gpuEngine(): Promise<GpuEngineStatus> {
    if (!this.gpuCheck) {
      this.gpuCheck = checkGpuEngine();
      this.gpuCheck.catch(() => (this.gpuCheck = undefined));
    }
    return this.gpuCheck;
  }

  runTask(task: WorkerTask, token?: CancellationToken): Promise<unknown> {
    if (this.stopping) return Promise.reject(new ResponseError<MantaErrorData>(MantaErrorCodes.ShuttingDown, 'the daemon is shutting down'));
    return this.tasks.run(`manta task ${task.name}`, () => runWorkerTask(this.entry(), task, (line) => this.opts.log(`[${task.name}] ${line}`), token), token);
  }

  /** Stops the workers (their runs stay resumable), closes every connection and the socket. */
  shutdown(): Promise<void> {
    if (!this.stopping) {
      this.stopping = (async () => {
        this.idle?.stop();
        const interrupted = await this.runs.shutdown();
        if (interrupted.length) this.opts.log(`stopped the workers of ${interrupted.join(', ')}; they resume from their last checkpoints`);
        for (const s of this.sessions) s.close();
        this.sessions.clear();
        await this.socket?.close();
        await this.unlock();
        this.opts.log('manta daemon stopped');
        this.resolveClosed();
      })();
    }
    return this.stopping;
  }

  private warn(message: string, runId?: string): void {
    this.opts.log(`warning: ${message}`);
    this.broadcast(DaemonLogNotification, { level: 'warn', message, ...(runId ? { runId } : {}) });
  }

  /** Sends a notification to every connection that has said hello. */
  broadcast<P>(type: NotificationType<P>, params: P): void {
    for (const s of this.sessions) if (s.handshaken) s.notify(type, params);
  }

  private serveSocket(socket: net.Socket): void {
    socket.on('error', () => undefined); // a peer that vanishes mid-write; close handling does the rest
    let open = 0;
    for (const s of this.sessions) if (s.transport === 'socket') open++;
    if (open >= limits.maxConnections) {
      const message = `too many connections: the daemon serves at most ${limits.maxConnections} at once (limit maxConnections); close another connection and retry`;
      this.opts.log(`refused a connection: ${message}`);
      void new FramedMessageWriter(socket).writeRaw(limitReply(message, 'maxConnections')).then(() => socket.end());
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    this.serve(socket, socket, 'socket', () => socket.destroy());
  }

  private serve(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, transport: 'stdio' | 'socket', destroy: () => void): void {
    const writer = new FramedMessageWriter(output);
    let session: Session | undefined;
    const reader = new GuardedMessageReader(
      input,
      (e) => {
        void writer.writeRaw(JSON.stringify({ jsonrpc: '2.0', id: e.id, error: { code: e.code, message: e.message } })).then(() => {
          if (e.fatal) session?.close();
        });
      },
      { maxHeaderBytes: 8 * 1024, maxBodyBytes: limits.maxFrameBytes },
      (message, bytes) => flow.read(message, bytes),
    );
    const logger: Logger = {
      error: (m) => process.env.MANTA_DEBUG && this.opts.log(`jsonrpc: ${m}`),
      warn: () => undefined,
      info: () => undefined,
      log: () => undefined,
    };
    const connection = createMessageConnection(reader, writer, logger);
    session = new Session(transport, writer, connection, destroy);
    const s = session;
    const flow = new FlowControl(input, output, s);
    this.sessions.add(s);
    this.idle?.poke();
    if (transport === 'socket') {
      // A connection that never says hello is closed after limits.helloTimeoutMs.
      const timer = setTimeout(() => {
        if (s.handshaken || s.closed) return;
        const message = `no manta/hello within ${limits.helloTimeoutMs} ms of connecting (limit helloTimeoutMs); closing the connection`;
        void writer.writeRaw(limitReply(message, 'helloTimeoutMs')).then(() => this.drop(s));
      }, limits.helloTimeoutMs);
      timer.unref();
      connection.onClose(() => clearTimeout(timer));
    }
    connection.onRequest(async (method: string, params: unknown, token: CancellationToken) => {
      if (flow.inFlight >= limits.maxInFlightRequests) {
        flow.answered(params);
        throw new ResponseError<MantaErrorData>(
          MantaErrorCodes.UserError,
          `${method} refused: this connection already has ${flow.inFlight} requests without an answer (limit maxInFlightRequests = ${limits.maxInFlightRequests}); wait for answers before sending more`,
          { reason: limitReason('maxInFlightRequests') },
        );
      }
      flow.inFlight++;
      try {
        return await this.dispatch(s, method, params, token);
      } finally {
        flow.inFlight--;
        flow.answered(params);
      }
    });
    connection.onClose(() => this.drop(s));
    connection.onError(() => undefined); // read errors are answered by the reader; write errors end in close
    connection.listen();
  }

  private drop(session: Session): void {
    if (!this.sessions.delete(session)) return;
    this.idle?.poke();
    this.runs.detachAll(session);
    session.close();
    // A daemon reachable only through stdio has nobody left to serve.
    if (session.transport === 'stdio' && !this.socket) void this.shutdown();
  }

  private async dispatch(session: Session, method: string, params: unknown, token: CancellationToken): Promise<unknown> {
    if (!Object.prototype.hasOwnProperty.call(handlers, method)) {
      throw new ResponseError<MantaErrorData>(MantaErrorCodes.MethodNotFound, `unknown method '${method}'; the daemon serves ${Object.keys(handlers).join(', ')}`);
    }
    const m = method as RequestMethod;
    if (m !== Methods.hello && !session.handshaken) {
      throw new ResponseError<MantaErrorData>(MantaErrorCodes.HandshakeRequired, `send manta/hello (protocol ${PROTOCOL_VERSION}) before ${method}`);
    }
    const problems = checkParams(m, params);
    if (problems.length > 0) throw invalidParams(method, problems);
    try {
      return await handlers[m]({ daemon: this, session, token }, (params ?? {}) as never);
    } catch (e) {
      if (e instanceof ResponseError) throw e;
      if (isUserError(e)) throw new ResponseError<MantaErrorData>(MantaErrorCodes.UserError, e.message, { reason: e.reason });
      this.opts.log(`internal error in ${method}: ${(e as Error)?.stack ?? String(e)}`);
      throw new ResponseError<MantaErrorData>(MantaErrorCodes.InternalError, `${method} failed: ${(e as Error)?.message ?? String(e)}`);
    }
  }
}

/** A JSON-RPC error message (`id: null`) for a limit that was hit: UserError, `data.reason` = `limit.<name>`. */
function limitReply(message: string, name: Parameters<typeof limitReason>[0]): string {
  const data: MantaErrorData = { reason: limitReason(name) };
  return JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: MantaErrorCodes.UserError, message, data } });
}

/**
 * Backpressure for one connection. The daemon stops reading a connection's requests while
 * - the replies it has not read exceed limits.maxReplyBacklogBytes (a client that never reads), or
 * - more than 2 × limits.maxInFlightRequests requests it sent are read but not answered yet (a pipelined burst:
 *   those beyond maxInFlightRequests are answered with an error naming it), or
 * - the requests read but not answered hold more than limits.maxFrameBytes,
 * and reads again once that is no longer so. What a client can make the daemon hold is thus bounded: the reply
 * backlog, the requests read (by count and bytes), one read chunk and the kernel's socket buffers.
 */
class FlowControl {
  /** Requests whose handler runs now. */
  inFlight = 0;
  /** Requests read and not answered yet, and their bytes. */
  private unanswered = 0;
  private unansweredBytes = 0;
  private readonly sizes = new WeakMap<object, number>();
  private paused = false;

  constructor(
    private readonly input: NodeJS.ReadableStream,
    private readonly output: NodeJS.WritableStream,
    private readonly session: Session,
  ) {
    output.on('drain', () => this.check());
  }

  private get backlog(): number {
    return (this.output as { writableLength?: number }).writableLength ?? 0;
  }

  /** A message was read (requests are counted until answered). */
  read(message: Message, bytes: number): void {
    const m = message as { id?: unknown; method?: unknown; params?: unknown };
    if (typeof m.method === 'string' && m.id !== undefined && m.id !== null) {
      this.unanswered++;
      if (typeof m.params === 'object' && m.params !== null) {
        this.sizes.set(m.params, bytes);
        this.unansweredBytes += bytes;
      }
    }
    this.check();
  }

  /** A request (identified by its params object, as the handler sees it) was answered. */
  answered(params: unknown): void {
    this.unanswered = Math.max(0, this.unanswered - 1);
    if (typeof params === 'object' && params !== null) {
      const bytes = this.sizes.get(params);
      if (bytes !== undefined) {
        this.sizes.delete(params);
        this.unansweredBytes = Math.max(0, this.unansweredBytes - bytes);
      }
    }
    this.check();
  }

  /** Pauses or resumes reading. */
  check(): void {
    const over =
      this.backlog > limits.maxReplyBacklogBytes || this.unanswered >= 2 * Math.max(1, limits.maxInFlightRequests) || this.unansweredBytes > limits.maxFrameBytes;
    if (over && !this.paused && !this.session.closed) {
      this.paused = true;
      this.input.pause();
    } else if (!over && this.paused) {
      this.paused = false;
      this.input.resume();
    }
  }
}
