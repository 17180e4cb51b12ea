// One config path for every entry point: the same config files fed to `manta search` (the built CLI, a real
// process) and to a real daemon's manta/startRun (over its socket) are refused with the same problems and the same
// messages — a file that is not JSON (named by line and column, its text never echoed), schema errors, errors of the
// checks across fields, missing dataset files — and a good config with a cross-field warning is accepted by both,
// with the same warning. (The daemon's allowed roots are its own policy and stay out of this comparison.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ResponseError } from 'vscode-jsonrpc/node';
import { MantaErrorCodes, StartRunRequest, type MantaErrorData } from '../../daemon/protocol';
import { EVENTS_FILE } from '../../daemon/pipeline/run-folder';
import { connectSocket } from '../../daemon/service/client';
import { readEvents } from '../../daemon/service/event-log';
import { repoRoot, startDaemon, stopDaemon, tempDir, tinyConfig, waitFor } from './harness';

const cli = path.join(repoRoot, 'dist', 'manta.js');

interface CliRun {
  status: number | null;
  stderr: string;
}

/** `node dist/manta.js search <file>`; with `until`, killed as soon as stderr matches it (the run was accepted). */
function mantaSearch(file: string, until?: RegExp): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'search', file], { cwd: path.dirname(file), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MANTA_DEBUG: '' } });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (t: string) => {
      stderr += t;
      if (until && until.test(stderr)) child.kill('SIGKILL');
    });
    child.stdout.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stderr });
    });
  });
}

/** The CLI's line for a problem: `<file>: <pointer>: <message>`, or `<file>: <message>` for a syntax error. */
const cliLine = (file: string, p: { path: string; rule: string; message: string }) => (p.rule === 'syntax' ? `${file}: ${p.message}` : `${file}: ${p.path || '/'}: ${p.message}`);

test('manta search and the daemon refuse the same configs with the same messages, and accept the same', { timeout: 300_000 }, async (t) => {
  assert.ok(existsSync(cli), `${cli} is missing: build first (node esbuild.mjs)`);
  const dir = tempDir();
  const configs = path.join(dir, 'configs');
  await fs.mkdir(configs);
  const daemon = await startDaemon({ dir });
  const client = await connectSocket(daemon.socketPath);
  const good = tinyConfig('same-path') as Record<string, Record<string, unknown>>;
  const write = async (name: string, content: unknown): Promise<string> => {
    const file = path.join(configs, `${name}.manta.json`);
    await fs.writeFile(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return file;
  };
  const variant = (edit: (c: Record<string, Record<string, unknown>>) => void) => {
    const c = structuredClone(good);
    edit(c);
    return c;
  };

  const bad: { name: string; content: unknown; code: number; expect: RegExp[] }[] = [
    {
      name: 'not-json',
      content: '{\n  "name": "secret-looking-value-1234",\n  "seed": ,\n}',
      code: MantaErrorCodes.InvalidConfig,
      expect: [/not valid JSON at line 3, column 11/],
    },
    {
      name: 'schema',
      content: variant((c) => {
        c.training.batchSize = 1e12;
        c.supernet.kernelChoices = [3, 4];
        c.surprise = {};
      }),
      code: MantaErrorCodes.InvalidConfig,
      expect: [/\/training\/batchSize must be <= 4096/, /\/supernet\/kernelChoices\/1 must be one of/, /unknown property 'surprise'/],
    },
    {
      name: 'cross-field',
      content: variant((c) => {
        c.supernet.widthChoices = [0.5, 0.75];
        (c.training.phases as Record<string, unknown>[])[1].kernel = [3, 7];
      }),
      code: MantaErrorCodes.InvalidConfig,
      expect: [/widthChoices must include 1/, /kernel 7 of phase 2 \('kernel'\) is not one of \/supernet\/kernelChoices \[3,5\]/],
    },
    {
      name: 'missing-data',
      content: variant((c) => {
        c.data = { kind: 'idx', classes: 10, trainImages: 'a.gz', trainLabels: 'b.gz', testImages: 'c.gz', testLabels: 'd.gz' };
        c.supernet.resolutionChoices = [28];
      }),
      code: MantaErrorCodes.PathNotFound,
      expect: [/\/data\/trainImages a\.gz does not exist/, /\/data\/testLabels d\.gz does not exist/],
    },
  ];

  try {
    for (const b of bad) {
      await t.test(`refused alike: ${b.name}`, async () => {
        const file = await write(b.name, b.content);
        const [fromCli, fromDaemon] = await Promise.all([
          mantaSearch(file),
          client.connection.sendRequest(StartRunRequest, { configPath: file }).then(
            () => assert.fail('the daemon accepted it'),
            (e: unknown) => e as ResponseError<MantaErrorData>,
          ),
        ]);
        assert.ok(fromDaemon instanceof ResponseError, String(fromDaemon));
        assert.equal(fromDaemon.code, b.code, fromDaemon.message);
        for (const re of b.expect) assert.match(fromDaemon.message, re);
        const problems = fromDaemon.data?.problems ?? [];
        assert.ok(problems.length >= b.expect.length, JSON.stringify(problems));
        // The CLI: exit 2 and exactly one line per problem the daemon listed, in the same order.
        assert.equal(fromCli.status, 2, fromCli.stderr);
        assert.deepEqual(fromCli.stderr.trimEnd().split('\n'), problems.map((p) => cliLine(file, p)));
        for (const p of problems) assert.ok(fromDaemon.message.includes(p.message), p.message);
        // Neither echoes the file's text back.
        assert.ok(!fromCli.stderr.includes('secret-looking-value') && !fromDaemon.message.includes('secret-looking-value'));
      });
    }

    await t.test('accepted alike, with the same warning of the checks across fields', async () => {
      // Every unit down-samples (total stride 32), above the resolution 8: a warning, not a refusal.
      const file = await write('good', variant((c) => (c.supernet.units = (c.supernet.units as object[]).map((u) => ({ ...u, stride: 2 })))));
      const fromCli = await mantaSearch(file, /warning: \/supernet\/resolutionChoices\/0: .*\n/);
      assert.notEqual(fromCli.status, 2, fromCli.stderr);
      assert.match(fromCli.stderr, /^run same-path-\d{8}-\d{6}-[0-9a-f]{4}: /m);
      const cliWarnings = [...fromCli.stderr.matchAll(/^warning: (\/[^:]*): (.*)$/gm)].map((m) => m[2]);
      assert.ok(cliWarnings.some((w) => /resolution 8 is smaller than the supernet's total stride 32/.test(w)), fromCli.stderr);

      const { run } = await client.connection.sendRequest(StartRunRequest, { configPath: file });
      assert.match(run.runId, /^same-path-\d{8}-\d{6}-[0-9a-f]{4}$/);
      client.close();
      await stopDaemon(daemon); // stops the worker; the run's log is flushed and closed
      const logged: string[] = [];
      for await (const e of readEvents(path.join(run.runDir, EVENTS_FILE), { kinds: ['log'] })) {
        if (e.data.level === 'warn') logged.push(e.data.message);
      }
      assert.deepEqual(logged.slice(0, cliWarnings.length), cliWarnings);
    });
  } finally {
    client.close();
    await stopDaemon(daemon);
  }
  await waitFor(() => daemon.proc.exitCode !== null || daemon.proc.signalCode !== null, 10_000, () => 'daemon did not exit');
});
