// `manta delete <runDir|runId>` as a user meets it (real processes, real files): a `manta search` run folder is
// refused while its search runs (the process it records in run.json is alive), deleted once it ended; a folder that
// is not a MANTA run folder, a symbolic link, or a "running" run.json without a process to check are refused; a run
// of the daemon's is deleted through the daemon (manta/deleteRun), which refuses it while it is active.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListRunsRequest, StartSyntheticRunRequest, StopRunRequest } from '../../daemon/protocol';
import { connectSocket } from '../../daemon/service/client';
import { startDaemon, stopDaemon, tempDir, waitFor } from '../daemon/harness';

const ROOT = join(__dirname, '../..');
const main = join(ROOT, 'daemon/cli/main.ts');

function manta(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, MANTA_DEBUG: '', ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** No daemon of the user's may take part: a socket path where none listens. */
function noDaemon(dir: string): string[] {
  return ['--socket', join(dir, 'none.sock'), '--state-dir', join(dir, 'state')];
}

function runJson(runDir: string, fields: Record<string, unknown>): void {
  writeFileSync(
    join(runDir, 'run.json'),
    JSON.stringify({ format: 1, runId: runDir.split('/').pop(), name: 'x', createdAt: 1, updatedAt: 1, configDir: runDir, status: 'completed', ...fields }),
  );
}

test('manta delete: a manta search run is refused while its search runs, deleted once it ended', async () => {
  const dir = tempDir();
  cpSync(join(ROOT, 'test/fixtures/extension/tiny.manta.json'), join(dir, 'tiny.manta.json'));
  const search = spawn(process.execPath, ['--import', 'tsx', main, 'search', join(dir, 'tiny.manta.json'), '--runs-dir', join(dir, 'runs')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MANTA_BACKEND: '' },
  });
  let out = '';
  search.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  search.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((res) => search.on('exit', (code) => res(code)));
  try {
    // As soon as its run.json says running, freeze the search (SIGSTOP): alive, and the test decides when it goes on.
    const runDir = await waitFor(
      () => {
        const runs = existsSync(join(dir, 'runs')) ? readdirSync(join(dir, 'runs')) : [];
        const d = runs[0] && join(dir, 'runs', runs[0]);
        if (!d || !existsSync(join(d, 'run.json'))) return undefined;
        const meta = JSON.parse(readFileSync(join(d, 'run.json'), 'utf8')) as { status: string; workerPid?: number };
        if (meta.status !== 'running') return undefined;
        process.kill(search.pid!, 'SIGSTOP');
        assert.equal(meta.workerPid, search.pid, 'run.json records the search process');
        return d;
      },
      60_000,
      () => `the search to write run.json: ${out}`,
    );
    const refused = manta(['delete', runDir, ...noDaemon(dir)]);
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, new RegExp(`^manta: run \\S+ in ${runDir} is running: its process ${search.pid} is alive\\. Stop it first .*nothing deleted\\n$`));
    assert.ok(existsSync(join(runDir, 'run.json')), 'the running run is still there');

    process.kill(search.pid!, 'SIGCONT');
    assert.equal(await exited, 0, out);
    assert.equal((JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { status: string }).status, 'completed');
    const deleted = manta(['delete', runDir, ...noDaemon(dir)]);
    assert.equal(deleted.status, 0, deleted.stderr);
    assert.equal(deleted.stdout, `deleted ${runDir}\n`);
    assert.equal(existsSync(runDir), false);
  } finally {
    if (search.exitCode === null) {
      search.kill('SIGCONT');
      search.kill('SIGKILL');
    }
  }
});

