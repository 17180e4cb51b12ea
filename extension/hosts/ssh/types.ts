// extension/hosts/ssh/: remote hosts over SSH (ssh2) — which hosts exist (~/.ssh/config and settings), whether their
// keys are the ones we know (known_hosts), connecting and authenticating, probing, deploying the daemon bundle over
// SFTP, starting it detached and reaching its socket through a stream-local forward. Plain Node: no `vscode` here;
// the extension supplies the prompts, the secret store and the progress sink below.

/** One host the user can deploy to, resolved from ~/.ssh/config or from the manta.remoteHosts setting. */
export interface SshHostSpec {
  /** The name the user knows it by: the `Host` alias, or the setting's `name`. */
  alias: string;
  source: 'ssh-config' | 'settings';
  /** What to dial (HostName, default: the alias). */
  hostName: string;
  /** Login user (User, default: the local user name). */
  user: string;
  port: number;
  /** Key files to try, `~` expanded (IdentityFile; none: the agent and OpenSSH's default key names). */
  identityFiles: string[];
  /** IdentitiesOnly: only the identityFiles, not every key the agent holds. */
  identitiesOnly: boolean;
  /** ProxyJump hops in order, each already resolved through the config (alias → HostName, User, Port, keys). */
  proxyJump: SshHostSpec[];
  /** known_hosts files to check (UserKnownHostsFile, default ~/.ssh/known_hosts ~/.ssh/known_hosts2). */
  knownHostsFiles: string[];
  /** HashKnownHosts: a host the user trusts is added hashed. */
  hashKnownHosts: boolean;
  /** Node on the host, when `node` on the login PATH is not the one to use (setting only). */
  nodePath?: string;
  /** Folder on the host that a config's relative paths resolve against (setting; default ~/manta). */
  workDir?: string;
}

/** What the user is asked while connecting; each answer may be undefined (the user cancelled). */
export interface SshPrompts {
  /** An unknown host key: true to trust it (it is then added to known_hosts). Never called for a changed key. */
  confirmHostKey(request: { host: string; port: number; keyType: string; fingerprint: string; otherKnownTypes: string[] }): Promise<boolean>;
  /** The passphrase of an encrypted key file, and whether to keep it in the secret store. */
  passphrase(request: { host: string; keyFile: string; retry: boolean }): Promise<{ passphrase: string; remember: boolean } | undefined>;
  /** keyboard-interactive: one answer per prompt. */
  keyboardInteractive(request: { host: string; name: string; instructions: string; prompts: { prompt: string; echo: boolean }[] }): Promise<string[] | undefined>;
  /** A password (asked only when the server offers password authentication and the others failed). */
  password(request: { host: string; user: string; retry: boolean }): Promise<string | undefined>;
}

/** Where remembered passphrases live (VS Code SecretStorage in the extension; a Map in tests). Never settings. */
export interface SecretStore {
  get(key: string): Promise<string | undefined>;
  store(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
}

/** The steps of connecting and deploying, in order; each is shown in VS Code progress with the host's name. */
export type SshStep = 'resolving' | 'connecting' | 'authenticating' | 'probing' | 'uploading' | 'installing' | 'starting' | 'attaching' | 'reconnecting';

export interface SshProgress {
  host: string;
  step: SshStep;
  /** A sentence: 'uploading the daemon (3.1 of 7.9 MB)'. */
  message: string;
  bytes?: { done: number; total: number };
}

/** A connecting or deploying step failed: `message` says what happened on which host and what to do. */
export class SshHostError extends Error {
  override name = 'SshHostError';
  constructor(
    message: string,
    readonly host: string,
    readonly step: SshStep,
    /** Stable reason for tests and callers: 'unreachable', 'host-key-changed', 'host-key-unknown', 'auth', 'no-node', 'old-node', 'disk-full', 'timeout', 'deploy' … */
    readonly reason: string,
  ) {
    super(message);
  }
}
