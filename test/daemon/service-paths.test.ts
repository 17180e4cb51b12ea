// The daemon's folders (issue 10, finding 6), black-box through real `manta daemon` processes: daemon.json is never
// written through a link planted at its name; an existing folder that others can reach is refused, never chmodded
// (as --socket /tmp/x.sock would have done to /tmp); a folder the daemon creates is 0700; a state folder others may
// write is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs, lstatSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { canConnect, repoRoot, startDaemon, stopDaemon, tempDir } from './harness';

/** Runs a daemon that is expected to refuse to start: its exit code and stderr. */
async function refused(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'daemon/cli/main.ts'), 'daemon', ...args], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (t: string) => (stderr += t));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 30000);
  const code = await new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
  clearTimeout(timer);
  return { code, stderr };
}

test('daemon.json is written beside the socket, never through a link planted at its name', async () => {
  const dir = tempDir();
  const runDir = path.join(dir, 'run');
  await fs.mkdir(runDir, { mode: 0o700 });
  const victim = path.join(dir, 'victim.txt');
  await fs.writeFile(victim, 'precious\n');
  await fs.symlink(victim, path.join(runDir, 'daemon.json'));
  const d = await startDaemon({ dir });
  try {
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n', 'the link target is untouched');
    const st = lstatSync(path.join(runDir, 'daemon.json'));
    assert.ok(st.isFile(), 'daemon.json is a file of its own now');
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal((JSON.parse(readFileSync(path.join(runDir, 'daemon.json'), 'utf8')) as { pid: number }).pid, d.proc.pid);
  } finally {
    await stopDaemon(d);
  }
});

test('--socket in an existing folder others can reach is refused and the folder is left as it was', async () => {
  for (const mode of [0o777, 0o1777, 0o755]) {
    const dir = tempDir();
    const shared = path.join(dir, 'shared'); // stands for /tmp
    await fs.mkdir(shared);
    await fs.chmod(shared, mode);
    const r = await refused(['--socket', path.join(shared, 'd.sock'), '--state-dir', path.join(dir, 'state'), '--cache-dir', path.join(dir, 'cache')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`${shared} can be reached by other users \\(mode ${mode.toString(8).padStart(4, '0')}\\).*chmod 700 ${shared}.*--socket`));
    assert.equal(statSync(shared).mode & 0o7777, mode, 'not chmodded');
    assert.equal(await canConnect(path.join(shared, 'd.sock')), false);
  }
});

test('a socket folder the daemon creates is 0700, its socket 0600', async () => {
  const dir = tempDir();
  const d = await startDaemon({ dir }); // creates dir/run
  try {
    assert.equal(statSync(path.dirname(d.socketPath)).mode & 0o777, 0o700);
    assert.equal(statSync(d.socketPath).mode & 0o777, 0o600);
  } finally {
    await stopDaemon(d);
  }
});

test('a state folder others may write is refused', async () => {
  const dir = tempDir();
  const state = path.join(dir, 'state');
  await fs.mkdir(state);
  await fs.chmod(state, 0o777);
  const r = await refused(['--socket', path.join(dir, 'run', 'd.sock'), '--state-dir', state, '--cache-dir', path.join(dir, 'cache')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`${state} can be written by other users \\(mode 0777\\); make it private`));
  assert.equal(statSync(state).mode & 0o777, 0o777, 'not chmodded');
});