test('manta delete: only MANTA run folders, never through a link, and an unknown state needs --force', () => {
  const dir = tempDir();
  const args = noDaemon(dir);
  // Not a run folder: refused, untouched.
  const plain = join(dir, 'photos');
  mkdirSync(plain);
  writeFileSync(join(plain, 'a.jpg'), 'x');
  const r1 = manta(['delete', plain, ...args]);
  assert.equal(r1.status, 2);
  assert.equal(r1.stderr, `manta: ${plain} is not a MANTA run folder (no run.json or config.json in it); nothing deleted\n`);
  assert.ok(existsSync(join(plain, 'a.jpg')));
  // A file, a missing path, a link to a run folder: refused.
  const r2 = manta(['delete', join(plain, 'a.jpg'), ...args]);
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, /is not a folder/);
  const r3 = manta(['delete', join(dir, 'nope/run'), ...args]);
  assert.equal(r3.status, 2);
  assert.match(r3.stderr, /no such run folder/);
  const r4 = manta(['delete', 'tiny-20260101-000000-abcd', ...args]);
  assert.equal(r4.status, 2);
  assert.match(r4.stderr, /no such run folder, and no daemon answers at .*none\.sock to delete a run of that id/);
  const target = join(dir, 'run-a');
  mkdirSync(target);
  runJson(target, {});
  symlinkSync(target, join(dir, 'link'));
  const r5 = manta(['delete', join(dir, 'link'), ...args]);
  assert.equal(r5.status, 2);
  assert.match(r5.stderr, /is a symbolic link; name the run folder itself/);
  assert.ok(existsSync(join(target, 'run.json')));

  // "running" by run.json, with a process that is gone: an interrupted run, deleted.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const interrupted = join(dir, 'run-b');
  mkdirSync(interrupted);
  runJson(interrupted, { status: 'running', workerPid: Number(dead.stdout) });
  const r6 = manta(['delete', interrupted, ...args]);
  assert.equal(r6.status, 0, r6.stderr);
  assert.equal(existsSync(interrupted), false);

  // "running" without a process to check: refused; --force deletes it.
  const unknown = join(dir, 'run-c');
  mkdirSync(join(unknown, 'checkpoints'), { recursive: true });
  runJson(unknown, { status: 'running' });
  const r7 = manta(['delete', unknown, ...args]);
  assert.equal(r7.status, 2);
  assert.match(r7.stderr, /is running by its run\.json, which records no process to check; if nothing runs it any more, delete it with --force; nothing deleted/);
  assert.ok(existsSync(unknown));
  const r8 = manta(['delete', unknown, '--force', ...args]);
  assert.equal(r8.status, 0, r8.stderr);
  assert.equal(existsSync(unknown), false);

  // A folder with only config.json (a run that never wrote run.json) is a run folder; and the link's target now goes.
  const early = join(dir, 'run-d');
  mkdirSync(early);
  writeFileSync(join(early, 'config.json'), '{}');
  assert.equal(manta(['delete', early, ...args]).status, 0);
  assert.equal(existsSync(early), false);
  assert.equal(manta(['delete', target, ...args]).status, 0);
  assert.equal(existsSync(target), false);
});

test("manta delete: a daemon's run goes through the daemon, which refuses it while it runs", async () => {
  const dir = tempDir();
  const daemon = await startDaemon({ dir, args: ['--synthetic-runs'] });
  const client = await connectSocket(daemon.socketPath, { client: { name: 'test', version: '1' } });
  try {
    const c = client.connection;
    const { run } = await c.sendRequest(StartSyntheticRunRequest, { name: 'doomed', steps: 100_000, stepWorkMs: 1 });
    const args = ['--socket', daemon.socketPath, '--state-dir', daemon.stateDir];
    // By id and by folder, while it runs: the daemon refuses; nothing is deleted.
    for (const which of [run.runId, run.runDir]) {
      const r = manta(['delete', which, ...args]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^manta: the daemon refused to delete ${run.runId}: run ${run.runId} is running; only a run that is not active can be deleted.*nothing deleted\\n$`));
      assert.ok(existsSync(run.runDir));
    }
    await c.sendRequest(StopRunRequest, { runId: run.runId });
    await waitFor(
      async () => (await c.sendRequest(ListRunsRequest, {})).runs.find((x) => x.runId === run.runId && x.status === 'stopped'),
      30_000,
      () => `the run to stop: ${daemon.stderr()}`,
    );
    const r = manta(['delete', run.runDir, ...args]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `deleted run ${run.runId} (${run.runDir}) through the daemon at ${daemon.socketPath}\n`);
    assert.equal(existsSync(run.runDir), false);
    assert.equal((await c.sendRequest(ListRunsRequest, {})).runs.some((x) => x.runId === run.runId), false, 'the daemon no longer lists it');
  } finally {
    client.close();
    await stopDaemon(daemon);
  }
});
