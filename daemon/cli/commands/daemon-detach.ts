// `manta daemon --detach`: starts the daemon as a detached child — its own session, stdin closed, its output
// appended to a log file — so that it outlives the shell (an SSH session) that started it, waits until it listens,
// and prints one JSON line saying where: `{socketPath, pid, alreadyRunning: false, logFile}`, or, when a daemon
// already holds that socket or state folder (one per user and host), `{socketPath, pid, alreadyRunning: true}`
// naming that one. The child tells the parent over an IPC channel whether it listens or found the lock taken, then
// drops the channel; anything else it does before that ends the command with the last lines of its log.
import { spawn } from 'node:child_process';
import { closeSync, constants as fsc, fstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { LockHolder } from '../../service/instance-lock';

/** Set in the detached child's environment: report to the parent over IPC (then removed from it). */
export const DETACHED_ENV = 'MANTA_DAEMON_DETACHED';

/** What the detached child tells its parent. */
export type DetachReport = { type: 'listening'; pid: number } | { type: 'locked'; holder?: Partial<LockHolder>; message: string };

/** The line `manta daemon --detach` prints. */
export interface DetachResult {
  socketPath: string;
  pid?: number;
  alreadyRunning: boolean;
  logFile?: string;
}

export interface DetachOptions {
  socketPath: string;
  logFile: string;
  /** The child's arguments after the script: `daemon --socket … --state-dir … --idle-exit …`. */
  args: string[];
  /** How long the child may take to listen (default 60 s). */
  startTimeoutMs?: number;
}

/** Whether something accepts a connection on the socket. */
function canConnect(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** The last `lines` lines written to the log from `offset` on. */
function logTail(file: string, offset: number, lines = 15): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const start = Math.max(offset, size - 64 * 1024);
    const buf = Buffer.alloc(Math.max(0, size - start));
    readSync(fd, buf, 0, buf.length, start);
    return buf.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Opens the log for appending: created 0600 (its folder 0700), never through a symbolic link. */
function openLog(file: string): number {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  return openSync(file, fsc.O_WRONLY | fsc.O_APPEND | fsc.O_CREAT | fsc.O_NOFOLLOW, 0o600);
}

/** Starts the detached daemon; prints its line (or why it did not start) and returns the exit code. */
export async function detachDaemon(opts: DetachOptions): Promise<number> {
  let log: number;
  try {
    log = openLog(opts.logFile);
  } catch (e) {
    process.stderr.write(`manta daemon: cannot open the log file ${opts.logFile}: ${(e as Error).message}; choose another with --log-file\n`);
    return 2;
  }
  const offset = fstatSync(log).size;
  // The same program and loader flags as this process (dist/manta.js, or the sources under tsx).
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...opts.args], {
    detached: true,
    stdio: ['ignore', log, log, 'ipc'],
    env: { ...process.env, [DETACHED_ENV]: '1' },
  });
  closeSync(log);
  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  const outcome = await new Promise<DetachReport | { type: 'exited'; code: number | null; signal: string | null } | { type: 'failed'; message: string }>((resolve) => {
    const timer = setTimeout(() => resolve({ type: 'failed', message: `it did not listen within ${timeoutMs / 1000} s` }), timeoutMs);
    const done = (v: Parameters<typeof resolve>[0]) => (clearTimeout(timer), resolve(v));
    child.on('message', (m: DetachReport) => done(m));
    child.on('exit', (code, signal) => done({ type: 'exited', code, signal }));
    child.on('error', (e) => done({ type: 'failed', message: `it could not be started: ${e.message}` }));
  });
  const release = () => {
    if (child.connected) child.disconnect();
    child.unref();
  };
  const fail = (why: string): number => {
    const tail = logTail(opts.logFile, offset);
    process.stderr.write(`manta daemon: the detached daemon did not start: ${why}.${tail ? ` The last lines of its log (${opts.logFile}):\n${tail}` : ` Its log: ${opts.logFile}`}\n`);
    return 1;
  };

  if (outcome.type === 'listening') {
    // Reported after its listen: the socket accepts connections unless something removed it since.
    const deadline = Date.now() + 5000;
    while (!(await canConnect(opts.socketPath))) {
      if (Date.now() > deadline || child.exitCode !== null) {
        release();
        return fail(`it reported listening, but ${opts.socketPath} accepts no connection`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    release();
    const result: DetachResult = { socketPath: opts.socketPath, pid: outcome.pid, alreadyRunning: false, logFile: opts.logFile };
    process.stdout.write(JSON.stringify(result) + '\n');
    return 0;
  }
  if (outcome.type === 'locked') {
    release(); // it exits with code 2 by itself, its message in the log
    if (!outcome.holder?.socketPath) {
      // A daemon serving stdio only cannot be reached through a socket: the caller must stop it first.
      process.stderr.write(`manta daemon: ${outcome.message}\n`);
      return 2;
    }
    const result: DetachResult = { socketPath: outcome.holder.socketPath, ...(outcome.holder.pid ? { pid: outcome.holder.pid } : {}), alreadyRunning: true };
    process.stdout.write(JSON.stringify(result) + '\n');
    return 0;
  }
  if (outcome.type === 'failed') {
    if (child.exitCode === null && child.pid !== undefined) child.kill('SIGTERM');
    release();
    return fail(outcome.message);
  }
  release();
  return fail(outcome.signal ? `it was killed by ${outcome.signal}` : `it exited with code ${outcome.code}`);
}

/** In the detached child: tells the parent, then drops the channel (the daemon must not depend on its parent). */
export function reportToParent(report: DetachReport): Promise<void> {
  return new Promise((resolve) => {
    const end = () => {
      if (process.connected) process.disconnect();
      resolve();
    };
    if (!process.send || !process.connected) return end();
    try {
      process.send(report, undefined, {}, end);
    } catch {
      end(); // the parent is gone already
    }
  });
}
