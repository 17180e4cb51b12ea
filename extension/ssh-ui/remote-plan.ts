// The decisions behind the SSH commands, as plain functions (test/unit/extension-ssh-ui.test.ts): which errors a
// reconnect can fix, what `user@host[:port]` means, where a config lives on a host and which of its missing data
// paths can be uploaded from the workspace, every host's placement in a job across hosts, and where fetched run
// files go. No `vscode` here.
import * as path from 'node:path';
import type { JobPlacement, ParamProblem } from '../../daemon/protocol';
import { SshHostError } from '../hosts/ssh/types';

/** The waits between reconnect attempts of an SSH host (the last one repeats). */
export const SSH_RECONNECT_DELAYS_MS = [1000, 2000, 5000, 10000, 30000];

/** Failures no retry fixes: the user has to act (a host key, a login, Node, the disk). */
export const NOT_RETRYABLE_REASONS = ['host-key-changed', 'host-key-unknown', 'host-key-revoked', 'auth', 'no-node', 'old-node', 'disk-full'];

export function isRetryableSshError(e: unknown): boolean {
  return !(e instanceof SshHostError && NOT_RETRYABLE_REASONS.includes(e.reason));
}

/** The rendezvous port of a job across hosts unless the user picks another. */
export const DEFAULT_JOB_PORT = 29400;

/** `user@host`, `host:2222`, `user@[fe80::1]:22` → its parts; a sentence when it is not one. */
export function parseUserHostPort(text: string, defaultUser: string): { user: string; hostName: string; port: number } | { error: string } {
  const t = text.trim();
  if (!t) return { error: 'give a host, e.g. alice@gpu-box.example.org or gpu-box:2222' };
  if (/\s/.test(t)) return { error: 'no spaces: user@host[:port]' };
  const at = t.lastIndexOf('@');
  const user = at >= 0 ? t.slice(0, at) : defaultUser;
  const rest = at >= 0 ? t.slice(at + 1) : t;
  if (at >= 0 && !user) return { error: 'the user before @ is empty' };
  let hostName = rest;
  let port = 22;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracketed) {
    hostName = bracketed[1];
    if (bracketed[2] !== undefined) port = Number(bracketed[2]);
  } else if ((rest.match(/:/g) ?? []).length === 1) {
    const [h, p] = rest.split(':');
    if (!/^\d+$/.test(p)) return { error: `the port after ':' must be a number (got '${p}')` };
    hostName = h;
    port = Number(p);
  }
  if (!hostName) return { error: 'the host name is empty' };
  if (!/^[A-Za-z0-9._:%-]+$/.test(hostName)) return { error: `'${hostName}' is not a host name or address` };
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { error: `port ${port} is not between 1 and 65535` };
  return { user, hostName, port };
}

/** A name for the Hosts view and the setting: letters, digits and `._-`. */
export function checkHostName(name: string, taken: readonly string[]): string | undefined {
  const n = name.trim();
  if (!n) return 'give the host a name, e.g. gpu-box';
  if (!/^[A-Za-z0-9._-]+$/.test(n)) return 'only letters, digits, . _ and - (it names the host in the Hosts view)';
  if (taken.includes(n)) return `'${n}' is already a host; pick another name or edit manta.remoteHosts`;
  return undefined;
}

/** `~` and `~/x` against the host's home; other paths as they are. */
export function expandHome(p: string, home: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return path.posix.join(home, p.slice(2));
  return p;
}

