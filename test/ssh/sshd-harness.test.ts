// The SSH suite's test server (test/ssh/sshd.ts) does what the other SSH tests take for granted, with the real
// OpenSSH server and client and with the `ssh2` client the product uses: a login gets the HOME, XDG_RUNTIME_DIR
// and PATH that were asked for (so a "host without node" is one PATH away); ssh2 logs in with either client key,
// sees the advertised host key, runs commands and forwards to a Unix socket in the runtime folder;
// killConnections() drops a live session and the server takes new ones; rotateHostKey() makes the real client
// refuse with "REMOTE HOST IDENTIFICATION HAS CHANGED"; stop() leaves nothing running, not even what a session
// started in the background; and with the network's editor port, the test process reaches an sshd inside a host's
// network namespace. Skipped where sshd is not installed (the namespace test also needs root).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { Client, type ConnectConfig } from 'ssh2';
import { waitFor } from '../daemon/harness';
import { Network, netnsUnavailable } from '../distributed/netns';
import { pathWithout, sshCommand, sshdUnavailable, startSshd, type TestSshd } from './sshd';

const skip = sshdUnavailable();

function connect(s: TestSshd, extra: Partial<ConnectConfig> = {}): Promise<{ client: Client; hostKey: () => Buffer | undefined }> {
  let seen: Buffer | undefined;
  return new Promise((resolve, reject) => {
    const client = new Client();
    client
      .on('ready', () => resolve({ client, hostKey: () => seen }))
      .on('error', reject)
      .connect({
        host: s.host,
        port: s.port,
        username: s.user,
        privateKey: readFileSync(s.clientKeyFile),
        readyTimeout: 20000,
        hostVerifier: (key: Buffer) => {
          seen = key;
          return true;
        },
        ...extra,
      });
  });
}

function exec(client: Client, command: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) return reject(err);
      let out = '';
      stream.on('data', (d: Buffer) => (out += d.toString()));
      stream.stderr.on('data', (d: Buffer) => (out += d.toString()));
      stream.on('close', (code: number) => resolve({ code, out }));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, host);
    sock.once('connect', () => (sock.destroy(), resolve(true)));
    sock.once('error', () => resolve(false));
  });
}

