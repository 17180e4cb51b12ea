// Opening an authenticated SSH connection to a host, as OpenSSH would: through its ProxyJump hops, the host key
// checked against known_hosts (unknown: the user is asked; changed or revoked: refused, never overridden), then
// ssh-agent, key files (a passphrase asked once, kept only where the user agrees), keyboard-interactive and password.
// Every failure is an SshHostError saying which host, which step and what to do.
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Client, utils, type AnyAuthMethod, type AuthenticationType, type ConnectConfig, type KeyboardInteractiveCallback, type ParsedKey, type Prompt, type ServerHostKeyAlgorithm } from 'ssh2';
import { addKnownHost, changedHostKeyWarning, checkHostKey, hostKeyAlgorithmsFor, hostKeyFingerprint, keyTypeOf } from './known-hosts';
import { SshHostError, type SecretStore, type SshHostSpec, type SshProgress, type SshPrompts } from './types';

export interface SshConnectDeps {
  prompts: SshPrompts;
  secrets: SecretStore;
  progress(p: SshProgress): void;
  log(line: string): void;
  /** The editor machine's home folder and ssh-agent (SSH_AUTH_SOCK; on Windows OpenSSH's named pipe or Pageant). */
  local: { home: string; agent?: string };
  /** How long the TCP connect + SSH handshake + authentication of one hop may take (default 30 s). */
  timeoutMs?: number;
}

/** The agent to use: SSH_AUTH_SOCK where set; on Windows, OpenSSH's agent pipe, else Pageant. */
export function defaultAgent(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string | undefined {
  if (env.SSH_AUTH_SOCK) return env.SSH_AUTH_SOCK;
  if (platform === 'win32') return existsSync('\\\\.\\pipe\\openssh-ssh-agent') ? '\\\\.\\pipe\\openssh-ssh-agent' : 'pageant';
  return undefined;
}

/** OpenSSH's default key files, in its order, when a host names none. */
const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/** Opens the connection to `spec` (through its jump hosts); the caller ends it with `client.end()`. */
export async function connectSsh(spec: SshHostSpec, deps: SshConnectDeps): Promise<Client> {
  const label = spec.alias;
  deps.progress({ host: label, step: 'resolving', message: `resolving ${describeRoute(spec)}` });
  let sock: NodeJS.ReadableStream | undefined;
  const opened: Client[] = [];
  try {
    for (const hop of [...spec.proxyJump, spec]) {
      const previous = opened[opened.length - 1];
      if (previous) sock = await forwardTo(previous, hop, label);
      opened.push(await connectHop(hop, sock, deps, label));
    }
  } catch (e) {
    for (const c of opened) c.end();
    throw e;
  }
  const client = opened[opened.length - 1];
  // The jump connections live as long as the last one.
  client.once('close', () => opened.slice(0, -1).forEach((c) => c.end()));
  return client;
}

function describeRoute(spec: SshHostSpec): string {
  const hop = (s: SshHostSpec) => `${s.user}@${s.hostName}:${s.port}`;
  return spec.proxyJump.length ? `${hop(spec)} via ${spec.proxyJump.map(hop).join(' → ')}` : hop(spec);
}

function forwardTo(via: Client, hop: SshHostSpec, label: string): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) =>
    via.forwardOut('127.0.0.1', 0, hop.hostName, hop.port, (err, channel) => {
      if (err) reject(new SshHostError(`${label}: the jump host cannot reach ${hop.hostName}:${hop.port} (${err.message})`, label, 'connecting', 'unreachable'));
      else resolve(channel);
    }),
  );
}

