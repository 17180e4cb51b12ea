// The daemon on a host: started detached (`manta daemon --detach`, it outlives the SSH connection; one per user per
// host, its lock decides), and reached through an SSH stream-local forward to its Unix socket — no TCP port is opened
// on the host, and nothing ever connects from the host back to the editor's machine.
import type { Client } from 'ssh2';
import type { DaemonTransport } from '../connection';
import { exec, shellQuote } from './remote';
import { SshHostError } from './types';

export interface RemoteDaemon {
  socketPath: string;
  pid?: number;
  /** A daemon was already running (this bundle's or another version's). */
  alreadyRunning: boolean;
  logFile?: string;
}

export interface StartOptions {
  node: string;
  /** The deployed bundle's folder. */
  dir: string;
  /** An idle daemon (no runs, no clients) exits after this long. */
  idleExitSeconds: number;
  /** Folders with the CUDA 11 / cuDNN 8 libraries the GPU engine needs, for the daemon only. */
  ldLibraryPath?: string;
}

/**
 * The socket of a daemon the extension starts on a host: under TMPDIR (default /tmp), not XDG_RUNTIME_DIR — logind
 * removes /run/user/<uid> when the user's last session ends, and a detached daemon outlives its SSH session; nor
 * under the home folder, which may be shared by several hosts over NFS.
 */
export const REMOTE_SOCKET = '"${TMPDIR:-/tmp}/manta-$(id -u)/daemon.sock"';

export async function startRemoteDaemon(client: Client, options: StartOptions, label: string): Promise<RemoteDaemon> {
  const command = [
    shellQuote(options.node),
    shellQuote(`${options.dir}/manta.js`),
    'daemon --detach',
    `--socket ${REMOTE_SOCKET}`,
    `--idle-exit ${Math.max(0, Math.round(options.idleExitSeconds))}`,
  ].join(' ');
  const r = await exec(client, command, { timeoutMs: 60000, env: options.ldLibraryPath ? { MANTA_LD_LIBRARY_PATH: options.ldLibraryPath } : {} }).catch((e: Error) => {
    throw new SshHostError(`${label}: starting the daemon: ${e.message}`, label, 'starting', 'start');
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let parsed: Partial<RemoteDaemon> | undefined;
  try {
    parsed = JSON.parse(line) as Partial<RemoteDaemon>;
  } catch {
    parsed = undefined;
  }
  if (r.code !== 0 || !parsed || typeof parsed.socketPath !== 'string') {
    const why = (r.stderr.trim() || r.stdout.trim() || `exit code ${r.code}`).split('\n').slice(-6).join('\n');
    throw new SshHostError(`${label}: the daemon did not start on the host:\n${why}`, label, 'starting', 'start');
  }
  return { socketPath: parsed.socketPath, pid: parsed.pid, alreadyRunning: parsed.alreadyRunning === true, logFile: parsed.logFile };
}

/** A stream-local forward to the daemon's socket on the host, as a transport for DaemonConnection. */
export function forwardToDaemon(client: Client, socketPath: string, label: string): Promise<DaemonTransport> {
  return new Promise((resolve, reject) =>
    client.openssh_forwardOutStreamLocal(socketPath, (err, channel) => {
      if (err) {
        reject(
          new SshHostError(
            `${label}: cannot reach the daemon's socket ${socketPath} through SSH (${err.message}); the host's sshd must allow stream-local forwarding (AllowStreamLocalForwarding, default yes)`,
            label,
            'attaching',
            'forward',
          ),
        );
        return;
      }
      resolve({ readable: channel, writable: channel, describe: `ssh ${label}:${socketPath}`, close: () => channel.close() });
    }),
  );
}
