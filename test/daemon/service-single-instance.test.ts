// One daemon per state folder (issue 10, finding 4), black-box through real `manta daemon` processes: four daemons
// started at once on one state folder and socket — over a stale socket, with every one held at the point between the
// socket check and the listen (MANTA_TEST_DELAY_AT, so the race is certain, not left to chance) — leave exactly one
// serving and the others exit with code 2 naming it; the lock dies with its holder (kill -9); and a stopping daemon
// whose socket was replaced by a newer daemon's leaves the newer one in place and serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, statSync } from 'node:fs';
import * as path from 'node:path';
import { connectSocket } from '../../daemon/service/client';
import { canConnect, repoRoot, tempDir, waitFor } from './harness';

interface Proc {
  proc: ChildProcess;
  stderr: () => string;
  exited: Promise<number | string>;
}

function spawnDaemon(socketPath: string, stateDir: string, cacheDir: string, env: NodeJS.ProcessEnv = {}): Proc {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'daemon/cli/main.ts'), 'daemon', '--socket', socketPath, '--state-dir', stateDir, '--cache-dir', cacheDir],
    { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MANTA_BACKEND: '', ...env } },
  );
  let err = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (t: string) => (err += t));
  const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { proc, stderr: () => err, exited };
}

async function stop(p: Proc): Promise<void> {
  if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGTERM');
  await p.exited;
}

/** Leaves a socket file nobody listens on, as a daemon killed by SIGKILL does. */
async function staleSocket(socketPath: string): Promise<void> {
  await fs.mkdir(path.dirname(socketPath), { recursive: true, mode: 0o700 });
  const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => console.log('up'))`]);
  await new Promise((r) => holder.stdout.once('data', r));
  holder.kill('SIGKILL');
  await new Promise((r) => holder.once('exit', r));
  assert.ok(statSync(socketPath).isSocket());
}

const ROUNDS = 3;

test(`four daemons started at once on one state folder: exactly one serves, the others exit naming it (${ROUNDS} rounds)`, async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const dir = tempDir();
    const socketPath = path.join(dir, 'run', 'd.sock');
    await staleSocket(socketPath);
    const env = { MANTA_TEST_DELAY_AT: 'daemon.before-listen:400' };
    const procs = [0, 1, 2, 3].map(() => spawnDaemon(socketPath, path.join(dir, 'state'), path.join(dir, 'cache'), env));
    try {
      // Every loser exits on its own; the winner listens.
      await waitFor(() => procs.filter((p) => p.proc.exitCode !== null).length >= 3, 30000, () => `round ${round}: ${procs.map((p) => `[${p.proc.exitCode}] ${p.stderr()}`).join('\n')}`);
      await waitFor(() => canConnect(socketPath), 30000, () => `round ${round}: nobody listens`);
      await new Promise((r) => setTimeout(r, 600)); // past every pause: a second winner would be listening by now
      const alive = procs.filter((p) => p.proc.exitCode === null && p.proc.signalCode === null);
      assert.equal(alive.length, 1, `round ${round}: exactly one daemon stays alive; ${procs.map((p) => `[${p.proc.exitCode}] ${p.stderr()}`).join('\n')}`);
      const winner = alive[0];
      const client = await connectSocket(socketPath);
      assert.equal(client.hello.daemon.pid, winner.proc.pid, 'the one alive is the one that serves');
      client.close();
      for (const p of procs) {
        if (p === winner) continue;
        assert.equal(await p.exited, 2, p.stderr());
        assert.match(p.stderr(), new RegExp(`already listening on ${socketPath} \\(pid ${winner.proc.pid}`), p.stderr());
      }
    } finally {
      for (const p of procs) await stop(p);
    }
    assert.equal(await canConnect(socketPath), false);
  }
});

test('a second daemon on the same state folder but another socket is refused too', async () => {
  const dir = tempDir();
  const first = spawnDaemon(path.join(dir, 'a', 'd.sock'), path.join(dir, 'state'), path.join(dir, 'cache'));
  try {
    await waitFor(() => canConnect(path.join(dir, 'a', 'd.sock')), 30000, first.stderr);
    const second = spawnDaemon(path.join(dir, 'b', 'd.sock'), path.join(dir, 'state'), path.join(dir, 'cache'));
    const code = await Promise.race([second.exited, new Promise((r) => setTimeout(() => r('still running after 30 s'), 30000))]);
    await stop(second);
    assert.equal(code, 2, second.stderr());
    assert.match(second.stderr(), new RegExp(`already listening on ${path.join(dir, 'a', 'd.sock')} \\(pid ${first.proc.pid}.*holds the state folder ${path.join(dir, 'state')}`));
    assert.equal(await canConnect(path.join(dir, 'b', 'd.sock')), false);
  } finally {
    await stop(first);
  }
});

test('the lock dies with its holder: after kill -9 a new daemon starts at once', async () => {
  const dir = tempDir();
  const socketPath = path.join(dir, 'run', 'd.sock');
  const first = spawnDaemon(socketPath, path.join(dir, 'state'), path.join(dir, 'cache'));
  await waitFor(() => canConnect(socketPath), 30000, first.stderr);
  first.proc.kill('SIGKILL');
  await first.exited;
  const second = spawnDaemon(socketPath, path.join(dir, 'state'), path.join(dir, 'cache'));
  try {
    await waitFor(async () => (await canConnect(socketPath)) || second.proc.exitCode !== null, 30000, second.stderr);
    const client = await connectSocket(socketPath);
    assert.equal(client.hello.daemon.pid, second.proc.pid);
    client.close();
  } finally {
    await stop(second);
  }
});

test("a stopping daemon whose socket was replaced leaves the newer daemon's socket in place and serving", async () => {
  const dir = tempDir();
  const socketPath = path.join(dir, 'run', 'd.sock');
  const old = spawnDaemon(socketPath, path.join(dir, 'state-old'), path.join(dir, 'cache'));
  let newer: Proc | undefined;
  try {
    await waitFor(() => canConnect(socketPath), 30000, old.stderr);
    // What a cleaner of the runtime folder does: the socket and the folder's lock key are gone, the old daemon lives on.
    await fs.rm(socketPath);
    await fs.rm(path.join(dir, 'run', '.manta-lock-key'), { force: true });
    newer = spawnDaemon(socketPath, path.join(dir, 'state-new'), path.join(dir, 'cache'));
    await waitFor(async () => (await canConnect(socketPath)) || newer!.proc.exitCode !== null, 30000, newer.stderr);
    const { ino } = statSync(socketPath);
    await stop(old);
    assert.equal(statSync(socketPath).ino, ino, "the newer daemon's socket is still there");
    const client = await connectSocket(socketPath);
    assert.equal(client.hello.daemon.pid, newer.proc.pid, 'and it serves');
    client.close();
    const info = JSON.parse(await fs.readFile(path.join(dir, 'run', 'daemon.json'), 'utf8')) as { pid: number };
    assert.equal(info.pid, newer.proc.pid, "daemon.json names the newer daemon");
  } finally {
    await stop(old);
    if (newer) await stop(newer);
  }
  assert.equal(await canConnect(socketPath), false, 'the newer daemon removes its own socket when it stops');
});
