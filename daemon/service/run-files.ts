// What the service keeps of a run besides what the job writes: run.json's content (status and where the config came
// from; the file names of a run folder and run ids are daemon/pipeline/run-folder.ts's) and the daemon's registry
// of run directories: one small pointer file per run under <stateDir>/runs/, so a restarted daemon finds every run
// wherever its config put it.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { RUN_META_FILE } from '../pipeline/run-folder';
import type { RunStatus, StartSyntheticRunParams } from '../protocol/methods';
import type { DerivedFrom, JobPlacement } from '../protocol/values';
import type { DerivedJobSpec } from '../pipeline/derived';
import type { Warn } from './event-log';

export interface RunMeta {
  format: 1;
  runId: string;
  name: string;
  createdAt: number;
  updatedAt: number;
  /** The folder the config's relative paths resolve against. */
  configDir: string;
  configPath?: string;
  /** 'running' found by a fresh daemon means the run was interrupted (its daemon died). */
  status: RunStatus;
  message?: string;
  /** The worker of the daemon that last ran it (to make sure it is gone before a resume). */
  workerPid?: number;
  /** A synthetic run (benchmarks, tests) instead of a config's job. */
  synthetic?: StartSyntheticRunParams;
  /** The job across hosts this run trained in (its token left out: a resume is given the placement again). */
  job?: Omit<JobPlacement, 'token'>;
  /** A derived run (search again, fine-tune): the finished run it was made from. */
  derivedFrom?: DerivedFrom;
  /** A derived run's job (daemon/pipeline/derived.ts): what a resume starts again from the beginning. */
  derived?: DerivedJobSpec;
}

/** Writes JSON through a temp file, fsync and rename, so a reader sees the old file or the new one, never half. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const temp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const handle = await fs.open(temp, 'w', 0o600);
  try {
    await handle.writeFile(JSON.stringify(value, null, 2) + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temp, file);
}

export async function readRunMeta(runDir: string): Promise<RunMeta> {
  const value = JSON.parse(await fs.readFile(path.join(runDir, RUN_META_FILE), 'utf8')) as Partial<RunMeta>;
  if (value.format !== 1 || typeof value.runId !== 'string' || typeof value.status !== 'string' || typeof value.configDir !== 'string') {
    throw new Error(`${path.join(runDir, RUN_META_FILE)} is not a MANTA run file`);
  }
  return value as RunMeta;
}

export function writeRunMeta(runDir: string, meta: RunMeta): Promise<void> {
  return writeJsonAtomic(path.join(runDir, RUN_META_FILE), meta);
}

interface Pointer {
  runId: string;
  runDir: string;
}

/** The registry pointer file of a run: <stateDir>/runs/<runId>.json. */
export function runPointerFile(stateDir: string, runId: string): string {
  return path.join(stateDir, 'runs', `${runId}.json`);
}

export async function registerRun(stateDir: string, runId: string, runDir: string): Promise<void> {
  await fs.mkdir(path.join(stateDir, 'runs'), { recursive: true, mode: 0o700 });
  await writeJsonAtomic(runPointerFile(stateDir, runId), { runId, runDir } satisfies Pointer);
}

/** Removes a run's pointer (manta/deleteRun); a missing one is not an error. */
export async function unregisterRun(stateDir: string, runId: string): Promise<void> {
  await fs.rm(runPointerFile(stateDir, runId), { force: true });
}

/** Every registered run; a pointer that cannot be read is skipped with a warning. */
export async function listRegisteredRuns(stateDir: string, warn: Warn): Promise<Pointer[]> {
  const dir = path.join(stateDir, 'runs');
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: Pointer[] = [];
  for (const name of names.sort()) {
    if (!name.endsWith('.json')) continue;
    try {
      const p = JSON.parse(await fs.readFile(path.join(dir, name), 'utf8')) as Partial<Pointer>;
      if (typeof p.runId !== 'string' || typeof p.runDir !== 'string') throw new Error('missing runId or runDir');
      out.push({ runId: p.runId, runDir: p.runDir });
    } catch (e) {
      warn(`skipping the run pointer ${path.join(dir, name)}: ${(e as Error).message}`);
    }
  }
  return out;
}
