// The daemon: serves the protocol on stdio and/or the Unix socket, checks every request (handshake, method, params)
// before its handler runs, owns the runs, and shuts down cleanly on manta/shutdown or SIGTERM — leaving running
// runs resumable. Nothing a client sends can take it down: framing errors close that connection, bad requests get
// JSON-RPC errors.
import type * as net from 'node:net';
import {
  createMessageConnection,
  ResponseError,
  type CancellationToken,
  type Logger,
  type NotificationType,
} from 'vscode-jsonrpc/node';
import { MantaErrorCodes, type MantaErrorData } from '../protocol/errors';
import { DaemonLogNotification, Methods, RunStatusNotification, type RequestMethod } from '../protocol/methods';
import { PROTOCOL_VERSION } from '../protocol/version';
import { isUserError } from '../protocol/user-error';
import { FramedMessageWriter, GuardedMessageReader } from './framing';
import { handlers, type DaemonServices } from './handlers';
import type { HostProbe } from './jobs/tasks';
import { checkParams, invalidParams } from './params';
import { RunManager } from './runs';
import { Session } from './session';
import { listenOnSocket, type SocketListener } from './socket-server';
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
  workerEntry?: () => WorkerEntry;
  stopGraceMs?: number;
}

export class Daemon implements DaemonServices {
  readonly runs: RunManager;
  readonly startedAt = Date.now();
  private readonly sessions = new Set<Session>();
  private socket: SocketListener | undefined;
  private probe: Promise<HostProbe> | undefined;
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
      onStatus: (run, truncatedToSeq) => this.broadcast(RunStatusNotification, { run, ...(truncatedToSeq !== undefined ? { truncatedToSeq } : {}) }),
      workerOutput: (runId, line) => opts.log(`[${runId}] ${line}`),
      stopGraceMs: opts.stopGraceMs,
    });
  }

  static async start(opts: DaemonOptions): Promise<Daemon> {
    const daemon = new Daemon(opts);
    await daemon.runs.load();
    if (opts.socketPath) {
      daemon.socket = await listenOnSocket(opts.socketPath, (s) => daemon.serveSocket(s), {
        pid: process.pid,
        version: opts.version,
        protocolVersion: PROTOCOL_VERSION,
        startedAt: daemon.startedAt,
      }, (e) => opts.log(`socket: ${e.message}`));
    }
    if (opts.stdio) daemon.serve(opts.stdio.input, opts.stdio.output, 'stdio', () => undefined);
    opts.log(`manta daemon ${opts.version} (protocol ${PROTOCOL_VERSION}) pid ${process.pid}${opts.socketPath ? ` on ${opts.socketPath}` : ''}${opts.stdio ? ' and stdio' : ''}`);
    return daemon;
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

  runTask(task: WorkerTask, token?: CancellationToken): Promise<unknown> {
    if (this.stopping) return Promise.reject(new ResponseError<MantaErrorData>(MantaErrorCodes.ShuttingDown, 'the daemon is shutting down'));
    return runWorkerTask(this.entry(), task, (line) => this.opts.log(`[${task.name}] ${line}`), token);
  }

  /** Stops the workers (their runs stay resumable), closes every connection and the socket. */
  shutdown(): Promise<void> {
    if (!this.stopping) {
      this.stopping = (async () => {
        const interrupted = await this.runs.shutdown();
        if (interrupted.length) this.opts.log(`stopped the workers of ${interrupted.join(', ')}; they resume from their last checkpoints`);
        for (const s of this.sessions) s.close();
        this.sessions.clear();
        await this.socket?.close();
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
    this.serve(socket, socket, 'socket', () => socket.destroy());
  }

  private serve(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, transport: 'stdio' | 'socket', destroy: () => void): void {
    const writer = new FramedMessageWriter(output);
    let session: Session | undefined;
    const reader = new GuardedMessageReader(input, (e) => {
      void writer.writeRaw(JSON.stringify({ jsonrpc: '2.0', id: e.id, error: { code: e.code, message: e.message } })).then(() => {
        if (e.fatal) session?.close();
      });
    });
    const logger: Logger = {
      error: (m) => process.env.MANTA_DEBUG && this.opts.log(`jsonrpc: ${m}`),
      warn: () => undefined,
      info: () => undefined,
      log: () => undefined,
    };
    const connection = createMessageConnection(reader, writer, logger);
    session = new Session(transport, writer, connection, destroy);
    const s = session;
    this.sessions.add(s);
    connection.onRequest((method: string, params: unknown, token: CancellationToken) => this.dispatch(s, method, params, token));
    connection.onClose(() => this.drop(s));
    connection.onError(() => undefined); // read errors are answered by the reader; write errors end in close
    connection.listen();
  }

  private drop(session: Session): void {
    if (!this.sessions.delete(session)) return;
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