/** One hop: TCP (or the previous hop's channel), host key, authentication. */
async function connectHop(hop: SshHostSpec, sock: NodeJS.ReadableStream | undefined, deps: SshConnectDeps, label: string): Promise<Client> {
  const where = `${hop.hostName}:${hop.port}`;
  const timeoutMs = deps.timeoutMs ?? 30000;
  deps.progress({ host: label, step: 'connecting', message: `connecting to ${where}` });
  // Prefer the key types known_hosts already has for this host, so its known key is what gets checked (OpenSSH does
  // the same); other types stay allowed after them.
  const known = await hostKeyAlgorithmsFor(hop.knownHostsFiles, hop.hostName, hop.port);
  let refusal: SshHostError | undefined;
  const hostVerifier = (key: Buffer, verify: (ok: boolean) => void): void => {
    verifyHostKey(hop, key, deps, label).then(
      () => verify(true),
      (e: unknown) => {
        refusal = e instanceof SshHostError ? e : new SshHostError(`${label}: ${(e as Error).message}`, label, 'connecting', 'host-key');
        verify(false);
      },
    );
  };
  const auth = new Authenticator(hop, deps, label);
  const client = new Client();
  const config: ConnectConfig = {
    host: hop.hostName,
    port: hop.port,
    username: hop.user,
    ...(sock ? { sock: sock as ConnectConfig['sock'] } : {}),
    readyTimeout: timeoutMs,
    keepaliveInterval: 15000,
    keepaliveCountMax: 3,
    hostVerifier,
    // ssh2's typings take `false` (no more methods) only as `never`.
    authHandler: (methodsLeft, partial, next) => void auth.next(methodsLeft, partial).then((m) => next(m as AnyAuthMethod), () => next(false as never)),
    tryKeyboard: true,
    ...(known.length ? { algorithms: { serverHostKey: orderHostKeyAlgorithms(known) } } : {}),
  };
  return new Promise<Client>((resolve, reject) => {
    let settled = false;
    const fail = (e: SshHostError) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(e);
    };
    client.on('keyboard-interactive', (name, instructions, _lang, prompts, finish) => auth.keyboardInteractive(name, instructions, prompts, finish));
    client.once('ready', () => {
      settled = true;
      resolve(client);
    });
    // `on`, not `once`: a refused host key is an error, and the socket's reset that follows can be a second one; with
    // no listener left that one would be an uncaught exception. fail() acts on the first only.
    client.on('error', (e: Error & { level?: string; code?: string }) => fail(refusal ?? explainConnectError(e, hop, label, auth, timeoutMs)));
    client.once('close', () => fail(refusal ?? new SshHostError(`${label}: ${where} closed the connection before it was ready`, label, 'connecting', 'unreachable')));
    client.connect(config);
  });
}

/** ssh2's names for host key types, with the signature algorithms each key type allows. */
function orderHostKeyAlgorithms(knownTypes: string[]): ServerHostKeyAlgorithm[] {
  const all: ServerHostKeyAlgorithm[] = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  const forType = (t: string) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]);
  const preferred = knownTypes.flatMap(forType).filter((a): a is ServerHostKeyAlgorithm => (all as string[]).includes(a));
  return [...new Set([...preferred, ...all])];
}

async function verifyHostKey(hop: SshHostSpec, key: Buffer, deps: SshConnectDeps, label: string): Promise<void> {
  const verdict = await checkHostKey(hop.knownHostsFiles, hop.hostName, hop.port, key);
  const fingerprint = hostKeyFingerprint(key);
  const keyType = keyTypeOf(key);
  if (verdict.kind === 'trusted') return;
  if (verdict.kind === 'revoked') {
    throw new SshHostError(
      `${label}: the host key of ${hop.hostName}:${hop.port} (${keyType} ${fingerprint}) is marked @revoked in ${verdict.file}:${verdict.line}; MANTA refuses to connect.`,
      label,
      'connecting',
      'host-key-revoked',
    );
  }
  if (verdict.kind === 'changed') {
    deps.log(`${label}: host key changed (${verdict.file}:${verdict.line}); refused`);
    throw new SshHostError(`${label}: refused to connect, the host key changed:\n${changedHostKeyWarning({ host: hop.hostName, port: hop.port, key, file: verdict.file, line: verdict.line, knownType: verdict.knownType })}`, label, 'connecting', 'host-key-changed');
  }
  const trust = await deps.prompts.confirmHostKey({ host: hop.hostName, port: hop.port, keyType, fingerprint, otherKnownTypes: verdict.otherKnownTypes });
  if (!trust) {
    throw new SshHostError(
      `${label}: the authenticity of ${hop.hostName}:${hop.port} (${keyType} ${fingerprint}) was not confirmed; not connected. Check the fingerprint with the host's administrator (ssh-keygen -lf /etc/ssh/ssh_host_${keyType.replace(/^ssh-|-.*$/g, '')}_key.pub on the host) and connect again.`,
      label,
      'connecting',
      'host-key-unknown',
    );
  }
  const file = hop.knownHostsFiles[0];
  if (!file) throw new SshHostError(`${label}: no known_hosts file to remember the host key in`, label, 'connecting', 'host-key-unknown');
  await addKnownHost(file, hop.hostName, hop.port, key, { hashed: hop.hashKnownHosts });
  deps.log(`${label}: added ${keyType} ${fingerprint} for ${hop.hostName}:${hop.port} to ${file}`);
}

