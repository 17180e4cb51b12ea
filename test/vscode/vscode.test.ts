// The extension's integration suite (test/vscode/suite) in a real VS Code, offline: the VS Code server 1.100.3
// installed by test/vscode/install-server.sh, its workbench in headless Chromium. The extension under test is the
// packaged one: manta.vsix (built by `npm run package`, which test/run-all.sh runs before any suite) installed with
// the server's own CLI (`--install-extension <file.vsix>`) into a fresh extensions folder, as a user installs it —
// not the development folder. VS Code only runs an extensionTestsPath in development mode, so the development path
// is an empty folder (no extension in it) and the mocha suite finds the installed extension by its id (the suite
// asserts that it runs from the install folder, not from the repository). Passes only on a clean pass of every mocha
// test; records the activation time and a screenshot of the workbench with the monitor open. Skips, naming what to
// install, when the server cache, Chromium or the build is missing.
// A second daemon runs in its own mount namespace (`unshare -m`) with a private tmpfs over its state and runs, its
// socket on a shared path: a daemon whose files the extension cannot see at all, as a remote one behind a forwarded
// socket; the suite reaches a finished run of it through the protocol only (needs root; skipped with a message
// otherwise). A real sshd on a loopback port is an SSH host named in an ssh config of the test's own
// (manta.ssh.configFile, its own known_hosts and key): the suite connects to it, deploys, searches and fetches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Frame } from 'playwright-core';
import { StartRunRequest, type MantaConfig } from '../../daemon/protocol';
import { connectSocket } from '../../daemon/service/client';
import type { PrivateDaemonSetup, SshHostSetup, SuiteResults } from './suite/index';
import { sshdUnavailable, startSshd, type TestSshd } from '../ssh/sshd';

const ROOT = resolve(__dirname, '../..');
const SERVER = join(ROOT, '.cache/vscode-server-4.100.3/node_modules/code-server/lib/vscode');
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts');
const VSIX = join(ROOT, 'manta.vsix');
const EXTENSION_ID = 'manta.manta';

