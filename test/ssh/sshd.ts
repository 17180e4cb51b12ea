// A real OpenSSH server for the SSH tests: the system's /usr/sbin/sshd (Debian openssh-server), run in the
// foreground (`sshd -D -e -f <config>`) from a temp folder of its own, with its own host key, its own client keys and
// authorized_keys, on a free port of 127.0.0.1 (or any address, or inside a network namespace of
// test/distributed/netns.ts). Nothing of the machine's own sshd or /etc/ssh is read or changed; as root the only
// system change is the privilege-separation folder /run/sshd, created (0755) when missing.
//
// Who logs in: the user running the tests (os.userInfo()), with public keys only. As root, sshd runs privileged (with
// privilege separation, as a real server does) and root logs in (`PermitRootLogin prohibit-password`); as an ordinary
// user, sshd runs unprivileged and only that user can log in.
//
// The session's HOME, XDG_RUNTIME_DIR and PATH come from `SetEnv` in the config. In OpenSSH's session.c
// (do_setup_env) the admin's SetEnv variables are set after HOME, PATH, USER and SHELL, with child_set_env, which
// replaces a variable already set: so SetEnv overrides HOME (checked by test/ssh/sshd-harness.test.ts). What SetEnv
// cannot change: the session's working folder is still the passwd home (sshd chdirs to pw_dir; /root as root), and
// the login shell is the passwd one (bash for root here; Debian's bash reads $HOME/.bashrc, i.e. the test's HOME,
// for a command run by sshd). `PermitUserRC no` keeps the real ~/.ssh/rc out; with `UsePAM no` neither
// /etc/environment nor pam_env is read. Every session also gets MANTA_TEST_SSHD=<this server's folder>, a marker
// by which stop() finds (and kills) what sessions started, even detached daemons that left sshd's process tree.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { tempDir } from '../daemon/harness';
import { processAlive as alive } from '../../daemon/service/processes';

export const SSHD_PATH = '/usr/sbin/sshd';

/** Why the SSH suite cannot run here (undefined when it can). */
export function sshdUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'the SSH tests need Linux (they run a real OpenSSH sshd)';
  if (!existsSync(SSHD_PATH)) return `the SSH tests need a real OpenSSH server at ${SSHD_PATH}: install openssh-server`;
  const keygen = spawnSync('ssh-keygen', ['-?'], { encoding: 'utf8' });
  if (keygen.error) return 'the SSH tests need ssh-keygen: install openssh-client';
  const client = spawnSync('ssh', ['-V'], { encoding: 'utf8' });
  if (client.error) return 'the SSH tests need the OpenSSH client (ssh): install openssh-client';
  if (process.getuid?.() === 0 && spawnSync('getent', ['passwd', 'sshd']).status !== 0) {
    return "the SSH tests run sshd as root, which needs its privilege-separation user 'sshd': reinstall openssh-server";
  }
  return undefined;
}

export type HostKeyType = 'ed25519' | 'ecdsa' | 'rsa';

export interface TestSshd {
  /** The address to dial (the listen address; 127.0.0.1 for 0.0.0.0, ::1 for ::). */
  host: string;
  port: number;
  /** The login user: os.userInfo().username. */
  user: string;
  /** The HOME the session gets (0700). */
  home: string;
  /** The XDG_RUNTIME_DIR the session gets (0700). */
  runtimeDir: string;
  /**
   * Every variable the config's SetEnv gives a session: HOME, XDG_RUNTIME_DIR, PATH, MANTA_TEST_SSHD and the
   * options' `env` (sshd adds USER, LOGNAME, SHELL, MAIL, SSH_CONNECTION and the like itself).
   */
  env: Record<string, string>;
  /** The current host key (private key file; `.pub` next to it). */
  hostKeyFile: string;
  /** The host key in wire format: the base64-decoded second field of the `.pub`. */
  hostKeyBlob: Buffer;
  /** The host key's type as in the `.pub` and on the wire: ssh-ed25519, ecdsa-sha2-nistp256 or ssh-rsa. */
  hostKeyType: string;
  /** An unencrypted ed25519 private key (OpenSSH format) authorized to log in. */
  clientKeyFile: string;
  /** An ed25519 private key encrypted with `clientKeyPassphrase` (OpenSSH format, bcrypt KDF), also authorized. */
  encryptedClientKeyFile: string;
  clientKeyPassphrase: string;
  /**
   * A known_hosts listing this server's key as it was at start (`[host]:port type blob`; plain `host` on port 22).
   * rotateHostKey() leaves it as it is: it then names the old key, which is the point.
   */
  knownHostsFile: string;
  /** sshd's stderr (LogLevel VERBOSE): connections, authentications, forwardings, errors. */
  logFile: string;
  /** This server's temp folder (config, keys, log). */
  dir: string;
  configFile: string;
  /** The listener's pid (changes on rotateHostKey). */
  pid: number;
  /** Kills the listener, every sshd process under it and every process a session started (see the header). */
  stop(): Promise<void>;
  /**
   * SIGKILLs every per-connection sshd child of the listener and the sshd processes under it (not the commands the
   * sessions run: they see their pipes close, as after a dropped connection); returns how many connections that was.
   */
  killConnections(): number;
  /**
   * Restarts on the same port with a new host key (default: a new one of the current type), dropping every
   * connection: the "changed host key" case. knownHostsFile is left naming the old key.
   */
  rotateHostKey(type?: 'ed25519' | 'ecdsa'): Promise<void>;
}