function explainConnectError(e: Error & { level?: string; code?: string }, hop: SshHostSpec, label: string, auth: Authenticator, timeoutMs: number): SshHostError {
  const where = `${hop.hostName}:${hop.port}`;
  const code = e.code ?? '';
  if (code === 'ECONNREFUSED') return new SshHostError(`${label}: nothing accepts connections on ${where}; is sshd running there, and is the port right (Port in ~/.ssh/config or the setting)?`, label, 'connecting', 'unreachable');
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new SshHostError(`${label}: cannot resolve the host name ${hop.hostName}; check HostName in ~/.ssh/config or the manta.remoteHosts setting`, label, 'resolving', 'unreachable');
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return new SshHostError(`${label}: ${where} is unreachable from this machine (${code}); check the network or the VPN`, label, 'connecting', 'unreachable');
  if (e.level === 'client-timeout' || /Timed out while waiting for handshake/.test(e.message)) {
    return new SshHostError(`${label}: no SSH handshake with ${where} within ${Math.round(timeoutMs / 1000)} s; the host is down, a firewall drops the packets, or the port is not an SSH server's`, label, 'connecting', 'timeout');
  }
  if (e.level === 'client-authentication') return new SshHostError(`${label}: ${hop.user}@${where} refused every way of logging in that was tried (${auth.tried()}). Add your public key to ~/.ssh/authorized_keys on the host, load it into ssh-agent, or name it with IdentityFile.`, label, 'authenticating', 'auth');
  if (/Connection lost before handshake/.test(e.message) || (e.level === 'protocol' && /identification|header|protocol/i.test(e.message))) return new SshHostError(`${label}: ${where} closed the connection before any SSH handshake (${e.message}): the server on that port does not speak SSH, or does not accept this machine. Is the port right?`, label, 'connecting', 'not-ssh');
  return new SshHostError(`${label}: connecting to ${where} failed: ${e.message}`, label, 'connecting', 'unreachable');
}

/**
 * The order OpenSSH tries: agent → key files → keyboard-interactive → password, each only while the server still
 * offers it. Passphrases come from the secret store, else from the user (asked again after a wrong one, up to three
 * times); a remembered passphrase that no longer works is forgotten.
 */
class Authenticator {
  private readonly plan: ('agent' | 'keys' | 'keyboard-interactive' | 'password')[];
  private keyFiles: string[];
  private readonly attempted: string[] = [];
  private passwordTries = 0;

  constructor(
    private readonly hop: SshHostSpec,
    private readonly deps: SshConnectDeps,
    private readonly label: string,
  ) {
    this.plan = [...(deps.local.agent && !hop.identitiesOnly ? (['agent'] as const) : []), 'keys', 'keyboard-interactive', 'password'];
    this.keyFiles = hop.identityFiles.length ? [...hop.identityFiles] : DEFAULT_KEYS.map((k) => path.join(deps.local.home, '.ssh', k));
  }

  tried(): string {
    return this.attempted.length ? this.attempted.join(', ') : 'nothing: no agent, no key file found';
  }

