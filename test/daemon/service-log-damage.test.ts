// What a hostile disk does to run folders, through a real daemon: a log converted to CRLF, a damaged line in the
// middle of a log (it still starts with {"seq":N, and ends with } but is not JSON), an events.jsonl that is a symlink,
// a torn last line after a damaged complete one, a run.json that cannot be read. The daemon repairs only the torn
// line, never changes a finished run's log or a link's target, serves every frame as valid JSON (the damaged line
// skipped with a warning to clients), and lists the run it cannot read so that it can be deleted. And an event
// reaches a client only once it is in the log file, so whatever a client saw survives a kill -9 of the daemon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fs, lstatSync } from 'node:fs';
import * as path from 'node:path';
import {
  AttachRequest,
  DaemonLogNotification,
  DeleteRunRequest,
  ListRunsRequest,
  StartSyntheticRunRequest,
  type DaemonLogParams,
  type RunSummary,
} from '../../daemon/protocol';
import { connectSocket } from '../../daemon/service/client';
import { Collector, startDaemon, stopDaemon, tempDir, waitFor, type TestDaemon } from './harness';
import { processGone, reachStep, waitStatus, workerPid } from './resume-helpers';

async function connectWithLog(daemon: TestDaemon) {
  const seen = new Collector();
  const logs: DaemonLogParams[] = [];
  const client = await connectSocket(daemon.socketPath, {
    beforeListen: (c) => {
      seen.register(c);
      c.onNotification(DaemonLogNotification.method, (p: DaemonLogParams) => void logs.push(p));
    },
  });
  return { client, seen, logs };
}

const eventsFile = (run: RunSummary) => path.join(run.runDir, 'events.jsonl');

test('CRLF, a damaged middle line, a symlinked log, a torn tail and an unreadable run.json: repaired only where torn, served as valid frames, listed', { timeout: 300_000 }, async () => {
  const dir = tempDir();
  let daemon = await startDaemon({ dir, args: ['--synthetic-runs'] });
  try {
    let { client, seen, logs } = await connectWithLog(daemon);
    const params = { steps: 300, checkpointEvery: 50 };
    const started: RunSummary[] = [];
    for (const name of ['crlf', 'middle', 'linked', 'unreadable']) {
      const { run } = await client.connection.sendRequest(StartSyntheticRunRequest, { name, ...params });
      await client.connection.sendRequest(AttachRequest, { runId: run.runId, fromSeq: 0 });
      started.push(run);
    }
    for (const run of started) await waitStatus(seen, client, run.runId, 'completed', daemon);
    const [crlf, middle, linked, unreadable] = started;
    const { run: torn } = await client.connection.sendRequest(StartSyntheticRunRequest, { name: 'torn', steps: 100000, checkpointEvery: 50, stepWorkMs: 0.2 });
    await client.connection.sendRequest(AttachRequest, { runId: torn.runId, fromSeq: 0 });
    await reachStep(seen, torn.runId, 120);
    daemon.proc.kill('SIGKILL');
    await daemon.exited;
    client.close();
    await processGone(workerPid(torn.runDir), 'the worker outlived its daemon');

    // The damage.
    const crlfBytes = Buffer.from((await fs.readFile(eventsFile(crlf), 'utf8')).replace(/\n/g, '\r\n'));
    await fs.writeFile(eventsFile(crlf), crlfBytes);
    const crlfCount = crlfBytes.toString().split('\r\n').filter(Boolean).length;

    const lines = (await fs.readFile(eventsFile(middle), 'utf8')).split('\n');
    const k = Math.floor(lines.length / 2);
    assert.match(lines[k], new RegExp(`^\\{"seq":${k},`));
    lines[k] = `{"seq":${k},"kind":"step","time":1,"data":{"oops"}}`; // looks like an event, is not JSON
    const middleBytes = Buffer.from(lines.join('\n'));
    await fs.writeFile(eventsFile(middle), middleBytes);

    const target = path.join(dir, 'elsewhere.jsonl');
    await fs.rename(eventsFile(linked), target);
    await fs.appendFile(target, '{"seq":99999,"kind":"log","time":1,"data":{"broken"}}\n'); // a complete, damaged last line
    const targetBytes = await fs.readFile(target);
    await fs.symlink(target, eventsFile(linked));

    await fs.writeFile(path.join(unreadable.runDir, 'run.json'), '{"format":1, "runId": "unreadable-');

    const damagedLine = `{"seq":999998,"kind":"step","time":1,"data":{"x"}}\n`;
    await fs.appendFile(eventsFile(torn), damagedLine);
    const tornKept = await fs.readFile(eventsFile(torn));
    await fs.appendFile(eventsFile(torn), '{"seq":999999,"kind":"st');

    daemon = await startDaemon({ dir, args: ['--synthetic-runs'] });
    ({ client, seen, logs } = await connectWithLog(daemon));
    const { runs } = await client.connection.sendRequest(ListRunsRequest, {});
    const status = (r: RunSummary) => runs.find((x) => x.runId === r.runId);
    assert.equal(status(crlf)?.status, 'completed');
    assert.equal(status(middle)?.status, 'completed');
    assert.equal(status(linked)?.status, 'completed');
    assert.equal(status(torn)?.status, 'interrupted');

    // Only the torn last line was cut; the damaged complete line before it stays.
    assert.deepEqual(await fs.readFile(eventsFile(torn)), tornKept);
    assert.match(daemon.stderr(), /cut off 24 bytes of a truncated last line/);
    // A finished run's logs are never changed: CRLF, damaged middle line; a link and its target are left alone.
    assert.deepEqual(await fs.readFile(eventsFile(crlf)), crlfBytes);
    assert.deepEqual(await fs.readFile(eventsFile(middle)), middleBytes);
    assert.ok(lstatSync(eventsFile(linked)).isSymbolicLink());
    assert.deepEqual(await fs.readFile(target), targetBytes);
    assert.match(daemon.stderr(), /events\.jsonl is a symbolic link; MANTA does not follow links/);

    // The run whose run.json cannot be read is listed, failed, with a message naming the file and what to do.
    const listed = status(unreadable);
    assert.equal(listed?.status, 'failed');
    assert.equal(listed?.resumable, false);
    assert.ok(listed?.message?.includes(path.join(unreadable.runDir, 'run.json')), listed?.message);
    assert.match(listed?.message ?? '', /cannot be read .*delete the run/);

    // Replays: CRLF read as lines, every event; the damaged middle line skipped with a warning, the rest served.
    for (const run of [crlf, middle, linked]) await client.connection.sendRequest(AttachRequest, { runId: run.runId, fromSeq: 0 }).catch(() => undefined);
    await waitFor(() => seen.of(crlf.runId).length === crlfCount, 20000, () => `CRLF replay: ${seen.of(crlf.runId).length} of ${crlfCount}`);
    assert.deepEqual(seen.of(crlf.runId).map((e) => e.seq), Array.from({ length: crlfCount }, (_, i) => i));
    const want = lines.filter(Boolean).length - 1;
    await waitFor(() => seen.of(middle.runId).length === want, 20000, () => `damaged replay: ${seen.of(middle.runId).length} of ${want}`);
    assert.deepEqual(seen.of(middle.runId).map((e) => e.seq), Array.from({ length: want + 1 }, (_, i) => i).filter((i) => i !== k));
    await waitFor(() => logs.some((l) => l.runId === middle.runId && /skipping 1 corrupt line/.test(l.message)), 5000, () => `no warning: ${JSON.stringify(logs)}`);

    // It can be deleted: its pointer and its folder go.
    await client.connection.sendRequest(DeleteRunRequest, { runId: unreadable.runId });
    assert.equal(existsSync(unreadable.runDir), false);
    assert.equal((await client.connection.sendRequest(ListRunsRequest, {})).runs.some((r) => r.runId === unreadable.runId), false);
    client.close();
  } finally {
    await stopDaemon(daemon);
  }
});

