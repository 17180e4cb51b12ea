// extension/hosts/ssh/known-hosts.ts: OpenSSH known_hosts files — reading them (plain, `[host]:port`, wildcard,
// negated and hashed names, @revoked), judging the key a host presents the way ssh does, adding a host the user
// trusts, and the text shown when a host's key has changed. Plain Node: no `vscode` here.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';

/** One valid line of a known_hosts file. */
export interface KnownHostEntry {
  file: string;
  /** 1-based, counting every line of the file (blank and comment lines too), as ssh and ssh-keygen -F report it. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** The names field as written: a comma list of patterns, or one hashed name `|1|salt|hmac`. */
  names: string;
  /** A hashed name: HMAC-SHA1 keyed by `salt` of the name as ssh looks it up (`host` or `[host]:port`). */
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  /** The SSH wire-format public key blob (the base64 field, decoded). */
  key: Buffer;
  comment: string;
}

export type HostKeyVerdict =
  | { kind: 'trusted'; file: string; line: number }
  | { kind: 'unknown'; otherKnownTypes: string[] }
  | { kind: 'changed'; file: string; line: number; knownType: string }
  | { kind: 'revoked'; file: string; line: number };

const HASH_MAGIC = '|1|';
const SHA1_BYTES = 20;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The valid entries of a known_hosts file. Lines ssh would skip are skipped here too (it only logs them): an unknown
 * marker, a missing key, a legacy RSA1 `bits e n` key, a blob that is not base64 or whose type is not the one named,
 * a hashed name that does not decode.
 */
export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const entry = parseLine(lines[i]!.replace(/\r$/, ''), file, i + 1);
    if (entry) entries.push(entry);
  }
  return entries;
}

function parseLine(raw: string, file: string, line: number): KnownHostEntry | undefined {
  let rest = raw.replace(/^[ \t]+/, '');
  if (rest === '' || rest.startsWith('#')) return undefined;
  let marker: KnownHostEntry['marker'];
  if (rest.startsWith('@')) {
    const [word = ''] = rest.split(/[ \t]/, 1);
    if (word === '@revoked') marker = 'revoked';
    else if (word === '@cert-authority') marker = 'cert-authority';
    else return undefined;
    rest = rest.slice(word.length).replace(/^[ \t]+/, '');
  }
  const fields = /^(\S+)[ \t]+(\S+)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(rest.trimEnd());
  if (!fields) return undefined;
  const [, names = '', keyType = '', blob = '', comment = ''] = fields;
  if (keyType.startsWith('#')) return undefined;
  if (!BASE64.test(blob)) return undefined;
  const key = Buffer.from(blob, 'base64');
  let type: string;
  try {
    type = keyTypeOf(key);
  } catch {
    return undefined;
  }
  if (type !== keyType) return undefined;
  let hashed: KnownHostEntry['hashed'];
  if (names.startsWith('|')) {
    hashed = parseHashedName(names);
    if (!hashed) return undefined;
  }
  return {
    file,
    line,
    ...(marker ? { marker } : {}),
    names,
    ...(hashed ? { hashed } : {}),
    keyType,
    key,
    comment,
  };
}

function parseHashedName(names: string): { salt: Buffer; hash: Buffer } | undefined {
  if (!names.startsWith(HASH_MAGIC)) return undefined;
  const [salt64, hash64, extra] = names.slice(HASH_MAGIC.length).split('|');
  if (extra !== undefined || !salt64 || !hash64 || !BASE64.test(salt64) || !BASE64.test(hash64)) return undefined;
  const salt = Buffer.from(salt64, 'base64');
  const hash = Buffer.from(hash64, 'base64');
  return salt.length === SHA1_BYTES && hash.length === SHA1_BYTES ? { salt, hash } : undefined;
}

/** The key type named inside a wire-format public key blob (its first string): 'ssh-ed25519', 'ssh-rsa', … */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) throw new Error('not an SSH public key blob: shorter than its length field');
  const length = key.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > key.length) throw new Error('not an SSH public key blob: bad key type length');
  const type = key.subarray(4, 4 + length).toString('latin1');
  if (!/^[\x21-\x7e]+$/.test(type)) throw new Error('not an SSH public key blob: the key type is not printable');
  return type;
}

/** `SHA256:<base64 without padding>` of the blob, as `ssh-keygen -lf` and ssh print it. */
export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The name ssh looks a host up by: `host` on port 22, `[host]:port` otherwise; lowercase, as ssh lowercases it. */
export function knownHostsName(host: string, port: number): string {
  const lower = host.toLowerCase();
  return port === 22 || port === 0 ? lower : `[${lower}]:${port}`;
}

