// One remote host's way to its daemon, step by step as the user sees them in progress: connect and authenticate,
// probe, upload the bundle (only when that exact bundle is not there), install the GPU engine (when asked), start the
// daemon detached (or find it running), forward its socket. `open()` is what a Host calls for a transport; after a
// lost connection the next `open()` connects again and reuses what it learnt (no second probe or upload).
import type { Client } from 'ssh2';
import { DaemonConnection, type DaemonTransport } from '../connection';
import { HostInfoRequest, ShutdownRequest } from '../../../daemon/protocol';
import { connectSsh, type SshConnectDeps } from './connect';
import { deployBundle, type DaemonBundle } from './deploy';
import { installGpuEngine } from './gpu-engine';
import { probeHost, type HostProbe } from './probe';
import { exec } from './remote';
import { forwardToDaemon, startRemoteDaemon, type RemoteDaemon } from './remote-daemon';
import type { SshHostSpec } from './types';

export interface SshLinkOptions {
  spec: SshHostSpec;
  deps: SshConnectDeps;
  /** The bundle to deploy (read lazily: only a host that needs an upload pays for hashing it twice). */
  bundle: () => Promise<DaemonBundle>;
  /** The daemon started on the host exits after this long without runs or clients. */
  idleExitSeconds: number;
  /** Install @tensorflow/tfjs-node-gpu under ~/.manta when the host has GPUs and it is missing. */
  installGpuEngine?: boolean;
  /** LD_LIBRARY_PATH additions for the daemon only (CUDA 11 / cuDNN 8 for the GPU engine). */
  ldLibraryPath?: string;
  /** Who we are in the daemon's hello (for the version check of a daemon found running). */
  client: { name: string; version: string };
}

export class SshDaemonLink {
  private client: Client | undefined;
  private probed: HostProbe | undefined;
  private deployedDir: string | undefined;
  private daemon: RemoteDaemon | undefined;
  private readonly lostListeners: ((reason: string) => void)[] = [];
  private disposed = false;

  constructor(private readonly options: SshLinkOptions) {}

  get label(): string {
    return this.options.spec.alias;
  }

  /** What the probe found (after the first successful open). */
  get probe(): HostProbe | undefined {
    return this.probed;
  }

  get remoteDaemon(): RemoteDaemon | undefined {
    return this.daemon;
  }

  /** The live SSH connection, for work beside the daemon (uploading data over SFTP); undefined while there is none. */
  get sshClient(): Client | undefined {
    return this.client;
  }

  /** The SSH connection dropped (the daemon and its runs go on on the host). */
  onLost(listener: (reason: string) => void): void {
    this.lostListeners.push(listener);
  }

  /** Every step up to a transport to the host's daemon. */
  async open(): Promise<DaemonTransport> {
    if (this.disposed) throw new Error(`${this.label}: this host was removed`);
    const { deps, spec } = this.options;
    const client = await this.ssh();
    if (!this.probed) {
      deps.progress({ host: this.label, step: 'probing', message: 'probing the host (OS, Node, GPUs, free disk)' });
      this.probed = await probeHost(client, this.label, spec.nodePath);
      deps.log(`${this.label}: ${this.probed.os} ${this.probed.arch}, Node ${this.probed.node?.version} at ${this.probed.node?.path}, ${this.probed.gpus.length} GPU(s)`);
    }
    const probe = this.probed;
    const bundle = await this.options.bundle();
    if (!this.deployedDir) {
      const result = await deployBundle(client, probe, bundle, this.label, deps.progress);
      deps.log(`${this.label}: daemon ${result.uploaded ? 'uploaded to' : 'already at'} ${result.dir}`);
      this.deployedDir = result.dir;
      if (this.options.installGpuEngine && probe.gpus.length > 0 && !probe.gpuEngineInstalled) {
        deps.progress({ host: this.label, step: 'installing', message: 'installing the GPU engine (@tensorflow/tfjs-node-gpu)' });
        const installed = await installGpuEngine(client, probe, this.label);
        deps.log(`${this.label}: ${installed.message}`);
        probe.gpuEngineInstalled = installed.ok;
      }
    }
    deps.progress({ host: this.label, step: 'starting', message: 'starting the daemon' });
    const start = () =>
      startRemoteDaemon(client, { node: probe.node!.path, dir: this.deployedDir!, idleExitSeconds: this.options.idleExitSeconds, ldLibraryPath: this.options.ldLibraryPath }, this.label);
    this.daemon = await start();
    if (this.daemon.alreadyRunning && (await this.replaceOlderDaemon(client, this.daemon, bundle))) this.daemon = await start();
    deps.progress({ host: this.label, step: 'attaching', message: `attaching to the daemon (${this.daemon.socketPath})` });
    return forwardToDaemon(client, this.daemon.socketPath, this.label);
  }

  /** Ends the SSH connection (runs on the host go on). */
  dispose(): void {
    this.disposed = true;
    this.client?.end();
    this.client = undefined;
  }

  private async ssh(): Promise<Client> {
    if (this.client) return this.client;
    const client = await connectSsh(this.options.spec, this.options.deps);
    this.client = client;
    let reason = 'the SSH connection closed';
    client.on('error', (e: Error) => (reason = `the SSH connection failed: ${e.message}`));
    client.once('close', () => {
      if (this.client === client) this.client = undefined;
      if (!this.disposed) for (const l of this.lostListeners) l(reason);
    });
    return client;
  }

  /**
   * A daemon of another MANTA version found running: replaced when it has no active run (true: start ours now);
   * kept otherwise — its runs go on, and the handshake decides whether this extension can talk to it.
   */
  private async replaceOlderDaemon(client: Client, running: RemoteDaemon, bundle: DaemonBundle): Promise<boolean> {
    const connection = await DaemonConnection.open(await forwardToDaemon(client, running.socketPath, this.label), this.options.client).catch(() => undefined);
    if (!connection) return false;
    try {
      if (connection.hello.daemon.version === bundle.version) return false;
      const info = await connection.request(HostInfoRequest, {});
      if (info.activeRuns > 0) {
        this.options.deps.log(`${this.label}: the host runs MANTA daemon ${connection.hello.daemon.version} with ${info.activeRuns} active run(s); using it until they end`);
        return false;
      }
      this.options.deps.log(`${this.label}: replacing the idle MANTA daemon ${connection.hello.daemon.version} by ${bundle.version}`);
      await connection.request(ShutdownRequest, {}).catch(() => undefined);
      await waitGone(client, running.pid);
      return true;
    } finally {
      connection.dispose();
    }
  }
}

/** Waits (up to 10 s) until the process `pid` on the host has exited. */
async function waitGone(client: Client, pid: number | undefined): Promise<void> {
  if (!pid) return new Promise((r) => setTimeout(r, 1000));
  await exec(client, `i=0; while kill -0 ${pid} 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done`, { timeoutMs: 15000 }).catch(() => undefined);
}
