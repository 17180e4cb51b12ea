// known_hosts handling against the real OpenSSH tools: host keys made by ssh-keygen, names hashed by `ssh-keygen -H`,
// lines found (or not) by `ssh-keygen -F`, fingerprints as `ssh-keygen -lf` prints them, the fix the changed-key
// warning suggests run for real, and — where sshd is installed — every verdict compared with what ssh itself decides
// against a live sshd, and the key ssh2's hostVerifier receives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ssh2';
import {
  addKnownHost,
  changedHostKeyWarning,
  checkHostKey,
  entryMatchesName,
  hostKeyAlgorithmsFor,
  hostKeyFingerprint,
  keyTypeOf,
  knownHostsLine,
  knownHostsName,
  parseKnownHosts,
} from '../../extension/hosts/ssh/known-hosts';

const hasKeygen = spawnSync('ssh-keygen', ['-?'], { encoding: 'utf8' }).error === undefined;
const skip = hasKeygen ? undefined : 'ssh-keygen (OpenSSH) is not installed';
const SSHD = '/usr/sbin/sshd';

interface Key {
  type: string;
  blob: Buffer;
  b64: string;
  pubFile: string;
  privateFile: string;
}

function keygen(dir: string, name: string, type: 'ed25519' | 'ecdsa' | 'rsa'): Key {
  const privateFile = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-C', `${name}@test`, '-f', privateFile]);
  const [keyType, b64] = readFileSync(`${privateFile}.pub`, 'utf8').trim().split(' ');
  return { type: keyType!, blob: Buffer.from(b64!, 'base64'), b64: b64!, pubFile: `${privateFile}.pub`, privateFile };
}

/** The lines `ssh-keygen -F name -f file` reports for a name. */
function keygenFind(name: string, file: string): number[] {
  const out = spawnSync('ssh-keygen', ['-F', name, '-f', file], { encoding: 'utf8' }).stdout;
  return [...out.matchAll(/found: line (\d+)/g)].map((m) => Number(m[1]));
}

let shared: { dir: string; a: Key; b: Key; c: Key; d: Key; e: Key } | undefined;
/** ed25519 A (the host's key), ecdsa B, rsa C, and ed25519 D and E (impostors'). */
function keys(): { dir: string; a: Key; b: Key; c: Key; d: Key; e: Key } {
  if (!shared) {
    const dir = mkdtempSync(join(tmpdir(), 'manta-kh-'));
    shared = { dir, a: keygen(dir, 'a', 'ed25519'), b: keygen(dir, 'b', 'ecdsa'), c: keygen(dir, 'c', 'rsa'), d: keygen(dir, 'd', 'ed25519'), e: keygen(dir, 'e', 'ed25519') };
  }
  return shared;
}