/** Whether an entry's names field covers `name` (already in knownHostsName form). */
export function entryMatchesName(entry: KnownHostEntry, name: string): boolean {
  if (entry.hashed) {
    const hmac = createHmac('sha1', entry.hashed.salt).update(name).digest();
    return hmac.equals(entry.hashed.hash);
  }
  return matchPatternList(name, entry.names);
}

/**
 * OpenSSH's match_pattern_list: a comma list of patterns, where a matching `!pattern` vetoes the whole list whatever
 * else matches. known_hosts names (match_hostname) are compared without regard to case: `text` is lowercase already.
 */
export function matchPatternList(text: string, list: string, ignoreCase = true): boolean {
  let positive = false;
  for (const item of list.split(',')) {
    const negated = item.startsWith('!');
    const raw = negated ? item.slice(1) : item;
    if (!matchPattern(text, ignoreCase ? raw.toLowerCase() : raw)) continue;
    if (negated) return false;
    positive = true;
  }
  return positive;
}

/** OpenSSH's match_pattern: `*` any run of characters (none too), `?` exactly one; everything else literal. */
export function matchPattern(text: string, pattern: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 's').test(text);
}

async function readEntries(files: string[]): Promise<KnownHostEntry[]> {
  const all: KnownHostEntry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (error) {
      // A known_hosts file that does not exist yet is normal (ssh skips it too); any other failure would make a known
      // host look unknown and the user would be asked to trust it again, so it is reported instead.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw new Error(`cannot read known_hosts file ${file}: ${(error as Error).message}`);
    }
    all.push(...parseKnownHosts(text, file));
  }
  return all;
}

/**
 * ssh's verdict on the key `host` presented on `port`, from the entries of all `files` together (a host known in any
 * of them is known):
 * - an @revoked entry for the host with this key → revoked, whatever else the files say;
 * - an entry with this very key → trusted;
 * - an entry of this key type with another key → changed (the last such entry, the one ssh names as "Offending");
 * - otherwise unknown, listing the key types the files do know for the host.
 * On a port other than 22 a host unknown as `[host]:port` is still trusted when the plain `host` entry has this very
 * key (ssh's "found matching key w/out port"); a different key there does not make it changed.
 *
 * Two choices differ from OpenSSH 9 on purpose and are the caller's to keep in mind:
 * - @cert-authority lines are ignored: MANTA does not do host certificates (ssh2 offers no certificate host key
 *   algorithms), so a host is never trusted through a CA line.
 * - A host known only by keys of other types is `unknown` with `otherKnownTypes`, so that the user can be told and
 *   asked; OpenSSH 9 refuses that case as CHANGED ("Offending ECDSA key"). Offer the known types first
 *   (hostKeyAlgorithmsFor) and a host presents one of them whenever it still has it; treat a non-empty
 *   otherKnownTypes as the warning it is.
 */
export async function checkHostKey(files: string[], host: string, port: number, key: Buffer): Promise<HostKeyVerdict> {
  const entries = await readEntries(files);
  const verdict = judge(entries, knownHostsName(host, port), key);
  if (verdict.kind === 'unknown' && port !== 22) {
    const plain = judge(entries, knownHostsName(host, 22), key);
    if (plain.kind === 'trusted') return plain;
  }
  return verdict;
}

function judge(entries: KnownHostEntry[], name: string, key: Buffer): HostKeyVerdict {
  const keyType = keyTypeOf(key);
  const matching = entries.filter((e) => e.marker !== 'cert-authority' && entryMatchesName(e, name));
  const revoked = matching.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { kind: 'revoked', file: revoked.file, line: revoked.line };
  const plain = matching.filter((e) => e.marker === undefined);
  const same = plain.find((e) => e.key.equals(key));
  if (same) return { kind: 'trusted', file: same.file, line: same.line };
  // A key of another type than the ones known counts as changed, as in OpenSSH (hostfile.c): the host is known, and a
  // man in the middle would simply offer a type we have no key for. Callers list the known types first
  // (hostKeyAlgorithmsFor), so an unchanged host proves itself with a key we know.
  const offending = plain.filter((e) => e.keyType === keyType).at(-1) ?? plain.at(-1);
  if (offending) return { kind: 'changed', file: offending.file, line: offending.line, knownType: offending.keyType };
  return { kind: 'unknown', otherKnownTypes: [] };
}

