// The files of a run directory: what the job writes and `manta export` reads. (run.json and events.jsonl are written
// by whoever runs the job: the CLI or the daemon service.) The one home of the run folder's names and of run ids:
// nothing else spells them out.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
export const CONFIG_FILE = 'config.json';
export const RUN_META_FILE = 'run.json';
export const EVENTS_FILE = 'events.jsonl';
export const CHECKPOINT_DIR = 'checkpoints';
export const MEASUREMENTS_FILE = 'measurements.json';
/** Outputs of finished pipeline stages (predictor, evolution), reused by a resumed run. */
export const STAGES_DIR = 'stages';
/** The re-measured Pareto front and everything a user reads of a finished run (daemon/search/results.ts). */
export const RESULTS_FILE = 'results.json';
export const REPORT_FILE = 'report.html';
/** Exported subnets: subnets/<front index>/model.json (+ weights), subnets/custom-<time>/ for other archs. */
export const SUBNETS_DIR = 'subnets';

/** A config's name as the first part of a run id: letters, digits, '.', '_' and '-' (the schema's own rule). */
export function runIdSlug(name: string): string {
  const slug = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64);
  return slug || 'run';
}

/**
 * The one run-id scheme, for the CLI and the daemon alike: `<slug(name)>-<yyyymmdd-hhmmss>-<4 hex>` in local time.
 * Sortable by time, unique enough (a caller that finds the folder taken draws again), safe as a folder name.
 */
export function newRunId(name: string, now: Date = new Date(), random: string = randomBytes(2).toString('hex')): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return `${runIdSlug(name)}-${stamp}-${random}`;
}

/** Creates a new run's folder under `runsDir` (made if missing), named by a fresh run id; draws again if taken. */
export async function createRunFolder(runsDir: string, name: string): Promise<{ runId: string; runDir: string }> {
  await fs.mkdir(runsDir, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const runId = newRunId(name);
    const runDir = join(runsDir, runId);
    try {
      await fs.mkdir(runDir);
      return { runId, runDir };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 20) throw e;
    }
  }
}