test('keyTypeOf and hostKeyFingerprint agree with the .pub file and ssh-keygen -lf', { skip }, () => {
  const { a, b, c } = keys();
  for (const key of [a, b, c]) {
    assert.equal(keyTypeOf(key.blob), key.type);
    const printed = execFileSync('ssh-keygen', ['-lf', key.pubFile], { encoding: 'utf8' }).split(' ')[1];
    assert.match(printed!, /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.equal(hostKeyFingerprint(key.blob), printed);
  }
  assert.notEqual(hostKeyFingerprint(a.blob), hostKeyFingerprint(keys().d.blob));
  assert.throws(() => keyTypeOf(Buffer.from([0, 0, 0, 200, 1, 2])), /not an SSH public key blob/);
  assert.throws(() => keyTypeOf(Buffer.alloc(2)), /not an SSH public key blob/);
});

test('plain, [host]:port, wildcard, negated, revoked and CA lines give ssh\'s verdicts', { skip }, async () => {
  const { dir, a, b, c, d } = keys();
  const file = join(dir, 'known_hosts_mixed');
  const text = [
    '# a comment, then a blank line',
    '',
    `gpu.example.com,10.0.0.5 ssh-ed25519 ${a.b64} gpu`, // 3
    `[127.0.0.1]:2222 ssh-ed25519 ${a.b64}`, // 4
    `*.lab.example,!bad.lab.example ${b.type} ${b.b64}`, // 5
    `@revoked * ssh-rsa ${c.b64}`, // 6
    `@cert-authority *.example.com ssh-ed25519 ${d.b64}`, // 7
    `broken.example ssh-ed25519 ${b.b64}`, // 8: the blob is an ECDSA key, not ed25519: skipped as ssh skips it
    `@bogus x.example ssh-ed25519 ${a.b64}`, // 9: unknown marker: skipped
    `truncated.example ssh-ed25519`, // 10
    `  \t[h.example]:2200 ssh-rsa ${c.b64} indented, with a comment `, // 11
  ].join('\n');
  writeFileSync(file, text);
  const entries = parseKnownHosts(text, file);
  assert.deepEqual(
    entries.map((e) => [e.line, e.marker ?? '', e.names, e.keyType]),
    [
      [3, '', 'gpu.example.com,10.0.0.5', 'ssh-ed25519'],
      [4, '', '[127.0.0.1]:2222', 'ssh-ed25519'],
      [5, '', '*.lab.example,!bad.lab.example', b.type],
      [6, 'revoked', '*', 'ssh-rsa'],
      [7, 'cert-authority', '*.example.com', 'ssh-ed25519'],
      [11, '', '[h.example]:2200', 'ssh-rsa'],
    ],
  );
  assert.equal(entries[0]!.comment, 'gpu');
  assert.equal(entries[5]!.comment, 'indented, with a comment');
  assert.ok(entries[0]!.key.equals(a.blob));

  // Which lines a name matches, compared with ssh-keygen -F (markers aside, which -F also lists).
  for (const name of ['gpu.example.com', '10.0.0.5', '[127.0.0.1]:2222', '127.0.0.1', 'x.lab.example', 'bad.lab.example', '[h.example]:2200', 'h.example']) {
    const ours = entries.filter((e) => entryMatchesName(e, name)).map((e) => e.line);
    assert.deepEqual(ours, keygenFind(name, file), name);
  }

  const files = [join(dir, 'does-not-exist'), file];
  assert.deepEqual(await checkHostKey(files, 'gpu.example.com', 22, a.blob), { kind: 'trusted', file, line: 3 });
  assert.deepEqual(await checkHostKey(files, 'GPU.Example.COM', 22, a.blob), { kind: 'trusted', file, line: 3 }, 'names are case-insensitive');
  assert.deepEqual(await checkHostKey(files, '10.0.0.5', 22, a.blob), { kind: 'trusted', file, line: 3 });
  // D is presented where A is known (a CA line for *.example.com naming D does not help: no host certificates).
  assert.deepEqual(await checkHostKey(files, 'gpu.example.com', 22, d.blob), { kind: 'changed', file, line: 3, knownType: 'ssh-ed25519' });
  assert.deepEqual(await checkHostKey(files, 'gpu.example.com', 22, b.blob), { kind: 'changed', file, line: 3, knownType: 'ssh-ed25519' }, 'only another type known: changed, as ssh says');
  assert.deepEqual(await checkHostKey(files, '127.0.0.1', 2222, a.blob), { kind: 'trusted', file, line: 4 });
  assert.deepEqual(await checkHostKey(files, '127.0.0.1', 2222, d.blob), { kind: 'changed', file, line: 4, knownType: 'ssh-ed25519' });
  assert.deepEqual(await checkHostKey(files, '127.0.0.1', 22, a.blob), { kind: 'unknown', otherKnownTypes: [] }, 'port 22 is another name');
  assert.deepEqual(await checkHostKey(files, '127.0.0.1', 2223, a.blob), { kind: 'unknown', otherKnownTypes: [] });
  assert.deepEqual(await checkHostKey(files, 'node7.lab.example', 22, b.blob), { kind: 'trusted', file, line: 5 });
  assert.deepEqual(await checkHostKey(files, 'bad.lab.example', 22, b.blob), { kind: 'unknown', otherKnownTypes: [] }, 'a negated pattern vetoes the line');
  assert.deepEqual(await checkHostKey(files, 'lab.example', 22, b.blob), { kind: 'unknown', otherKnownTypes: [] });
  assert.deepEqual(await checkHostKey(files, 'anything.example', 22, c.blob), { kind: 'revoked', file, line: 6 });
  assert.deepEqual(await checkHostKey(files, 'h.example', 2200, c.blob), { kind: 'revoked', file, line: 6 }, 'revoked wins over a matching entry');
  assert.deepEqual(await checkHostKey(files, 'broken.example', 22, b.blob), { kind: 'unknown', otherKnownTypes: [] });
  assert.deepEqual(await checkHostKey([], 'gpu.example.com', 22, a.blob), { kind: 'unknown', otherKnownTypes: [] });
});

test('on another port, a key known for the plain host name is trusted; another key there is not "changed"', { skip }, async () => {
  const { dir, a, d } = keys();
  const file = join(dir, 'known_hosts_noport');
  writeFileSync(file, `host1.example ssh-ed25519 ${a.b64}\n`);
  assert.deepEqual(await checkHostKey([file], 'host1.example', 2200, a.blob), { kind: 'trusted', file, line: 1 });
  assert.deepEqual(await checkHostKey([file], 'host1.example', 2200, d.blob), { kind: 'unknown', otherKnownTypes: [] });
  assert.deepEqual(await checkHostKey([file], 'host1.example', 22, d.blob), { kind: 'changed', file, line: 1, knownType: 'ssh-ed25519' });
  // Several other keys of the type: the last is the one named, as ssh names it (checked against ssh below).
  writeFileSync(file, `host1.example ssh-ed25519 ${a.b64}\nhost1.example ssh-ed25519 ${d.b64}\n`);
  assert.deepEqual(await checkHostKey([file], 'host1.example', 22, keys().e.blob), { kind: 'changed', file, line: 2, knownType: 'ssh-ed25519' });
});

test('entries hashed by ssh-keygen -H are matched, with their line numbers', { skip }, async () => {
  const { dir, a, b, d } = keys();
  const file = join(dir, 'known_hosts_hashed');
  writeFileSync(file, `host1.example ssh-ed25519 ${a.b64}\n[127.0.0.1]:2222 ${b.type} ${b.b64}\n`);
  execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
  const text = readFileSync(file, 'utf8');
  assert.ok(!text.includes('host1.example') && !text.includes('127.0.0.1'), 'ssh-keygen -H hid the names');
  const entries = parseKnownHosts(text, file);
  assert.equal(entries.length, 2);
  assert.ok(entries.every((e) => e.hashed !== undefined && e.names.startsWith('|1|') && e.hashed.salt.length === 20));
  assert.deepEqual(await checkHostKey([file], 'host1.example', 22, a.blob), { kind: 'trusted', file, line: 1 });
  assert.deepEqual(await checkHostKey([file], 'HOST1.example', 22, a.blob), { kind: 'trusted', file, line: 1 });
  assert.deepEqual(await checkHostKey([file], 'host1.example', 22, d.blob), { kind: 'changed', file, line: 1, knownType: 'ssh-ed25519' });
  assert.deepEqual(await checkHostKey([file], '127.0.0.1', 2222, b.blob), { kind: 'trusted', file, line: 2 });
  assert.deepEqual(await checkHostKey([file], '127.0.0.1', 2222, a.blob), { kind: 'changed', file, line: 2, knownType: b.type });
  assert.deepEqual(await checkHostKey([file], 'host2.example', 22, a.blob), { kind: 'unknown', otherKnownTypes: [] });
  assert.deepEqual(await hostKeyAlgorithmsFor([file], '127.0.0.1', 2222), [b.type]);
});

test('addKnownHost writes lines ssh-keygen -F finds, creating ~/.ssh 0700 and the file 0600', { skip }, async () => {
  const { dir, a, b } = keys();
  const sshDir = join(mkdtempSync(join(dir, 'home-')), 'deeper', '.ssh');
  const file = join(sshDir, 'known_hosts');
  await addKnownHost(file, '127.0.0.1', 2222, a.blob, { hashed: true });
  if (process.platform !== 'win32') {
    assert.equal(statSync(sshDir).mode & 0o777, 0o700);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  }
  const text = readFileSync(file, 'utf8');
  assert.match(text, /^\|1\|[A-Za-z0-9+/]{27}=\|[A-Za-z0-9+/]{27}= ssh-ed25519 \S+\n$/);
  assert.deepEqual(keygenFind('[127.0.0.1]:2222', file), [1]);
  assert.deepEqual(keygenFind('127.0.0.1', file), []);
  assert.deepEqual(await checkHostKey([file], '127.0.0.1', 2222, a.blob), { kind: 'trusted', file, line: 1 });

  await addKnownHost(file, 'Gpu.Example.com', 22, b.blob, { hashed: false });
  assert.equal(readFileSync(file, 'utf8').split('\n')[1], `gpu.example.com ${b.type} ${b.b64}`);
  assert.deepEqual(keygenFind('gpu.example.com', file), [2]);

  // A file whose last line has no newline: the new entry goes on a line of its own.
  const glued = join(dir, 'known_hosts_no_newline');
  writeFileSync(glued, `host1.example ssh-ed25519 ${a.b64}`);
  await addKnownHost(glued, '127.0.0.1', 2222, b.blob, { hashed: false });
  assert.equal(readFileSync(glued, 'utf8'), `host1.example ssh-ed25519 ${a.b64}\n[127.0.0.1]:2222 ${b.type} ${b.b64}\n`);
  assert.deepEqual(keygenFind('host1.example', glued), [1]);
  assert.deepEqual(keygenFind('[127.0.0.1]:2222', glued), [2]);
  if (process.platform !== 'win32') {
    writeFileSync(glued, '', { mode: 0o644 });
    await addKnownHost(glued, 'x.example', 22, a.blob, { hashed: false });
    assert.equal(statSync(glued).mode & 0o777, 0o644, 'an existing file keeps its mode');
  }

  assert.equal(knownHostsLine('h.example', 22, a.blob, false), `h.example ssh-ed25519 ${a.b64}`);
  assert.equal(knownHostsName('::1', 2222), '[::1]:2222');
  for (const bad of ['a b', 'a*b', '[x]', 'u@h', 'a,b', '']) assert.throws(() => knownHostsLine(bad, 22, a.blob, false), /will not record/, bad);
  assert.throws(() => knownHostsLine('h', 70000, a.blob, false), /not a TCP port/);
});

test('hostKeyAlgorithmsFor lists the known types first-seen, RSA as its signature algorithms, no revoked or CA keys', { skip }, async () => {
  const { dir, a, b, c, d } = keys();
  const file = join(dir, 'known_hosts_algs');
  writeFileSync(
    file,
    [
      `[h.example]:2200 ssh-rsa ${c.b64}`,
      `@revoked [h.example]:2200 ${b.type} ${b.b64}`,
      `[h.example]:2200 ssh-ed25519 ${a.b64}`,
      `@cert-authority [h.example]:2200 ssh-ed25519 ${d.b64}`,
      `other.example ${b.type} ${b.b64}`,
      `[h.example]:2200 ssh-ed25519 ${d.b64}`,
    ].join('\n'),
  );
  assert.deepEqual(await hostKeyAlgorithmsFor([file, join(dir, 'missing')], 'h.example', 2200), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519']);
  assert.deepEqual(await hostKeyAlgorithmsFor([file], 'other.example', 22), [b.type]);
  assert.deepEqual(await hostKeyAlgorithmsFor([file], 'h.example', 22), []);
});

test('the changed-key warning names the new fingerprint and the offending line, and its fix works', { skip }, async () => {
  const { dir, a, d } = keys();
  const file = join(dir, "known_hosts_it's");
  writeFileSync(file, `# old\n[127.0.0.1]:2222 ssh-ed25519 ${a.b64}\nhost1.example ssh-ed25519 ${a.b64}\n`);
  const verdict = await checkHostKey([file], '127.0.0.1', 2222, d.blob);
  assert.equal(verdict.kind, 'changed');
  if (verdict.kind !== 'changed') return;
  const text = changedHostKeyWarning({ host: '127.0.0.1', port: 2222, key: d.blob, ...verdict });
  const lines = text.split('\n');
  assert.equal(lines[1], '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @');
  assert.ok(lines.includes('IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!'));
  assert.ok(lines.includes('The fingerprint for the ED25519 key sent by the remote host is'));
  assert.ok(lines.includes(`${hostKeyFingerprint(d.blob)}.`));
  assert.ok(lines.includes(`Offending ED25519 key in ${file}:2`));
  assert.ok(lines.some((l) => /MANTA refuses to connect to \[127\.0\.0\.1\]:2222/.test(l)));
  assert.equal(lines.at(-1), 'Host key verification failed.');
  // Run the command it suggests, as the user would: the old key goes, the other host's stays.
  const command = lines.find((l) => l.trim().startsWith('ssh-keygen '));
  assert.ok(command);
  execFileSync('sh', ['-c', command], { stdio: 'ignore' });
  assert.deepEqual(await checkHostKey([file], '127.0.0.1', 2222, d.blob), { kind: 'unknown', otherKnownTypes: [] });
  assert.deepEqual(await checkHostKey([file], 'host1.example', 22, a.blob), { kind: 'trusted', file, line: 2 });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** What ssh decides about the live sshd's key, given a known_hosts file. */
function sshVerdict(port: number, knownHosts: string): { kind: string; stderr: string } {
  const run = spawnSync(
    'ssh',
    [
      '-F', '/dev/null',
      '-o', 'BatchMode=yes',
      '-o', 'StrictHostKeyChecking=yes',
      '-o', `UserKnownHostsFile=${knownHosts}`,
      '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'CheckHostIP=no',
      '-o', 'PubkeyAuthentication=no',
      '-o', 'PasswordAuthentication=no',
      '-o', 'KbdInteractiveAuthentication=no',
      '-o', 'GSSAPIAuthentication=no',
      '-o', 'ConnectTimeout=5',
      '-p', String(port),
      '127.0.0.1',
      'true',
    ],
    { encoding: 'utf8', timeout: 20_000 },
  );
  const stderr = run.stderr ?? '';
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED/.test(stderr)) return { kind: 'changed', stderr };
  if (/REVOKED HOST KEY|was revoked/.test(stderr)) return { kind: 'revoked', stderr };
  if (/host key is known for/.test(stderr)) return { kind: 'unknown', stderr };
  if (/Permission denied/.test(stderr)) return { kind: 'trusted', stderr };
  throw new Error(`ssh ended unexpectedly: ${stderr}`);
}

const sshdSkip = skip ?? (process.platform === 'win32' || !existsSync(SSHD) ? 'sshd is not installed' : undefined);

test('against a live sshd, ssh and checkHostKey agree; ssh2 hands hostVerifier the same key blob', { skip: sshdSkip, timeout: 120_000 }, async (t) => {
  const { dir, a, b, d, e } = keys();
  const port = await freePort();
  const sshdConfig = join(dir, 'sshd_config');
  writeFileSync(sshdConfig, [`Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${a.privateFile}`, 'PidFile none', 'UsePAM no', 'StrictModes no', ''].join('\n'));
  const sshd = spawn(SSHD, ['-D', '-e', '-f', sshdConfig], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const listening = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 5000);
    sshd.stderr.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('Server listening')) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    sshd.once('exit', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  try {
    if (!listening) {
      t.skip(`sshd did not start: ${log.trim()}`);
      return;
    }
    const name = `[127.0.0.1]:${port}`;
    const scenarios: { title: string; lines: string[]; expect: string }[] = [
      { title: 'the key, by [host]:port', lines: [`${name} ssh-ed25519 ${a.b64}`], expect: 'trusted' },
      { title: 'another key of the type', lines: [`${name} ssh-ed25519 ${d.b64}`], expect: 'changed' },
      { title: 'two other keys of the type', lines: [`${name} ssh-ed25519 ${d.b64}`, `${name} ssh-ed25519 ${e.b64}`], expect: 'changed' },
      { title: 'nothing known', lines: [], expect: 'unknown' },
      { title: 'revoked', lines: [`@revoked * ssh-ed25519 ${a.b64}`, `${name} ssh-ed25519 ${a.b64}`], expect: 'revoked' },
      { title: 'the key by the plain host name', lines: [`127.0.0.1 ssh-ed25519 ${a.b64}`], expect: 'trusted' },
      { title: 'another key by the plain host name', lines: [`127.0.0.1 ssh-ed25519 ${d.b64}`], expect: 'unknown' },
      { title: 'a wildcard', lines: [`[127.0.0.?]:${port} ssh-ed25519 ${a.b64}`], expect: 'trusted' },
      { title: 'a negated name', lines: [`[127.0.0.*]:*,!${name} ssh-ed25519 ${a.b64}`], expect: 'unknown' },
      { title: 'a CA line only', lines: [`@cert-authority ${name} ssh-ed25519 ${a.b64}`], expect: 'unknown' },
    ];
    for (const [i, scenario] of scenarios.entries()) {
      const file = join(dir, `kh_live_${i}`);
      writeFileSync(file, scenario.lines.map((l) => `${l}\n`).join(''));
      const ssh = sshVerdict(port, file);
      assert.equal(ssh.kind, scenario.expect, `ssh, ${scenario.title}: ${ssh.stderr}`);
      const ours = await checkHostKey([file], '127.0.0.1', port, a.blob);
      assert.equal(ours.kind, scenario.expect, `checkHostKey, ${scenario.title}`);
      if (ours.kind === 'changed') {
        // ssh's own lines are in ours, word for word.
        const warning = changedHostKeyWarning({ host: '127.0.0.1', port, key: a.blob, ...ours }).split('\n');
        for (const line of ['The fingerprint for the ED25519 key sent by the remote host is', `${hostKeyFingerprint(a.blob)}.`, `Offending ED25519 key in ${file}:${scenario.lines.length}`]) {
          assert.ok(ssh.stderr.split(/\r?\n/).includes(line), `ssh printed ${line}`);
          assert.ok(warning.includes(line), `we print ${line}`);
        }
      }
    }
    // Only a key of another type is known: ssh refuses it as changed, and so does checkHostKey.
    const otherType = join(dir, 'kh_live_other_type');
    writeFileSync(otherType, `${name} ${b.type} ${b.b64}\n`);
    assert.equal(sshVerdict(port, otherType).kind, 'changed');
    assert.deepEqual(await checkHostKey([otherType], '127.0.0.1', port, a.blob), { kind: 'changed', file: otherType, line: 1, knownType: b.type });

    // ssh2's hostVerifier receives the wire-format blob: exactly the .pub file's base64 field.
    const received = await new Promise<Buffer>((resolve, reject) => {
      const client = new Client();
      let seen: Buffer | undefined;
      client.on('error', () => (seen ? resolve(seen) : reject(new Error('ssh2 failed before the host key'))));
      client.connect({ host: '127.0.0.1', port, username: 'nobody', readyTimeout: 10_000, hostVerifier: (key: Buffer) => ((seen = key), false) });
    });
    assert.ok(received.equals(a.blob));
    assert.equal(keyTypeOf(received), 'ssh-ed25519');
  } finally {
    sshd.kill();
  }
});
