// A remote host for real: an OpenSSH server (Debian's sshd, on a loopback port, with its own host key, authorized
// keys and config; never the system's) and the extension's plain-Node SSH layer — the same code the extension runs,
// minus VS Code's dialogs (the prompts here answer as a user would, and record what they were asked). Deploys the
// daemon bundle from dist/, starts a run, kills the SSH connection mid-run (sshd's per-connection child), and checks
// that the host reconnects by itself and that every event of the run arrived exactly once, in order, as the host's
// own event log has them. A changed host key and an unknown host without consent are refused.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, promises as fs, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { StartRunRequest, StopRunRequest, type RunSummary, type TelemetryEvent } from '../../daemon/protocol';
import { Host } from '../../extension/hosts/host';
import { readDaemonBundle, remoteBundleDir, type DaemonBundle } from '../../extension/hosts/ssh/deploy';
import { SshHostError } from '../../extension/hosts/ssh/types';
import { readLogSeqs, repoRoot, tempDir, tinyConfig, waitFor } from '../daemon/harness';
import { CLIENT, makeLink, MapSecrets, ScriptedPrompts, specFor, VERSION } from './link-harness';
import { sessionProcesses, sshdUnavailable, startSshd, type TestSshd } from './sshd';

const skip = sshdUnavailable() ?? (existsSync(path.join(repoRoot, 'dist', 'manta.js')) ? undefined : 'dist/ is not built: run `node esbuild.mjs`');
describe('a remote host over SSH (real sshd)', { skip }, () => {
  let sshd: TestSshd;
  let bundle: DaemonBundle;
  const hosts: Host[] = [];

  before(async () => {
    bundle = await readDaemonBundle(path.join(repoRoot, 'dist'), VERSION);
    sshd = await startSshd({ env: { TMPDIR: path.join(tempDir(), 'tmp') } });
  });

  after(async () => {
    for (const h of hosts) h.dispose();
    // The detached daemon outlives every connection by design: stop() ends it with everything the sessions started.
    await sshd?.stop();
  });

  test('deploys the daemon, runs a search, rides out a cut connection, and gets every event exactly once', async () => {
    const { link, progress } = makeLink(specFor(sshd), bundle, { idleExitSeconds: 4 });
    const host = new Host('ssh:test-host', 'test-host', 'ssh', () => link.open(), CLIENT, { delaysMs: [300, 600, 1200] });
    hosts.push(host);
    const states: string[] = [];
    host.onDidChange.on((s) => states.push(s.state.kind));
    await host.connect();
    const steps = [...new Set(progress.map((p) => p.step))];
    assert.deepEqual(steps, ['resolving', 'connecting', 'authenticating', 'probing', 'uploading', 'starting', 'attaching'], `progress steps: ${steps}`);
    const uploads = progress.filter((p) => p.step === 'uploading' && p.bytes);
    assert.equal(uploads.at(-1)?.bytes?.done, bundle.totalBytes, 'the upload reported every byte');
    const dir = remoteBundleDir(sshd.home, bundle);
    assert.ok(existsSync(path.join(dir, '.complete')) && existsSync(path.join(dir, 'manta.js')), `the bundle is complete in ${dir}`);
    assert.deepEqual(readdirSync(path.dirname(dir)).filter((n) => n.startsWith('.partial-')), [], 'no partial upload left');
    assert.ok(link.remoteDaemon && !link.remoteDaemon.alreadyRunning, 'a daemon was started');
    assert.ok(link.remoteDaemon.socketPath.startsWith(sshd.env.TMPDIR!), `its socket is under the host's TMPDIR: ${link.remoteDaemon.socketPath}`);
    const info = host.snapshot().info!;
    assert.equal(info.daemonPid, link.remoteDaemon.pid);

    // A run long enough to be cut in the middle: paths in the config are paths on the host.
    const configDir = path.join(sshd.home, 'work');
    await fs.mkdir(configDir, { recursive: true });
    const { run } = await host.request(StartRunRequest, { config: tinyConfig('over-ssh', { trainSize: 512, epochs: 3 }) as never, configDir });
    host.noteRun(run);
    const seen: TelemetryEvent[] = [];
    await host.watch(run.runId, { onEvents: (events) => seen.push(...events) });
    await waitFor(() => seen.some((e) => e.kind === 'step'), 60000, () => `no step event: ${seen.map((e) => e.kind).join(',')}`);
    const before = seen.length;
    const killed = sshd.killConnections();
    assert.ok(killed >= 1, 'the SSH connection was cut (its sshd child killed)');
    await waitFor(() => states.includes('reconnecting'), 20000, () => `no reconnecting state: ${states}`);
    await waitFor(() => host.snapshot().state.kind === 'connected', 30000, () => `not reconnected: ${JSON.stringify(host.snapshot().state)}`);
    const final = await waitFor(
      () => {
        const r: RunSummary | undefined = host.run(run.runId);
        return r && r.status !== 'running' && seen.some((e) => e.kind === 'run.finished') ? r : undefined;
      },
      240000,
      () => `run did not finish: ${JSON.stringify(host.run(run.runId))}`,
    );
    assert.equal(final.status, 'completed', final.message);
    assert.ok(seen.length > before, 'events kept coming after the reconnect');
    // Exactly once, in order: the seqs are 0…n-1 and equal the host's own event log.
    const seqs = seen.map((e) => e.seq);
    assert.deepEqual(seqs, seqs.map((_, i) => i), 'each seq once, in order, none missing');
    const logged = await readLogSeqs(final.runDir);
    assert.deepEqual(seqs, logged.map((e) => e.seq), 'the monitor holds what the host logged');
    assert.deepEqual(seen.map((e) => e.kind), logged.map((e) => e.kind));

    // A second window: the same bundle is not uploaded again and the running daemon is reused.
    const second = makeLink(specFor(sshd), bundle, { idleExitSeconds: 4 });
    const transport = await second.link.open();
    transport.close();
    assert.ok(!second.progress.some((p) => p.step === 'uploading'), 'no second upload of the same bundle');
    assert.equal(second.link.remoteDaemon?.alreadyRunning, true);
    assert.equal(second.link.remoteDaemon?.pid, link.remoteDaemon.pid);
    second.link.dispose();

    // Nothing stays behind: no run worker of that run, and the idle daemon (no runs, no clients) exits by itself.
    assert.deepEqual(sessionProcesses(sshd).filter((p) => /run-worker/.test(p.cmdline)), [], 'no run worker left');
    host.disconnect();
    link.dispose();
    const daemonPid = link.remoteDaemon.pid!;
    await waitFor(() => !existsSync(`/proc/${daemonPid}`), 30000, () => `the idle daemon ${daemonPid} did not exit`);
  });

  test('an unknown host is refused without consent, and trusted (and remembered) with it', async () => {
    const knownHosts = path.join(tempDir(), 'known_hosts');
    await fs.writeFile(knownHosts, '');
    const refused = makeLink(specFor(sshd, { knownHostsFiles: [knownHosts] }), bundle, { prompts: new ScriptedPrompts({ trustHost: false }) });
    await assert.rejects(refused.link.open(), (e: unknown) => e instanceof SshHostError && e.reason === 'host-key-unknown' && /not confirmed/.test(e.message));
    const asked = refused.prompts.asked.find((a) => a.kind === 'host-key')?.detail as { fingerprint: string; keyType: string; port: number };
    const expected = execFileSync('ssh-keygen', ['-lf', `${sshd.hostKeyFile}.pub`], { encoding: 'utf8' }).split(' ')[1];
    assert.equal(asked.fingerprint, expected, 'the user is shown the fingerprint ssh-keygen shows');
    assert.equal(asked.port, sshd.port);
    assert.equal(await fs.readFile(knownHosts, 'utf8'), '', 'nothing was added without consent');
    assert.ok(!refused.progress.some((p) => p.step === 'authenticating'), 'no credentials were offered to an unverified host');

    const trusted = makeLink(specFor(sshd, { knownHostsFiles: [knownHosts], hashKnownHosts: true }), bundle, { prompts: new ScriptedPrompts({ trustHost: true }) });
    const transport = await trusted.link.open();
    transport.close();
    trusted.link.dispose();
    // The real OpenSSH finds the (hashed) entry we wrote.
    const found = execFileSync('ssh-keygen', ['-F', `[${sshd.host}]:${sshd.port}`, '-f', knownHosts], { encoding: 'utf8' });
    assert.match(found, /^\|1\|/m, 'a hashed entry OpenSSH can look up');
  });

  test('an encrypted key: the passphrase is asked once, and kept only where the user agreed', async () => {
    const secrets = new MapSecrets();
    const spec = specFor(sshd, { identityFiles: [sshd.encryptedClientKeyFile] });
    const askedOnce = new ScriptedPrompts({ passphrase: sshd.clientKeyPassphrase, remember: true });
    const first = makeLink(spec, bundle, { prompts: askedOnce, secrets });
    (await first.link.open()).close();
    first.link.dispose();
    assert.deepEqual(askedOnce.asked.map((a) => a.kind), ['passphrase']);
    assert.deepEqual([...secrets.map.keys()], [`ssh-passphrase:${sshd.encryptedClientKeyFile}`], 'remembered, keyed by the key file');
    assert.ok(!first.log.some((l) => l.includes(sshd.clientKeyPassphrase)), 'the passphrase is never logged');
    const again = makeLink(spec, bundle, { prompts: new ScriptedPrompts(), secrets });
    (await again.link.open()).close();
    again.link.dispose();
    assert.deepEqual(again.prompts.asked, [], 'not asked a second time');
    // Not remembered when the user says no; a cancelled prompt ends in a refused login, not a hang.
    const noMemory = new MapSecrets();
    const forget = makeLink(spec, bundle, { prompts: new ScriptedPrompts({ passphrase: sshd.clientKeyPassphrase, remember: false }), secrets: noMemory });
    (await forget.link.open()).close();
    forget.link.dispose();
    assert.equal(noMemory.map.size, 0);
    const cancelled = makeLink(spec, bundle, { prompts: new ScriptedPrompts(), secrets: new MapSecrets() });
    await assert.rejects(cancelled.link.open(), (e: unknown) => e instanceof SshHostError && e.reason === 'auth');
  });

  test('ssh-agent: a key held by a real agent logs in, no key file needed', async () => {
    const dir = tempDir();
    const agentSock = path.join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', agentSock], { stdio: 'ignore' });
    try {
      await waitFor(() => existsSync(agentSock), 10000, () => 'ssh-agent did not start');
      execFileSync('ssh-add', [sshd.clientKeyFile], { env: { ...process.env, SSH_AUTH_SOCK: agentSock }, stdio: 'ignore' });
      const { link } = makeLink(specFor(sshd, { identityFiles: [], identitiesOnly: false }), bundle, { agent: agentSock });
      (await link.open()).close();
      link.dispose();
      const { link: without } = makeLink(specFor(sshd, { identityFiles: [], identitiesOnly: false }), bundle);
      await assert.rejects(without.open(), (e: unknown) => e instanceof SshHostError && e.reason === 'auth', 'without the agent there is no key to log in with');
    } finally {
      agent.kill();
    }
  });

  test('stopping a run leaves no process behind on the host', async () => {
    const { link } = makeLink(specFor(sshd), bundle, { idleExitSeconds: 600 });
    const host = new Host('ssh:stop-host', 'stop-host', 'ssh', () => link.open(), CLIENT);
    hosts.push(host);
    await host.connect();
    const configDir = path.join(sshd.home, 'work');
    await fs.mkdir(configDir, { recursive: true });
    // Two training workers: the run's own process and a forked one.
    const config = { ...(tinyConfig('stop-over-ssh', { trainSize: 2048, epochs: 20 }) as Record<string, unknown>), distributed: { algorithm: 'data-parallel', workersPerHost: 2 } };
    const { run } = await host.request(StartRunRequest, { config: config as never, configDir });
    const workers = () => sessionProcesses(sshd).filter((p) => /run-worker|train-worker/.test(p.cmdline));
    await waitFor(() => workers().length >= 2, 60000, () => `workers did not start: ${JSON.stringify(sessionProcesses(sshd))}`);
    await host.request(StopRunRequest, { runId: run.runId });
    await waitFor(() => host.run(run.runId)?.status === 'stopped', 60000, () => `not stopped: ${JSON.stringify(host.run(run.runId))}`);
    await waitFor(() => workers().length === 0, 20000, () => `left behind: ${JSON.stringify(workers())}`);
    // The daemon killed mid-run (kill -9): its workers do not outlive it.
    const { run: second } = await host.request(StartRunRequest, { config: config as never, configDir });
    await waitFor(() => workers().length >= 2, 60000, () => `workers did not start: ${JSON.stringify(sessionProcesses(sshd))}`);
    assert.equal(second.status, 'running');
    process.kill(link.remoteDaemon!.pid!, 'SIGKILL');
    await waitFor(() => workers().length === 0, 20000, () => `workers outlived their daemon: ${JSON.stringify(workers())}`);
    host.dispose();
    link.dispose();
  });

  // Last: it leaves the server with a new host key.
  test('a changed host key is refused with OpenSSH\'s warning, and known_hosts is left as it was', async () => {
    const knownHosts = await fs.readFile(sshd.knownHostsFile, 'utf8');
    await sshd.rotateHostKey();
    const { link, prompts, progress } = makeLink(specFor(sshd), bundle);
    await assert.rejects(link.open(), (e: unknown) => {
      assert.ok(e instanceof SshHostError, String(e));
      assert.equal(e.reason, 'host-key-changed');
      assert.match(e.message, /REMOTE HOST IDENTIFICATION HAS CHANGED/);
      assert.match(e.message, /ssh-keygen .*-R/);
      return true;
    });
    assert.deepEqual(prompts.asked, [], 'the user is never offered to accept a changed key');
    assert.ok(!progress.some((p) => p.step === 'authenticating'));
    assert.equal(await fs.readFile(sshd.knownHostsFile, 'utf8'), knownHosts);
  });
});
