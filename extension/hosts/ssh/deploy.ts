// The daemon bundle and putting it on a host: `~/.manta/daemon/<version>-<content hash>/` is uploaded over SFTP only
// when that exact bundle is not complete there yet. It is written into a `.partial-…` folder that becomes the final
// one by a rename once every file and the `.complete` marker are in, so a cut connection or a full disk never leaves
// a half-installed daemon that looks whole; a failed upload removes its partial folder.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Client, SFTPWrapper } from 'ssh2';
import { exec, openSftp, shellQuote } from './remote';
import type { HostProbe } from './probe';
import { SshHostError, type SshProgress } from './types';

/** The files that make up the daemon: the CLI/daemon bundle, its worker bundles and the wasm binaries. */
export interface DaemonBundle {
  version: string;
  /** sha256 of every file's name and content, hex. */
  hash: string;
  dir: string;
  files: { name: string; size: number }[];
  totalBytes: number;
}

/** Extension-side bundles the daemon never loads. */
const NOT_DAEMON = new Set(['extension.js', 'config-server.js']);

/** Reads the daemon bundle out of a built dist/ folder (the extension's own, or the repository's). */
export async function readDaemonBundle(distDir: string, version: string): Promise<DaemonBundle> {
  const names = (await fs.readdir(distDir, { withFileTypes: true }))
    .filter((e) => e.isFile() && (e.name.endsWith('.js') || e.name.endsWith('.wasm')) && !NOT_DAEMON.has(e.name))
    .map((e) => e.name)
    .sort();
  if (!names.includes('manta.js')) throw new Error(`${distDir} holds no daemon bundle (manta.js); rebuild MANTA (node esbuild.mjs)`);
  const hash = createHash('sha256');
  const files: DaemonBundle['files'] = [];
  for (const name of names) {
    const file = path.join(distDir, name);
    hash.update(`${name}\0`);
    let size = 0;
    for await (const chunk of createReadStream(file)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    hash.update('\0');
    files.push({ name, size });
  }
  return { version, hash: hash.digest('hex'), dir: distDir, files, totalBytes: files.reduce((s, f) => s + f.size, 0) };
}

/** Where a bundle lives on a host whose home is `home`. */
export function remoteBundleDir(home: string, bundle: DaemonBundle): string {
  return `${home}/.manta/daemon/${bundle.version}-${bundle.hash.slice(0, 16)}`;
}

/** Room left over the bundle's size before an upload starts (logs, the run registry, sockets). */
const DISK_MARGIN = 16 * 1024 * 1024;

export interface DeployResult {
  dir: string;
  uploaded: boolean;
}

/** Makes sure the bundle is complete on the host; uploads it when it is not. */
export async function deployBundle(client: Client, probe: HostProbe, bundle: DaemonBundle, label: string, progress: (p: SshProgress) => void): Promise<DeployResult> {
  const dir = remoteBundleDir(probe.home, bundle);
  const check = await exec(client, `test -f ${shellQuote(`${dir}/.complete`)} && echo present`, { timeoutMs: 20000 });
  if (check.stdout.includes('present')) return { dir, uploaded: false };
  const mb = (n: number) => (n / 1048576).toFixed(1);
  if (probe.freeBytes !== undefined && probe.freeBytes < bundle.totalBytes + DISK_MARGIN) {
    throw new SshHostError(
      `${label}: not enough free disk for the daemon on the host: it needs ${mb(bundle.totalBytes + DISK_MARGIN)} MB under ${probe.home}/.manta, ${mb(probe.freeBytes)} MB are free. Free some space there and connect again.`,
      label,
      'uploading',
      'disk-full',
    );
  }
  const parent = `${probe.home}/.manta/daemon`;
  const partial = `${parent}/.partial-${bundle.hash.slice(0, 16)}-${process.pid}-${Date.now().toString(36)}`;
  // Partial folders of uploads that died with their connection more than an hour ago go first.
  await exec(client, `mkdir -p ${shellQuote(partial)} && find ${shellQuote(parent)} -maxdepth 1 -name '.partial-*' -mmin +60 -exec rm -rf {} + 2>/dev/null; true`, { timeoutMs: 30000 });
  const sftp = await openSftp(client);
  try {
    let done = 0;
    const report = () =>
      progress({ host: label, step: 'uploading', message: `uploading the daemon (${mb(done)} of ${mb(bundle.totalBytes)} MB)`, bytes: { done, total: bundle.totalBytes } });
    report();
    for (const f of bundle.files) {
      const before = done;
      await fastPut(sftp, path.join(bundle.dir, f.name), `${partial}/${f.name}`, (sent) => {
        done = before + sent;
        report();
      });
      done = before + f.size;
    }
    await writeFile(sftp, `${partial}/.complete`, JSON.stringify({ version: bundle.version, hash: bundle.hash, files: bundle.files }));
    // The rename publishes the bundle at once; another window that finished the same upload first wins.
    const publish = await exec(client, `if [ -f ${shellQuote(`${dir}/.complete`)} ]; then rm -rf ${shellQuote(partial)}; else rm -rf ${shellQuote(dir)} && mv ${shellQuote(partial)} ${shellQuote(dir)}; fi`, { timeoutMs: 30000 });
    if (publish.code !== 0) throw new Error(`cannot move the uploaded bundle into ${dir}: ${publish.stderr.trim()}`);
    return { dir, uploaded: true };
  } catch (e) {
    await exec(client, `rm -rf ${shellQuote(partial)}`, { timeoutMs: 30000 }).catch(() => undefined);
    if (e instanceof SshHostError) throw e;
    // SFTP reports a full disk only as a generic failure: ask the file system.
    const free = await exec(client, `df -Pk ${shellQuote(parent)} | awk 'NR==2 {print $4}'`, { timeoutMs: 20000 }).catch(() => undefined);
    const freeBytes = Number(free?.stdout.trim()) * 1024;
    if (Number.isFinite(freeBytes) && freeBytes < bundle.totalBytes + DISK_MARGIN) {
      throw new SshHostError(
        `${label}: the host's disk filled up while uploading the daemon (${mb(freeBytes)} MB free under ${probe.home}/.manta, ${mb(bundle.totalBytes)} MB needed); the partial upload was removed. Free some space and connect again.`,
        label,
        'uploading',
        'disk-full',
      );
    }
    throw new SshHostError(`${label}: uploading the daemon failed: ${(e as Error).message}; the partial upload was removed`, label, 'uploading', 'deploy');
  } finally {
    sftp.end();
  }
}

function fastPut(sftp: SFTPWrapper, local: string, remote: string, step: (sent: number) => void): Promise<void> {
  return new Promise((resolve, reject) =>
    sftp.fastPut(local, remote, { mode: 0o644, step: (sent) => step(sent) }, (err) => (err ? reject(err) : resolve())),
  );
}

function writeFile(sftp: SFTPWrapper, remote: string, text: string): Promise<void> {
  return new Promise((resolve, reject) => sftp.writeFile(remote, text, { mode: 0o644 }, (err) => (err ? reject(err) : resolve())));
}
