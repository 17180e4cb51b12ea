// ~/.ssh/config hosts against the real OpenSSH client: a realistic config (wildcard blocks, several IdentityFiles,
// ProxyJump chains, Include, Match) resolved by resolveSshHost and by `ssh -G`, which must agree field by field;
// broken lines refused with their line numbers (and refused by ssh too); the manta.remoteHosts setting's entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { SshConfigError, hostFromSetting, listSshHosts, parseJumpSpec, readSshConfig, resolveSshHost, type SshEnv } from '../../extension/hosts/ssh/ssh-config';
import type { SshHostSpec } from '../../extension/hosts/ssh/types';

const hasSsh = process.platform !== 'win32' && spawnSync('ssh', ['-V'], { encoding: 'utf8' }).error === undefined;

/** ssh's own resolution (`ssh -G`), as keyword → values. */
function sshG(configFile: string, alias: string): Map<string, string[]> {
  const run = spawnSync('ssh', ['-G', '-F', configFile, alias], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`ssh -G ${alias} failed: ${run.stderr}`);
  const result = new Map<string, string[]>();
  for (const line of run.stdout.split('\n')) {
    const space = line.indexOf(' ');
    if (space < 0) continue;
    const key = line.slice(0, space);
    result.set(key, [...(result.get(key) ?? []), line.slice(space + 1)]);
  }
  return result;
}

/** A realistic config in `dir`, its Includes named by absolute path so that `ssh -G` finds them too. */
function writeRealisticConfig(dir: string): string {
  mkdirSync(join(dir, 'conf.d'), { recursive: true });
  writeFileSync(join(dir, 'conf.d', '10-work.conf'), 'Host work\n  HostName work.example.org\n  Port 2222\n');
  writeFileSync(join(dir, 'conf.d', '20-lab.conf'), '# lab machines\nHost lab-*\n  User labuser\nHost lab-1\n');
  writeFileSync(join(dir, 'conf.d', '.hidden.conf'), 'Host hidden\n');
  writeFileSync(join(dir, 'conf.d', 'notes.txt'), 'this is not a config at all "\n');
  writeFileSync(join(dir, 'special.conf'), 'Port 4444\nHost special-b\n  User sb\n');
  const file = join(dir, 'config');
  writeFileSync(
    file,
    [
      '# MANTA test config', // 1
      'HashKnownHosts no', // 2: before any Host, so it wins over Host *'s yes
      `Include ${dir}/conf.d/*.conf`, // 3
      '',
      'Host gpu gpu-alt', // 5
      '  HostName gpu.lab.example',
      '  User alice',
      '  Port 2201',
      '  IdentityFile ~/.ssh/id_gpu',
      '  IdentityFile "%d/.ssh/id %r@%h"',
      '  IdentitiesOnly yes',
      '',
      'Host bastion',
      '  HostName bastion.example.com',
      '  User=jump',
      '  ProxyJump none',
      '',
      'Host inner',
      '  HostName 10.1.2.3',
      '  ProxyJump bastion,carol@relay:2022',
      '',
      'Host relay',
      '  HostName relay.example.com',
      '  ProxyJump bastion',
      '',
      'Host *.lab.example !nojump.lab.example',
      '  ProxyJump bastion',
      '',
      'Host *.int',
      '  HostName %h.corp.example',
      '',
      'Match originalhost db.int !user alice',
      '  Port 5022',
      '',
      'Host loop-a',
      '  ProxyJump loop-b',
      'Host loop-b',
      '  ProxyJump loop-a # back again',
      '',
      'Host special',
      `  Include ${dir}/special.conf`,
      '',
      'Host web?',
      '  User www',
      '  UserKnownHostsFile ~/.ssh/kh_web %d/.ssh/kh_%h',
      '',
      'Host gpu',
      '  Port 9999',
      '',
      'Host *',
      '  User defaultuser',
      '  IdentityFile ~/.ssh/id_default',
      '  HashKnownHosts yes',
      '',
    ].join('\n'),
  );
  return file;
}

// ssh -G expands ~ from the password database and takes the user from it: resolve with the same.
const realEnv: SshEnv = { home: userInfo().homedir, localUser: userInfo().username };

