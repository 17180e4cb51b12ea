// The extension's daemon connection and host model against the real daemon (dist/manta.js over stdio): handshake,
// host info, Start Search with the built-in synthetic dataset, the run's events replayed and then live, each once
// and in order, and a second watcher served from what the host already holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PROTOCOL_VERSION, StartRunRequest, type RunSummary, type TelemetryEvent } from '../../daemon/protocol';
import { Host } from '../../extension/hosts/host';
import { stdioTransport } from '../../extension/hosts/local-transport';

const ROOT = resolve(__dirname, '../..');
const MANTA = join(ROOT, 'dist/manta.js');
const skip = existsSync(MANTA) ? undefined : 'dist/manta.js is not built: run npm run build';

test('a host connects to the real daemon, starts a search and follows its events to the end', { skip, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'manta-host-'));
  const config = join(dir, 'tiny.manta.json');
  copyFileSync(join(ROOT, 'test/fixtures/extension/tiny.manta.json'), config);
  const stderr: string[] = [];
  const host = new Host('local', 'Local', 'local', async () => stdioTransport({ mantaScript: MANTA, nodePath: process.execPath, cwd: dir, onStderr: (l) => stderr.push(l) }), {
    name: 'manta-test',
    version: '0.0.0',
  });
  try {
    const connection = await host.connect();
    assert.equal(connection.hello.protocolVersion.split('.')[0], PROTOCOL_VERSION.split('.')[0]);
    const snap = host.snapshot();
    assert.equal(snap.state.kind, 'connected');
    assert.ok(snap.info, 'host info loaded on connect');
    assert.ok(snap.info.backends.some((b) => b.name === 'wasm' && b.available));

    const { run } = await host.request(StartRunRequest, { configPath: config });
    host.noteRun(run);
    assert.equal(host.snapshot().runs[0].runId, run.runId);
    const seen: TelemetryEvent[] = [];
    const finished = new Promise<RunSummary>((res) => {
      host.onRunStatus.on((r) => {
        if (r.runId === run.runId && r.status !== 'running') res(r);
      });
    });
    const watch = await host.watch(run.runId, { onEvents: (events) => seen.push(...events) });
    const final = await finished;
    assert.equal(final.status, 'completed', `run ended ${final.status}: ${final.message ?? ''}`);
    // the last events may trail the status notification by a moment
    for (let i = 0; i < 50 && seen.length < final.nextSeq; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(seen.map((e) => e.seq), [...Array(final.nextSeq).keys()], 'every event once, in order');
    const onDisk = readFileSync(join(final.runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as TelemetryEvent).kind);
    assert.deepEqual(seen.map((e) => e.kind), onDisk, 'what the host got is the run log');
    assert.equal(seen[0].kind, 'run.started');
    assert.equal(seen[seen.length - 1].kind, 'run.finished');

    // A second watcher (a reopened monitor) gets everything at once from the host's store.
    const second: TelemetryEvent[] = [];
    const sub2 = await host.watch(run.runId, { onEvents: (events) => second.push(...events) });
    assert.equal(second.length, final.nextSeq);
    sub2.dispose();
    watch.dispose();
  } finally {
    host.dispose();
  }
});