function skipReason(): string | undefined {
  if (!existsSync(join(SERVER, 'out/server-main.js')) || !existsSync(join(ROOT, '.cache/vscode-server-4.100.3/.installed'))) {
    return 'the offline VS Code server is not installed: run bash test/vscode/install-server.sh (needs ripgrep, libkrb5-dev)';
  }
  if (!existsSync(CHROMIUM)) return `Chromium is not installed at ${CHROMIUM}: apt-get install -y chromium`;
  if (!existsSync(join(ROOT, 'dist/extension.js')) || !existsSync(join(ROOT, 'dist/manta.js'))) return 'the extension is not built: run npm run build';
  if (!existsSync(VSIX)) return 'the extension is not packaged: run npm run package (npm test does)';
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/** Ends a process group we started (the server and its extension hosts), by its leader's pid. */
function endGroup(child: ChildProcess | undefined): void {
  if (!child?.pid || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

/** Why no daemon can be started in a mount namespace of its own here; undefined when one can. */
function privateDaemonSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: a private tmpfs for the daemon needs root (CI runs as root)';
  const probe = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs tmpfs /mnt'], { encoding: 'utf8' });
  if (probe.error) return `unshare is not available (${probe.error.message}): apt-get install -y util-linux`;
  if (probe.status !== 0) return `unshare -m with a tmpfs mount fails here: ${(probe.stderr || `exit ${probe.status}`).trim()}`;
  return undefined;
}

/**
 * Starts dist/manta.js as a daemon in its own mount namespace, with a private tmpfs mounted over `<work>/private`
 * (its state, its config folder, its runs: empty folders as the extension sees them), its socket at
 * `<work>/shared/d.sock`; starts the tiny config there and returns at once (the run finishes in seconds while the
 * workbench loads).
 */
async function startPrivateDaemon(work: string, log: string[]): Promise<{ proc: ChildProcess; setup: PrivateDaemonSetup }> {
  const privateDir = join(work, 'private');
  mkdirSync(privateDir);
  const socket = join(work, 'shared', 'd.sock');
  const script =
    'mount -t tmpfs -o size=256m,mode=0700 tmpfs "$1" && mkdir -p "$1/config" && ' +
    'exec "$2" "$3" daemon --socket "$4" --state-dir "$1/state" --cache-dir "$1/cache"';
  const proc = spawn('unshare', ['-m', 'sh', '-c', script, 'sh', privateDir, process.execPath, join(ROOT, 'dist/manta.js'), socket], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MANTA_BACKEND: '' },
  });
  proc.stdout!.on('data', (b: Buffer) => log.push(b.toString()));
  proc.stderr!.on('data', (b: Buffer) => log.push(b.toString()));
  const end = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`the private daemon exited with ${proc.exitCode}: ${log.join('')}`);
    const client = await connectSocket(socket, { client: { name: 'manta-vscode-test', version: '1' } }).catch(() => undefined);
    if (client) {
      try {
        const config = { ...(JSON.parse(readFileSync(join(ROOT, 'test/fixtures/extension/tiny.manta.json'), 'utf8')) as MantaConfig), name: 'remote' };
        const { run } = await client.connection.sendRequest(StartRunRequest, { config, configDir: join(privateDir, 'config') });
        return { proc, setup: { socket, runId: run.runId, runDir: run.runDir, exportTo: join(work, 'exported') } };
      } finally {
        client.close();
      }
    }
    if (Date.now() > end) throw new Error(`the private daemon did not listen on ${socket}: ${log.join('')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Installs manta.vsix as a user does, with the server's CLI, into a fresh extensions folder; returns the installed
 * extension's folder.
 */
function installVsix(work: string, extensionsDir: string, userData: string): string {
  const r = spawnSync(
    process.execPath,
    [join(SERVER, 'out/server-main.js'), '--accept-server-license-terms', '--server-data-dir', join(work, 'server-data'), '--user-data-dir', userData, '--extensions-dir', extensionsDir, '--install-extension', VSIX],
    { encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(r.status, 0, `--install-extension ${VSIX} failed (${r.error?.message ?? r.signal ?? r.status}): ${r.stdout}${r.stderr}`);
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const installed = join(extensionsDir, `${EXTENSION_ID}-${version}`);
  assert.ok(existsSync(join(installed, 'package.json')) && existsSync(join(installed, 'dist/extension.js')), `the .vsix was installed into ${installed}: ${r.stdout}`);
  return installed;
}

async function findMonitorFrame(frames: () => Frame[]): Promise<Frame | undefined> {
  for (const f of frames()) {
    const n = await f.locator('[data-chart="loss"]').count().catch(() => 0);
    if (n > 0) return f;
  }
  return undefined;
}

test('the extension passes its integration suite in a real VS Code (offline server + Chromium)', { skip: skipReason(), timeout: 600_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'manta-vscode-'));
  const workspace = join(work, 'workspace');
  mkdirSync(workspace, { recursive: true });
  cpSync(join(ROOT, 'test/fixtures/extension/tiny.manta.json'), join(workspace, 'tiny.manta.json'));
  cpSync(join(ROOT, 'test/fixtures/extension/workspace/broken.manta.json'), join(workspace, 'broken.manta.json'));
  // The shipped example, unmodified, as a user opens it (its data set where Debian's dataset-fashion-mnist puts it).
  cpSync(join(ROOT, 'examples/fashion-mnist.manta.json'), join(workspace, 'fashion-mnist.manta.json'));
  cpSync(join(ROOT, 'examples/stereo.manta.json'), join(workspace, 'stereo.manta.json'));
  // A hostile workspace: its settings name a program for the extension to start. manta.daemon.nodePath is a machine
  // setting, so VS Code must not take it from here (the installed suite checks that nothing ran it); editor.tabSize,
  // a setting a workspace may set, shows that this file is read at all.
  const hostileMarker = join(work, 'workspace-node-ran');
  const hostileNode = join(work, 'workspace-node.sh');
  writeFileSync(hostileNode, `#!/bin/sh\ntouch '${hostileMarker}'\nexit 1\n`, { mode: 0o755 });
  mkdirSync(join(workspace, '.vscode'));
  writeFileSync(join(workspace, '.vscode/settings.json'), JSON.stringify({ 'manta.daemon.nodePath': hostileNode, 'editor.tabSize': 3 }, null, 2));
  const userData = join(work, 'user-data');
  const settings = {
    'security.workspace.trust.enabled': false,
    'workbench.startupEditor': 'none',
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'update.mode': 'none',
    // a daemon of the test's own, not whatever listens on the user's socket
    'manta.daemon.connect': 'spawn',
  };
  // An SSH host as users add one: a Host entry of an ssh config (the test's own, not ~/.ssh/config).
  const sshSkip = sshdUnavailable();
  let sshd: TestSshd | undefined;
  let sshSetup: SshHostSetup | undefined;
  if (!sshSkip) {
    sshd = await startSshd({ env: { TMPDIR: join(work, 'ssh-host-tmp') } });
    const sshConfig = join(work, 'ssh_config');
    writeFileSync(
      sshConfig,
      [
        'Host manta-gpu',
        `  HostName ${sshd.host}`,
        `  Port ${sshd.port}`,
        `  User ${sshd.user}`,
        `  IdentityFile ${sshd.clientKeyFile}`,
        '  IdentitiesOnly yes',
        `  UserKnownHostsFile ${sshd.knownHostsFile}`,
        '',
      ].join('\n'),
    );
    Object.assign(settings, { 'manta.ssh.configFile': sshConfig });
    sshSetup = { hostId: 'ssh:manta-gpu', home: sshd.home, fetchTo: join(work, 'fetched') };
  } else {
    t.diagnostic(`the suite's SSH host test is skipped: ${sshSkip}`);
  }
  for (const dir of ['Machine', 'User']) {
    mkdirSync(join(userData, dir), { recursive: true });
    writeFileSync(join(userData, dir, 'settings.json'), JSON.stringify(settings, null, 2));
  }
  const extensionsDir = join(work, 'extensions');
  const installed = installVsix(work, extensionsDir, userData);
  // VS Code runs extensionTestsPath only with an extensionDevelopmentPath: an empty folder, no extension in it.
  const noDevelopmentExtension = join(work, 'no-development-extension');
  mkdirSync(noDevelopmentExtension);
  // The mocha suite as one CommonJS module under out/ (gitignored), so that `mocha` resolves from the project's
  // node_modules in the extension host; `vscode` is the host's own.
  const suiteJs = join(ROOT, 'out/vscode-suite/index.js');
  await esbuild.build({ entryPoints: [join(ROOT, 'test/vscode/suite/index.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: suiteJs, external: ['vscode', 'mocha'], logLevel: 'warning' });
  const results = join(work, 'results.json');
  const handshake = join(work, 'monitor');
  const port = await freePort();
  let server: ChildProcess | undefined;
  let browser: Browser | undefined;
  let privateDaemon: ChildProcess | undefined;
  const serverLog: string[] = [];
  const privateLog: string[] = [];
  const privateSkip = privateDaemonSkipReason();
  try {
    const suiteEnv: Record<string, string> = {
      MANTA_VSCODE_INSTALLED: installed,
      MANTA_VSCODE_REPOSITORY: ROOT,
      MANTA_VSCODE_HOSTILE_NODE: JSON.stringify({ nodePath: hostileNode, marker: hostileMarker }),
    };
    if (sshSetup) suiteEnv.MANTA_VSCODE_SSH = JSON.stringify(sshSetup);
    else suiteEnv.MANTA_VSCODE_SSH_SKIP = sshSkip ?? 'no sshd';
    if (privateSkip) {
      suiteEnv.MANTA_VSCODE_PRIVATE_SKIP = privateSkip;
      t.diagnostic(`the suite's test against a daemon in its own mount namespace is skipped: ${privateSkip}`);
    } else {
      const started = await startPrivateDaemon(work, privateLog);
      privateDaemon = started.proc;
      suiteEnv.MANTA_VSCODE_PRIVATE_DAEMON = JSON.stringify(started.setup);
      assert.ok(!existsSync(started.setup.runDir), `the private run folder ${started.setup.runDir} is invisible out here`);
    }
    server = spawn(
      process.execPath,
      [join(SERVER, 'out/server-main.js'), '--host', '127.0.0.1', '--port', String(port), '--without-connection-token', '--accept-server-license-terms', '--disable-telemetry', '--disable-workspace-trust', '--server-data-dir', join(work, 'server-data'), '--user-data-dir', userData, '--extensions-dir', extensionsDir],
      { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...suiteEnv, MANTA_VSCODE_RESULTS: results, MANTA_VSCODE_HANDSHAKE: handshake } },
    );
    const ready = new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`the VS Code server did not start: ${serverLog.join('').slice(-2000)}`)), 60_000);
      const onData = (b: Buffer) => {
        serverLog.push(b.toString());
        if (/Extension host agent listening|Server bound to|Web UI available/i.test(b.toString())) {
          clearTimeout(timer);
          res();
        }
      };
      server!.stdout!.on('data', onData);
      server!.stderr!.on('data', (b: Buffer) => serverLog.push(b.toString()));
      server!.once('exit', (code) => rej(new Error(`the VS Code server exited with ${code}: ${serverLog.join('').slice(-2000)}`)));
    });
    await ready;
    const remote = (p: string) => `vscode-remote://127.0.0.1:${port}${p}`;
    const payload = [
      ['extensionDevelopmentPath', remote(noDevelopmentExtension)],
      ['extensionTestsPath', remote(suiteJs)],
      ['skipWelcome', 'true'],
    ];
    const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    const t0 = Date.now();
    await page.goto(url);
    mkdirSync(ARTIFACTS, { recursive: true });
    // Serve the suite's one request to look at the monitor page, then wait for its results.
    const deadline = Date.now() + 480_000;
    let inspected = false;
    while (!existsSync(results)) {
      if (Date.now() > deadline) throw new Error('the integration suite wrote no results within 8 minutes');
      if (!inspected && existsSync(`${handshake}.request`)) {
        inspected = true;
        const { steps } = JSON.parse(readFileSync(`${handshake}.request`, 'utf8')) as { steps: number };
        let verdict = { ok: false, detail: 'no webview frame with the monitor was found' };
        const end = Date.now() + 60_000;
        while (Date.now() < end) {
          const frame = await findMonitorFrame(() => page.frames());
          const points = frame ? await frame.getAttribute('[data-chart="loss"]', 'data-points').catch(() => null) : null;
          if (points === String(steps)) {
            const banner = (await frame!.textContent('.banner').catch(() => '')) ?? '';
            verdict = { ok: /Run completed/.test(banner), detail: `loss chart has ${points} points (log: ${steps} steps); banner: '${banner.trim()}'` };
            break;
          }
          if (frame) verdict = { ok: false, detail: `loss chart has ${points} points, the log has ${steps} steps` };
          await page.waitForTimeout(500);
        }
        await page.screenshot({ path: join(ARTIFACTS, 'vscode-workbench-monitor.png') });
        writeFileSync(`${handshake}.done`, JSON.stringify(verdict));
      }
      // The suite's request to read the notifications the workbench shows: the notification center (the suite opens
      // it), toasts, and modal dialogs (a failing command run from the palette shows one).
      if (existsSync(`${handshake}.notifications.request`) && !existsSync(`${handshake}.notifications.done`)) {
        await page.waitForTimeout(500);
        const shown = await page.evaluate(() => ({
          notifications: Array.from(document.querySelectorAll('.notifications-center .notification-list-item, .notifications-toasts .notification-list-item')).map((el) => ({
            message: el.querySelector('.notification-list-item-message')?.textContent ?? '',
            severity: el.querySelector('.codicon-error') ? 'error' : el.querySelector('.codicon-warning') ? 'warning' : 'info',
          })),
          dialogs: Array.from(document.querySelectorAll('.monaco-dialog-box')).map((el) => el.textContent ?? ''),
        }));
        await page.screenshot({ path: join(ARTIFACTS, 'vscode-workbench-fashion-mnist.png') });
        writeFileSync(`${handshake}.notifications.done`, JSON.stringify(shown));
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const outcome = JSON.parse(readFileSync(results, 'utf8')) as SuiteResults;
    t.diagnostic(`suite finished ${((Date.now() - t0) / 1000).toFixed(1)} s after the workbench opened; extension activation ${outcome.activationMs?.toFixed(1)} ms`);
    writeFileSync(join(ARTIFACTS, 'vscode-results.json'), JSON.stringify(outcome, null, 2));
    assert.deepEqual(outcome.failures, []);
    assert.equal(outcome.failed, 0);
    assert.ok(outcome.passed >= 4, `${outcome.passed} mocha tests passed`);
    assert.ok(inspected, 'the monitor page was inspected in the workbench');
    const fashionSkip = !existsSync('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz');
    if (fashionSkip) t.diagnostic('the suite\'s test of the shipped Fashion-MNIST example is skipped: apt-get install -y dataset-fashion-mnist');
    assert.equal(outcome.pending, (privateSkip ? 1 : 0) + (fashionSkip ? 1 : 0) + (sshSkip ? 1 : 0), 'only the private-daemon, Fashion-MNIST and SSH tests may be skipped, and only when they cannot run here');
  } finally {
    await browser?.close().catch(() => undefined);
    endGroup(server);
    endGroup(privateDaemon);
    // sshd.stop() also ends what its sessions started: the daemon deployed there, detached by design.
    await sshd?.stop();
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'vscode-server.log'), serverLog.join(''));
    if (privateLog.length) writeFileSync(join(ARTIFACTS, 'vscode-private-daemon.log'), privateLog.join(''));
  }
});