/** Kills a daemon that may be paused for good (a SIGTERM would wait on its stalled log). */
async function killDaemon(daemon: TestDaemon): Promise<void> {
  if (daemon.proc.exitCode === null && daemon.proc.signalCode === null) daemon.proc.kill('SIGKILL');
  await daemon.exited;
}

test('an event reaches a client only once it is in the log file: after a kill -9, the log holds all a client saw', { timeout: 300_000 }, async () => {
  const dir = tempDir();
  const pauseLog = path.join(dir, 'paused.log');
  await fs.writeFile(pauseLog, '');
  // The log's write of the first checkpoint's event stalls (test-only pause): events pile up in memory.
  const daemon = await startDaemon({ dir, args: ['--synthetic-runs'], env: { MANTA_TEST_PAUSE_AT: 'log.before-checkpoint-write#1', MANTA_TEST_PAUSE_LOG: pauseLog } });
  try {
    const { client, seen } = await connectWithLog(daemon);
    const { run } = await client.connection.sendRequest(StartSyntheticRunRequest, { name: 'order', steps: 1000, checkpointEvery: 200, stepWorkMs: 1 });
    await client.connection.sendRequest(AttachRequest, { runId: run.runId, fromSeq: 0 });
    await waitFor(async () => (await fs.readFile(pauseLog, 'utf8')).includes(run.runId), 30000, () => 'the log never paused');
    await waitFor(() => seen.of(run.runId).some((e) => e.kind === 'step'), 10000, () => 'no events');
    await new Promise((r) => setTimeout(r, 300)); // the worker goes on emitting; nothing more reaches the file
    daemon.proc.kill('SIGKILL');
    await daemon.exited;
    client.close();
    await processGone(workerPid(run.runDir), 'the worker outlived its daemon');
    const onDisk = (await fs.readFile(eventsFile(run), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { seq: number; kind: string });
    const got = seen.of(run.runId);
    assert.ok(got.length > 0);
    assert.ok(got.every((e) => e.kind !== 'checkpoint'), 'the checkpoint event, never written, was never served');
    assert.deepEqual(got.map((e) => [e.seq, e.kind]), onDisk.slice(0, got.length).map((e) => [e.seq, e.kind]));
    assert.ok(got.length <= onDisk.length, `a client saw ${got.length} events, the log holds ${onDisk.length}`);
  } finally {
    await killDaemon(daemon);
  }
});
