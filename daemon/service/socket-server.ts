// The daemon's Unix socket: in a private folder, mode 0600. A socket left by a dead daemon is replaced; one that a
// live daemon answers on is reported, and this daemon does not start.
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { UserError } from '../protocol/user-error';
import { MAX_SOCKET_PATH } from '../protocol/transport';
import { ensurePrivateDir } from './paths';

export class DaemonAlreadyRunning extends UserError {
  constructor(socketPath: string, detail: string) {
    super(`a MANTA daemon is already listening on ${socketPath}${detail}; connect to it, or stop it with manta/shutdown first`, 'daemon.already-running');
  }
}

/** Whether something accepts connections on `socketPath`. */
function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function describeOwner(socketPath: string): Promise<string> {
  try {
    const info = JSON.parse(await fs.readFile(path.join(path.dirname(socketPath), 'daemon.json'), 'utf8')) as { pid?: number; version?: string };
    return info.pid ? ` (pid ${info.pid}${info.version ? `, MANTA ${info.version}` : ''})` : '';
  } catch {
    return '';
  }
}

export interface SocketListener {
  server: net.Server;
  close(): Promise<void>;
}

export async function listenOnSocket(
  socketPath: string,
  onConnection: (socket: net.Socket) => void,
  info: object,
  onError: (e: Error) => void,
): Promise<SocketListener> {
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new UserError(`socket path ${socketPath} is longer than ${MAX_SOCKET_PATH} bytes; use a shorter --socket path or XDG_RUNTIME_DIR`, 'daemon.socket-path');
  }
  const dir = path.dirname(socketPath);
  await ensurePrivateDir(dir);
  const existing = await fs.lstat(socketPath).catch(() => undefined);
  if (existing) {
    if (!existing.isSocket()) throw new UserError(`${socketPath} exists and is not a socket; remove it or use another --socket path`, 'daemon.socket-path');
    if (await answers(socketPath)) throw new DaemonAlreadyRunning(socketPath, await describeOwner(socketPath));
    await fs.rm(socketPath, { force: true }); // stale: its daemon is gone
  }
  const server = net.createServer(onConnection);
  // The folder is 0700 already; the umask makes the socket 0600 from its first instant, and chmod makes sure.
  const mask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new DaemonAlreadyRunning(socketPath, await describeOwner(socketPath));
    throw e;
  } finally {
    process.umask(mask);
  }
  server.on('error', onError); // e.g. out of file descriptors: refuse that connection, keep listening
  await fs.chmod(socketPath, 0o600);
  const { ino } = await fs.stat(socketPath);
  const infoFile = path.join(dir, 'daemon.json');
  await fs.writeFile(infoFile, JSON.stringify(info) + '\n', { mode: 0o600 });
  return {
    server,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // Remove the socket only if it is still ours (a successor may have replaced it).
      const now = await fs.stat(socketPath).catch(() => undefined);
      if (now && now.ino === ino) {
        await fs.rm(socketPath, { force: true });
        await fs.rm(infoFile, { force: true });
      }
    },
  };
}