test('listSshHosts: concrete aliases in file order, Includes in place, each once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'manta-sshcfg-'));
  const config = await readSshConfig(writeRealisticConfig(dir), { home: realEnv.home });
  assert.deepEqual(listSshHosts(config), ['work', 'lab-1', 'gpu', 'gpu-alt', 'bastion', 'inner', 'relay', 'loop-a', 'loop-b', 'special', 'special-b']);
  assert.deepEqual(config.files, [join(dir, 'config'), join(dir, 'conf.d', '10-work.conf'), join(dir, 'conf.d', '20-lab.conf'), join(dir, 'special.conf')]);
});

test('resolveSshHost resolves a realistic config as ssh -G does', { skip: hasSsh ? undefined : 'the OpenSSH client is not installed' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'manta-sshcfg-'));
  const file = writeRealisticConfig(dir);
  const config = await readSshConfig(file, { home: realEnv.home });
  const aliases = ['web', 'web12', 'hidden', 'gpu', 'gpu-alt', 'bastion', 'inner', 'relay', 'x.lab.example', 'nojump.lab.example', 'db.int', 'web1', 'work', 'lab-1', 'lab-9', 'special', 'special-b', 'plain.example', 'UPPER.example'];
  for (const alias of aliases) {
    const ours = resolveSshHost(config, alias, realEnv);
    const ssh = sshG(file, alias);
    const one = (key: string) => ssh.get(key)?.[0];
    assert.equal(ours.hostName, one('hostname'), `${alias} hostname`);
    assert.equal(ours.user, one('user'), `${alias} user`);
    assert.equal(String(ours.port), one('port'), `${alias} port`);
    assert.equal(ours.identitiesOnly ? 'yes' : 'no', one('identitiesonly'), `${alias} identitiesonly`);
    assert.equal(ours.hashKnownHosts ? 'yes' : 'no', one('hashknownhosts'), `${alias} hashknownhosts`);
    assert.deepEqual(ours.knownHostsFiles, one('userknownhostsfile')?.split(' '), `${alias} userknownhostsfile`);
    const jump = one('proxyjump');
    assert.deepEqual(
      ours.proxyJump.map((h) => h.alias),
      jump === undefined || jump === 'none' ? [] : parseJumpSpec(jump).map((h) => h.host),
      `${alias} proxyjump`,
    );
  }
});

test('resolveSshHost: IdentityFiles, tokens, ProxyJump hops resolved through the config, and loops', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'manta-sshcfg-'));
  const config = await readSshConfig(writeRealisticConfig(dir), { home: realEnv.home });
  const home = realEnv.home;
  const key = (name: string) => join(home, '.ssh', name);
  const gpu = resolveSshHost(config, 'gpu', realEnv);
  assert.deepEqual(gpu, {
    alias: 'gpu',
    source: 'ssh-config',
    hostName: 'gpu.lab.example',
    user: 'alice',
    port: 2201,
    identityFiles: [key('id_gpu'), key('id alice@gpu.lab.example'), key('id_default')],
    identitiesOnly: true,
    proxyJump: [],
    knownHostsFiles: [key('known_hosts'), key('known_hosts2')],
    hashKnownHosts: false,
  } satisfies SshHostSpec);

  const bastion: SshHostSpec = {
    alias: 'bastion',
    source: 'ssh-config',
    hostName: 'bastion.example.com',
    user: 'jump',
    port: 22,
    identityFiles: [key('id_default')],
    identitiesOnly: false,
    proxyJump: [],
    knownHostsFiles: [key('known_hosts'), key('known_hosts2')],
    hashKnownHosts: false,
  };
  assert.deepEqual(resolveSshHost(config, 'x.lab.example', realEnv).proxyJump, [bastion]);
  assert.deepEqual(resolveSshHost(config, 'relay', realEnv).proxyJump, [bastion]);
  // inner: bastion, then relay as carol on 2022 — reached through bastion, so relay's own ProxyJump does not apply.
  const inner = resolveSshHost(config, 'inner', realEnv);
  assert.equal(inner.hostName, '10.1.2.3');
  assert.deepEqual(inner.proxyJump, [bastion, { ...bastion, alias: 'relay', hostName: 'relay.example.com', user: 'carol', port: 2022 }]);

  assert.equal(resolveSshHost(config, 'db.int', realEnv).hostName, 'db.int.corp.example');
  assert.equal(resolveSshHost(config, 'db.int', realEnv).port, 5022);
  assert.deepEqual(resolveSshHost(config, 'web1', realEnv).knownHostsFiles, [key('kh_web'), key('kh_web1')]);
  assert.equal(resolveSshHost(config, 'special', realEnv).port, 4444);
  assert.equal(resolveSshHost(config, 'special-b', realEnv).user, 'defaultuser', 'a Host inside an Include in an inactive block never matches');
  assert.equal(resolveSshHost(config, 'hidden', realEnv).hostName, 'hidden');

  assert.throws(
    () => resolveSshHost(config, 'loop-a', realEnv),
    (error: Error) => /loop-a → loop-b → loop-a/.test(error.message) && error.message.includes(`${join(dir, 'config')} line 38`),
  );
});

