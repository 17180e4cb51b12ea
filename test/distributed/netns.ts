// "Hosts" for the multi-host tests: Linux network namespaces on one machine, each with its own address, its own HOME,
// runtime, state and cache folders and its own `manta daemon` (from dist/), joined by veth links to a bridge in a
// namespace of its own (the "switch"; nothing is added to the machine's own namespace). Unplugging a host is
// `ip link set` of its port on the switch. The test process stays in the root namespace and talks to each daemon over
// its Unix socket (path sockets are reachable from every network namespace; the daemon's single-instance lock, an
// abstract socket, is per namespace, but each host has its own state folder anyway).
//
// Only for the SSH tests (test/ssh): `Network.create(count, subnet, { editorPort: true })` also plugs the ROOT
// namespace into the switch (a veth pair, `<id>-ed` in the root namespace with address <subnet>.250/24, `ped` on the
// bridge), so that the test process, standing for the editor's machine, reaches the hosts over TCP (an sshd in a
// host's namespace). This is the one thing the suite adds to the machine's own namespace (a link and the route to
// <subnet>.0/24 that comes with its address); destroy() deletes it, and a crashed run's is removed by the next one.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { canConnect, repoRoot, tempDir, waitFor, type TestDaemon } from '../daemon/harness';
import { processAlive as alive } from '../../daemon/service/processes';

/** Namespace names start with this, then the test process's pid: `mmh-<pid>-h0`, `mmh-<pid>-sw`. */
export const NS_PREFIX = 'mmh-';

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20000 });
}

function tryIp(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 20000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

/**
 * Why the multi-host tests cannot run here (undefined when they can): they need root, iproute2's `ip netns`, veth
 * links and bridges. Probed by making (and removing) a namespace with a veth pair and a bridge.
 */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'multi-host tests need Linux network namespaces';
  if (process.getuid?.() !== 0) return 'multi-host tests need root (they create network namespaces with `ip netns`); run them as root';
  const which = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  if (which.error || which.status !== 0) return 'multi-host tests need iproute2 (`ip`): install iproute2';
  const probe = `${NS_PREFIX}${process.pid}-probe`;
  try {
    const add = tryIp(['netns', 'add', probe]);
    if (!add.ok) return `multi-host tests need \`ip netns add\` (CAP_SYS_ADMIN): ${add.out}`;
    const veth = tryIp(['-n', probe, 'link', 'add', 'pa', 'type', 'veth', 'peer', 'name', 'pb']);
    if (!veth.ok) return `multi-host tests need veth links (kernel module veth): ${veth.out}`;
    const bridge = tryIp(['-n', probe, 'link', 'add', 'br0', 'type', 'bridge']);
    if (!bridge.ok) return `multi-host tests need Linux bridges (kernel module bridge): ${bridge.out}`;
    return undefined;
  } finally {
    tryIp(['netns', 'del', probe]);
  }
}

