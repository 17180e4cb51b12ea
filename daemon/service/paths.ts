// Where the daemon keeps things: the socket in a private per-user runtime folder (0700), its state (the registry of
// runs) and its caches (latency tables) in the XDG folders of the user.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../protocol/user-error';
import { defaultSocketPath } from '../protocol/transport';

export function socketPathFor(env: NodeJS.ProcessEnv = process.env): string {
  return defaultSocketPath(env, process.getuid?.() ?? 0, os.tmpdir());
}

export function stateDirFor(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state'), 'manta');
}

/** MANTA_CACHE_DIR, else $XDG_CACHE_HOME/manta: the same folder `manta search` caches latency tables in. */
export function cacheDirFor(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MANTA_CACHE_DIR) return path.resolve(env.MANTA_CACHE_DIR);
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'manta');
}

/**
 * Creates `dir` (mode 0700) or checks an existing one: it must be a folder owned by this user that nobody else may
 * enter (nobody else may reach the socket inside). Only a folder the daemon has just created is chmodded; an existing
 * folder that others can reach (e.g. /tmp itself as the folder of `--socket /tmp/x.sock`) is refused, never changed.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  const created = await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const stat = await checkOwnFolder(dir, 'point XDG_RUNTIME_DIR elsewhere, or use --socket');
  if ((stat.mode & 0o777) === 0o700) return;
  if (created !== undefined) {
    await fs.chmod(dir, 0o700); // ours, made under an odd umask
    return;
  }
  throw new UserError(
    `${dir} can be reached by other users (mode ${(stat.mode & 0o7777).toString(8).padStart(4, '0')}); the daemon's socket needs a folder of its own: make it private (chmod 700 ${dir}) or use a --socket path in a new folder, e.g. ${path.join(dir, `manta-${process.getuid?.() ?? 0}`, 'daemon.sock')}`,
    'daemon.runtime-dir',
  );
}

/**
 * Creates the daemon's state folder (mode 0700) or checks an existing one: a folder of this user that neither group
 * nor others may write (its lock key, daemon.json and run registry must not be replaceable by anyone else).
 */
export async function ensureStateDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const stat = await checkOwnFolder(dir, 'use --state-dir');
  if ((stat.mode & 0o022) !== 0) {
    throw new UserError(
      `${dir} can be written by other users (mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}); make it private (chmod 700 ${dir}) or use another --state-dir`,
      'daemon.state-dir',
    );
  }
}

/** `dir` (not followed if it is a link) must be a folder owned by this user; its stat. */
async function checkOwnFolder(dir: string, fix: string): Promise<import('node:fs').Stats> {
  const stat = await fs.lstat(dir);
  const uid = process.getuid?.();
  if (!stat.isDirectory()) throw new UserError(`${dir} is not a folder; remove it or ${fix}`, 'daemon.runtime-dir');
  if (uid !== undefined && stat.uid !== uid) {
    throw new UserError(`${dir} belongs to another user (uid ${stat.uid}); ${fix} to a folder of your own`, 'daemon.runtime-dir');
  }
  return stat;
}
