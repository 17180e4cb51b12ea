// extension/hosts/ssh/ssh-config.ts: which SSH hosts the user has and how to reach them — ~/.ssh/config read with the
// `ssh-config` package's line parser (quotes, `=`, comments), Include expanded in place, and a host resolved the way
// ssh resolves it (first value obtained wins; Host patterns against the name as given; ProxyJump hops resolved
// through the same config); plus the manta.remoteHosts setting's entries. Plain Node: no `vscode` here. Home folder
// and user name come from the caller (`env`), never from the process, so that tests and every platform agree.
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, parse as parsePath } from 'node:path';
import { parse as parseConfigLine, type Line } from 'ssh-config';
import { matchPattern, matchPatternList } from './known-hosts';
import type { SshHostSpec } from './types';

/** What a resolution needs from the local machine. */
export interface SshEnv {
  /** The local home folder: `~`, `%d`, and the folder relative Include paths and key files are under. */
  home: string;
  /** The local user name: `%u`, and the login user when the config names none. */
  localUser: string;
}

/** A Host or Match line: the directives after it apply while it holds. */
export interface SshConfigCondition {
  /** Unique within one SshConfigFile: a Match is evaluated once, where ssh evaluates it, and then remembered. */
  id: number;
  kind: 'host' | 'match';
  args: string[];
  file: string;
  line: number;
}

export interface SshConfigDirective {
  /** Lowercase: ssh keywords are case-insensitive. */
  keyword: string;
  /** The values, quotes removed. */
  args: string[];
  /** Whether the (single) value was written in quotes. */
  quoted: boolean;
  file: string;
  line: number;
  /** All must hold for the directive to apply: the Host/Match around each enclosing Include, then its own. */
  when: SshConfigCondition[];
}

/** A config file as ssh reads it: every directive in order, Include files expanded where they are included. */
export interface SshConfigFile {
  file: string;
  /** Every file read, the top one first (Includes that exist), e.g. to watch them. */
  files: string[];
  directives: SshConfigDirective[];
  /** Every Host line, in order, for listing aliases. */
  hosts: { patterns: string[]; file: string; line: number }[];
}

/** A problem in a config file at a line, said so that the user can fix it. */
export class SshConfigError extends Error {
  override name = 'SshConfigError';
  constructor(
    message: string,
    readonly file: string,
    readonly line: number,
  ) {
    super(message);
  }
}

/** OpenSSH's READCONF_MAX_DEPTH. */
const MAX_INCLUDE_DEPTH = 16;
const MAX_JUMP_DEPTH = 16;

/** The keywords whose value is one word (a path in quotes may hold spaces): ssh rejects anything after it. */
const SINGLE_VALUE = new Set(['hostname', 'user', 'port', 'identityfile', 'identitiesonly', 'hashknownhosts']);
const FLAGS = new Set(['identitiesonly', 'hashknownhosts']);
const MATCH_WITHOUT_ARG = new Set(['all', 'canonical', 'final']);
const MATCH_WITH_ARG = new Set(['exec', 'localnetwork', 'host', 'originalhost', 'tagged', 'command', 'user', 'localuser', 'version', 'sessiontype']);

/**
 * Reads an ssh config file and what it includes. A missing file is an empty config. `home` (default: the process's)
 * is where `~` points and relative Include paths start from (`~/.ssh/`, as for ssh's user config); pass the same
 * home as to resolveSshHost.
 */
export async function readSshConfig(file: string, options: { home?: string } = {}): Promise<SshConfigFile> {
  const config: SshConfigFile = { file, files: [], directives: [], hosts: [] };
  const reader = new ConfigReader(config, options.home ?? homedir());
  await reader.read(file, [], 0, true);
  return config;
}

class ConfigReader {
  private nextId = 1;
  constructor(
    private readonly config: SshConfigFile,
    private readonly home: string,
  ) {}