/** A folder name safe in a path: no separators, nothing that climbs. */
export function safeSegment(name: string): string {
  const s = name.replace(/[\\/:*?"<>|\0]+/g, '-').replace(/^[.\s-]+/, '').trim();
  return s || 'unnamed';
}

/** Where a workspace's configs run on a host: the host's workDir setting, else `~/manta/<workspace folder>`. */
export function hostWorkDir(workDir: string | undefined, workspaceName: string, home: string): string {
  const dir = workDir?.trim() ? workDir.trim() : `~/manta/${safeSegment(workspaceName)}`;
  const expanded = expandHome(dir, home);
  const absolute = path.posix.isAbsolute(expanded) ? path.posix.normalize(expanded) : path.posix.join(home, expanded);
  return absolute.length > 1 ? absolute.replace(/\/+$/, '') : absolute;
}

/** A dataset path of a config the host does not have, and what the workspace could send for it. */
export interface DataUpload {
  /** The problem's JSON pointer, e.g. '/data/train'. */
  pointer: string;
  /** The path as the config names it. */
  value: string;
  /** The local folder to upload (the path itself, or a file's folder) … */
  localDir: string;
  /** … where it goes on the host … */
  remoteDir: string;
  /** … and, for a dataset file, only that file of it. */
  file?: string;
}

/** The value at a JSON pointer of an object. */
function atPointer(value: unknown, pointer: string): unknown {
  let v = value;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/**
 * The missing dataset paths (`exists` problems under /data) that are relative, exist locally next to the config
 * (`localKind` says what is there) and lie inside the workspace: each becomes an upload to the same relative place
 * under the config's folder on the host.
 */
export function dataUploads(
  problems: readonly ParamProblem[],
  config: unknown,
  local: { configDir: string; workspaceDir: string; kind(p: string): 'file' | 'dir' | undefined },
  remoteConfigDir: string,
): DataUpload[] {
  const out: DataUpload[] = [];
  const seen = new Set<string>();
  for (const p of problems) {
    if (p.rule !== 'exists' || !p.path.startsWith('/data/')) continue;
    const value = atPointer(config, p.path);
    if (typeof value !== 'string' || !value || path.isAbsolute(value) || path.posix.isAbsolute(value) || value.startsWith('~')) continue;
    const localPath = path.resolve(local.configDir, value);
    const inside = path.relative(local.workspaceDir, localPath);
    if (inside.startsWith('..') || path.isAbsolute(inside)) continue;
    const kind = local.kind(localPath);
    if (!kind) continue;
    const remotePath = path.posix.resolve(remoteConfigDir, value.split(path.sep).join('/'));
    const upload: DataUpload =
      kind === 'dir'
        ? { pointer: p.path, value, localDir: localPath, remoteDir: remotePath }
        : { pointer: p.path, value, localDir: path.dirname(localPath), remoteDir: path.posix.dirname(remotePath), file: path.basename(localPath) };
    const key = `${upload.localDir}\0${upload.file ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(upload);
  }
  return out;
}

/** Uploads of files of the same folder become one upload of those files. */
export function mergeUploads(uploads: readonly DataUpload[]): { localDir: string; remoteDir: string; files?: string[]; values: string[] }[] {
  const byDir = new Map<string, { localDir: string; remoteDir: string; files?: string[]; values: string[] }>();
  for (const u of uploads) {
    const key = `${u.localDir}\0${u.remoteDir}`;
    const entry = byDir.get(key) ?? { localDir: u.localDir, remoteDir: u.remoteDir, values: [] as string[], ...(u.file ? { files: [] as string[] } : {}) };
    entry.values.push(u.value);
    if (!u.file) delete entry.files; // the whole folder goes
    else entry.files?.push(u.file);
    byDir.set(key, entry);
  }
  return [...byDir.values()];
}

/** Every host's placement in one job: the same hosts, coordinator, port, workers and token; its own index. Workers
 * listen on all interfaces (the coordinator learns the others' addresses from their connections). */
export function jobPlacements(o: { hosts: readonly string[]; coordinator: string; port: number; workersPerHost: number; token: string }): JobPlacement[] {
  return o.hosts.map((_, i) => ({
    hosts: [...o.hosts],
    hostIndex: i,
    workersPerHost: o.workersPerHost,
    coordinator: { host: o.coordinator, port: o.port },
    bindAddress: '0.0.0.0',
    token: o.token,
  }));
}

/** `host:port` → its parts (the port defaults to DEFAULT_JOB_PORT); a sentence when it is not one. */
export function parseCoordinator(text: string): { host: string; port: number } | { error: string } {
  const t = text.trim();
  const m = /^(\[[^\]]+\]|[^:\s]+)(?::(\d+))?$/.exec(t);
  if (!m) return { error: 'host or host:port, e.g. 10.0.0.1:29400' };
  const port = m[2] === undefined ? DEFAULT_JOB_PORT : Number(m[2]);
  if (port < 1 || port > 65535) return { error: `port ${port} is not between 1 and 65535` };
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

/** The local name of a run file: kinds get their file's name, exported subnets keep their folders. */
export function localRunFileName(file: string): string {
  const kinds: Record<string, string> = { results: 'results.json', report: 'report.html', measurements: 'measurements.json', config: 'config.json' };
  if (kinds[file]) return kinds[file];
  return file
    .split('/')
    .map((s) => safeSegment(s))
    .join('/');
}

/** `<workspace>/manta-runs/<host>/<run name>/`, as path segments under the workspace folder. */
export function fetchFolder(hostLabel: string, runName: string): string[] {
  return ['manta-runs', safeSegment(hostLabel), safeSegment(runName)];
}
