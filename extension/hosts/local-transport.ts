// How the extension reaches the daemon on this machine: the user's running daemon through its Unix socket, or else
// a daemon of its own started as a child over stdio. A remote host will add an SSH transport beside these.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { defaultSocketPath } from '../../daemon/protocol';
import type { DaemonTransport } from './connection';

/** Connects to a daemon's socket; rejects when nobody listens there. */
export function socketTransport(path: string, timeoutMs = 2000): Promise<DaemonTransport> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer on ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve({ readable: socket, writable: socket, describe: `socket ${path}`, close: () => socket.destroy() });
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export interface StdioDaemonOptions {
  /** The daemon bundle, dist/manta.js. */
  mantaScript: string;
  /** The Node binary; in desktop VS Code its own Electron with ELECTRON_RUN_AS_NODE. */
  nodePath: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** More `manta daemon` flags, e.g. `--allow-roots a:b`. */
  args?: string[];
  /** Each line the daemon writes to stderr (its log). */
  onStderr?: (line: string) => void;
  /** The child ended (code null: killed by a signal). */
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

/** Starts `manta daemon --stdio` as a child process; the daemon lives as long as the connection. */
export function stdioTransport(options: StdioDaemonOptions): DaemonTransport {
  const child = spawn(options.nodePath, [options.mantaScript, 'daemon', '--stdio', ...(options.args ?? [])], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, ELECTRON_RUN_AS_NODE: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let buffered = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      options.onStderr?.(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
  });
  child.on('exit', (code, signal) => options.onExit?.(code, signal));
  // A spawn failure (missing node) surfaces as an 'error' event; the handshake then fails with a closed stream.
  child.on('error', (e) => options.onStderr?.(`could not start the daemon: ${e.message}`));
  return {
    readable: child.stdout,
    writable: child.stdin,
    describe: `stdio of pid ${child.pid ?? '?'}`,
    close: () => {
      child.stdin.end();
      if (child.exitCode === null) child.kill('SIGTERM');
    },
  };
}

/** The local daemon's socket path, computed as the daemon computes it. */
export function localSocketPath(): string {
  return defaultSocketPath(process.env, process.getuid?.() ?? 0);
}