  async read(file: string, outer: SshConfigCondition[], depth: number, top: boolean): Promise<void> {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A missing config, or an Include naming a file that is not there, is nothing to read (ssh says nothing either).
      if (code === 'ENOENT' || code === 'ENOTDIR' || (!top && code === 'EISDIR')) return;
      throw new Error(`cannot read ssh config file ${file}: ${(error as Error).message}`);
    }
    this.config.files.push(file);
    let when = outer;
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const d = directiveOf(lines[i]!, file, i + 1);
      if (!d) continue;
      const at = (problem: string) => new SshConfigError(`${file} line ${i + 1}: ${problem}`, file, i + 1);
      if (d.keyword === 'host' || d.keyword === 'match') {
        if (d.keyword === 'match') checkMatch(d.args, at);
        const condition: SshConfigCondition = { id: this.nextId++, kind: d.keyword, args: d.args, file, line: i + 1 };
        when = [...outer, condition];
        if (d.keyword === 'host') this.config.hosts.push({ patterns: d.args, file, line: i + 1 });
        continue;
      }
      if (d.keyword === 'include') {
        if (depth >= MAX_INCLUDE_DEPTH) throw at(`Include is nested more than ${MAX_INCLUDE_DEPTH} deep; does a file include itself?`);
        for (const pattern of d.args) {
          for (const path of await expandGlob(this.includePath(pattern, at))) await this.read(path, when, depth + 1, false);
        }
        continue;
      }
      checkValue(d, at);
      this.config.directives.push({ ...d, file, line: i + 1, when });
    }
  }

  /** ssh's rule for a user config: `~` is home, and a relative path is under ~/.ssh. */
  private includePath(pattern: string, at: (problem: string) => SshConfigError): string {
    const path = expandTilde(pattern, this.home, () => at(`Include ${pattern}: "~user" paths are not supported; write the folder out`));
    return isAbsolute(path) ? path : join(this.home, '.ssh', path);
  }
}

/** One line through the package's parser: the directive on it, if any, or a SshConfigError saying what to fix. */
function directiveOf(text: string, file: string, line: number): { keyword: string; args: string[]; quoted: boolean } | undefined {
  const at = (problem: string) => new SshConfigError(`${file} line ${line}: ${problem}`, file, line);
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return undefined;
  let nodes: Line[];
  try {
    nodes = [...parseConfigLine(text)];
  } catch (error) {
    const message = (error as Error).message;
    const keyword = trimmed.split(/[\s=]/, 1)[0] ?? '';
    if (message.startsWith('Unexpected line break')) throw at(`a quote is not closed; end the quoted value with "`);
    const missing = /^Missing value for match criteria (\S+)/.exec(message);
    if (missing) throw at(`Match ${missing[1]} needs a pattern after it`);
    // The package cannot split a Host (or another list keyword) that has no value at all.
    if (error instanceof TypeError) throw at(`${keyword} needs a value`);
    throw at(message);
  }
  const node = nodes.find((n) => n.type === 1);
  if (!node || !('param' in node) || !node.param) throw at(`"${trimmed}" has no keyword; lines are "Keyword value"`);
  const args = typeof node.value === 'string' ? (node.value === '' ? [] : [node.value]) : node.value.map((v) => v.val);
  return { keyword: node.param.toLowerCase(), args, quoted: node.quoted === true };
}

function checkValue(d: { keyword: string; args: string[]; quoted: boolean }, at: (problem: string) => SshConfigError): void {
  const name = keywordName(d.keyword);
  if (d.args.length === 0 || d.args.every((a) => a === '')) throw at(`${name} needs a value`);
  const value = d.args[0]!;
  if (SINGLE_VALUE.has(d.keyword) && !d.quoted && /\s/.test(value)) {
    throw at(`${name} takes one value, not "${value}"; put a path that has spaces in double quotes`);
  }
  if (d.keyword === 'port' && parsePort(value) === undefined) throw at(`Port must be a number from 1 to 65535, not "${value}"`);
  if (FLAGS.has(d.keyword) && parseFlag(value) === undefined) throw at(`${name} must be yes or no, not "${value}"`);
  if (d.keyword === 'proxyjump') {
    try {
      parseJumpSpec(d.args.join(' '));
    } catch (error) {
      throw at(`ProxyJump ${(error as Error).message}`);
    }
  }
}