export interface SshdOptions {
  /** Run sshd inside this network namespace (`ip netns exec`); needs root. */
  netns?: string;
  /** Listen address (default 127.0.0.1). */
  address?: string;
  /** Port (default: a free one). */
  port?: number;
  /** The session's PATH (default: this process's PATH). See pathWithout() for a host without node. */
  pathDirs?: string[];
  /** The session's HOME (default <dir>/home); created 0700 if missing. */
  home?: string;
  /** The session's XDG_RUNTIME_DIR (default <dir>/run); created 0700 if missing. */
  runtimeDir?: string;
  /**
   * More variables for the session (SetEnv), e.g. TMPDIR (created 0700 when missing). Not HOME, XDG_RUNTIME_DIR,
   * PATH or MANTA_TEST_SSHD: use home, runtimeDir and pathDirs.
   */
  env?: Record<string, string>;
  /**
   * More sshd_config lines. They are written BEFORE the harness's own (in sshd_config the first value of a keyword
   * wins), so they override them; from a `Match` line on they go to the end. Their `SetEnv` variables are merged
   * into the harness's one SetEnv line (sshd only reads the first SetEnv line).
   */
  extraConfig?: string[];
  /** Host key type (default ed25519). */
  hostKeyType?: HostKeyType;
  /** Password logins are not offered (PasswordAuthentication no); the option only exists to say so. */
  passwordFor?: never;
}

export const CLIENT_KEY_PASSPHRASE = 'manta test passphrase';

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const live = new Set<Sshd>();
let version: [number, number] | undefined;
let handlersInstalled = false;

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const s of live) s.killAllSync();
  });
  for (const signal of SIGNALS) {
    process.once(signal, () => {
      for (const s of live) s.killAllSync();
      process.kill(process.pid, signal);
    });
  }
}

function keygen(file: string, type: HostKeyType, passphrase = ''): void {
  const args = ['-q', '-N', passphrase, '-t', type, '-f', file, '-C', `manta-test-${path.basename(file)}`];
  if (type === 'ecdsa') args.push('-b', '256');
  execFileSync('ssh-keygen', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60000 });
}

function readPub(file: string): { type: string; blob: Buffer; line: string } {
  const line = readFileSync(`${file}.pub`, 'utf8').trim();
  const [type, b64] = line.split(/\s+/);
  return { type, blob: Buffer.from(b64, 'base64'), line };
}

/** The OpenSSH version of /usr/sbin/sshd as [major, minor] ([0, 0] when it cannot be told). */
function sshdVersion(): [number, number] {
  for (const [cmd, args] of [
    [SSHD_PATH, ['-V']],
    ['ssh', ['-V']],
  ] as const) {
    const r = spawnSync(cmd, [...args], { encoding: 'utf8' });
    const m = /OpenSSH_(\d+)\.(\d+)/.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    if (m) return [Number(m[1]), Number(m[2])];
  }
  return [0, 0];
}

/** A free TCP port on `address` (of this namespace), found by binding port 0. */
function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, address, () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

interface ProcInfo {
  ppid: number;
  comm: string;
}

/** pid → ppid and command name of every process (from /proc/<pid>/stat). */
function processTable(): Map<number, ProcInfo> {
  const table = new Map<number, ProcInfo>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const open = stat.indexOf('(');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      table.set(Number(name), { comm: stat.slice(open + 1, close), ppid: Number(fields[1]) });
    } catch {
      // gone meanwhile
    }
  }
  return table;
}