describe('test sshd (test/ssh/sshd.ts)', { skip }, () => {
  const servers: TestSshd[] = [];
  after(async () => {
    for (const s of servers) await s.stop();
  });
  async function start(options: Parameters<typeof startSshd>[0] = {}): Promise<TestSshd> {
    const s = await startSshd(options);
    servers.push(s);
    return s;
  }

  test('a login gets the HOME, XDG_RUNTIME_DIR and PATH asked for; a PATH can leave node out', async () => {
    const s = await start();
    const r = sshCommand(s, 'echo "$HOME|$XDG_RUNTIME_DIR|$PATH|$USER"; command -v node');
    assert.equal(r.status, 0, r.stderr);
    const [first, nodePath] = r.stdout.trim().split('\n');
    assert.deepEqual(first.split('|'), [s.home, s.runtimeDir, process.env.PATH, s.user]);
    assert.ok(nodePath.endsWith('/node'), r.stdout);
    // Both folders are the session user's alone.
    const modes = sshCommand(s, `stat -c %a "$HOME" "$XDG_RUNTIME_DIR"`);
    assert.deepEqual(modes.stdout.trim().split('\n'), ['700', '700']);

    const bare = await start({ pathDirs: pathWithout(['node', 'nodejs']), extraConfig: ['SetEnv MANTA_TEST_EXTRA=1'] });
    const r2 = sshCommand(bare, 'command -v node; echo "no-node=$? extra=$MANTA_TEST_EXTRA home=$HOME"; ls / >/dev/null && echo ls-works');
    assert.equal(r2.status, 0, r2.stderr);
    assert.equal(r2.stdout.trim(), `no-node=1 extra=1 home=${bare.home}\nls-works`);
  });

  test('ssh2 logs in with either key, sees the host key and forwards to a Unix socket in the runtime folder', async () => {
    const s = await start();
    const { client, hostKey } = await connect(s);
    try {
      assert.ok(hostKey()?.equals(s.hostKeyBlob), 'the host key ssh2 was shown is hostKeyBlob');
      assert.equal(s.hostKeyBlob.subarray(4, 4 + s.hostKeyBlob.readUInt32BE(0)).toString(), s.hostKeyType);
      assert.deepEqual(await exec(client, 'echo $HOME'), { code: 0, out: `${s.home}\n` });

      const socketPath = path.join(s.runtimeDir, 'harness.sock');
      const server = net.createServer((c) => c.end('hello over the forward'));
      await new Promise<void>((resolve) => server.listen(socketPath, resolve));
      try {
        const got = await new Promise<string>((resolve, reject) => {
          client.openssh_forwardOutStreamLocal(socketPath, (err, stream) => {
            if (err) return reject(err);
            let text = '';
            stream.on('data', (d: Buffer) => (text += d.toString()));
            stream.on('close', () => resolve(text));
            stream.end();
          });
        });
        assert.equal(got, 'hello over the forward');
      } finally {
        server.close();
      }
    } finally {
      client.end();
    }

    const enc = await connect(s, { privateKey: readFileSync(s.encryptedClientKeyFile), passphrase: s.clientKeyPassphrase });
    try {
      assert.equal((await exec(enc.client, 'echo encrypted-key')).out, 'encrypted-key\n');
    } finally {
      enc.client.end();
    }
  });

  test('killConnections drops a live session; the server takes new ones', async () => {
    const s = await start();
    const { client } = await connect(s);
    const closed = new Promise<void>((resolve) => client.on('close', () => resolve()));
    assert.equal((await exec(client, 'true')).code, 0);
    const t0 = Date.now();
    assert.equal(s.killConnections(), 1);
    await closed;
    assert.ok(Date.now() - t0 < 5000, `the session closed ${Date.now() - t0} ms after killConnections`);
    assert.equal(s.killConnections(), 0);
    const r = sshCommand(s, 'echo again');
    assert.equal(r.stdout, 'again\n', r.stderr);
  });

  test('rotateHostKey: same port, a new host key, and the real client refuses it', async () => {
    const s = await start();
    assert.equal(sshCommand(s, 'true').status, 0);
    const { port, pid } = s;
    const oldKey = Buffer.from(s.hostKeyBlob);
    await s.rotateHostKey();
    assert.equal(s.port, port);
    assert.notEqual(s.pid, pid);
    assert.ok(!s.hostKeyBlob.equals(oldKey));
    const r = sshCommand(s, 'true');
    assert.equal(r.status, 255);
    assert.match(r.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED/);
    const { client, hostKey } = await connect(s);
    client.end();
    assert.ok(hostKey()?.equals(s.hostKeyBlob));

    await s.rotateHostKey('ecdsa');
    assert.equal(s.hostKeyType, 'ecdsa-sha2-nistp256');
    assert.match(sshCommand(s, 'true').stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED/);
  });

  test('stop() leaves nothing running, not even what a session started in the background', async () => {
    const s = await start();
    const r = sshCommand(s, 'nohup setsid sleep 600 >/dev/null 2>&1 </dev/null & echo $!');
    const bg = Number(r.stdout.trim());
    assert.ok(bg > 0, r.stdout + r.stderr);
    await waitFor(() => alive(bg), 5000, () => 'the background sleep');
    const listener = s.pid;
    await s.stop();
    assert.ok(!alive(listener), 'the listener is gone');
    assert.ok(!alive(bg), 'the session\'s background process is gone');
    assert.equal(await portOpen(s.host, s.port), false);
  });

  test('with the editor port, the test process reaches an sshd inside a host\'s network namespace', { skip: netnsUnavailable() }, async () => {
    const network = Network.create(1, '10.78.0', { editorPort: true });
    try {
      const host = network.hosts[0];
      assert.ok(network.editorLink && network.editorLink.length <= 15);
      const s = await start({ netns: host.ns, address: host.address, home: host.home, runtimeDir: host.runtime });
      try {
        assert.equal(s.host, host.address);
        // The listener is in the host's namespace, not in the root one.
        assert.ok(network.pidsIn(0).includes(s.pid));
        const r = sshCommand(s, 'echo $HOME; hostname -I');
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.trim()), [host.home, host.address]);
        // The real client can also dial from inside the host's own namespace.
        assert.equal(sshCommand(s, 'echo inside', { netns: host.ns }).stdout, 'inside\n');
        const { client } = await connect(s);
        try {
          const seen = await exec(client, 'echo "$SSH_CONNECTION"');
          assert.equal(seen.out.split(' ')[0], network.editorAddress, 'the connection came from the editor port');
        } finally {
          client.end();
        }
      } finally {
        await s.stop();
      }
    } finally {
      const link = network.editorLink!;
      await network.destroy();
      assert.notEqual(spawnSync('ip', ['link', 'show', link]).status, 0, `${link} is gone from the root namespace`);
    }
  });
});