function checkMatch(args: string[], at: (problem: string) => SshConfigError): void {
  if (args.length === 0) throw at('Match needs a criterion, e.g. "Match host *.example.com"');
  for (let i = 0; i < args.length; i++) {
    const criterion = args[i]!.replace(/^!/, '').toLowerCase();
    if (MATCH_WITHOUT_ARG.has(criterion)) continue;
    if (!MATCH_WITH_ARG.has(criterion)) throw at(`Match ${args[i]} is not a Match criterion ssh knows`);
    if (i + 1 >= args.length) throw at(`Match ${args[i]} needs a pattern after it`);
    i++;
  }
}

function keywordName(keyword: string): string {
  const names: Record<string, string> = {
    hostname: 'HostName',
    user: 'User',
    port: 'Port',
    identityfile: 'IdentityFile',
    identitiesonly: 'IdentitiesOnly',
    hashknownhosts: 'HashKnownHosts',
    proxyjump: 'ProxyJump',
    proxycommand: 'ProxyCommand',
    userknownhostsfile: 'UserKnownHostsFile',
  };
  return names[keyword] ?? keyword;
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** ssh's multistate_flag. */
function parseFlag(text: string): boolean | undefined {
  const lower = text.toLowerCase();
  if (lower === 'yes' || lower === 'true') return true;
  if (lower === 'no' || lower === 'false') return false;
  return undefined;
}

// Path separators for Include globs: Windows accepts both; elsewhere a backslash is part of a name.
const SEPARATORS = process.platform === 'win32' ? /[\\/]+/ : /\/+/;

/** glob(3) as ssh uses it for Include: `*`, `?` and `[…]` within one path segment; no dot files unless named; sorted. */
async function expandGlob(pattern: string): Promise<string[]> {
  if (!/[*?[]/.test(pattern)) return [pattern];
  const root = parsePath(pattern).root;
  let found = [root];
  for (const part of pattern.slice(root.length).split(SEPARATORS).filter(Boolean)) {
    if (!/[*?[]/.test(part)) {
      found = found.map((dir) => join(dir, part));
      continue;
    }
    const segment = globSegment(part);
    const next: string[] = [];
    for (const dir of found) {
      let names: string[];
      try {
        names = await fs.readdir(dir);
      } catch {
        continue;
      }
      for (const name of names) {
        if (name.startsWith('.') && !part.startsWith('.')) continue;
        if (segment.test(name)) next.push(join(dir, name));
      }
    }
    found = next;
  }
  return found.sort();
}

function globSegment(part: string): RegExp {
  let source = '';
  for (let i = 0; i < part.length; i++) {
    const c = part[i]!;
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[' && part.indexOf(']', i + 2) > i) {
      const end = part.indexOf(']', i + 2);
      let body = part.slice(i + 1, end);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      source += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

/** Concrete aliases from Host lines — no `*`, `?` or `!` patterns — in file order, each once. */
export function listSshHosts(config: SshConfigFile): string[] {
  const aliases = new Set<string>();
  for (const host of config.hosts) {
    for (const pattern of host.patterns) {
      if (!/[*?!]/.test(pattern)) aliases.add(pattern);
    }
  }
  return [...aliases];
}

/** What ssh is told before it reads the config (`ssh -l user -p port -i key -J jumps`): those win over the config. */
interface CommandLine {
  user?: string;
  port?: number;
  identityFiles?: string[];
  /** A ProxyJump value ('none' included). */
  proxyJump?: string;
  /** A hop after the first of a ProxyJump list: ssh reaches it with `-J <earlier hops>`, so its own proxy settings do not apply. */
  noProxy?: boolean;
}

interface Obtained {
  args: string[];
  file: string;
  line: number;
}

/**
 * The host `alias` as ssh would reach it with this config (`ssh alias`). Host blocks match the alias as given (case
 * matters, `*` and `?` wildcards, a matching `!pattern` rules the block out); the first value obtained for each
 * keyword wins, except IdentityFile, which accumulates. Match blocks are evaluated where they stand, with the
 * HostName and User obtained so far, for the criteria all, host, originalhost, user and localuser; a Match using any
 * other criterion (exec, canonical, final, localnetwork, tagged, …) is taken as not matching: MANTA runs no commands
 * from the config and does not canonicalize host names. ProxyCommand cannot be honoured (MANTA's SSH client runs no
 * commands) and is an error unless a ProxyJump or `ProxyCommand none` comes first.
 */
export function resolveSshHost(config: SshConfigFile, alias: string, env: SshEnv): SshHostSpec {
  return resolve(config, alias, env, {}, [alias]);
}

function resolve(config: SshConfigFile, alias: string, env: SshEnv, commandLine: CommandLine, chain: string[]): SshHostSpec {
  const first = new Map<string, Obtained>();
  const identityFiles: Obtained[] = [];
  // ProxyJump and ProxyCommand exclude each other as in ssh's readconf.c: a ProxyJump (not `none`) counts as a
  // ProxyCommand of `none`, and a ProxyJump is ignored once either is set.
  let jump: Obtained | undefined;
  let proxyCommand: Obtained | 'none' | undefined;
  if (commandLine.noProxy) {
    jump = { args: ['none'], file: '', line: 0 };
    proxyCommand = 'none';
  } else if (commandLine.proxyJump !== undefined) {
    jump = { args: [commandLine.proxyJump], file: '', line: 0 };
    if (commandLine.proxyJump.trim().toLowerCase() !== 'none') proxyCommand = 'none';
  }
  const seen = new Map<number, boolean>();
  const holds = (c: SshConfigCondition): boolean => {
    let result = seen.get(c.id);
    if (result === undefined) {
      result = c.kind === 'host' ? hostMatches(c.args, alias) : matchHolds(c.args, alias, first, commandLine, env);
      seen.set(c.id, result);
    }
    return result;
  };
  for (const d of config.directives) {
    if (!d.when.every(holds)) continue;
    const value: Obtained = { args: d.args, file: d.file, line: d.line };
    if (d.keyword === 'identityfile') identityFiles.push(value);
    else if (d.keyword === 'proxyjump') {
      const none = d.args.join(' ').trim().toLowerCase() === 'none';
      if (none) jump ??= value;
      else if (jump === undefined && proxyCommand === undefined) {
        jump = value;
        proxyCommand = 'none';
      }
    } else if (d.keyword === 'proxycommand') proxyCommand ??= value;
    else if (!first.has(d.keyword)) first.set(d.keyword, value);
  }

  const hostNameValue = first.get('hostname');
  const hostName = (hostNameValue ? expandTokens(hostNameValue.args[0]!, { h: alias }, where('HostName', hostNameValue)) : alias).toLowerCase();
  const user = commandLine.user ?? first.get('user')?.args[0] ?? env.localUser;
  const port = commandLine.port ?? parsePort(first.get('port')?.args[0] ?? '22') ?? 22;
  const tokens = { d: env.home, u: env.localUser, h: hostName, r: user, p: String(port), n: alias };
  const keys = [
    ...(commandLine.identityFiles ?? []).map((path) => ({ path, where: 'identityFile' })),
    ...identityFiles.map((v) => ({ path: v.args[0]!, where: where('IdentityFile', v) })),
  ]
    // ssh skips `IdentityFile none` when it loads keys.
    .filter((k) => k.path.toLowerCase() !== 'none')
    .map((k) => localPath(k.path, tokens, env.home, k.where));
  const knownHostsValue = first.get('userknownhostsfile');
  const knownHostsFiles = !knownHostsValue
    ? [join(env.home, '.ssh', 'known_hosts'), join(env.home, '.ssh', 'known_hosts2')]
    : knownHostsValue.args[0]!.toLowerCase() === 'none'
      ? []
      : knownHostsValue.args.map((path) => localPath(path, tokens, env.home, where('UserKnownHostsFile', knownHostsValue)));

  let proxyJump: SshHostSpec[] = [];
  if (jump && jump.args.join(' ').trim().toLowerCase() !== 'none') {
    const hops = parseJumpSpec(jump.args.join(' '));
    if (chain.length > MAX_JUMP_DEPTH) throw new Error(`ProxyJump chain is more than ${MAX_JUMP_DEPTH} hosts long: ${chain.join(' → ')}`);
    proxyJump = hops.map((hop, i) => {
      if (chain.includes(hop.host)) {
        const source = jump!.line ? ` (${alias}'s ProxyJump is ${jump!.file} line ${jump!.line})` : '';
        throw new Error(
          `ProxyJump goes round in a loop: ${[...chain, hop.host].join(' → ')}${source}. Give the jump host "ProxyJump none" in its own Host block, or keep it out of the pattern that gives it a ProxyJump (e.g. "Host * !${hop.host}").`,
        );
      }
      // ssh reaches the target with `ssh -J <hops but last> <last hop> -W target`: the first hop is reached the way
      // its own config says (with its ProxyJump), each later hop only through the hops before it.
      const hopLine: CommandLine = { ...(hop.user !== undefined ? { user: hop.user } : {}), ...(hop.port !== undefined ? { port: hop.port } : {}), ...(i > 0 ? { noProxy: true } : {}) };
      return resolve(config, hop.host, env, hopLine, [...chain, hop.host]);
    });
  } else if (proxyCommand !== undefined && proxyCommand !== 'none' && proxyCommand.args.join(' ').trim().toLowerCase() !== 'none') {
    throw new SshConfigError(
      `${alias}: ${proxyCommand.file} line ${proxyCommand.line} sets a ProxyCommand, which MANTA cannot run (its SSH client starts no commands). Reach this host with ProxyJump instead, or put "ProxyCommand none" in its Host block if it can be reached directly.`,
      proxyCommand.file,
      proxyCommand.line,
    );
  }

  return {
    alias,
    source: 'ssh-config',
    hostName,
    user,
    port,
    identityFiles: [...new Set(keys)],
    identitiesOnly: parseFlag(first.get('identitiesonly')?.args[0] ?? 'no') ?? false,
    proxyJump,
    knownHostsFiles,
    hashKnownHosts: parseFlag(first.get('hashknownhosts')?.args[0] ?? 'no') ?? false,
  };
}

function where(keyword: string, value: Obtained): string {
  return `${keyword} (${value.file} line ${value.line})`;
}

/** ssh's Host line: some pattern matches the name as given and no `!pattern` does. */
function hostMatches(patterns: string[], alias: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    if (pattern.startsWith('!')) {
      if (matchPattern(alias, pattern.slice(1))) return false;
    } else if (matchPattern(alias, pattern)) matched = true;
  }
  return matched;
}

/** ssh's match_cfg_line for the criteria MANTA evaluates (see resolveSshHost); any other one does not match. */
function matchHolds(args: string[], alias: string, first: Map<string, Obtained>, commandLine: CommandLine, env: SshEnv): boolean {
  const hostNameValue = first.get('hostname');
  const hostName = hostNameValue ? expandTokens(hostNameValue.args[0]!, { h: alias }, where('HostName', hostNameValue)) : alias;
  const user = commandLine.user ?? first.get('user')?.args[0] ?? env.localUser;
  for (let i = 0; i < args.length; i++) {
    const negated = args[i]!.startsWith('!');
    const criterion = args[i]!.replace(/^!/, '').toLowerCase();
    let result: boolean;
    if (criterion === 'all') result = true;
    else if (MATCH_WITHOUT_ARG.has(criterion)) return false;
    else {
      const arg = args[++i] ?? '';
      if (criterion === 'host') result = matchPatternList(hostName.toLowerCase(), arg, true);
      else if (criterion === 'originalhost') result = matchPatternList(alias.toLowerCase(), arg, true);
      else if (criterion === 'user') result = matchPatternList(user, arg, false);
      else if (criterion === 'localuser') result = matchPatternList(env.localUser, arg, false);
      else return false;
    }
    if (result === negated) return false;
  }
  return true;
}

/** `%x` tokens; `%%` is a percent sign. A token MANTA does not know is an error naming it, as in ssh. */
function expandTokens(text: string, tokens: Record<string, string>, what: string): string {
  return text.replace(/%(.?)/gs, (_, key: string) => {
    if (key === '%') return '%';
    const value = tokens[key];
    if (value === undefined) {
      const known = Object.keys(tokens).map((k) => `%${k}`).join(' ');
      throw new Error(`${what}: ${key ? `%${key}` : 'a lone %'} is not a token MANTA expands here (it expands ${known} and %%)`);
    }
    return value;
  });
}

function expandTilde(path: string, home: string, userForm: () => Error): string {
  if (path === '~') return home;
  if (/^~[\\/]/.test(path)) return join(home, path.slice(2));
  if (path.startsWith('~')) throw userForm();
  return path;
}

/**
 * A key or known_hosts path: `~` first, then tokens (ssh's order). A relative result is taken under home: ssh takes
 * it from its working folder, which is home in a login shell but arbitrary in VS Code.
 */
function localPath(path: string, tokens: Record<string, string>, home: string, what: string): string {
  const expanded = expandTokens(expandTilde(path, home, () => new Error(`${what}: "~user" paths are not supported; write the folder out`)), tokens, what);
  return isAbsolute(expanded) ? expanded : join(home, expanded);
}

/**
 * A ProxyJump value: `none` (no hops), or a comma list of `[user@]host[:port]` or `ssh://[user@]host[:port]`, an
 * IPv6 address in brackets. Throws an Error saying which hop is wrong and why.
 */
export function parseJumpSpec(spec: string): { user?: string; host: string; port?: number }[] {
  const trimmed = spec.trim();
  if (trimmed.toLowerCase() === 'none') return [];
  if (trimmed === '') throw new Error('needs at least one host ([user@]host[:port], comma-separated)');
  return trimmed.split(',').map((item) => parseHop(item.trim(), trimmed));
}

function parseHop(item: string, spec: string): { user?: string; host: string; port?: number } {
  const bad = (why: string) => new Error(`"${spec}": ${item === '' ? 'an empty hop' : `hop "${item}"`} ${why}; hops are [user@]host[:port], comma-separated`);
  if (item === '') throw bad('is not a host');
  let rest = item;
  let user: string | undefined;
  if (rest.startsWith('ssh://')) {
    // parse_ssh_uri: the user ends at the first @ (connection parameters after ; are ignored), no path.
    rest = rest.slice('ssh://'.length).replace(/\/$/, '');
    const at = rest.indexOf('@');
    if (at >= 0) {
      user = decodeURIComponent(rest.slice(0, at).split(';')[0]!);
      rest = rest.slice(at + 1);
    }
    if (rest.includes('/')) throw bad('has a path, which a jump host cannot have');
  } else {
    // parse_user_host_port: the user ends at the last @.
    const at = rest.lastIndexOf('@');
    if (at >= 0) {
      user = rest.slice(0, at);
      rest = rest.slice(at + 1);
    }
  }
  if (user !== undefined && (user === '' || /\s/.test(user))) throw bad('has an empty or spaced user name');
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw bad('opens [ without closing it');
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) throw bad('has something after ] that is not :port');
    if (after !== '') portText = after.slice(1);
  } else {
    const colon = rest.indexOf(':');
    host = colon < 0 ? rest : rest.slice(0, colon);
    if (colon >= 0) portText = rest.slice(colon + 1);
  }
  if (host === '' || /[\s@,/\\'"]/.test(host) || host.startsWith('-')) throw bad('has no usable host name');
  let port: number | undefined;
  if (portText !== undefined) {
    port = parsePort(portText);
    if (port === undefined) throw bad(`has port "${portText}", not a number from 1 to 65535 (an IPv6 address goes in [brackets])`);
  }
  return { ...(user !== undefined ? { user } : {}), host, ...(port !== undefined ? { port } : {}) };
}

const SETTING_FIELDS = ['name', 'hostName', 'user', 'port', 'identityFile', 'proxyJump', 'nodePath', 'workDir'];

/**
 * A `manta.remoteHosts` entry `{ name, hostName?, user?, port?, identityFile?, proxyJump?, nodePath?, workDir? }`
 * as a host. It is resolved through the ssh config like `ssh -l user -p port -i key -J jump <hostName>`: the fields
 * given win, and the config supplies the rest (so `Host *` defaults and known_hosts settings still apply). Without
 * hostName, `name` is what is dialed, so a name that is an ssh config alias gets everything that alias sets.
 * identityFile (a path or a list) is tried before the config's IdentityFiles. Throws an Error naming the bad field.
 */
export function hostFromSetting(setting: unknown, config: SshConfigFile, env: SshEnv): SshHostSpec {
  if (typeof setting !== 'object' || setting === null || Array.isArray(setting)) {
    throw new Error('manta.remoteHosts: each entry must be an object such as { "name": "gpu", "hostName": "gpu.example.com" }');
  }
  const entry = setting as Record<string, unknown>;
  const label = typeof entry.name === 'string' && entry.name.trim() !== '' ? `manta.remoteHosts entry "${entry.name}"` : 'a manta.remoteHosts entry';
  const fail = (field: string, why: string) => new Error(`${label}: ${field} ${why}`);
  for (const key of Object.keys(entry)) {
    if (!SETTING_FIELDS.includes(key)) throw fail(`"${key}"`, `is not a field MANTA knows (they are ${SETTING_FIELDS.join(', ')}; names are case-sensitive)`);
  }
  const text = (field: string, check?: (value: string) => string | undefined): string | undefined => {
    const value = entry[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.trim() === '') throw fail(field, 'must be a non-empty string');
    if (/[\x00-\x1f\x7f]/.test(value)) throw fail(field, 'must not contain control characters or line breaks');
    const problem = check?.(value);
    if (problem) throw fail(field, problem);
    return value;
  };
  const hostNameProblem = (value: string) => (/[\s@,/\\'"[\]#*?!]/.test(value) || value.startsWith('-') ? `"${value}" is not a host name (put the user in "user" and the port in "port")` : undefined);
  const name = text('name');
  if (name === undefined) throw fail('name', 'is missing: every entry needs the name the host is shown by');
  const hostName = text('hostName', hostNameProblem);
  if (hostName === undefined && hostNameProblem(name)) throw fail('hostName', `is missing, and name "${name}" is not a host name to dial; add "hostName"`);
  const user = text('user', (v) => (/\s/.test(v) || v.startsWith('-') ? `"${v}" is not a user name` : undefined));
  let port: number | undefined;
  if (entry.port !== undefined) {
    if (typeof entry.port !== 'number' || !Number.isInteger(entry.port) || entry.port < 1 || entry.port > 65535) {
      throw fail('port', `must be a whole number from 1 to 65535, not ${JSON.stringify(entry.port)}`);
    }
    port = entry.port;
  }
  let identityFiles: string[] | undefined;
  if (entry.identityFile !== undefined) {
    const list = Array.isArray(entry.identityFile) ? entry.identityFile : [entry.identityFile];
    if (list.length === 0 || list.some((p) => typeof p !== 'string' || p.trim() === '')) throw fail('identityFile', 'must be a path or a list of paths');
    identityFiles = list as string[];
  }
  const proxyJump = text('proxyJump', (v) => {
    try {
      parseJumpSpec(v);
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  });
  const nodePath = text('nodePath');
  const workDir = text('workDir');
  const target = hostName ?? name;
  let spec: SshHostSpec;
  try {
    spec = resolve(
      config,
      target,
      env,
      { ...(user !== undefined ? { user } : {}), ...(port !== undefined ? { port } : {}), ...(identityFiles ? { identityFiles } : {}), ...(proxyJump !== undefined ? { proxyJump } : {}) },
      [target],
    );
  } catch (error) {
    throw new Error(`${label}: ${(error as Error).message}`);
  }
  return { ...spec, alias: name, source: 'settings', ...(nodePath !== undefined ? { nodePath } : {}), ...(workDir !== undefined ? { workDir } : {}) };
}