test('Include relative to ~/.ssh, ~ paths, missing files; a missing config is empty', async () => {
  const home = mkdtempSync(join(tmpdir(), 'manta-sshhome-'));
  const env: SshEnv = { home, localUser: 'me' };
  const empty = await readSshConfig(join(home, '.ssh', 'config'), { home });
  assert.deepEqual(empty, { file: join(home, '.ssh', 'config'), files: [], directives: [], hosts: [] });
  assert.deepEqual(resolveSshHost(empty, 'box', env), {
    alias: 'box',
    source: 'ssh-config',
    hostName: 'box',
    user: 'me',
    port: 22,
    identityFiles: [],
    identitiesOnly: false,
    proxyJump: [],
    knownHostsFiles: [join(home, '.ssh', 'known_hosts'), join(home, '.ssh', 'known_hosts2')],
    hashKnownHosts: false,
  });

  mkdirSync(join(home, '.ssh', 'hosts.d'), { recursive: true });
  writeFileSync(join(home, '.ssh', 'hosts.d', 'b.conf'), 'Host bee\n  HostName bee.example\n');
  writeFileSync(join(home, '.ssh', 'hosts.d', 'a.conf'), 'Host ay\n  HostName ay.example\n  IdentityFile keys/ay\n');
  writeFileSync(join(home, 'extra.conf'), 'Host extra\n  Port 2022\n');
  writeFileSync(join(home, '.ssh', 'config'), 'Include hosts.d/?.conf ~/extra.conf missing.conf\nHost *\n  UserKnownHostsFile none\n');
  const config = await readSshConfig(join(home, '.ssh', 'config'), { home });
  assert.deepEqual(listSshHosts(config), ['ay', 'bee', 'extra']);
  assert.equal(resolveSshHost(config, 'extra', env).port, 2022);
  const ay = resolveSshHost(config, 'ay', env);
  assert.deepEqual(ay.identityFiles, [join(home, 'keys', 'ay')], 'a relative key path is under home');
  assert.deepEqual(ay.knownHostsFiles, []);
});

test('ProxyCommand is refused unless a ProxyJump or ProxyCommand none comes first', async () => {
  const home = mkdtempSync(join(tmpdir(), 'manta-sshhome-'));
  const file = join(home, 'config');
  writeFileSync(file, ['Host pc', '  ProxyCommand nc %h %p', 'Host pj', '  ProxyJump bastion', '  ProxyCommand nc %h %p', 'Host pn', '  ProxyCommand none', '  ProxyJump bastion', 'Host bastion', '  User b'].join('\n'));
  const config = await readSshConfig(file, { home });
  const env: SshEnv = { home, localUser: 'me' };
  assert.throws(() => resolveSshHost(config, 'pc', env), (e: Error) => e instanceof SshConfigError && e.line === 2 && /ProxyCommand/.test(e.message) && /ProxyJump/.test(e.message));
  assert.deepEqual(resolveSshHost(config, 'pj', env).proxyJump.map((h) => [h.alias, h.user]), [['bastion', 'b']]);
  assert.deepEqual(resolveSshHost(config, 'pn', env).proxyJump, []);
});