/**
 * The host key algorithms for the key types the files already know for the host (no revoked or CA lines), in file
 * order, for ssh2's `algorithms.serverHostKey` to list first — as ssh does, so that a known host proves itself with
 * the key we know rather than one we would have to ask about. An RSA key stands for its three signature algorithms.
 * Intersect with what ssh2 supports before use (it has no `sk-…` types).
 */
export async function hostKeyAlgorithmsFor(files: string[], host: string, port: number): Promise<string[]> {
  const name = knownHostsName(host, port);
  const types = (await readEntries(files)).filter((e) => e.marker === undefined && entryMatchesName(e, name)).map((e) => e.keyType);
  const algorithms = types.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]));
  return [...new Set(algorithms)];
}

/** One known_hosts line (no newline) for the host, its name hashed the way `ssh-keygen -H` and HashKnownHosts do. */
export function knownHostsLine(host: string, port: number, key: Buffer, hashed: boolean): string {
  // ssh will not record a name that its own lookups could misread as a pattern, a hash or a port (sshconnect.c).
  if (host === '' || /[\s@?*#[\]|'"\\,!]/.test(host)) throw new Error(`will not record host name "${host}" in known_hosts: it has characters known_hosts gives a meaning`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`will not record port ${port} in known_hosts: not a TCP port`);
  const name = knownHostsName(host, port);
  let names = name;
  if (hashed) {
    const salt = randomBytes(SHA1_BYTES);
    const hash = createHmac('sha1', salt).update(name).digest();
    names = `${HASH_MAGIC}${salt.toString('base64')}|${hash.toString('base64')}`;
  }
  return `${names} ${keyTypeOf(key)} ${key.toString('base64')}`;
}

/**
 * Appends the host's line to `file`, creating its folder (0700) and the file (0600) when missing, as ssh does for
 * ~/.ssh; an existing file keeps its mode. A file whose last line lacks its newline gets one first, so that the new
 * entry is not glued onto the old one.
 */
export async function addKnownHost(file: string, host: string, port: number, key: Buffer, options: { hashed: boolean }): Promise<void> {
  const line = knownHostsLine(host, port, key, options.hashed);
  await fs.mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const handle = await fs.open(file, 'a+', 0o600);
  try {
    const { size } = await handle.stat();
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = '\n';
    }
    // One write, in append mode: another window adding a host at the same time cannot split the line.
    await handle.write(`${prefix}${line}\n`);
  } finally {
    await handle.close();
  }
}

/** ssh's name for a key type in messages: ED25519, ECDSA, RSA … */
function keyTypeLabel(type: string): string {
  if (type === 'ssh-ed25519') return 'ED25519';
  if (type === 'sk-ssh-ed25519@openssh.com') return 'ED25519-SK';
  if (type.startsWith('ecdsa-sha2-')) return 'ECDSA';
  if (type.startsWith('sk-ecdsa-sha2-')) return 'ECDSA-SK';
  if (type === 'ssh-rsa') return 'RSA';
  if (type === 'ssh-dss') return 'DSA';
  return type;
}

/** Single-quoted for a POSIX shell (and PowerShell, where '…' is literal too). */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * What ssh prints when a host's key changed (sshconnect.c), with the new key's fingerprint and the offending entry,
 * adapted: MANTA refuses the connection, and says how to forget the old key when the change is expected.
 */
export function changedHostKeyWarning(request: { host: string; port: number; key: Buffer; file: string; line: number; knownType: string }): string {
  const name = knownHostsName(request.host, request.port);
  return [
    '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
    '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @',
    '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
    'IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!',
    'Someone could be eavesdropping on you right now (man-in-the-middle attack)!',
    'It is also possible that a host key has just been changed.',
    `The fingerprint for the ${keyTypeLabel(keyTypeOf(request.key))} key sent by the remote host is`,
    `${hostKeyFingerprint(request.key)}.`,
    'Please contact your system administrator.',
    `Offending ${keyTypeLabel(request.knownType)} key in ${request.file}:${request.line}`,
    `MANTA refuses to connect to ${name}.`,
    'If you know why the key changed (the host was reinstalled or its keys were regenerated), remove the old key with',
    `  ssh-keygen -f ${shellQuote(request.file)} -R ${shellQuote(name)}`,
    'and connect again: MANTA will show the new key\'s fingerprint and ask whether to trust it.',
    'Host key verification failed.',
  ].join('\n');
}
