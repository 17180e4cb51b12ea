// The training worker processes of this host beside the run's own process (local ranks 1…W−1): forked with an IPC
// channel that carries their start order (the job token included: never on a command line or in the environment)
// and their end; they exit as soon as the run's process goes away. Built to dist/train-worker.js.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { ResolvedConfig } from '../../../schemas';
import { runGpus, type JobPlan } from './plan';

/** Run process → worker: what to train. */
export interface TrainWorkerStart {
  type: 'start';
  config: ResolvedConfig;
  /** The folder the config's dataset paths resolve against. */
  configDir: string;
  plan: JobPlan;
  rank: number;
}

/** Worker → run process. */
export type TrainWorkerMessage =
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  /** Finished; `digest` is the SHA-256 (hex) of its supernet's weights, equal on every rank. */
  | { type: 'done'; digest: string }
  | { type: 'failed'; message: string; user: boolean };

export interface LocalWorkerFailure {
  rank: number;
  message: string;
  /** A user error (bad data, a peer lost) rather than a crash. */
  user: boolean;
}

export function trainWorkerPath(): string {
  const fromSources = __filename.endsWith('.ts');
  return path.join(__dirname, fromSources ? 'train-worker.ts' : 'train-worker.js');
}

export class LocalWorkers {
  private readonly children = new Map<number, ChildProcess>();
  private readonly finished = new Set<number>();
  /** Weight digests of the workers that finished, by rank. */
  readonly digests = new Map<number, string>();
  private failureListeners: ((f: LocalWorkerFailure) => void)[] = [];
  private firstFailure: LocalWorkerFailure | undefined;

  private constructor(private readonly log: (level: 'info' | 'warn' | 'error', message: string) => void) {}

  /** Forks a worker for every local rank but the first (the run's own process trains that one). */
  static start(
    plan: JobPlan,
    config: ResolvedConfig,
    configDir: string,
    log: (level: 'info' | 'warn' | 'error', message: string) => void,
    env: NodeJS.ProcessEnv = process.env,
    gpus: readonly number[] = runGpus(env),
  ): LocalWorkers {
    const workers = new LocalWorkers(log);
    const file = trainWorkerPath();
    const execArgv = file.endsWith('.ts') ? ['--import', 'tsx'] : [];
    plan.localRanks.slice(1).forEach((rank, i) => {
      // Each worker sees its own GPU only (the run's process has the first).
      const gpu = gpus[i + 1];
      const childEnv = gpu === undefined ? env : { ...env, CUDA_VISIBLE_DEVICES: String(gpu) };
      const child = fork(file, [], { execArgv, env: childEnv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced' });
      workers.children.set(rank, child);
      const tail: string[] = [];
      for (const stream of [child.stdout, child.stderr]) {
        stream?.setEncoding('utf8');
        stream?.on('data', (text: string) => {
          for (const line of text.split('\n')) if (line.trim()) (tail.push(line), tail.length > 5 && tail.shift());
        });
      }
      child.on('message', (m: TrainWorkerMessage) => {
        if (m.type === 'log') log(m.level, `worker ${rank}: ${m.message}`);
        else if (m.type === 'done') {
          workers.finished.add(rank);
          workers.digests.set(rank, m.digest);
        }
        else if (m.type === 'failed') workers.fail({ rank, message: m.message, user: m.user });
      });
      child.on('exit', (code, signal) => {
        if (workers.finished.has(rank) || workers.firstFailure) return;
        const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
        workers.fail({ rank, message: `training worker ${rank} ${how}${tail.length ? `: ${tail[tail.length - 1]}` : ''}`, user: false });
      });
      child.on('error', (e) => workers.fail({ rank, message: `cannot start training worker ${rank}: ${e.message}`, user: false }));
      const start: TrainWorkerStart = { type: 'start', config, configDir, plan, rank };
      child.send(start);
    });
    return workers;
  }

  /** Process ids of the workers (tests, and the daemon's process accounting). */
  get pids(): number[] {
    return [...this.children.values()].map((c) => c.pid).filter((p): p is number => p !== undefined);
  }

  /** Calls `listener` with the first failure of a worker (at once if one already failed). */
  onFailure(listener: (f: LocalWorkerFailure) => void): void {
    if (this.firstFailure) listener(this.firstFailure);
    else this.failureListeners.push(listener);
  }

  /** Waits until every worker has exited after finishing (at most `timeoutMs`, then they are killed). */
  async finish(timeoutMs: number): Promise<void> {
    await Promise.all(
      [...this.children.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => (child.kill('SIGKILL'), resolve()), timeoutMs);
            child.once('exit', () => (clearTimeout(timer), resolve()));
          }),
      ),
    );
  }

  /** Ends every worker now (a failed or stopped job). */
  async kill(): Promise<void> {
    for (const child of this.children.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await this.finish(5000);
  }

  private fail(f: LocalWorkerFailure): void {
    if (this.firstFailure) return;
    this.firstFailure = f;
    this.log('error', f.message);
    for (const l of this.failureListeners) l(f);
    this.failureListeners = [];
  }
}
