// The SSH hosts of the Hosts view: the Host entries of ~/.ssh/config (manta.ssh.showConfigHosts) and the
// manta.remoteHosts setting (an entry named like a config alias wins), each a Host (`ssh:<alias>`) whose transport is
// an SshDaemonLink, rebuilt when those settings change (a removed or changed host is disposed). Connecting runs in a
// "MANTA · <host>" progress notification; a lost connection reconnects with backoff, quietly. Hosts connected when
// the last window closed connect again at start-up (their ids are kept in globalState); others wait for the user.
import * as vscode from 'vscode';
import { homedir, userInfo } from 'node:os';
import * as path from 'node:path';
import { Host } from '../hosts/host';
import type { DaemonTransport } from '../hosts/connection';
import { defaultAgent, type SshConnectDeps } from '../hosts/ssh/connect';
import { readDaemonBundle, type DaemonBundle } from '../hosts/ssh/deploy';
import { SshDaemonLink } from '../hosts/ssh/link';
import { hostFromSetting, listSshHosts, readSshConfig, resolveSshHost, type SshConfigFile, type SshEnv } from '../hosts/ssh/ssh-config';
import { SshHostError, type SshHostSpec } from '../hosts/ssh/types';
import type { HostExtras } from '../views/tree-model';
import { SshProgressUi } from './progress';
import { VsCodeSecretStore, VsCodeSshPrompts } from './prompts';
import { isRetryableSshError, SSH_RECONNECT_DELAYS_MS } from './remote-plan';

/** What the SSH hosts need of the extension's context (Ctx). */
export interface SshHostsOwner {
  readonly log: vscode.LogOutputChannel;
  readonly extension: vscode.ExtensionContext;
  registerHost(host: Host): void;
  unregisterHost(host: Host): void;
  /** Connects with the extension's error reporting (Ctx.connected). */
  connected(host: Host): Promise<Host>;
  clientInfo(): { name: string; version: string };
}

/** globalState: the ids of the SSH hosts connected when the window last closed. */
const CONNECTED_KEY = 'manta.ssh.connectedHosts';

export const SSH_HOST_PREFIX = 'ssh:';

interface Entry {
  spec?: SshHostSpec;
  /** Why the host cannot be used as configured (a bad setting entry, a ProxyCommand …). */
  configError?: string;
  key: string;
  host: Host;
  link?: SshDaemonLink;
  /** The host lost its connection and is trying again on its own (quiet progress, errors shown once). */
  reconnecting: boolean;
}

