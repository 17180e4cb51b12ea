// The extension's SSH layer as the SSH tests drive it: scripted prompts (answer as a user would, record what was
// asked), an in-memory secret store, a host spec for a test sshd, and a link that records its progress and log.
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SshDaemonLink } from '../../extension/hosts/ssh/link';
import type { DaemonBundle } from '../../extension/hosts/ssh/deploy';
import type { SecretStore, SshHostSpec, SshProgress, SshPrompts } from '../../extension/hosts/ssh/types';
import { repoRoot } from '../daemon/harness';
import type { TestSshd } from './sshd';

export const VERSION = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
export const CLIENT = { name: 'manta-ssh-test', version: VERSION };

/** Prompts that answer as scripted and record every question. */
export class ScriptedPrompts implements SshPrompts {
  readonly asked: { kind: string; detail: unknown }[] = [];
  constructor(private readonly answers: { trustHost?: boolean; passphrase?: string; remember?: boolean } = {}) {}
  async confirmHostKey(r: Parameters<SshPrompts['confirmHostKey']>[0]): Promise<boolean> {
    this.asked.push({ kind: 'host-key', detail: r });
    return this.answers.trustHost === true;
  }
  async passphrase(r: Parameters<SshPrompts['passphrase']>[0]) {
    this.asked.push({ kind: 'passphrase', detail: r });
    return this.answers.passphrase === undefined ? undefined : { passphrase: this.answers.passphrase, remember: this.answers.remember === true };
  }
  async keyboardInteractive(r: Parameters<SshPrompts['keyboardInteractive']>[0]) {
    this.asked.push({ kind: 'keyboard-interactive', detail: r });
    return undefined;
  }
  async password(r: Parameters<SshPrompts['password']>[0]) {
    this.asked.push({ kind: 'password', detail: r });
    return undefined;
  }
}

export class MapSecrets implements SecretStore {
  readonly map = new Map<string, string>();
  async get(k: string) {
    return this.map.get(k);
  }
  async store(k: string, v: string) {
    this.map.set(k, v);
  }
  async delete(k: string) {
    this.map.delete(k);
  }
}

export function specFor(sshd: TestSshd, over: Partial<SshHostSpec> = {}): SshHostSpec {
  return {
    alias: 'test-host',
    source: 'settings',
    hostName: sshd.host,
    user: sshd.user,
    port: sshd.port,
    identityFiles: [sshd.clientKeyFile],
    identitiesOnly: true,
    proxyJump: [],
    knownHostsFiles: [sshd.knownHostsFile],
    hashKnownHosts: false,
    ...over,
  };
}

export interface LinkHarness {
  link: SshDaemonLink;
  progress: SshProgress[];
  log: string[];
  prompts: ScriptedPrompts;
}

export function makeLink(spec: SshHostSpec, bundle: DaemonBundle, options: { prompts?: ScriptedPrompts; secrets?: SecretStore; idleExitSeconds?: number; timeoutMs?: number; onProgress?: (p: SshProgress) => void; agent?: string } = {}): LinkHarness {
  const progress: SshProgress[] = [];
  const log: string[] = [];
  const prompts = options.prompts ?? new ScriptedPrompts();
  const link = new SshDaemonLink({
    spec,
    deps: {
      prompts,
      secrets: options.secrets ?? new MapSecrets(),
      progress: (p) => {
        progress.push(p);
        options.onProgress?.(p);
      },
      log: (l) => log.push(l),
      local: { home: os.homedir(), ...(options.agent ? { agent: options.agent } : {}) }, // no agent unless given: only the spec's key is offered
      timeoutMs: options.timeoutMs ?? 15000,
    },
    bundle: async () => bundle,
    idleExitSeconds: options.idleExitSeconds ?? 600,
    client: CLIENT,
  });
  return { link, progress, log, prompts };
}
