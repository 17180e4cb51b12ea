// Shared parts of the tests that run `manta <command>` as a user meets it: the CLI from the sources in a child
// process, one tiny finished run made by `manta search`, and the check of a one-line user error.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResultsFile } from '../../daemon/search/results';

export const ROOT = join(__dirname, '../..');
const main = join(ROOT, 'daemon/cli/main.ts');

export interface CliOutcome {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `manta <args>` from the sources, without debug traces or a backend override, its engine caches in `cacheDir`. */
export function runManta(args: string[], cacheDir: string): CliOutcome {
  const r = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, MANTA_DEBUG: '', MANTA_BACKEND: '', MANTA_CACHE_DIR: cacheDir },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A finished run of test/fixtures/extension/tiny.manta.json, made by `manta search` into `dir`/runs (caches in `dir`/cache). */
export function searchTinyRun(dir: string): { runsDir: string; runDir: string; results: ResultsFile } {
  const runsDir = join(dir, 'runs');
  cpSync(join(ROOT, 'test/fixtures/extension/tiny.manta.json'), join(dir, 'tiny.manta.json'));
  const search = runManta(['search', join(dir, 'tiny.manta.json'), '--runs-dir', runsDir], join(dir, 'cache'));
  assert.equal(search.status, 0, search.stderr);
  const runDir = join(runsDir, readdirSync(runsDir)[0]);
  return { runsDir, runDir, results: JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as ResultsFile };
}

/** A user error: exit code 2 and one line on stderr matching `pattern`. */
export function assertOneLineError(r: { status: number | null; stderr: string }, pattern: RegExp): void {
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
}
