// Uploading a data folder of this machine to a host over SFTP, resumably: the remote side is listed first and every
// file whose size and modification time (whole seconds, as SFTP carries them) already match is skipped, so an
// interrupted upload continues with the files not there yet. Each file is written to `<name>.manta-part` and renamed
// into place once complete (a reader never sees half a file), then given the local file's modification time.
// Plain Node: no `vscode` here; the extension shows the progress.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Client, FileEntryWithStats, SFTPWrapper } from 'ssh2';
import { exec, openSftp, shellQuote } from './remote';

/** A file of a listing: its path relative to the folder ('/'-separated), size and mtime in whole seconds. */
export interface ListedFile {
  rel: string;
  size: number;
  mtime: number;
}

/** The suffix of a file still being written. */
export const PART_SUFFIX = '.manta-part';

export interface UploadPlan {
  /** Files to send, in order (relative paths). */
  send: ListedFile[];
  /** Files already on the host, identical by size and mtime. */
  skip: ListedFile[];
  /** Remote folders to create (relative, parents first; '' is the target itself). */
  dirs: string[];
  /** Bytes to send. */
  bytes: number;
}

/**
 * Which files to send: every local file whose remote twin is missing or differs in size or mtime (seconds). Leftover
 * `*.manta-part` files on the host are not twins of anything and are overwritten by the file they belong to.
 */
export function planUpload(local: readonly ListedFile[], remote: readonly ListedFile[]): UploadPlan {
  const there = new Map(remote.map((f) => [f.rel, f]));
  const send: ListedFile[] = [];
  const skip: ListedFile[] = [];
  for (const f of [...local].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))) {
    const r = there.get(f.rel);
    if (r && r.size === f.size && r.mtime === f.mtime) skip.push(f);
    else send.push(f);
  }
  const dirs = new Set<string>(['']);
  for (const f of send) {
    const parts = f.rel.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return { send, skip, dirs: [...dirs].sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1)), bytes: send.reduce((s, f) => s + f.size, 0) };
}

/** Every regular file under `dir` (symbolic links followed; other kinds skipped), as a listing. */
export async function listLocalFolder(dir: string, include: (rel: string) => boolean = () => true): Promise<ListedFile[]> {
  const out: ListedFile[] = [];
  const walk = async (sub: string): Promise<void> => {
    const entries = await fs.readdir(path.join(dir, sub), { withFileTypes: true });
    for (const e of entries) {
      const rel = sub ? `${sub}/${e.name}` : e.name;
      const full = path.join(dir, sub, e.name);
      const stat = e.isSymbolicLink() ? await fs.stat(full).catch(() => undefined) : e.isFile() || e.isDirectory() ? await fs.stat(full) : undefined;
      if (!stat) continue;
      if (stat.isDirectory()) await walk(rel);
      else if (stat.isFile() && include(rel)) out.push({ rel, size: stat.size, mtime: Math.floor(stat.mtimeMs / 1000) });
    }
  };
  await walk('');
  return out;
}

/** Every regular file under the remote folder `dir` (absolute); empty when it does not exist yet. */
export async function listRemoteFolder(sftp: SFTPWrapper, dir: string): Promise<ListedFile[]> {
  const out: ListedFile[] = [];
  const walk = async (sub: string): Promise<void> => {
    let entries: FileEntryWithStats[];
    try {
      entries = await readdir(sftp, sub ? `${dir}/${sub}` : dir);
    } catch (e) {
      if (sub === '' && isNoSuchFile(e)) return;
      throw e;
    }
    for (const e of entries) {
      const rel = sub ? `${sub}/${e.filename}` : e.filename;
      if (e.attrs.isDirectory()) await walk(rel);
      else if (e.attrs.isFile()) out.push({ rel, size: e.attrs.size, mtime: e.attrs.mtime });
    }
  };
  await walk('');
  return out;
}

export interface UploadProgress {
  /** Bytes sent of `total` (skipped files do not count). */
  done: number;
  total: number;
  /** The file being sent. */
  file?: string;
  filesDone: number;
  filesTotal: number;
}

export interface UploadResult {
  sent: number;
  skipped: number;
  bytes: number;
  remoteDir: string;
}

export interface UploadOptions {
  /** Only these files of the folder (relative paths); default: all of them. */
  include?: (rel: string) => boolean;
  onPlan?(plan: UploadPlan): void;
  onProgress?(p: UploadProgress): void;
  /** Stops between chunks; what was complete stays on the host (the next upload skips it). */
  signal?: AbortSignal;
}