/** Kills every process still inside namespace `ns` (processes this suite started there, or a crashed run's). */
function killInside(ns: string): void {
  const pids = tryIp(['netns', 'pids', ns]);
  if (!pids.ok) return;
  for (const pid of pids.out.split(/\s+/).filter(Boolean).map(Number)) {
    if (Number.isInteger(pid) && pid > 1 && pid !== process.pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** Removes namespaces of this prefix left by a test process that no longer runs (a crashed earlier run). */
export function removeStaleNamespaces(): string[] {
  const removed: string[] = [];
  // Editor ports (root-namespace ends `mmh-<pid>-ed`) of such runs.
  const links = tryIp(['-o', 'link', 'show']);
  if (links.ok) {
    for (const line of links.out.split('\n')) {
      const m = new RegExp(`^\\d+:\\s+(${NS_PREFIX}(\\d+)-ed)[@:]`).exec(line);
      if (!m || Number(m[2]) === process.pid || alive(Number(m[2]))) continue;
      tryIp(['link', 'del', m[1]]);
      removed.push(m[1]);
    }
  }
  const list = tryIp(['netns', 'list']);
  if (!list.ok) return removed;
  for (const line of list.out.split('\n')) {
    const name = line.split(/\s+/)[0];
    const m = new RegExp(`^${NS_PREFIX}(\\d+)-`).exec(name ?? '');
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    killInside(name);
    tryIp(['netns', 'del', name]);
    removed.push(name);
  }
  return removed;
}

export interface Host {
  index: number;
  /** The host's label in a job placement. */
  label: string;
  ns: string;
  /** Its address on the switch (10.77.0.<index+1>). */
  address: string;
  /** Its root folder: home/, run/ (XDG_RUNTIME_DIR), state/, cache/ and cfg/ (configs; runs go to cfg/runs). */
  dir: string;
  home: string;
  runtime: string;
  stateDir: string;
  cacheDir: string;
  configDir: string;
  socketPath: string;
}

/**
 * A source file newer than dist/manta.js (the daemons run the build, not the sources), or undefined: the tests then
 * run yesterday's daemon, so they say so.
 */
export function staleDistSource(): string | undefined {
  let built: number;
  try {
    built = statSync(path.join(repoRoot, 'dist', 'manta.js')).mtimeMs;
  } catch {
    return undefined; // startDaemon says that dist/ is missing
  }
  const walk = (dir: string): string | undefined => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        const found = walk(file);
        if (found) return found;
      } else if (entry.name.endsWith('.ts') && statSync(file).mtimeMs > built) return path.relative(repoRoot, file);
    }
    return undefined;
  };
  return walk(path.join(repoRoot, 'daemon')) ?? walk(path.join(repoRoot, 'schemas'));
}

export interface NetworkOptions {
  /**
   * Only for the SSH tests: plug the root namespace (the test process, "the editor's machine") into the switch, at
   * <subnet>.250, so that it reaches the hosts' addresses over TCP. See the header.
   */
  editorPort?: boolean;
}

export interface HostDaemon extends TestDaemon {
  host: Host;
}

/**
 * `count` hosts on one switch. Call `destroy()` when done (it is also called when the process exits, so a test
 * that crashes leaves no namespace behind; one left by a killed process is removed by the next run).
 */