test('a broken line is an error naming the file, the line and what to fix; ssh refuses it too', async () => {
  const home = mkdtempSync(join(tmpdir(), 'manta-sshhome-'));
  const cases: { text: string; line: number; message: RegExp }[] = [
    { text: 'Host a\n  HostName a.example\n  User bob\n  IdentityFile "~/.ssh/unclosed\n', line: 4, message: /quote is not closed/ },
    { text: 'Host a\n  User bob\n  Port 22a\n', line: 3, message: /Port must be a number from 1 to 65535, not "22a"/ },
    { text: '# top\nHost\n  User bob\n', line: 2, message: /Host needs a value/ },
    { text: 'Host a\n  IdentitiesOnly maybe\n', line: 2, message: /IdentitiesOnly must be yes or no/ },
    { text: 'Host a\n  ProxyJump u@:22\n', line: 2, message: /ProxyJump .*u@:22/ },
    { text: 'Host a\n  HostName\n', line: 2, message: /HostName needs a value/ },
    { text: 'Match host\n  User x\n', line: 1, message: /Match host needs a pattern/ },
    { text: '\n\nMatch colour blue\n', line: 3, message: /not a Match criterion/ },
    { text: 'Host a\n  IdentityFile ~/a ~/b\n', line: 2, message: /takes one value/ },
  ];
  for (const [i, c] of cases.entries()) {
    const file = join(home, `broken-${i}`);
    writeFileSync(file, c.text);
    await assert.rejects(readSshConfig(file, { home }), (error: Error) => {
      assert.ok(error instanceof SshConfigError, `case ${i}: ${error.message}`);
      assert.equal(error.file, file);
      assert.equal(error.line, c.line, `case ${i}: ${error.message}`);
      assert.ok(error.message.startsWith(`${file} line ${c.line}: `), error.message);
      assert.match(error.message, c.message);
      return true;
    });
    if (hasSsh) assert.notEqual(spawnSync('ssh', ['-G', '-F', file, 'a'], { encoding: 'utf8' }).status, 0, `ssh accepts case ${i}`);
  }

  // In an included file: that file and its line.
  writeFileSync(join(home, 'inc-bad.conf'), 'Host z\n\n  Port 0\n');
  writeFileSync(join(home, 'top.conf'), `Include ${join(home, 'inc-bad.conf')}\n`);
  await assert.rejects(readSshConfig(join(home, 'top.conf'), { home }), (e: Error) => e instanceof SshConfigError && e.file === join(home, 'inc-bad.conf') && e.line === 3);

  // A file that includes itself.
  writeFileSync(join(home, 'self.conf'), `Host a\nInclude ${join(home, 'self.conf')}\n`);
  await assert.rejects(readSshConfig(join(home, 'self.conf'), { home }), /line 2: Include is nested more than 16 deep/);
  if (hasSsh) assert.notEqual(spawnSync('ssh', ['-G', '-F', join(home, 'self.conf'), 'a'], { encoding: 'utf8' }).status, 0);
});

test('parseJumpSpec reads hops as ssh does and says which hop is wrong', () => {
  assert.deepEqual(parseJumpSpec('bastion'), [{ host: 'bastion' }]);
  assert.deepEqual(parseJumpSpec(' none '), []);
  assert.deepEqual(parseJumpSpec('u@a.example:2200,b'), [{ user: 'u', host: 'a.example', port: 2200 }, { host: 'b' }]);
  assert.deepEqual(parseJumpSpec('me@corp@gw'), [{ user: 'me@corp', host: 'gw' }]);
  assert.deepEqual(parseJumpSpec('[fe80::1]:2222'), [{ host: 'fe80::1', port: 2222 }]);
  assert.deepEqual(parseJumpSpec('ssh://u@[::1]:2222/'), [{ user: 'u', host: '::1', port: 2222 }]);
  assert.deepEqual(parseJumpSpec('ssh://gw.example'), [{ host: 'gw.example' }]);
  for (const [spec, why] of [
    ['', /at least one host/],
    ['a,,b', /an empty hop/],
    ['u@', /hop "u@" has no usable host/],
    ['@h', /empty or spaced user/],
    ['a:0', /port "0"/],
    ['a:x', /port "x"/],
    ['fe80::1', /IPv6/],
    ['[::1', /without closing/],
    ['ssh://h/path', /path/],
  ] as const) {
    assert.throws(() => parseJumpSpec(spec), why, spec);
  }
});

