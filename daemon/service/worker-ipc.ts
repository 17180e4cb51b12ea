// The messages between the daemon and a worker process (one per run, or one per one-off task), and how the daemon
// finds and forks the worker entry both from TypeScript sources (tsx) and from the esbuild bundle (dist/).
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { withMantaLibraryPath } from '../engine/gpu-check';
import type { ExportFormat, StartSyntheticRunParams } from '../protocol/methods';
import type { Arch, BackendName, JobPlacement } from '../protocol/values';
import type { ResolvedConfig } from '../../schemas';
import type { DerivedJobSpec } from '../pipeline/derived';

export type WorkerJob =
  | {
      kind: 'run';
      config: ResolvedConfig;
      runDir: string;
      configDir: string;
      resume: boolean;
      cacheDir: string;
      /** On resume: the events up to this seq are the earlier attempts'; the worker reads them (event-log.ts's reader) for the job. */
      historyToSeq?: number;
      /** This host's place in a job across hosts (its token travels only over this IPC channel, never to disk). */
      placement?: JobPlacement;
    }
  | { kind: 'synthetic'; params: StartSyntheticRunParams; runDir: string; resume: boolean }
  /** A derived run (search again, fine-tune: daemon/pipeline/derived.ts); a resume starts it again (`resume` unused). */
  | { kind: 'derived'; spec: DerivedJobSpec; runDir: string; cacheDir: string; resume: boolean }
  | { kind: 'task'; task: WorkerTask };

export type WorkerTask =
  | { name: 'hostProbe' }
  | { name: 'exportSubnet'; runDir: string; arch?: Arch; index?: number; outDir?: string; format?: ExportFormat }
  | { name: 'latencyTable'; config: ResolvedConfig; configDir: string; backend?: BackendName; refresh: boolean; cacheDir: string };

export type ToWorker =
  | { type: 'start'; job: WorkerJob }
  | { type: 'stop'; reason: 'stop' | 'pause' }
  /** The `checkpoint` event of this step is in the run's log (written and synced): older checkpoints may be pruned. */
  | { type: 'recorded'; step: number };

/** How a job ended, as the worker saw it. */
export type JobOutcome = 'completed' | 'stopped' | 'paused' | 'failed';

export type FromWorker =
  /** Events serialized by `encodeEventBody`, in emit order; the daemon numbers and stores them. */
  | { type: 'events'; bodies: string[] }
  | { type: 'result'; value: unknown }
  | { type: 'done'; outcome: JobOutcome; message?: string; reason?: string };

export interface WorkerEntry {
  file: string;
  execArgv: string[];
}

/**
 * The worker entry next to this module: run-worker.js in a bundle (the build emits dist/run-worker.js beside
 * dist/manta.js), run-worker.ts from sources, run with the tsx loader. MANTA_RUN_WORKER overrides it.
 */
export function resolveWorkerEntry(dir = __dirname): WorkerEntry {
  const override = process.env.MANTA_RUN_WORKER;
  const candidates = override ? [path.resolve(override)] : [path.join(dir, 'run-worker.js'), path.join(dir, 'run-worker.ts')];
  const file = candidates.find((f) => existsSync(f));
  if (!file) throw new Error(`cannot find the run worker (looked for ${candidates.join(', ')}); rebuild MANTA`);
  return { file, execArgv: file.endsWith('.ts') ? tsxExecArgv() : [] };
}

function tsxExecArgv(): string[] {
  // The daemon itself runs under tsx (tests, `npx tsx`): hand its loader flags down.
  const own = process.execArgv;
  if (own.some((a) => a.includes('tsx'))) return [...own];
  // Otherwise resolve tsx's loader by absolute URL, so the worker's cwd does not matter.
  const pkg = createRequire(__filename).resolve('tsx/package.json');
  return ['--import', pathToFileURL(path.join(path.dirname(pkg), 'dist', 'loader.mjs')).href];
}

/**
 * Forks a worker with an IPC channel (V8 serialization: strings and typed arrays pass without JSON escaping). Its
 * environment gets MANTA_LD_LIBRARY_PATH first on LD_LIBRARY_PATH: the libraries the GPU engine needs, given to the
 * daemon's workers only (daemon/engine/gpu-check.ts).
 */
export function forkWorker(entry: WorkerEntry, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return fork(entry.file, [], {
    execArgv: entry.execArgv,
    serialization: 'advanced',
    // stdout is piped, never inherited: in --stdio mode the daemon's stdout carries the protocol.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: withMantaLibraryPath(env),
  });
}
