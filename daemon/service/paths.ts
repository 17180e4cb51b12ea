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
 * Creates `dir` (mode 0700) or checks an existing one: it must be a folder owned by this user, and is made 0700 —
 * nobody else may reach the socket inside.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const stat = await fs.lstat(dir);
  const uid = process.getuid?.();
  if (!stat.isDirectory()) throw new UserError(`${dir} is not a folder; remove it or point XDG_RUNTIME_DIR elsewhere`, 'daemon.runtime-dir');
  if (uid !== undefined && stat.uid !== uid) {
    throw new UserError(`${dir} belongs to another user (uid ${stat.uid}); set XDG_RUNTIME_DIR to a folder of your own, or use --socket`, 'daemon.runtime-dir');
  }
  if ((stat.mode & 0o777) !== 0o700) await fs.chmod(dir, 0o700);
}