export class SshHosts implements vscode.Disposable {
  private readonly entries = new Map<string, Entry>();
  readonly progress: SshProgressUi;
  readonly secrets: VsCodeSecretStore;
  private readonly prompts = new VsCodeSshPrompts();
  private bundle: Promise<DaemonBundle> | undefined;
  private rebuilding: Promise<void> = Promise.resolve();
  private configProblem: string | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly owner: SshHostsOwner) {
    this.progress = new SshProgressUi((line) => owner.log.info(line));
    this.secrets = new VsCodeSecretStore(owner.extension.secrets, owner.extension.globalState);
    let pending: ReturnType<typeof setTimeout> | undefined;
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!['manta.remoteHosts', 'manta.ssh', 'manta.remote'].some((s) => e.affectsConfiguration(s))) return;
        clearTimeout(pending);
        pending = setTimeout(() => void this.rebuild(), 300);
      }),
      { dispose: () => clearTimeout(pending) },
    );
  }

  /** Every SSH host, in the order of the view. */
  get hosts(): Host[] {
    return [...this.entries.values()].map((e) => e.host);
  }

  isSsh(host: Host | string): boolean {
    return this.entries.has(typeof host === 'string' ? host : host.id);
  }

  spec(hostId: string): SshHostSpec | undefined {
    return this.entries.get(hostId)?.spec;
  }

  link(hostId: string): SshDaemonLink | undefined {
    return this.entries.get(hostId)?.link;
  }

  /** What the Hosts view shows of each SSH host besides its snapshot. */
  extras(): Map<string, HostExtras> {
    const out = new Map<string, HostExtras>();
    for (const [id, e] of this.entries) {
      const s = e.spec;
      const probe = e.link?.probe;
      out.set(id, {
        ...(s ? { address: `${s.user}@${s.hostName}:${s.port}`, ...(s.proxyJump.length ? { via: s.proxyJump.map((j) => j.alias).join(' → ') } : {}), source: s.source } : {}),
        ...(e.configError ? { problem: e.configError } : {}),
        ...(probe ? { probe: { os: probe.os, arch: probe.arch, ...(probe.node ? { node: probe.node.version } : {}), gpus: probe.gpus } } : {}),
      });
    }
    return out;
  }

  /** Reads ~/.ssh/config and the settings again and brings the hosts in line (one rebuild at a time). */
  rebuild(): Promise<void> {
    this.rebuilding = this.rebuilding.then(() => this.doRebuild()).catch((e: unknown) => this.owner.log.error(`SSH hosts: ${(e as Error).message}`));
    return this.rebuilding;
  }

  /** Connects the hosts that were connected when the last window closed. */
  async connectRemembered(): Promise<void> {
    await this.rebuilding;
    for (const id of this.remembered()) {
      const e = this.entries.get(id);
      if (!e) continue;
      this.owner.log.info(`${e.host.label}: connecting again (it was connected in the last session)`);
      void this.owner.connected(e.host).catch((err: unknown) => {
        if (!isRetryableSshError(err)) void this.forget(id);
      });
    }
  }

  /** Connects at the user's request: in a progress notification even while the host was retrying quietly. */
  connect(host: Host): Promise<unknown> {
    const e = this.entries.get(host.id);
    if (e) e.reconnecting = false;
    return host.connect();
  }

  /** The user disconnects: the SSH connection ends (runs go on on the host) and the host is not connected at start-up. */
  async disconnect(host: Host): Promise<void> {
    const e = this.entries.get(host.id);
    if (!e) return;
    host.disconnect();
    e.reconnecting = false;
    e.link?.dispose();
    if (e.spec) e.link = this.newLink(e.spec);
    await this.forget(host.id);
  }

  /** Tells the user why connecting failed: each SshHostError's own sentence; a changed host key in full, modally. */
  showConnectError(host: Host, e: unknown, retry: () => void): void {
    const message = (e as Error).message ?? String(e);
    const showLog = 'Show Log';
    if (e instanceof SshHostError && e.reason === 'host-key-changed') {
      void vscode.window.showErrorMessage(`MANTA: the host key of ${host.label} has changed — not connected.`, { modal: true, detail: message }, showLog).then((pick) => {
        if (pick === showLog) this.owner.log.show();
      });
      return;
    }
    const retryable = isRetryableSshError(e);
    const text = e instanceof SshHostError ? `MANTA: ${message}` : `MANTA: ${host.label}: ${message}`;
    void vscode.window.showErrorMessage(text, ...(retryable ? ['Retry'] : []), showLog).then((pick) => {
      if (pick === 'Retry') retry();
      if (pick === showLog) this.owner.log.show();
    });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    for (const e of this.entries.values()) {
      e.host.dispose();
      e.link?.dispose();
    }
    this.entries.clear();
  }

  // ——— internals ———

  private remembered(): string[] {
    const v = this.owner.extension.globalState.get<unknown>(CONNECTED_KEY);
    return Array.isArray(v) ? v.filter((k): k is string => typeof k === 'string') : [];
  }

  private async remember(id: string): Promise<void> {
    const ids = this.remembered();
    if (!ids.includes(id)) await this.owner.extension.globalState.update(CONNECTED_KEY, [...ids, id]);
  }

  private async forget(id: string): Promise<void> {
    const ids = this.remembered();
    if (ids.includes(id)) await this.owner.extension.globalState.update(CONNECTED_KEY, ids.filter((k) => k !== id));
  }

  private settings() {
    const c = vscode.workspace.getConfiguration('manta');
    return {
      remoteHosts: c.get<unknown[]>('remoteHosts', []) ?? [],
      configFile: c.get<string>('ssh.configFile', '') ?? '',
      showConfigHosts: c.get<boolean>('ssh.showConfigHosts', true) !== false,
      idleExitMinutes: Math.max(0, Number(c.get<number>('remote.idleExitMinutes', 30) ?? 30)),
      installGpuEngine: c.get<boolean>('remote.installGpuEngine', false) === true,
      cudaLibraryPath: (c.get<string>('remote.cudaLibraryPath', '') ?? '').trim(),
    };
  }

  private env(): SshEnv {
    let localUser = process.env.USER ?? process.env.USERNAME ?? '';
    try {
      localUser = userInfo().username || localUser;
    } catch {
      // no passwd entry: keep the environment's
    }
    return { home: homedir(), localUser };
  }

  private async doRebuild(): Promise<void> {
    const s = this.settings();
    const env = this.env();
    const file = s.configFile ? (s.configFile.startsWith('~') ? path.join(env.home, s.configFile.slice(1)) : s.configFile) : path.join(env.home, '.ssh', 'config');
    let config: SshConfigFile = { file, files: [], directives: [], hosts: [] };
    try {
      config = await readSshConfig(file, { home: env.home });
      this.configProblem = undefined;
    } catch (e) {
      const message = (e as Error).message;
      this.owner.log.warn(`cannot use ${file}: ${message}`);
      if (this.configProblem !== message) void vscode.window.showWarningMessage(`MANTA: ${message}`);
      this.configProblem = message;
    }
    const wanted = new Map<string, { spec?: SshHostSpec; configError?: string }>();
    if (s.showConfigHosts) {
      for (const alias of listSshHosts(config)) {
        try {
          wanted.set(alias, { spec: resolveSshHost(config, alias, env) });
        } catch (e) {
          wanted.set(alias, { configError: (e as Error).message });
        }
      }
    }
    for (const entry of s.remoteHosts) {
      const name = typeof entry === 'object' && entry !== null && typeof (entry as { name?: unknown }).name === 'string' ? (entry as { name: string }).name.trim() : '';
      try {
        const spec = hostFromSetting(entry, config, env);
        wanted.set(spec.alias, { spec }); // a setting entry wins over the config alias of the same name
      } catch (e) {
        this.owner.log.warn((e as Error).message);
        if (name) wanted.set(name, { configError: (e as Error).message });
      }
    }
    const linkOptions = { idle: s.idleExitMinutes, gpu: s.installGpuEngine, cuda: s.cudaLibraryPath };
    // Removed or changed hosts go (their SSH connections end; runs on them go on), new ones come.
    const reconnect = new Set<string>();
    for (const [id, e] of [...this.entries]) {
      const alias = id.slice(SSH_HOST_PREFIX.length);
      const w = wanted.get(alias);
      if (w && JSON.stringify({ ...w, linkOptions }) === e.key) continue;
      if (w && e.host.isConnected) reconnect.add(id); // changed while connected: connect the new one
      this.entries.delete(id);
      e.link?.dispose();
      this.owner.unregisterHost(e.host);
      e.host.dispose();
    }
    const fresh: Host[] = [];
    for (const [alias, w] of wanted) {
      const id = `${SSH_HOST_PREFIX}${alias}`;
      if (this.entries.has(id)) continue;
      const entry = this.newEntry(id, alias, w, JSON.stringify({ ...w, linkOptions }));
      this.entries.set(id, entry);
      fresh.push(entry.host);
    }
    // Keep the order of `wanted` (config first, then settings-only hosts).
    const order = [...wanted.keys()].map((a) => `${SSH_HOST_PREFIX}${a}`);
    const sorted = [...this.entries].sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0]));
    this.entries.clear();
    for (const [id, e] of sorted) this.entries.set(id, e);
    for (const h of fresh) this.owner.registerHost(h);
    for (const h of fresh) if (reconnect.has(h.id)) void this.owner.connected(h).catch(() => undefined);
  }

  private newEntry(id: string, alias: string, w: { spec?: SshHostSpec; configError?: string }, key: string): Entry {
    const host = new Host(id, alias, 'ssh', () => this.open(entry), this.owner.clientInfo(), {
      delaysMs: SSH_RECONNECT_DELAYS_MS,
      retryable: (e) => isRetryableSshError(e) && !(e instanceof SshHostError && e.reason === 'config'),
    });
    const entry: Entry = { key, host, reconnecting: false, spec: w.spec, configError: w.configError, link: w.spec ? this.newLink(w.spec) : undefined };
    host.onDidChange.on((snap) => {
      const k = snap.state.kind;
      if (k === 'reconnecting') entry.reconnecting = true;
      else if (k === 'connected' || k === 'disconnected') entry.reconnecting = false;
      if (k === 'connected') void this.remember(id);
    });
    return entry;
  }

  private async open(entry: Entry): Promise<DaemonTransport> {
    const alias = entry.host.label;
    if (!entry.link) throw new SshHostError(`${alias}: ${entry.configError ?? 'this host has no usable configuration'}`, alias, 'resolving', 'config');
    const link = entry.link;
    const quiet = entry.reconnecting;
    try {
      return await this.progress.run(alias, () => link.open(), { quiet, ...(quiet ? { title: `MANTA: reconnecting to ${alias}` } : {}) });
    } catch (e) {
      this.owner.log.error(`${alias}: ${(e as Error).message}`);
      // A background reconnect that cannot succeed by trying again stops here: say so once.
      if (quiet && !isRetryableSshError(e)) {
        entry.reconnecting = false;
        this.showConnectError(entry.host, e, () => void this.owner.connected(entry.host).catch(() => undefined));
      }
      throw e;
    }
  }

  private newLink(spec: SshHostSpec): SshDaemonLink {
    const s = this.settings();
    const deps: SshConnectDeps = {
      prompts: this.prompts,
      secrets: this.secrets,
      progress: this.progress.report,
      log: (line) => this.owner.log.info(line),
      local: { home: homedir(), ...(defaultAgent() ? { agent: defaultAgent() } : {}) },
    };
    const link = new SshDaemonLink({
      spec,
      deps,
      bundle: () => this.daemonBundle(),
      idleExitSeconds: s.idleExitMinutes * 60,
      installGpuEngine: s.installGpuEngine,
      ...(s.cudaLibraryPath ? { ldLibraryPath: s.cudaLibraryPath } : {}),
      client: this.owner.clientInfo(),
    });
    link.onLost((reason) => this.owner.log.warn(`${spec.alias}: ${reason}`));
    return link;
  }

  /** The daemon bundle of this extension's own dist/ folder, read once. */
  private daemonBundle(): Promise<DaemonBundle> {
    this.bundle ??= readDaemonBundle(vscode.Uri.joinPath(this.owner.extension.extensionUri, 'dist').fsPath, this.owner.clientInfo().version);
    this.bundle.catch(() => (this.bundle = undefined));
    return this.bundle;
  }
}