  /** The next method to try, or false when none is left. */
  async next(methodsLeft: AuthenticationType[] | null, _partial: boolean | null): Promise<AnyAuthMethod | false> {
    if (this.attempted.length === 0) this.deps.progress({ host: this.label, step: 'authenticating', message: `authenticating as ${this.hop.user}@${this.hop.hostName}` });
    const offered = (m: string) => methodsLeft === null || methodsLeft.includes(m as AuthenticationType);
    while (this.plan.length) {
      const method = this.plan[0];
      if (method === 'agent') {
        this.plan.shift();
        if (!offered('publickey')) continue;
        this.attempted.push('ssh-agent');
        return { type: 'agent', username: this.hop.user, agent: this.deps.local.agent! };
      }
      if (method === 'keys') {
        const file = this.keyFiles.shift();
        if (file === undefined) {
          this.plan.shift();
          continue;
        }
        if (!offered('publickey')) continue;
        const key = await this.loadKey(file);
        if (!key) continue;
        this.attempted.push(`key ${file}`);
        return { type: 'publickey', username: this.hop.user, key };
      }
      if (method === 'keyboard-interactive') {
        this.plan.shift();
        if (!offered('keyboard-interactive')) continue;
        this.attempted.push('keyboard-interactive');
        return { type: 'keyboard-interactive', username: this.hop.user, prompt: (name: string, instructions: string, _l: string, prompts: Prompt[], finish: KeyboardInteractiveCallback) => this.keyboardInteractive(name, instructions, prompts, finish) };
      }
      // password: up to three tries, as OpenSSH's NumberOfPasswordPrompts
      if (!offered('password') || this.passwordTries >= 3) {
        this.plan.shift();
        continue;
      }
      const password = await this.deps.prompts.password({ host: this.label, user: this.hop.user, retry: this.passwordTries > 0 });
      this.passwordTries++;
      if (password === undefined) {
        this.plan.shift();
        continue;
      }
      if (!this.attempted.includes('password')) this.attempted.push('password');
      return { type: 'password', username: this.hop.user, password };
    }
    return false;
  }

  keyboardInteractive(name: string, instructions: string, prompts: Prompt[], finish: KeyboardInteractiveCallback): void {
    if (prompts.length === 0) return finish([]);
    this.deps.prompts
      .keyboardInteractive({ host: this.label, name, instructions, prompts: prompts.map((p) => ({ prompt: p.prompt, echo: p.echo === true })) })
      .then((answers) => finish(answers ?? []), () => finish([]));
  }

  /** A parsed private key, or undefined when the file is absent, unreadable or its passphrase was not given. */
  private async loadKey(file: string): Promise<ParsedKey | undefined> {
    let data: Buffer;
    try {
      data = await fs.readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || this.hop.identityFiles.includes(file)) this.deps.log(`${this.label}: cannot read the key ${file}: ${(e as Error).message}`);
      return undefined;
    }
    let parsed = utils.parseKey(data);
    if (!(parsed instanceof Error)) return parsed;
    if (!/no passphrase given/.test(parsed.message)) {
      this.deps.log(`${this.label}: ${file} is not a private key ssh2 can read (${parsed.message}); skipped`);
      return undefined;
    }
    const secretKey = `ssh-passphrase:${path.resolve(file)}`;
    const remembered = await this.deps.secrets.get(secretKey);
    if (remembered !== undefined) {
      parsed = utils.parseKey(data, remembered);
      if (!(parsed instanceof Error)) return parsed;
      await this.deps.secrets.delete(secretKey); // the key's passphrase changed since
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const answer = await this.deps.prompts.passphrase({ host: this.label, keyFile: file, retry: attempt > 0 });
      if (!answer) return undefined;
      parsed = utils.parseKey(data, answer.passphrase);
      if (!(parsed instanceof Error)) {
        if (answer.remember) await this.deps.secrets.store(secretKey, answer.passphrase);
        return parsed;
      }
    }
    this.deps.log(`${this.label}: wrong passphrase for ${file} three times; skipped`);
    return undefined;
  }
}