test('hostFromSetting: inherits an alias, or dials hostName through the config; fields win; bad fields are named', async () => {
  const home = mkdtempSync(join(tmpdir(), 'manta-sshhome-'));
  const file = join(home, '.ssh', 'config');
  mkdirSync(join(home, '.ssh'));
  writeFileSync(
    file,
    ['Host gpu', '  HostName gpu.lab.example', '  User alice', '  Port 2201', '  IdentityFile ~/.ssh/id_%r', 'Host bastion', '  HostName bastion.example.com', '  ProxyJump none', 'Host *', '  IdentityFile ~/.ssh/id_default', '  HashKnownHosts yes'].join('\n'),
  );
  const config = await readSshConfig(file, { home });
  const env: SshEnv = { home, localUser: 'me' };
  const key = (name: string) => join(home, '.ssh', name);

  const inherited = hostFromSetting({ name: 'gpu', workDir: '~/runs' }, config, env);
  assert.deepEqual(inherited, {
    alias: 'gpu',
    source: 'settings',
    hostName: 'gpu.lab.example',
    user: 'alice',
    port: 2201,
    identityFiles: [key('id_alice'), key('id_default')],
    identitiesOnly: false,
    proxyJump: [],
    knownHostsFiles: [key('known_hosts'), key('known_hosts2')],
    hashKnownHosts: true,
    workDir: '~/runs',
  } satisfies SshHostSpec);
  // The setting's user wins, and the alias's %r key follows it.
  assert.deepEqual(hostFromSetting({ name: 'gpu', user: 'bob' }, config, env).identityFiles, [key('id_bob'), key('id_default')]);

  const explicit = hostFromSetting(
    { name: 'GPU box', hostName: '10.0.0.9', user: 'me2', port: 2222, identityFile: ['~/.ssh/id_box'], proxyJump: 'bastion', nodePath: '/opt/node/bin/node' },
    config,
    env,
  );
  assert.equal(explicit.alias, 'GPU box');
  assert.equal(explicit.source, 'settings');
  assert.equal(explicit.hostName, '10.0.0.9');
  assert.equal(explicit.user, 'me2');
  assert.equal(explicit.port, 2222);
  assert.deepEqual(explicit.identityFiles, [key('id_box'), key('id_default')]);
  assert.deepEqual(explicit.proxyJump.map((h) => [h.alias, h.hostName, h.user]), [['bastion', 'bastion.example.com', 'me']]);
  assert.equal(explicit.nodePath, '/opt/node/bin/node');
  assert.equal(explicit.workDir, undefined);
  // hostName given: the gpu alias's block does not apply to it.
  assert.equal(hostFromSetting({ name: 'gpu', hostName: 'other.example' }, config, env).user, 'me');
  assert.deepEqual(hostFromSetting({ name: 'plain.example', identityFile: 'k' }, config, env).identityFiles, [join(home, 'k'), key('id_default')]);

  for (const [setting, field] of [
    [{ name: 'gpu', port: '22' }, /entry "gpu": port must be a whole number/],
    [{ name: 'gpu', port: 70000 }, /port must be a whole number from 1 to 65535, not 70000/],
    [{ hostName: 'h' }, /name is missing/],
    [{ name: '' }, /name must be a non-empty string/],
    [{ name: 'GPU box' }, /hostName is missing, and name "GPU box" is not a host name/],
    [{ name: 'gpu', hostname: 'x' }, /"hostname" is not a field MANTA knows/],
    [{ name: 'gpu', hostName: 'me@h' }, /hostName "me@h" is not a host name/],
    [{ name: 'gpu', user: 'a b' }, /user "a b" is not a user name/],
    [{ name: 'gpu', identityFile: 3 }, /identityFile must be a path or a list of paths/],
    [{ name: 'gpu', identityFile: [] }, /identityFile must be a path/],
    [{ name: 'gpu', proxyJump: 'u@:1' }, /proxyJump .*u@:1/],
    [{ name: 'gpu', nodePath: 'a\nb' }, /nodePath must not contain control characters/],
    [{ name: 'gpu', workDir: 5 }, /workDir must be a non-empty string/],
    ['gpu', /each entry must be an object/],
    [null, /each entry must be an object/],
  ] as const) {
    assert.throws(() => hostFromSetting(setting, config, env), field, JSON.stringify(setting));
  }
  // A loop through the setting's proxyJump is named with the entry.
  writeFileSync(file, 'Host hop\n  ProxyJump box.example\n');
  const looping = await readSshConfig(file, { home });
  assert.throws(() => hostFromSetting({ name: 'box', hostName: 'box.example', proxyJump: 'hop' }, looping, env), /manta\.remoteHosts entry "box": ProxyJump goes round in a loop: box\.example → hop → box\.example/);
});
