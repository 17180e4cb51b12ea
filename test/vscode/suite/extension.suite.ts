// The extension in a real VS Code: activation, diagnostics of a config from the language server, Start Search on the
// local daemon with the built-in synthetic dataset, the Runs tree and the monitor following the run to its end; an SSH
// host from an ssh config: connect (deploy), Start Search there, the monitor following it, its files fetched back.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { MantaApi } from '../../../extension/extension';
import type { PrivateDaemonSetup, SshHostSetup } from './index';

const EXTENSION_ID = 'manta.manta';

function workspaceFile(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'a workspace folder is open');
  return vscode.Uri.joinPath(folder.uri, name);
}

/** Polls until `check` returns a value (not undefined), or fails with what it was waiting for. */
async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function extensionSuite(): void {
  let api: MantaApi;

  /** The status bar once the run shows a training step; fails at once if the run ends first. */
  const firstTrainingStep = (runId: string, what: string) =>
    until(
      what,
      () => {
        const r = api.hosts()[0].runs.find((x) => x.runId === runId);
        assert.ok(!r || r.status === 'running', `the run ended ${r?.status}: ${r?.message}`);
        const b = api.statusBar();
        return b.runId === runId && /step \d+\/\d+/.test(b.text) ? b : undefined;
      },
      150_000,
    );

  suite('MANTA extension', () => {
    test('activates on a command and reports its activation time', async () => {
      const ext = vscode.extensions.getExtension<MantaApi>(EXTENSION_ID);
      assert.ok(ext, `extension ${EXTENSION_ID} is installed`);
      assert.equal(ext.isActive, false, 'activation is lazy: nothing activated it at start-up');
      await vscode.commands.executeCommand('manta.showLog');
      api = await until('activation', () => (ext.isActive ? ext.exports : undefined));
      (globalThis as { mantaActivationMs?: number }).mantaActivationMs = api.activationMs;
      assert.ok(api.activationMs > 0);
      const commands = await vscode.commands.getCommands(true);
      for (const c of ['manta.startSearch', 'manta.stopSearch', 'manta.openMonitor', 'manta.showSupernet', 'manta.newConfig', 'manta.exportSubnet', 'manta.openRunReport']) {
        assert.ok(commands.includes(c), `${c} is registered`);
      }
    });

    test('reports every problem of a config at its field, with the rule', async () => {
      const uri = workspaceFile('broken.manta.json');
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc);
      const diagnostics = await until('diagnostics from the MANTA language server', () => {
        const d = vscode.languages.getDiagnostics(uri).filter((x) => x.source === 'manta');
        return d.length >= 2 ? d : undefined;
      });
      const byCode = new Map(diagnostics.map((d) => [String(d.code), d]));
      // schema problems, all at once
      const seed = byCode.get('minimum');
      assert.ok(seed, `a 'minimum' problem for /seed among ${[...byCode.keys()].join(', ')}`);
      assert.equal(doc.getText(seed.range), '-1');
      assert.match(seed.message, /\/seed/);
      const unknown = byCode.get('additionalProperties');
      assert.ok(unknown);
      assert.equal(doc.getText(unknown.range), '"batchSzie"');
      // and a quick fix for the misspelt key
      const titles = await until(
        'the rename quick fix',
        async () => {
          const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, unknown.range, vscode.CodeActionKind.QuickFix.value);
          const t = (actions ?? []).map((a) => a.title);
          return t.includes("Rename 'batchSzie' to 'batchSize'") ? t : undefined;
        },
        20_000,
      );
      assert.ok(titles.length >= 1);
    });

    test('shows the search space size in a CodeLens on the supernet, and that MACs need the daemon', async () => {
      const uri = workspaceFile('tiny.manta.json');
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
      assert.equal(api.hosts()[0].state.kind, 'disconnected', 'no daemon yet: opening a config does not start one');
      const lenses = await until('the search-space CodeLenses', async () => {
        const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
        return l && l.some((x) => x.command?.title.startsWith('MACs')) ? l : undefined;
      });
      // tiny: per unit (2·2)^1 + (2·2)^2 = 20; five units; one width, one resolution: 20^5 = 3.2 million
      assert.deepEqual(
        lenses.map((x) => [x.command?.title, x.command?.command]),
        [
          ['Search space: 3.2 × 10^6 subnets', 'manta.showSupernet'],
          ['MACs: start the MANTA daemon', 'manta.connectHost'],
        ],
      );
      assert.equal(api.hosts()[0].state.kind, 'disconnected', 'the lens did not start a daemon');
    });

    test('Start Search runs the config on the local daemon; the Runs tree and the monitor follow it', async () => {
      const uri = workspaceFile('tiny.manta.json');
      const runId = await vscode.commands.executeCommand<string | undefined>('manta.startSearch', uri);
      assert.ok(runId, 'Start Search returned the run id');
      const local = api.hosts()[0];
      assert.equal(local.state.kind, 'connected');
      // The Runs tree lists the run at once, and the monitor is open on it.
      await until('the run in the Runs tree', () => api.runsTree().find((n) => n.id === `local/${runId}`));
      assert.deepEqual(api.monitor()?.selected, [{ hostId: 'local', runId }]);
      // The status bar follows the run: what it says while the run goes on.
      const barTexts = new Set<string>();
      const done = await until('the run to complete', () => {
        const bar = api.statusBar();
        if (bar.runId === runId) barTexts.add(bar.text);
        const n = api.runsTree().find((x) => x.id === `local/${runId}`);
        return n && /^(completed|failed|stopped)/.test(n.description ?? '') ? n : undefined;
      }, 150_000);
      assert.match(done.description ?? '', /^completed/, `run ended: ${done.description}`);
      assert.ok([...barTexts].some((x) => /^\$\(sync~spin\) tiny: \w+ \(phase \d+\) · step \d+\/\d+ \(\d+%\)/.test(x)), `the status bar showed the training step: ${[...barTexts].join(' | ')}`);
      // When it ended: the status bar says done with the best front entry, and a notification says so with buttons
      // to the report and the Pareto front.
      const bar = await until('the status bar to say done', () => {
        const b = api.statusBar();
        return b.runId === runId && /^\$\(pass\) tiny: done · \d+\.\d% at [\d.]+ [kMG]MACs$/.test(b.text) ? b : undefined;
      }, 20_000);
      assert.ok(bar.visible);
      const notice = await until('the run-ended notification', () => api.runEndNotices().find((n) => n.runId === runId), 20_000);
      assert.equal(notice.status, 'completed');
      assert.match(notice.message, /^MANTA: run tiny completed — best of its \d+-subnet Pareto front: \d+\.\d% at [\d.]+ [kMG]MACs\.$/);
      assert.deepEqual(notice.actions, ['Open Report', 'Show Pareto Front']);
      assert.equal(api.runEndNotices().filter((n) => n.runId === runId).length, 1, 'one notification per run');
      const run = api.hosts()[0].runs.find((r) => r.runId === runId)!;
      const events = await until('every event at the monitor', () => {
        const n = api.monitor()?.events[runId];
        return n !== undefined && n >= run.nextSeq ? n : undefined;
      });
      assert.equal(events, run.nextSeq);
      // Let the driver outside look at the monitor page itself, when one is watching.
      const handshake = process.env.MANTA_VSCODE_HANDSHAKE;
      if (handshake) {
        const lines = readFileSync(join(run.runDir, 'events.jsonl'), 'utf8').trim().split('\n');
        const steps = lines.filter((l) => JSON.parse(l).kind === 'step').length;
        writeFileSync(`${handshake}.request`, JSON.stringify({ runId, steps }));
        await until('the driver to inspect the monitor', () => (existsSync(`${handshake}.done`) ? true : undefined), 90_000);
        const verdict = JSON.parse(readFileSync(`${handshake}.done`, 'utf8')) as { ok: boolean; detail: string };
        assert.ok(verdict.ok, `monitor page: ${verdict.detail}`);
      }
      // The notification's "Show Pareto Front": the monitor on the run, at its Pareto view.
      assert.equal(await vscode.commands.executeCommand('manta.showParetoFront', { hostId: 'local', runId }), runId);
      const shown = api.monitor();
      assert.deepEqual([shown?.selected, shown?.view], [[{ hostId: 'local', runId }], 'pareto']);
    });

    test('with the daemon connected, the CodeLens shows the MACs and parameters of the smallest and largest subnets', async () => {
      assert.equal(api.hosts()[0].state.kind, 'connected');
      const uri = workspaceFile('tiny.manta.json');
      // The daemon's manta/describeSpace through the language server and the client; figures from daemon/ofa/costs.ts
      // for tiny's synthetic data (3 channels, 4 classes) at resolution 16.
      const lens = await until('the CodeLens with MACs', async () => {
        const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
        return l?.find((x) => x.command?.title.includes('MACs ')) ?? undefined;
      });
      assert.equal(lens.command!.title, 'Search space: 3.2 × 10^6 subnets · MACs 66.0k–183.4k · params 10.3k–35.5k');
      assert.equal(lens.command!.command, 'manta.showSupernet');
    });

    test('the shipped examples/stereo.manta.json: no problem, its costs, its supernet drawn as stereo, and a search that trains', async function () {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      const uri = workspaceFile('stereo.manta.json');
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
      const lens = await until('the search-space CodeLens of the stereo example', async () => {
        const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
        return l?.find((x) => x.command?.title.includes('MACs ')) ?? undefined;
      });
      assert.match(lens.command!.title, /^Search space: .* subnets · MACs [\d.]+M–[\d.]+M · params /);
      await new Promise((r) => setTimeout(r, 1000));
      const problems = vscode.languages.getDiagnostics(uri).filter((d) => d.severity <= vscode.DiagnosticSeverity.Warning);
      assert.deepEqual(problems.map((d) => `${d.source}: ${d.message}`), [], 'no error or warning for the stereo example');
      await vscode.commands.executeCommand('manta.showSupernet', uri);
      const view = await until('the stereo supernet in the visualizer', () => {
        const s = api.visualizer();
        return s?.supernet?.task === 'stereo' ? s.supernet : undefined;
      });
      assert.equal(view.units.length, 6);
      assert.equal(view.stereo?.decoderWidths.length, 6);
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
      const runId = await vscode.commands.executeCommand<string | undefined>('manta.startSearch');
      assert.ok(runId, 'Start Search started the stereo run');
      await firstTrainingStep(runId, 'the first training step of the stereo run');
      await vscode.commands.executeCommand('manta.stopSearch', { hostId: 'local', runId });
      await until('the stereo run to stop', () => (api.hosts()[0].runs.find((x) => x.runId === runId)?.status === 'stopped' ? true : undefined), 60_000);
    });

    test('the shipped examples/fashion-mnist.manta.json starts from the editor unmodified: no error, no MANTA warning', async function () {
      const dataset = '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz';
      if (!existsSync(dataset)) {
        console.log(`skipped: ${dataset} is missing: apt-get install -y dataset-fashion-mnist`);
        return this.skip();
      }
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.commands.executeCommand('notifications.clearAll');
      const uri = workspaceFile('fashion-mnist.manta.json');
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
      // The language server has looked at it (its CodeLens is there) before the Problems panel is read.
      await until('the search-space CodeLens of the example', async () => {
        const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
        return l && l.some((x) => x.command?.title.startsWith('Search space')) ? l : undefined;
      });
      await new Promise((r) => setTimeout(r, 1000));
      const problems = vscode.languages.getDiagnostics(uri).filter((d) => d.severity <= vscode.DiagnosticSeverity.Warning);
      assert.deepEqual(problems.map((d) => `${d.source}: ${d.message}`), [], 'no error or warning in the Problems panel for the example');

      // MANTA: Start Search as a user runs it, on the active editor.
      const runId = await vscode.commands.executeCommand<string | undefined>('manta.startSearch');
      assert.ok(runId, 'Start Search started a run');
      const run = api.hosts()[0].runs.find((r) => r.runId === runId);
      assert.equal(run?.name, 'fashion-mnist');
      // Running, with its first training step (the data set read from where Debian installs it).
      const bar = await firstTrainingStep(runId, 'the first training step of the Fashion-MNIST run');
      assert.match(bar.text, /^\$\(sync~spin\) fashion-mnist: largest \(phase 1\) · step \d+\/\d+/);
      await vscode.commands.executeCommand('manta.stopSearch', { hostId: 'local', runId });
      await until('the run to stop', () => (api.hosts()[0].runs.find((x) => x.runId === runId)?.status === 'stopped' ? true : undefined), 60_000);

      // No error notification or dialog in the workbench (read by the driver outside, from the notification center).
      const handshake = process.env.MANTA_VSCODE_HANDSHAKE;
      if (handshake) {
        await vscode.commands.executeCommand('notifications.showList');
        writeFileSync(`${handshake}.notifications.request`, runId);
        await until('the driver to read the notifications', () => (existsSync(`${handshake}.notifications.done`) ? true : undefined), 30_000);
        await vscode.commands.executeCommand('notifications.hideList');
        const shown = JSON.parse(readFileSync(`${handshake}.notifications.done`, 'utf8')) as { notifications: { message: string; severity: string }[]; dialogs: string[] };
        assert.deepEqual(shown.notifications.filter((n) => n.severity === 'error').map((n) => n.message), [], 'no error notification');
        assert.deepEqual(shown.dialogs, [], 'no dialog');
        assert.ok(shown.notifications.some((n) => /run fashion-mnist stopped/.test(n.message)), `the stop was said: ${JSON.stringify(shown.notifications)}`);
      }
      const problemsAfter = vscode.languages.getDiagnostics(uri).filter((d) => d.severity <= vscode.DiagnosticSeverity.Warning);
      assert.deepEqual(problemsAfter.map((d) => `${d.source}: ${d.message}`), []);
    });

    test('reaches a run whose files it cannot see, through the protocol only: report, supernet, export, delete', async function () {
      const env = process.env.MANTA_VSCODE_PRIVATE_DAEMON;
      if (!env) {
        console.log(`skipped: ${process.env.MANTA_VSCODE_PRIVATE_SKIP ?? 'no daemon in a mount namespace of its own was started'}`);
        return this.skip();
      }
      const setup = JSON.parse(env) as PrivateDaemonSetup;
      // The daemon's settings point at the private daemon's socket: the local host reconnects there.
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      const settings = vscode.workspace.getConfiguration('manta.daemon');
      await settings.update('socketPath', setup.socket, vscode.ConfigurationTarget.Global);
      await settings.update('connect', 'socket', vscode.ConfigurationTarget.Global);
      const run = await until(
        'the private daemon\'s run, completed',
        () => {
          const host = api.hosts()[0];
          if (host.state.kind !== 'connected' || host.state.via !== `socket ${setup.socket}`) return undefined;
          const r = host.runs.find((x) => x.runId === setup.runId);
          assert.ok(!r || !/failed|stopped|interrupted/.test(r.status), `the private run ended ${r?.status}: ${r?.message}`);
          return r?.status === 'completed' ? r : undefined;
        },
        120_000,
      );
      assert.equal(existsSync(run.runDir), false, `the run folder ${run.runDir} is not visible to the extension host`);
      const ref = { hostId: 'local', runId: run.runId };

      // Open Run Report: report.html through manta/readRunFile, in a webview panel.
      const shown = await vscode.commands.executeCommand<{ runId: string; shown: string; bytes: number } | undefined>('manta.openRunReport', ref);
      assert.deepEqual(shown && [shown.runId, shown.shown], [run.runId, 'report']);
      const report = api.report();
      assert.ok(report, 'a report panel is open');
      assert.equal(report.runId, run.runId);
      assert.match(report.html, /<html/i);
      assert.match(report.html, /remote/, 'the report names the run');
      assert.equal(Buffer.byteLength(report.html), shown!.bytes);

      // Show Supernet: the run's config through manta/getRunConfig, drawn by the language server.
      await vscode.commands.executeCommand('manta.showSupernet', ref);
      const view = await until('the run\'s supernet in the visualizer', () => {
        const v = api.visualizer();
        return v?.origin?.kind === 'run' && v.origin.runId === run.runId && (v.supernet || !/loading|reading/.test(v.waiting ?? '')) ? v : undefined;
      });
      assert.ok(view.supernet, `the supernet shows (waiting: ${view.waiting})`);
      assert.deepEqual(view.supernet.units.map((u) => u.width), [8, 16, 16, 24, 24]);
      assert.deepEqual([view.supernet.kernel, view.supernet.depth], [[3, 5], [1, 2]]);

      // Export Subnet: exported by the daemon, downloaded through manta/readRunFile into a local folder.
      const exported = await vscode.commands.executeCommand<{ dir: string; files: string[] } | undefined>('manta.exportSubnet', ref, { index: 0, format: 'tfjs', destination: setup.exportTo });
      assert.ok(exported, 'Export Subnet returned what it saved');
      assert.equal(exported.dir, join(setup.exportTo, 'remote-subnet-0'));
      assert.deepEqual(exported.files.map((f) => f.slice(exported.dir.length + 1)).sort(), ['model.json', 'weights.bin']);
      const model = JSON.parse(readFileSync(join(exported.dir, 'model.json'), 'utf8')) as {
        modelTopology: unknown;
        weightsManifest: { paths: string[]; weights: { shape: number[]; dtype: string }[] }[];
      };
      assert.ok(model.modelTopology, 'model.json holds the topology');
      assert.deepEqual(model.weightsManifest[0].paths, ['weights.bin']);
      const expectedBytes = model.weightsManifest[0].weights.reduce((n, w) => n + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
      assert.ok(expectedBytes > 0);
      assert.equal(readFileSync(join(exported.dir, 'weights.bin')).length, expectedBytes, 'weights.bin holds every weight of the manifest');

      // Delete Run (confirmed up front): gone from the daemon and the Runs tree.
      assert.equal(await vscode.commands.executeCommand('manta.deleteRun', ref, { confirmed: true }), true);
      await until('the run to leave the Runs tree', () => (api.runsTree().some((n) => n.id === `local/${run.runId}`) ? undefined : true));
      assert.equal(api.hosts()[0].runs.some((r) => r.runId === run.runId), false);
    });

    test('an SSH host from the ssh config: Connect deploys the daemon, Start Search runs there, the monitor follows, Fetch brings the files back', async function () {
      const env = process.env.MANTA_VSCODE_SSH;
      if (!env) {
        console.log(`skipped: ${process.env.MANTA_VSCODE_SSH_SKIP ?? 'no test sshd was started'}`);
        return this.skip();
      }
      const setup = JSON.parse(env) as SshHostSetup;
      const listed = await until('the ssh config\'s host in the Hosts view', () => api.hostsTree().find((n) => n.id === setup.hostId));
      assert.match(listed.description ?? '', /not connected/);
      assert.equal(await vscode.commands.executeCommand('manta.connectHost', setup.hostId), true, 'Connect to Host succeeded');
      const host = await until('the SSH host connected', () => api.hosts().find((h) => h.id === setup.hostId && h.state.kind === 'connected'), 120_000);
      assert.equal(host.kind, 'ssh');
      assert.ok(host.info, 'the daemon on the host answered hostInfo');
      const runId = await vscode.commands.executeCommand<string | undefined>('manta.startSearch', workspaceFile('tiny.manta.json'), { hostId: setup.hostId });
      assert.ok(runId, 'Start Search on the SSH host returned the run id');
      assert.deepEqual(api.monitor()?.selected, [{ hostId: setup.hostId, runId }]);
      const run = await until(
        'the remote run to complete',
        () => {
          const r = api.hosts().find((h) => h.id === setup.hostId)?.runs.find((x) => x.runId === runId);
          assert.ok(!r || !/failed|stopped|interrupted/.test(r.status), `the remote run ended ${r?.status}: ${r?.message}`);
          return r?.status === 'completed' ? r : undefined;
        },
        150_000,
      );
      assert.ok(run.runDir.startsWith(setup.home), `the run lives on the host, under its home: ${run.runDir}`);
      const events = await until('every event at the monitor', () => {
        const n = api.monitor()?.events[runId];
        return n !== undefined && n >= run.nextSeq ? n : undefined;
      });
      assert.equal(events, run.nextSeq, 'the monitor holds each event of the remote run once');
      const fetched = await vscode.commands.executeCommand<{ dir: string; files: string[] } | undefined>('manta.fetchRun', { hostId: setup.hostId, runId }, setup.fetchTo);
      assert.ok(fetched, 'Fetch Run Files returned what it wrote');
      assert.ok(fetched.dir.startsWith(setup.fetchTo));
      const names = fetched.files.map((f) => f.slice(fetched.dir.length + 1));
      assert.ok(['results.json', 'report.html', 'config.json', 'subnets/0/model.json'].every((n) => names.includes(n)), `fetched: ${names.join(', ')}`);
      const results = JSON.parse(readFileSync(join(fetched.dir, 'results.json'), 'utf8')) as { front: unknown[] };
      assert.ok(results.front.length > 0, 'the fetched results hold the front');
      assert.match(readFileSync(join(fetched.dir, 'report.html'), 'utf8'), /<html/i);
      assert.equal(await vscode.commands.executeCommand('manta.disconnectHost', setup.hostId), true);
    });
  });
}
