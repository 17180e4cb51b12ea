// Hosts that cannot take the daemon, each against a real sshd (or a real socket): a host that is down, a port where
// no SSH server answers, a key the host does not accept, a host without Node, a full disk (a small tmpfs as the
// host's home). Each ends in an SshHostError whose message names the host and what to do, and nothing is left
// half-installed on the host.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statfsSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readDaemonBundle, type DaemonBundle } from '../../extension/hosts/ssh/deploy';
import { SshHostError } from '../../extension/hosts/ssh/types';
import { repoRoot, tempDir } from '../daemon/harness';
import { makeLink, specFor, VERSION } from './link-harness';
import { pathWithout, sshdUnavailable, startSshd, type TestSshd } from './sshd';

const skip = sshdUnavailable() ?? (existsSync(path.join(repoRoot, 'dist', 'manta.js')) ? undefined : 'dist/ is not built: run `node esbuild.mjs`');

function isHostError(reason: string, pattern: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof SshHostError, `an SshHostError, not ${String((e as Error)?.stack ?? e)}`);
    assert.equal(e.reason, reason, e.message);
    assert.match(e.message, pattern);
    assert.match(e.message, /^test-host: /, 'the message names the host');
    return true;
  };
}

describe('hosts that cannot take the daemon', { skip }, () => {
  let bundle: DaemonBundle;
  const servers: TestSshd[] = [];
  const mounts: string[] = [];

  before(async () => {
    bundle = await readDaemonBundle(path.join(repoRoot, 'dist'), VERSION);
  });

  after(async () => {
    for (const s of servers) await s.stop();
    for (const m of mounts) spawnSync('umount', ['-l', m]);
  });

  test('a host that is down: nothing listens on its port', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const { link } = makeLink({ ...specFor({ host: '127.0.0.1', port, user: 'nobody', clientKeyFile: '/nonexistent', knownHostsFile: '/nonexistent' } as TestSshd) }, bundle);
    await assert.rejects(link.open(), isHostError('unreachable', new RegExp(`nothing accepts connections on 127\\.0\\.0\\.1:${port}.*sshd running`)));
  });

  test('a wrong port: the server there does not speak SSH', async () => {
    const http = net.createServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as net.AddressInfo).port;
    try {
      const { link } = makeLink(specFor({ host: '127.0.0.1', port, user: 'nobody', clientKeyFile: '/nonexistent', knownHostsFile: '/nonexistent' } as TestSshd), bundle, { timeoutMs: 5000 });
      await assert.rejects(link.open(), (e: unknown) => {
        assert.ok(e instanceof SshHostError, String(e));
        assert.ok(['not-ssh', 'unreachable', 'timeout'].includes(e.reason), e.reason);
        assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
        assert.match(e.message, /SSH|port/);
        return true;
      });
    } finally {
      http.close();
    }
  });

  test('a wrong key: the host refuses the login, saying how to fix it', async () => {
    const sshd = await startSshd({});
    servers.push(sshd);
    const stranger = path.join(tempDir(), 'id_stranger');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger]);
    const { link } = makeLink(specFor(sshd, { identityFiles: [stranger] }), bundle);
    await assert.rejects(link.open(), isHostError('auth', new RegExp(`refused every way of logging in.*key ${stranger.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*authorized_keys`, 's')));
    assert.ok(!existsSync(path.join(sshd.home, '.manta')), 'nothing was written on the host');
  });

  test('a host without Node: a clear message, and nothing deployed', async () => {
    const sshd = await startSshd({ pathDirs: pathWithout(['node', 'nodejs']) });
    servers.push(sshd);
    const { link, progress } = makeLink(specFor(sshd), bundle);
    await assert.rejects(link.open(), isHostError('no-node', /Node\.js was not found on the host.*Install Node 20 or newer.*nodePath/s));
    assert.ok(!progress.some((p) => p.step === 'uploading'), 'no upload to a host that cannot run it');
    assert.ok(!existsSync(path.join(sshd.home, '.manta', 'daemon')), 'no daemon folder on the host');
  });

  test('a full disk: refused before uploading, or cleaned up when it fills during the upload', { skip: process.getuid?.() === 0 ? undefined : 'mounting a tmpfs needs root' }, async () => {
    const tmpfs = (sizeBytes: number): string => {
      const home = path.join(tempDir(), 'small-home');
      mkdirSync(home, { mode: 0o700 });
      const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', home], { encoding: 'utf8' });
      assert.equal(mount.status, 0, `mount a tmpfs: ${mount.stderr}`);
      mounts.push(home);
      return home;
    };
    const noPartials = (home: string) => {
      const daemonDir = path.join(home, '.manta', 'daemon');
      assert.deepEqual(existsSync(daemonDir) ? readdirSync(daemonDir) : [], [], `nothing half-installed in ${daemonDir}`);
    };

    // Too small from the start: refused before a byte is sent.
    const small = tmpfs(4 << 20);
    const sshd = await startSshd({ home: small });
    servers.push(sshd);
    const first = makeLink(specFor(sshd), bundle);
    await assert.rejects(first.link.open(), isHostError('disk-full', /not enough free disk.*MB are free.*Free some space/s));
    assert.ok(!first.progress.some((p) => p.bytes && p.bytes.done > 0), 'nothing was uploaded');
    noPartials(small);

    // Room at the probe, none half way through the upload (something else filled the disk meanwhile).
    const roomy = tmpfs(bundle.totalBytes + (24 << 20));
    const sshd2 = await startSshd({ home: roomy });
    servers.push(sshd2);
    let filled = false;
    const second = makeLink(specFor(sshd2), bundle, {
      onProgress: (p) => {
        if (filled || !p.bytes || p.bytes.done === 0) return;
        filled = true;
        const { bavail, bsize } = statfsSync(roomy);
        writeFileSync(path.join(roomy, 'ballast'), Buffer.alloc(Math.max(0, bavail * bsize - 4096)));
      },
    });
    await assert.rejects(second.link.open(), isHostError('disk-full', /disk filled up while uploading.*partial upload was removed/s));
    assert.ok(filled, 'the disk was filled during the upload');
    noPartials(roomy);
  });
});
