// One daemon per state folder (and per socket): a lock that dies with its holder. On Linux the lock is a listening
// socket in the abstract namespace — binding a name is atomic, and the kernel releases it the instant its process
// dies, kill -9 included, so there is no stale lock to break and no race in breaking one. Its name is derived from a
// random key kept in the guarded folder (mode 0600, in a folder only the user may write), so another user cannot
// compute it and squat it. A contender that finds the name taken connects to it and is told who holds it (pid,
// version, socket, state folder). Elsewhere (no abstract namespace) the lock is a file created exclusively, holding
// the pid; a holder that is no longer alive is replaced.
import { randomBytes, createHash } from 'node:crypto';
import { constants as fsc, promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { UserError } from '../protocol/user-error';
import { processAlive } from './processes';

export interface LockHolder {
  pid: number;
  version: string;
  /** The holder's socket (absent: stdio only). */
  socketPath?: string;
  stateDir: string;
  startedAt: number;
}

export interface InstanceLock {
  release(): Promise<void>;
}

/** Thrown when another live daemon holds the lock; the message names it. */
export class InstanceLocked extends UserError {
  constructor(
    readonly holder: Partial<LockHolder> | undefined,
    what: string,
  ) {
    const who = holder?.pid ? `pid ${holder.pid}${holder.version ? `, MANTA ${holder.version}` : ''}` : 'it did not say its pid';
    const state = holder?.stateDir ? `; state folder ${holder.stateDir}` : '';
    super(
      holder?.socketPath
        ? `a MANTA daemon is already listening on ${holder.socketPath} (${who}${state}) and holds ${what}; connect to it, or stop it with manta/shutdown first`
        : `a MANTA daemon (${who}, serving stdio only${state}) already holds ${what}; stop it (close its client) first`,
      'daemon.already-running',
    );
  }
}

const KEY_FILE = '.manta-lock-key';

/** The random key of `folder`, created on first use (written whole before it appears: temp file, then link). */
async function folderKey(folder: string): Promise<string> {
  const file = path.join(folder, KEY_FILE);
  const uid = process.getuid?.();
  for (let attempt = 0; attempt < 5; attempt++) {
    let handle: fs.FileHandle | undefined;
    try {
      handle = await fs.open(file, fsc.O_RDONLY | fsc.O_NOFOLLOW);
      const st = await handle.stat();
      if (!st.isFile() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o077) !== 0) {
        throw new UserError(`${file} is not a private file of this user; remove it and start the daemon again`, 'daemon.lock');
      }
      const key = (await handle.readFile('utf8')).trim();
      if (!/^[0-9a-f]{32}$/.test(key)) throw new UserError(`${file} is damaged; remove it and start the daemon again`, 'daemon.lock');
      return key;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw new UserError(`${file} is a symbolic link; remove it and start the daemon again`, 'daemon.lock');
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    } finally {
      await handle?.close();
    }
    const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await fs.writeFile(temp, randomBytes(16).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    try {
      await fs.link(temp, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // another daemon made it first: read theirs
    } finally {
      await fs.rm(temp, { force: true });
    }
  }
  throw new UserError(`cannot create the lock key ${file}`, 'daemon.lock');
}

/** Asks the holder of an abstract lock who it is. */
function askHolder(name: string, timeoutMs = 2000): Promise<Partial<LockHolder> | undefined> {
  return new Promise((resolve) => {
    const s = net.connect(name);
    let text = '';
    const done = (v: Partial<LockHolder> | undefined) => {
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    s.setEncoding('utf8');
    s.on('data', (t: string) => (text += t.slice(0, 4096)));
    s.on('end', () => {
      try {
        done(JSON.parse(text) as Partial<LockHolder>);
      } catch {
        done(undefined);
      }
    });
    s.on('error', () => done(undefined));
  });
}

async function abstractLock(folder: string, purpose: string, holder: LockHolder, what: string): Promise<InstanceLock> {
  const key = await folderKey(folder);
  const name = '\0manta-lock-' + createHash('sha256').update(`${process.getuid?.() ?? 0}\n${key}\n${purpose}`).digest('hex').slice(0, 40);
  const reply = JSON.stringify(holder) + '\n';
  for (let attempt = 0; ; attempt++) {
    const server = net.createServer((s) => {
      s.on('error', () => undefined);
      s.end(reply);
    });
    const taken = await new Promise<boolean>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve(true) : reject(e)));
      server.listen(name, () => resolve(false));
    });
    if (!taken) {
      server.unref(); // the lock never keeps the process alive by itself
      return { release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
    }
    const other = await askHolder(name);
    // No answer: the holder died between our bind and our question (its name is free now), or it is wedged.
    if (other || attempt >= 3) throw new InstanceLocked(other, what);
  }
}

async function fileLock(folder: string, purpose: string, holder: LockHolder, what: string): Promise<InstanceLock> {
  const file = path.join(folder, `.manta-${createHash('sha256').update(purpose).digest('hex').slice(0, 12)}.lock`);
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.writeFile(file, JSON.stringify(holder) + '\n', { mode: 0o600, flag: 'wx' });
      return { release: () => fs.rm(file, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const other = await fs.readFile(file, 'utf8').then((t) => JSON.parse(t) as Partial<LockHolder>).catch(() => undefined);
    if ((other?.pid && processAlive(other.pid)) || attempt >= 3) throw new InstanceLocked(other, what);
    await fs.rm(file, { force: true }); // its holder is gone
  }
}

/**
 * Takes the lock `purpose` of `folder` (which must be a folder only this user can write) for this daemon, or throws
 * InstanceLocked naming the daemon that holds it. `what` describes the lock in that message.
 */
export function acquireInstanceLock(folder: string, purpose: string, holder: LockHolder, what: string): Promise<InstanceLock> {
  return process.platform === 'linux' ? abstractLock(folder, purpose, holder, what) : fileLock(folder, purpose, holder, what);
}

/**
 * TEST-ONLY: a delay at a named point of the daemon's start, so a test can hold several daemons at the same point
 * and make a race certain: MANTA_TEST_DELAY_AT=`point:ms[,point:ms]`. (Unlike MANTA_TEST_PAUSE_AT of
 * daemon/train/test-pause.ts, which stops a process for good, this one resumes.) Points: `daemon.before-listen`,
 * after the socket check and before the socket is replaced and listened on.
 */
export async function testDelay(point: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const spec = env.MANTA_TEST_DELAY_AT;
  if (!spec) return;
  for (const item of spec.split(',')) {
    const [name, ms] = item.split(':');
    if (name === point && Number(ms) > 0) await new Promise((r) => setTimeout(r, Number(ms)));
  }
}