function descendants(pid: number, table: Map<number, ProcInfo>): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    for (const [child, info] of table) {
      if (info.ppid === p) {
        out.push(child);
        queue.push(child);
      }
    }
  }
  return out;
}

/** sshd's own processes: the listener, per-connection monitors and session processes (sshd-session, sshd-auth from 9.8). */
function isSshd(comm: string | undefined): boolean {
  return comm === 'sshd' || comm === 'sshd-session' || comm === 'sshd-auth';
}

function kill(pid: number, signal: NodeJS.Signals = 'SIGKILL'): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

function zombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** Pids whose environment holds `name=value` (only processes this user may read, which is all of them as root). */
function pidsWithEnv(name: string, value: string): number[] {
  const needle = Buffer.from(`\0${name}=${value}\0`);
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const env = Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${entry}/environ`)]);
      if (env.includes(needle)) out.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

function configValue(value: string): string {
  if (/["\n\r]/.test(value)) throw new Error(`sshd_config value cannot hold quotes or newlines: ${JSON.stringify(value)}`);
  return /\s|#/.test(value) ? `"${value}"` : value;
}

class Sshd implements TestSshd {
  host: string;
  port = 0;
  readonly user = os.userInfo().username;
  readonly home: string;
  readonly runtimeDir: string;
  readonly env: Record<string, string>;
  hostKeyFile = '';
  hostKeyBlob: Buffer = Buffer.alloc(0);
  hostKeyType = '';
  readonly clientKeyFile: string;
  readonly encryptedClientKeyFile: string;
  readonly clientKeyPassphrase = CLIENT_KEY_PASSPHRASE;
  readonly knownHostsFile: string;
  readonly logFile: string;
  readonly configFile: string;
  pid = 0;
  private proc: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private keyCount = 0;
  private keyKind: HostKeyType;
  private stopped = false;

  constructor(
    readonly dir: string,
    private readonly options: SshdOptions,
  ) {
    const address = options.address ?? '127.0.0.1';
    this.host = address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : address;
    this.home = options.home ?? path.join(dir, 'home');
    this.runtimeDir = options.runtimeDir ?? path.join(dir, 'run');
    this.clientKeyFile = path.join(dir, 'client_ed25519');
    this.encryptedClientKeyFile = path.join(dir, 'client_ed25519_enc');
    this.knownHostsFile = path.join(dir, 'known_hosts');
    this.logFile = path.join(dir, 'sshd.log');
    this.configFile = path.join(dir, 'sshd_config');
    this.keyKind = options.hostKeyType ?? 'ed25519';
    const pathDirs = options.pathDirs ?? (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(path.delimiter);
    this.env = {
      HOME: this.home,
      XDG_RUNTIME_DIR: this.runtimeDir,
      PATH: pathDirs.join(':'),
      MANTA_TEST_SSHD: dir,
      ...options.env,
    };
    for (const name of ['HOME', 'XDG_RUNTIME_DIR', 'PATH', 'MANTA_TEST_SSHD']) {
      if (options.env && name in options.env) throw new Error(`startSshd: set ${name} with its own option, not env`);
    }
    for (const name of Object.keys(this.env)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not an environment variable name: ${JSON.stringify(name)}`);
    }
  }

  prepare(): void {
    writeFileSync(path.join(this.dir, 'owner'), String(process.pid));
    for (const d of [this.home, this.runtimeDir, ...(this.options.env?.TMPDIR ? [this.options.env.TMPDIR] : [])]) {
      if (!existsSync(d)) mkdirSync(d, { recursive: true, mode: 0o700 });
    }
    keygen(this.clientKeyFile, 'ed25519');
    keygen(this.encryptedClientKeyFile, 'ed25519', this.clientKeyPassphrase);
    writeFileSync(
      path.join(this.dir, 'authorized_keys'),
      `${readPub(this.clientKeyFile).line}\n${readPub(this.encryptedClientKeyFile).line}\n`,
      { mode: 0o600 },
    );
    this.newHostKey(this.keyKind);
    if (process.getuid?.() === 0 && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 });
  }

  private newHostKey(type: HostKeyType): void {
    this.keyCount++;
    this.keyKind = type;
    const file = path.join(this.dir, `host_${type}${this.keyCount > 1 ? `_${this.keyCount}` : ''}`);
    keygen(file, type);
    const pub = readPub(file);
    this.hostKeyFile = file;
    this.hostKeyType = pub.type;
    this.hostKeyBlob = pub.blob;
  }

  private knownHostsName(): string {
    return this.port === 22 && !this.host.includes(':') ? this.host : `[${this.host}]:${this.port}`;
  }

  private writeConfig(): void {
    const extra = this.options.extraConfig ?? [];
    const matchAt = extra.findIndex((l) => /^\s*Match\s/i.test(l));
    const before = (matchAt < 0 ? extra : extra.slice(0, matchAt)).filter((l) => !/^\s*SetEnv\s/i.test(l));
    const extraSetEnv = (matchAt < 0 ? extra : extra.slice(0, matchAt))
      .filter((l) => /^\s*SetEnv\s/i.test(l))
      .map((l) => l.trim().replace(/^SetEnv\s+/i, ''));
    const after = matchAt < 0 ? [] : extra.slice(matchAt);
    const root = process.getuid?.() === 0;
    const [major, minor] = (version ??= sshdVersion());
    const lines = [
      '# Written by test/ssh/sshd.ts for one test server; nothing here is read from /etc/ssh.',
      ...before,
      `Port ${this.port}`,
      `ListenAddress ${this.options.address ?? '127.0.0.1'}`,
      `HostKey ${configValue(this.hostKeyFile)}`,
      `PidFile ${configValue(path.join(this.dir, 'sshd.pid'))}`,
      `AuthorizedKeysFile ${configValue(path.join(this.dir, 'authorized_keys'))}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'HostbasedAuthentication no',
      ...(root ? ['PermitRootLogin prohibit-password'] : []),
      `AllowUsers ${this.user}`,
      'Subsystem sftp internal-sftp',
      'AllowStreamLocalForwarding yes',
      'AllowTcpForwarding yes',
      'StreamLocalBindUnlink yes',
      'PermitUserRC no',
      'PermitUserEnvironment no',
      'PrintMotd no',
      'PrintLastLog no',
      'X11Forwarding no',
      'UseDNS no',
      'LogLevel VERBOSE',
      'MaxStartups 50',
      'MaxSessions 50',
      'LoginGraceTime 30',
      // OpenSSH 9.8 penalises addresses whose connections fail authentication; the tests fail some on purpose.
      ...(major > 9 || (major === 9 && minor >= 8) ? ['PerSourcePenalties no'] : []),
      [
        'SetEnv',
        ...extraSetEnv,
        ...Object.entries(this.env).map(([name, value]) => configValue(`${name}=${value}`)),
      ].join(' '),
      ...after,
      '',
    ];
    writeFileSync(this.configFile, lines.join('\n'), { mode: 0o600 });
  }

  private writeKnownHosts(): void {
    writeFileSync(this.knownHostsFile, `${this.knownHostsName()} ${this.hostKeyType} ${this.hostKeyBlob.toString('base64')}\n`);
  }

  /** Starts the listener on this.port (a free one when none was asked, another one if bind fails). */
  async launch(firstTime: boolean): Promise<void> {
    const pickPort = firstTime && this.options.port === undefined;
    if (firstTime && this.options.port !== undefined) this.port = this.options.port;
    for (let attempt = 0; ; attempt++) {
      if (pickPort) this.port = await freePort(this.options.netns ? '127.0.0.1' : (this.options.address ?? '127.0.0.1'));
      this.writeConfig();
      const result = await this.spawnAndWait();
      if (result === 'ok') {
        if (firstTime) this.writeKnownHosts();
        return;
      }
      const log = this.logTail();
      const bindFailed = /Bind to port|Address already in use|Cannot bind any address/.test(log);
      if (pickPort && bindFailed && attempt < 5) continue;
      // A restart on the same port (rotateHostKey): the old listener's socket may take a moment to go.
      if (!firstTime && bindFailed && attempt < 20) {
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      throw new Error(`sshd did not start (${result}); ${this.logFile}:\n${log}`);
    }
  }

  private logTail(): string {
    try {
      return readFileSync(this.logFile, 'utf8').slice(-4000);
    } catch {
      return '';
    }
  }

  private async spawnAndWait(): Promise<string> {
    let logStart = 0;
    try {
      logStart = statSync(this.logFile).size;
    } catch {
      // not yet written
    }
    const fd = openSync(this.logFile, 'a');
    const sshdArgs = ['-D', '-e', '-f', this.configFile];
    // `ip netns exec` enters the namespace and execs sshd in place: the child's pid is the listener's.
    const proc = this.options.netns
      ? spawn('ip', ['netns', 'exec', this.options.netns, SSHD_PATH, ...sshdArgs], { stdio: ['ignore', fd, fd] })
      : spawn(SSHD_PATH, sshdArgs, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    // A test that forgets stop() must not hang on it: the exit cleanup kills it.
    proc.unref();
    this.proc = proc;
    this.pid = proc.pid ?? 0;
    this.exited = new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) resolve();
      else proc.once('exit', () => resolve());
    });
    let spawnError: Error | undefined;
    proc.once('error', (e) => (spawnError = e));
    const listening = new RegExp(`Server listening on \\S+ port ${this.port}\\b`);
    const end = Date.now() + 20000;
    for (;;) {
      if (spawnError) return `cannot spawn: ${spawnError.message}`;
      let log = '';
      try {
        log = readFileSync(this.logFile).subarray(logStart).toString('utf8');
      } catch {
        // not yet there
      }
      // sshd logs this line after listen(): the port takes connections from now on (no probe connection, which
      // would show in the log as one more "Connection from").
      if (listening.test(log)) return 'ok';
      if (proc.exitCode !== null || proc.signalCode !== null) return `exited with ${proc.exitCode ?? proc.signalCode}`;
      if (Date.now() > end) {
        this.killSshdTree();
        return 'no "Server listening on" line within 20 s';
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Waits for the listener to exit (its handle is unref()'d, so hold the event loop open meanwhile). */
  private async waitExit(): Promise<void> {
    this.proc?.ref();
    await this.exited;
  }

  killConnections(): number {
    if (!this.pid) return 0;
    const table = processTable();
    // A connection killed a moment ago may linger as a zombie until sshd reaps it: it is no connection any more.
    const connections = [...table].filter(([pid, p]) => p.ppid === this.pid && !zombie(pid)).map(([pid]) => pid);
    for (const c of connections) {
      for (const pid of [c, ...descendants(c, table)]) if (isSshd(table.get(pid)?.comm)) kill(pid);
    }
    return connections.length;
  }

  /** Kills the listener and every sshd process under it (SIGKILL); leaves sessions' own processes. */
  killSshdTree(): void {
    if (!this.pid || !this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const table = processTable();
    const tree = descendants(this.pid, table);
    kill(this.pid);
    for (const pid of tree) if (isSshd(table.get(pid)?.comm)) kill(pid);
  }

  /** Kills everything of this server: its sshd processes, whatever runs under them and whatever sessions started. */
  killAllSync(): void {
    live.delete(this);
    if (this.pid && this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      const table = processTable();
      const tree = descendants(this.pid, table);
      kill(this.pid);
      for (const pid of tree) kill(pid);
    }
    for (const pid of pidsWithEnv('MANTA_TEST_SSHD', this.dir)) kill(pid);
  }

  async rotateHostKey(type?: 'ed25519' | 'ecdsa'): Promise<void> {
    if (this.stopped) throw new Error('rotateHostKey on a stopped sshd');
    this.killSshdTree();
    await this.waitExit();
    this.newHostKey(type ?? (this.keyKind === 'rsa' ? 'ed25519' : this.keyKind));
    await this.launch(false);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.killAllSync();
    await this.waitExit();
    // Wait for the killed session processes to be gone, and kill any that was being forked while we looked.
    const end = Date.now() + 5000;
    for (;;) {
      const left = pidsWithEnv('MANTA_TEST_SSHD', this.dir).filter((pid) => !zombie(pid));
      if (!left.length || Date.now() > end) break;
      for (const pid of left) kill(pid);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/** Live processes started through the server's sessions (they carry its MANTA_TEST_SSHD marker), zombies excluded. */
export function sessionProcesses(sshd: TestSshd): { pid: number; cmdline: string }[] {
  return pidsWithEnv('MANTA_TEST_SSHD', sshd.dir)
    .filter((pid) => !zombie(pid))
    .map((pid) => {
      try {
        return { pid, cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim() };
      } catch {
        return { pid, cmdline: '' }; // gone meanwhile
      }
    });
}

/**
 * Kills test sshds left by a test process that no longer runs (one killed with SIGKILL, whose exit cleanup never ran):
 * listeners `sshd -D -e -f /tmp/mtd-…/sshd_config` whose folder's `owner` pid is gone (or whose folder is), with
 * everything under them and everything their sessions started. Returns the listeners' pids.
 */
export function removeStaleSshds(): number[] {
  const removed: number[] = [];
  let table: Map<number, ProcInfo> | undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      if (!isSshd(readFileSync(`/proc/${entry}/comm`, 'utf8').trim())) continue;
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    // The listener rewrites its title ("sshd: /usr/sbin/sshd -D -e -f <config> [listener] …"); both forms match.
    const m = /\/usr\/sbin\/sshd -D -e -f (\/tmp\/mtd-[^/\s]+)\/sshd_config(\s|$)/.exec(cmdline);
    if (!m) continue;
    const dir = m[1];
    let owner = 0;
    try {
      owner = Number(readFileSync(path.join(dir, 'owner'), 'utf8'));
    } catch {
      owner = 0;
    }
    if (owner && (owner === process.pid || alive(owner))) continue;
    table ??= processTable();
    const pid = Number(entry);
    const tree = descendants(pid, table);
    kill(pid);
    for (const p of tree) kill(p);
    for (const p of pidsWithEnv('MANTA_TEST_SSHD', dir)) kill(p);
    removed.push(pid);
  }
  return removed;
}

/** Starts a real sshd (see the header); stop() it when done (it is also killed when the test process exits). */
export async function startSshd(options: SshdOptions = {}): Promise<TestSshd> {
  installExitHandlers();
  removeStaleSshds();
  const s = new Sshd(tempDir(), options);
  s.prepare();
  live.add(s);
  try {
    await s.launch(true);
  } catch (e) {
    s.killAllSync();
    throw e;
  }
  return s;
}

export interface SshCommandResult {
  /** Exit status of ssh (the remote command's, or 255 for an ssh error); null when killed by the timeout. */
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface SshCommandOptions {
  /** Default 20000 ms. */
  timeoutMs?: number;
  /** Sent to the remote command's stdin. */
  input?: string;
  /** Run the ssh client inside this network namespace (e.g. a host's own, to dial its address without an editor port). */
  netns?: string;
  /** Another private key file (default sshd.clientKeyFile). */
  keyFile?: string;
  /** Other known_hosts (default sshd.knownHostsFile). */
  knownHostsFile?: string;
}

/**
 * Runs `remoteCommand` on the server with the REAL OpenSSH client, synchronously: no config file, batch mode, strict
 * host key checking against the server's known_hosts, the unencrypted client key only (no agent).
 */
export function sshCommand(sshd: TestSshd, remoteCommand: string, options: SshCommandOptions = {}): SshCommandResult {
  const args = [
    '-F',
    '/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    `UserKnownHostsFile=${options.knownHostsFile ?? sshd.knownHostsFile}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'UpdateHostKeys=no',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'IdentityAgent=none',
    '-o',
    'ConnectTimeout=10',
    '-i',
    options.keyFile ?? sshd.clientKeyFile,
    '-p',
    String(sshd.port),
    `${sshd.user}@${sshd.host}`,
    '--',
    remoteCommand,
  ];
  const [cmd, argv] = options.netns ? ['ip', ['netns', 'exec', options.netns, 'ssh', ...args]] : ['ssh', args];
  const r = spawnSync(cmd, argv, {
    encoding: 'utf8',
    input: options.input ?? '',
    timeout: options.timeoutMs ?? 20000,
    killSignal: 'SIGKILL',
    env: { ...process.env, SSH_AUTH_SOCK: '' },
  });
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  return {
    status: r.status,
    stdout: r.stdout ?? '',
    stderr: `${r.stderr ?? ''}${timedOut ? `\n[sshCommand: timed out after ${options.timeoutMs ?? 20000} ms]` : r.error ? `\n[sshCommand: ${r.error.message}]` : ''}`,
  };
}

/**
 * The session PATH of a "host without" these programs (e.g. ['node', 'nodejs']): this process's PATH, with each
 * folder that holds one of them replaced by a temp folder of symlinks to everything else in it (node is in
 * /usr/bin here, next to sh and everything a session needs). Folders that are the same real folder (/bin and
 * /usr/bin on a merged /usr) are listed once.
 */
export function pathWithout(programs: string[], pathDirs: string[] = (process.env.PATH ?? '').split(path.delimiter)): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const dir of pathDirs) {
    if (!dir) continue;
    let real: string;
    try {
      real = realpathSync(dir);
      if (!statSync(real).isDirectory()) continue;
    } catch {
      continue;
    }
    if (seen.has(real)) continue;
    seen.add(real);
    const entries = readdirSync(real);
    if (!programs.some((p) => entries.includes(p))) {
      out.push(dir);
      continue;
    }
    const copy = path.join(tempDir(), 'bin');
    mkdirSync(copy);
    for (const e of entries) if (!programs.includes(e)) symlinkSync(path.join(real, e), path.join(copy, e));
    out.push(copy);
  }
  return out;
}