/**
 * Uploads the local folder `localDir` to `remoteDir` (an absolute path on the host; `~/x` is not expanded here:
 * resolve it against the host's home first). Files already there with the same size and mtime are skipped.
 */
export async function uploadFolder(client: Client, localDir: string, remoteDir: string, options: UploadOptions = {}): Promise<UploadResult> {
  if (!remoteDir.startsWith('/')) throw new Error(`the remote folder must be an absolute path (got ${remoteDir})`);
  const target = remoteDir.replace(/\/+$/, '') || '/';
  const local = await listLocalFolder(localDir, options.include);
  const sftp = await openSftp(client);
  try {
    const plan = planUpload(local, await listRemoteFolder(sftp, target));
    options.onPlan?.(plan);
    for (let i = 0; plan.send.length > 0 && i < plan.dirs.length; i += 200) {
      const dirs = plan.dirs.slice(i, i + 200).map((d) => shellQuote(d ? `${target}/${d}` : target));
      const made = await exec(client, `mkdir -p ${dirs.join(' ')}`, { timeoutMs: 60000 });
      if (made.code !== 0) throw new Error(`cannot create folders under ${target} on the host: ${made.stderr.trim() || `exit code ${made.code}`}`);
    }
    let done = 0;
    let filesDone = 0;
    const report = (file?: string) => options.onProgress?.({ done, total: plan.bytes, file, filesDone, filesTotal: plan.send.length });
    report();
    for (const f of plan.send) {
      if (options.signal?.aborted) throw new UploadCancelled(filesDone, plan.send.length);
      const remote = `${target}/${f.rel}`;
      const part = `${remote}${PART_SUFFIX}`;
      const before = done;
      await fastPut(sftp, path.join(localDir, ...f.rel.split('/')), part, (sent) => {
        done = before + sent;
        report(f.rel);
      }, options.signal).catch((e: unknown) => {
        throw e instanceof UploadCancelled ? new UploadCancelled(filesDone, plan.send.length) : e;
      });
      await renameOver(sftp, part, remote);
      await utimes(sftp, remote, f.mtime);
      done = before + f.size;
      filesDone++;
      report(f.rel);
    }
    return { sent: plan.send.length, skipped: plan.skip.length, bytes: plan.bytes, remoteDir: target };
  } finally {
    sftp.end();
  }
}

/** The user stopped an upload; the files completed so far stay on the host. */
export class UploadCancelled extends Error {
  override name = 'UploadCancelled';
  constructor(
    readonly filesDone: number,
    readonly filesTotal: number,
  ) {
    super(`upload cancelled after ${filesDone} of ${filesTotal} files; uploading again continues with the rest`);
  }
}

function isNoSuchFile(e: unknown): boolean {
  // SFTP status 2: SSH_FX_NO_SUCH_FILE.
  return (e as { code?: unknown }).code === 2 || /no such file/i.test((e as Error).message ?? '');
}

function readdir(sftp: SFTPWrapper, dir: string): Promise<FileEntryWithStats[]> {
  return new Promise((resolve, reject) => sftp.readdir(dir, (err, list) => (err ? reject(err) : resolve(list))));
}

function fastPut(sftp: SFTPWrapper, local: string, remote: string, step: (sent: number) => void, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // fastPut has no cancel of its own: ending the SFTP session fails it, and the partial file stays a .manta-part.
    const onAbort = () => sftp.end();
    signal?.addEventListener('abort', onAbort, { once: true });
    sftp.fastPut(local, remote, { mode: 0o644, step: (sent) => step(sent) }, (err) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) reject(new UploadCancelled(0, 0));
      else if (err) reject(err);
      else resolve();
    });
  });
}

/** Renames over an existing file: OpenSSH's posix-rename when offered, else remove then rename. */
async function renameOver(sftp: SFTPWrapper, from: string, to: string): Promise<void> {
  const posix = new Promise<void>((resolve, reject) => sftp.ext_openssh_rename(from, to, (err) => (err ? reject(err) : resolve())));
  try {
    await posix;
    return;
  } catch {
    // not offered by this server: fall through
  }
  await new Promise<void>((resolve) => sftp.unlink(to, () => resolve()));
  await new Promise<void>((resolve, reject) => sftp.rename(from, to, (err) => (err ? reject(err) : resolve())));
}

function utimes(sftp: SFTPWrapper, remote: string, mtime: number): Promise<void> {
  return new Promise((resolve, reject) => sftp.utimes(remote, mtime, mtime, (err) => (err ? reject(err) : resolve())));
}
