// The daemon's Unix socket: in a private folder, mode 0600. A socket left by a dead daemon is replaced; one that a
// live daemon answers on is reported, and this daemon does not start. Beside it, daemon.json names the daemon.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { UserError } from '../protocol/user-error';
import { MAX_SOCKET_PATH } from '../protocol/transport';
import { testDelay } from './instance-lock';
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

/**
 * Writes `file` whole without following a link planted at its name: a temp file created exclusively (O_EXCL, so not
 * through a link either) in the same folder, then renamed over the name (a rename replaces a link, never follows it).
 */
async function writeFileAtomically(file: string, text: string): Promise<void> {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await fs.writeFile(temp, text, { mode: 0o600, flag: 'wx' });
    await fs.rename(temp, file);
  } catch (e) {
    await fs.rm(temp, { force: true });
    throw e;
  }
}

/**
 * Listens on `socketPath`. The caller holds the daemon's socket lock (instance-lock.ts), so no other MANTA daemon is
 * between the check and the listen here. The server listens on a temp name first and is then renamed over
 * `socketPath` — replacing a stale socket in one step, with no unlink — and since Node removes the path it listened on
 * when the server closes (the temp name, gone by then), a stopping daemon removes `socketPath` only if the socket
 * there is still its own (same device and inode): never a successor's.
 */
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
  }
  await testDelay('daemon.before-listen');
  let listenPath = path.join(dir, `.${process.pid.toString(36)}${randomBytes(2).toString('hex')}.sock`);
  if (Buffer.byteLength(listenPath) > MAX_SOCKET_PATH) listenPath = socketPath; // no room for a temp name: listen in place
  if (listenPath === socketPath && existing) await fs.rm(socketPath, { force: true }); // stale: its daemon is gone
  const server = net.createServer(onConnection);
  // The folder is 0700 already; the umask makes the socket 0600 from its first instant, and chmod makes sure.
  const mask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPath, () => {
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
  await fs.chmod(listenPath, 0o600);
  const mine = await fs.stat(listenPath);
  if (listenPath !== socketPath) await fs.rename(listenPath, socketPath);
  const isMine = async () => {
    const now = await fs.lstat(socketPath).catch(() => undefined);
    return now !== undefined && now.ino === mine.ino && now.dev === mine.dev;
  };
  const infoFile = path.join(dir, 'daemon.json');
  await writeFileAtomically(infoFile, JSON.stringify(info) + '\n');
  return {
    server,
    async close() {
      // Checked before the close: when listening in place, Node's close removes socketPath whatever lies there.
      const ours = await isMine();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ours) {
        await fs.rm(socketPath, { force: true });
        await fs.rm(infoFile, { force: true });
      }
    },
  };
}
