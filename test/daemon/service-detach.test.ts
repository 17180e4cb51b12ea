// `manta daemon --detach`, `--idle-exit` and manta/checkConfig, as the extension uses them on a remote host: real
// daemons started from the built CLI (dist/manta.js) in temp folders, reached over their sockets. A detached daemon
// outlives the command that started it (its own session), a second --detach names the first instead of starting
// another, an idle daemon ends itself (socket removed) once its last client has gone — but never while a run is
// active — and checkConfig answers startRun's checks as a list. Every daemon started is killed in `after`.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, promises as fs, readdirSync, readFileSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ResponseError } from 'vscode-jsonrpc/node';
import {
  CheckConfigRequest,
  HostInfoRequest,
  MantaErrorCodes,
  StartRunRequest,
  StartSyntheticRunRequest,
  type MantaErrorData,
} from '../../daemon/protocol';
import { connectSocket } from '../../daemon/service/client';
import { repoRoot, tempDir, tinyConfig, waitFor } from './harness';

const cli = path.join(repoRoot, 'dist', 'manta.js');

interface Detached {
  code: number | null;
  stdout: string;
  stderr: string;
  line?: { socketPath: string; pid?: number; alreadyRunning: boolean; logFile?: string };
}

const started = new Set<number>();

/** `node dist/manta.js daemon --detach` for the daemon of `dir`; resolves when that command has exited. */
function detach(dir: string, args: string[] = []): Promise<Detached> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [cli, 'daemon', '--detach', '--socket', path.join(dir, 'run', 'd.sock'), '--state-dir', path.join(dir, 'state'), '--cache-dir', path.join(dir, 'cache'), ...args],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MANTA_BACKEND: '' } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.on('error', reject);
    child.on('close', (code) => {
      let line: Detached['line'];
      try {
        line = JSON.parse(stdout) as Detached['line'];
      } catch {
        line = undefined;
      }
      if (line?.pid && !line.alreadyRunning) started.add(line.pid);
      resolve({ code, stdout, stderr, line });
    });
  });
}

/** /proc/<pid>/stat: the process state and session id; undefined once it is gone. */
function procStat(pid: number): { state: string; ppid: number; session: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: f[0], ppid: Number(f[1]), session: Number(f[3]) };
  } catch {
    return undefined;
  }
}

const alive = (pid: number) => {
  const s = procStat(pid);
  return s !== undefined && s.state !== 'Z';
};

/** Daemons whose command line names this state folder (the --detach children included). */
function daemonsOf(stateDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.includes('daemon') && argv.includes(stateDir) && alive(Number(entry))) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