export class Network {
  readonly hosts: Host[] = [];
  readonly switchNs: string;
  /** With the editor port: its link in the root namespace (`<id>-ed`, at most 15 characters) and its address. */
  editorLink?: string;
  editorAddress?: string;
  private readonly daemons = new Set<HostDaemon>();
  private destroyed = false;
  private readonly onExit = () => this.destroySync();
  /** Ctrl-C or a runner's SIGTERM: clean up, then die of the signal as if nobody had listened. */
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.destroySync();
    process.kill(process.pid, signal);
  };

  private constructor(readonly id: string) {
    this.switchNs = `${id}-sw`;
  }

  static create(count: number, subnet = '10.77.0', options: NetworkOptions = {}): Network {
    removeStaleNamespaces();
    const net = new Network(`${NS_PREFIX}${process.pid}`);
    process.on('exit', net.onExit);
    for (const signal of SIGNALS) process.once(signal, net.onSignal);
    const root = tempDir();
    try {
      ip(['netns', 'add', net.switchNs]);
      ip(['-n', net.switchNs, 'link', 'add', 'br0', 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0']);
      ip(['-n', net.switchNs, 'link', 'set', 'br0', 'up']);
      for (let i = 0; i < count; i++) {
        const ns = `${net.id}-h${i}`;
        ip(['netns', 'add', ns]);
        ip(['-n', ns, 'link', 'set', 'lo', 'up']);
        // p<i> on the switch, eth0 in the host: made directly in the two namespaces (nothing in the root one).
        ip(['-n', net.switchNs, 'link', 'add', `p${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
        ip(['-n', net.switchNs, 'link', 'set', `p${i}`, 'master', 'br0']);
        ip(['-n', net.switchNs, 'link', 'set', `p${i}`, 'up']);
        const address = `${subnet}.${i + 1}`;
        ip(['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
        ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
        const dir = path.join(root, `h${i}`);
        const host: Host = {
          index: i,
          label: `host-${i}`,
          ns,
          address,
          dir,
          home: path.join(dir, 'home'),
          runtime: path.join(dir, 'run'),
          stateDir: path.join(dir, 'state'),
          cacheDir: path.join(dir, 'cache'),
          configDir: path.join(dir, 'cfg'),
          socketPath: path.join(dir, 'run', 'manta', 'daemon.sock'),
        };
        for (const d of [host.home, host.runtime, host.configDir]) mkdirSync(d, { recursive: true, mode: 0o700 });
        net.hosts.push(host);
      }
      if (options.editorPort) {
        // `mmh-<pid>-ed`: 14 characters with a 7-digit pid, within Linux's 15. Made in the root namespace with its
        // peer moved straight to the switch.
        const link = `${net.id}-ed`;
        if (link.length > 15) throw new Error(`interface name ${link} is longer than 15 characters`);
        net.editorLink = link;
        ip(['link', 'add', link, 'type', 'veth', 'peer', 'name', 'ped', 'netns', net.switchNs]);
        ip(['-n', net.switchNs, 'link', 'set', 'ped', 'master', 'br0']);
        ip(['-n', net.switchNs, 'link', 'set', 'ped', 'up']);
        net.editorAddress = `${subnet}.250`;
        ip(['addr', 'add', `${net.editorAddress}/24`, 'dev', link]);
        ip(['link', 'set', link, 'up']);
      }
    } catch (e) {
      net.destroySync();
      throw e;
    }
    return net;
  }

  /** Pulls host `i`'s cable out of the switch (its veth port there goes down), or plugs it back in. */
  setLink(i: number, up: boolean): void {
    ip(['-n', this.switchNs, 'link', 'set', `p${i}`, up ? 'up' : 'down']);
    // While the cable was out, the hosts' ARP entries for each other failed; forget them so the next packet asks anew.
    if (up) for (const h of this.hosts) tryIp(['-n', h.ns, 'neigh', 'flush', 'all']);
  }

  /**
   * Waits until host `to` is reachable from host `from` over TCP (a listener in `to`'s namespace, a client in
   * `from`'s, tried again until `withinMs` has passed: a link just plugged back in may take a moment); throws with
   * what went wrong otherwise.
   */
  async checkReachable(from: number, to: number, port = 9, withinMs = 20000): Promise<void> {
    const target = this.hosts[to];
    const listener = spawn(
      'ip',
      ['netns', 'exec', target.ns, process.execPath, '-e', `require('net').createServer((s) => s.end('ok')).listen(${port}, '${target.address}', () => console.log('listening'))`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let out = '';
      listener.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      listener.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      await waitFor(() => out.includes('listening') || listener.exitCode !== null, 20000, () => `listener in ${target.ns}: ${out}`);
      if (!out.includes('listening')) throw new Error(`cannot listen in ${target.ns}: ${out}`);
      const deadline = Date.now() + withinMs;
      for (;;) {
        const client = spawnSync(
          'ip',
          [
            'netns',
            'exec',
            this.hosts[from].ns,
            process.execPath,
            '-e',
            `const s = require('net').connect(${port}, '${target.address}'); let t = ''; s.on('data', (d) => (t += d)); s.on('end', () => { console.log(t); process.exit(t === 'ok' ? 0 : 1); }); s.on('error', (e) => { console.error(e.message); process.exit(1); }); setTimeout(() => { console.error('timed out'); process.exit(1); }, 5000);`,
          ],
          { encoding: 'utf8', timeout: 20000 },
        );
        if (client.status === 0) break;
        if (Date.now() > deadline) throw new Error(`host ${from} cannot reach ${target.address}:${port} in ${target.ns}: ${client.stdout}${client.stderr}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      listener.kill('SIGKILL');
    }
  }

  /** Starts host `i`'s daemon (`node dist/manta.js daemon`) inside its namespace, with the host's own folders. */
  async startDaemon(i: number, extraEnv: NodeJS.ProcessEnv = {}): Promise<HostDaemon> {
    const host = this.hosts[i];
    const script = path.join(repoRoot, 'dist', 'manta.js');
    if (!existsSync(script) || !existsSync(path.join(repoRoot, 'dist', 'train-worker.js'))) {
      throw new Error('dist/ is not built (dist/manta.js and dist/train-worker.js): run `node esbuild.mjs` or `bash test/run-all.sh`');
    }
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: host.home,
      XDG_RUNTIME_DIR: host.runtime,
      XDG_STATE_HOME: host.stateDir,
      XDG_CACHE_HOME: host.cacheDir,
      MANTA_CACHE_DIR: path.join(host.cacheDir, 'manta'),
      MANTA_BACKEND: '',
      ...extraEnv,
    };
    // `ip netns exec` enters the namespace and execs node in place: the child's pid is the daemon's.
    const proc: ChildProcess = spawn('ip', ['netns', 'exec', host.ns, process.execPath, script, 'daemon', '--socket', host.socketPath], {
      cwd: host.home,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    // Also in <host dir>/daemon.log (kept with MANTA_KEEP_TEST_DIRS=1).
    const logFile = createWriteStream(path.join(host.dir, 'daemon.log'), { flags: 'a' });
    proc.on('exit', () => logFile.end());
    for (const stream of [proc.stdout!, proc.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (t: string) => {
        logFile.write(t);
        err += t;
        if (err.length > 200_000) err = err.slice(-100_000);
      });
    }
    const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    const daemon: HostDaemon = { host, proc, socketPath: host.socketPath, stateDir: path.join(host.stateDir, 'manta'), stderr: () => err, exited };
    this.daemons.add(daemon);
    void exited.then(() => this.daemons.delete(daemon));
    await waitFor(
      async () => (await canConnect(host.socketPath)) || (proc.exitCode !== null || proc.signalCode !== null ? 'exited' : false),
      30000,
      () => `the daemon of ${host.label} (${host.ns}) did not listen: ${err}`,
    );
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`the daemon of ${host.label} exited (${proc.exitCode ?? proc.signalCode}): ${err}`);
    return daemon;
  }

  /** Pids of the processes inside host `i`'s namespace. */
  pidsIn(i: number): number[] {
    return tryIp(['netns', 'pids', this.hosts[i].ns]).out.split(/\s+/).filter(Boolean).map(Number);
  }

  /** Stops every daemon (SIGTERM, then SIGKILL after 10 s), then removes the namespaces. */
  async destroy(): Promise<void> {
    await Promise.all(
      [...this.daemons].map(async (d) => {
        if (d.proc.exitCode === null && d.proc.signalCode === null) d.proc.kill('SIGTERM');
        const timer = setTimeout(() => d.proc.kill('SIGKILL'), 10000);
        await d.exited;
        clearTimeout(timer);
      }),
    );
    this.destroySync();
  }

  /** Kills whatever still runs in the namespaces and deletes them (safe to call twice). */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    process.off('exit', this.onExit);
    for (const signal of SIGNALS) process.off(signal, this.onSignal);
    for (const d of this.daemons) if (d.proc.exitCode === null && d.proc.signalCode === null) d.proc.kill('SIGKILL');
    // The editor port: deleting one end of a veth pair deletes both, at once (a namespace's links go with it only
    // when the kernel gets round to cleaning the namespace up).
    if (this.editorLink) tryIp(['link', 'del', this.editorLink]);
    for (const ns of [...this.hosts.map((h) => h.ns), this.switchNs]) {
      killInside(ns);
      tryIp(['netns', 'del', ns]);
    }
    // A namespace whose host was only half made (a failed create) is still named by the prefix.
    const left = tryIp(['netns', 'list']).out.split('\n').map((l) => l.split(/\s+/)[0]).filter((n) => n?.startsWith(`${this.id}-`));
    for (const ns of left) {
      killInside(ns);
      tryIp(['netns', 'del', ns]);
    }
  }
}