after(async () => {
  for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGTERM');
  await waitFor(() => [...started].every((pid) => !alive(pid)), 20_000, () => 'detached daemons did not stop').catch(() => {
    for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
});

describe('manta daemon --detach', { concurrency: true, timeout: 60_000 }, () => {
  test('a detached daemon outlives its command and serves its socket; a second --detach names it and starts none', async () => {
    assert.ok(existsSync(cli), `${cli} is missing: build first (node esbuild.mjs)`);
    const dir = tempDir();
    const first = await detach(dir);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout.trim().split('\n').length, 1, 'one JSON line on stdout');
    const socketPath = path.join(dir, 'run', 'd.sock');
    const logFile = path.join(dir, 'state', 'daemon.log');
    assert.deepEqual(first.line, { socketPath, pid: first.line?.pid, alreadyRunning: false, logFile });
    const pid = first.line!.pid!;
    assert.ok(Number.isInteger(pid) && pid > 0);

    // Its command has exited; the daemon lives on in a session of its own, no longer our child.
    const stat = procStat(pid);
    assert.ok(stat && alive(pid), 'the daemon is alive after its command exited');
    assert.equal(stat.session, pid, 'the daemon leads its own session (spawned detached)');
    assert.notEqual(stat.ppid, process.pid);
    assert.equal(statSync(logFile).mode & 0o777, 0o600, 'the log file is private');
    assert.match(readFileSync(logFile, 'utf8'), new RegExp(`pid ${pid} on ${socketPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));

    const client = await connectSocket(socketPath);
    try {
      assert.equal(client.hello.daemon.pid, pid);

      const second = await detach(dir);
      assert.equal(second.code, 0, second.stderr);
      assert.deepEqual(second.line, { socketPath, pid, alreadyRunning: true });
      // Its child found the lock taken and exited: one daemon of this state folder is left.
      await waitFor(() => daemonsOf(path.join(dir, 'state')).length === 1, 10_000, () => `daemons of the folder: ${daemonsOf(path.join(dir, 'state')).join(', ')}`);
      assert.deepEqual(daemonsOf(path.join(dir, 'state')), [pid]);
      assert.equal((await connectSocket(socketPath).then((c) => (c.close(), c.hello.daemon.pid))), pid);

      // hostInfo carries the GPU engine's verdict (here: whatever this host has).
      const info = await client.connection.sendRequest(HostInfoRequest, {});
      assert.ok(info.gpuEngine, 'hostInfo has gpuEngine');
      assert.ok(Array.isArray(info.gpuEngine.gpus) && Array.isArray(info.gpuEngine.missingLibraries));
      assert.ok(['tfjs-node-gpu', 'none'].includes(info.gpuEngine.engine));
    } finally {
      client.close();
    }
  });

  test('--detach refuses --stdio, and --print-socket prints the socket path', async () => {
    const refused = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [cli, 'daemon', '--detach', '--stdio'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--detach and --stdio exclude each other/);
    assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace');
    const printed = await new Promise<string>((resolve) => {
      const env = { ...process.env, XDG_RUNTIME_DIR: '/run/user/4242' };
      const child = spawn(process.execPath, [cli, 'daemon', '--print-socket'], { stdio: ['ignore', 'pipe', 'inherit'], env });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (t: string) => (out += t));
      child.on('close', () => resolve(out));
    });
    assert.equal(printed, '/run/user/4242/manta/daemon.sock\n');

    // A daemon that dies before it listens (here: its socket folder is open to others): non-zero, its log's last lines.
    const dir = tempDir();
    await fs.mkdir(path.join(dir, 'open'), { mode: 0o777 });
    await fs.chmod(path.join(dir, 'open'), 0o777);
    const died = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const args = [cli, 'daemon', '--detach', '--socket', path.join(dir, 'open', 'd.sock'), '--state-dir', path.join(dir, 'state'), '--log-file', path.join(dir, 'logs', 'd.log')];
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
      child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(died.code, 1, died.stderr);
    assert.equal(died.stdout, '');
    assert.match(died.stderr, /the detached daemon did not start: it exited with code 2\. The last lines of its log \(.*d\.log\):\n.*can be reached by other users/);
    assert.equal(statSync(path.join(dir, 'logs', 'd.log')).mode & 0o777, 0o600);
  });

  test('--idle-exit: an idle daemon exits a few seconds after its last client has gone, removing its socket', async () => {
    const dir = tempDir();
    const r = await detach(dir, ['--idle-exit', '2']);
    assert.equal(r.code, 0, r.stderr);
    const { pid, socketPath } = { pid: r.line!.pid!, socketPath: r.line!.socketPath };
    const client = await connectSocket(socketPath);
    await new Promise((res) => setTimeout(res, 3500));
    assert.ok(alive(pid), 'a daemon with a connected client stays, past its idle time');
    const left = Date.now();
    client.close();
    await waitFor(() => !alive(pid), 10_000, () => 'the idle daemon did not exit');
    const after = Date.now() - left;
    assert.ok(after >= 1500, `it waited its idle time before exiting (exited after ${after} ms)`);
    assert.ok(!existsSync(socketPath), 'its socket is removed');
    const log = readFileSync(r.line!.logFile!, 'utf8');
    assert.match(log, /no client and no active run for 2 s \(--idle-exit 2\): exiting/);
    assert.match(log, /manta daemon stopped/);
  });

  test('--idle-exit: a daemon with an active run stays until the run has ended, then exits', async () => {
    const dir = tempDir();
    const r = await detach(dir, ['--idle-exit', '2', '--synthetic-runs']);
    assert.equal(r.code, 0, r.stderr);
    const { pid, socketPath } = { pid: r.line!.pid!, socketPath: r.line!.socketPath };
    const client = await connectSocket(socketPath);
    const { run } = await client.connection.sendRequest(StartSyntheticRunRequest, { name: 'idle-run', steps: 40, stepWorkMs: 150, checkpointEvery: 10 });
    client.close();
    const left = Date.now();
    await new Promise((res) => setTimeout(res, 4000));
    assert.ok(alive(pid), 'no client, but a run is active: the daemon stays');
    assert.ok(existsSync(socketPath));
    await waitFor(() => !alive(pid), 30_000, () => 'the daemon did not exit after its run ended');
    assert.ok(Date.now() - left >= 5000, 'it stayed for the run');
    const meta = JSON.parse(await fs.readFile(path.join(run.runDir, 'run.json'), 'utf8')) as { status: string };
    assert.equal(meta.status, 'completed', 'the run finished before the daemon exited');
    assert.ok(!existsSync(socketPath));
  });

  test('manta/checkConfig answers startRun\'s checks as a list of problems, starting nothing', async () => {
    const dir = tempDir();
    const r = await detach(dir, ['--idle-exit', '0']);
    assert.equal(r.code, 0, r.stderr);
    const project = path.join(dir, 'project');
    await fs.mkdir(project);
    const client = await connectSocket(r.line!.socketPath);
    try {
      const good = await client.connection.sendRequest(CheckConfigRequest, { config: tinyConfig('check-good') as never, configDir: project });
      assert.deepEqual(good.problems, []);
      assert.equal(good.host, os.hostname());

      // A folder dataset that is not there, and a runs folder under a file: both problems in one answer.
      await fs.writeFile(path.join(project, 'blocker'), '');
      const bad = { ...(tinyConfig('check-bad') as Record<string, unknown>), data: { kind: 'folder', train: 'images/train' }, output: { runsDir: 'blocker/runs' } };
      const answer = await client.connection.sendRequest(CheckConfigRequest, { config: bad as never, configDir: project });
      const byPath = Object.fromEntries(answer.problems.map((p) => [p.path, p]));
      assert.equal(byPath['/data/train']?.rule, 'exists', JSON.stringify(answer.problems));
      assert.match(byPath['/data/train'].message, /images\/train does not exist/);
      assert.equal(byPath['/output/runsDir']?.rule, 'writable', JSON.stringify(answer.problems));
      assert.match(byPath['/output/runsDir'].message, /blocker.* is not a folder/);

      // The same file through configPath; a schema problem comes back as a problem, not an error.
      const file = path.join(project, 'x.manta.json');
      await fs.writeFile(file, JSON.stringify({ ...(tinyConfig('check-schema') as Record<string, unknown>), seed: 'seven' }));
      const schema = await client.connection.sendRequest(CheckConfigRequest, { configPath: file });
      assert.ok(schema.problems.some((p) => p.path === '/seed'), JSON.stringify(schema.problems));

      // startRun refuses the bad config with the first of those problems; nothing was created.
      const refused = await client.connection.sendRequest(StartRunRequest, { config: bad as never, configDir: project }).then(
        () => assert.fail('startRun accepted a config checkConfig refused'),
        (e: ResponseError<MantaErrorData>) => e,
      );
      assert.equal(refused.code, MantaErrorCodes.UserError);
      assert.equal(refused.data?.reason, 'run.runs-dir-not-writable');
      assert.deepEqual((await fs.readdir(project)).sort(), ['blocker', 'x.manta.json']);

      // Params are schema-checked, and the request's shape is checked as startRun checks it.
      for (const params of [{ config: 5 }, { configDir: project, extra: 1 }, {}, { configPath: 'relative.json' }]) {
        const e = await client.connection.sendRequest(CheckConfigRequest, params as never).then(
          () => assert.fail(`accepted ${JSON.stringify(params)}`),
          (err: ResponseError<MantaErrorData>) => err,
        );
        assert.equal(e.code, MantaErrorCodes.InvalidParams, `${JSON.stringify(params)}: ${e.message}`);
        assert.match(e.message, /manta\/checkConfig/);
      }
    } finally {
      client.close();
    }
  });
});
