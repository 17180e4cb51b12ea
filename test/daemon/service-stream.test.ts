// A client starts a run over stdio, detaches, attaches over the socket from seq 0 and receives every event exactly
// once, in order, as the log has them; a slow client does not hold up a fast one or the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import {
  AttachRequest,
  DetachRequest,
  ExportSubnetRequest,
  MeasureLatencyTableRequest,
  ListRunsRequest,
  ShutdownRequest,
  StartRunRequest,
  StartSyntheticRunRequest,
} from '../../daemon/protocol';
import { connectSocket, connectStreams } from '../../daemon/service/client';
import { Collector, readLogSeqs, startDaemon, stopDaemon, tempDir, tinyConfig, waitFor } from './harness';

test('a run started over stdio is replayed exactly once, in order, to a client attaching over the socket', async () => {
  const dir = tempDir();
  await fs.writeFile(path.join(dir, 'tiny.manta.json'), JSON.stringify(tinyConfig('stream')));
  const daemon = await startDaemon({ dir, stdio: true });
  try {
    const stdio = daemon.stdio!;
    const early = new Collector();
    early.register(stdio.connection);
    const { run } = await stdio.connection.sendRequest(StartRunRequest, { configPath: path.join(dir, 'tiny.manta.json') });
    assert.equal(run.status, 'running');
    await stdio.connection.sendRequest(AttachRequest, { runId: run.runId, fromSeq: 0 });
    await waitFor(() => early.of(run.runId).some((e) => e.kind === 'step'), 60000, () => `no step event: ${daemon.stderr()}`);
    assert.deepEqual(await stdio.connection.sendRequest(DetachRequest, { runId: run.runId }), { detached: true });
    const beforeDetach = early.of(run.runId).length;

    const late = new Collector();
    const client = await connectSocket(daemon.socketPath, { beforeListen: (c) => late.register(c) });
    await client.connection.sendRequest(AttachRequest, { runId: run.runId, fromSeq: 0 });
    const events = await waitFor(
      () => {
        const list = late.of(run.runId);
        return list.some((e) => e.kind === 'run.finished') && late.status(run.runId) === 'completed' ? list : undefined;
      },
      90000,
      () => `run did not finish: ${daemon.stderr()}`,
    );
    // Nothing arrives after detaching, and what arrived before is the log's prefix.
    const stdioEvents = early.of(run.runId);
    assert.ok(stdioEvents.length >= beforeDetach && stdioEvents.length < events.length);
    assert.deepEqual(stdioEvents.map((e) => e.seq), stdioEvents.map((_, i) => i));

    assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i), 'every seq exactly once, in order');
    const log = await readLogSeqs(run.runDir);
    assert.equal(events.length, log.length);
    assert.deepEqual(events, log, 'the client saw exactly what the log holds');
    const kinds = new Set(events.map((e) => e.kind));
    for (const k of ['run.started', 'phase', 'step', 'checkpoint', 'evaluation', 'pareto', 'run.finished']) assert.ok(kinds.has(k as never), `has ${k}`);

    const { runs } = await client.connection.sendRequest(ListRunsRequest, {});
    assert.equal(runs.find((r) => r.runId === run.runId)?.status, 'completed');
    assert.equal(runs.find((r) => r.runId === run.runId)?.nextSeq, log.length);

    // The finished run's subnets and latency table, each computed in a worker of the daemon.
    const exported = await client.connection.sendRequest(ExportSubnetRequest, { runId: run.runId, index: 0, outDir: path.join(dir, 'exported') });
    assert.equal(exported.dir, path.join(dir, 'exported'));
    assert.ok(exported.files.includes(path.join(dir, 'exported', 'model.json')));
    assert.ok(exported.validationAccuracy >= 0 && exported.validationAccuracy <= 1);
    const table = await client.connection.sendRequest(MeasureLatencyTableRequest, { runId: run.runId, backend: 'cpu' });
    assert.equal(table.backend.backend, 'cpu');
    assert.ok(table.entries > 0);
    await client.connection.sendRequest(ShutdownRequest, {});
    assert.equal(await daemon.exited, 0);
  } finally {
    await stopDaemon(daemon);
  }
});

test('a slow client falls behind without holding up a fast one; both get every event once', async () => {
  const dir = tempDir();
  const daemon = await startDaemon({ dir, args: ['--synthetic-runs'] });
  try {
    const fast = new Collector();
    const fastClient = await connectSocket(daemon.socketPath, { beforeListen: (c) => fast.register(c) });
    // The slow client's socket stops reading for a while: the daemon's writes to it back up.
    const slowSocket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(daemon.socketPath, () => resolve(s));
      s.once('error', reject);
    });
    const slow = new Collector();
    const slowClient = await connectStreams(slowSocket, slowSocket, { beforeListen: (c) => slow.register(c) });
    const steps = 20000;
    const { run } = await fastClient.connection.sendRequest(StartSyntheticRunRequest, { name: 'flood', steps, extraEventsPerStep: 4, checkpointEvery: 1000 });
    await fastClient.connection.sendRequest(AttachRequest, { runId: run.runId, fromSeq: 0 });
    await slowClient.connection.sendRequest(AttachRequest, { runId: run.runId, fromSeq: 0 });
    slowSocket.pause();
    const total = await waitFor(
      () => (fast.status(run.runId) === 'completed' && fast.of(run.runId).some((e) => e.kind === 'run.finished') ? fast.of(run.runId).length : 0),
      60000,
      () => `fast client did not get the whole run: ${fast.of(run.runId).length} events; ${daemon.stderr()}`,
    );
    const slowSoFar = slow.of(run.runId).length;
    assert.ok(slowSoFar < total, `the paused client is behind (${slowSoFar} of ${total})`);
    slowSocket.resume();
    await waitFor(() => slow.of(run.runId).length >= total, 60000, () => `slow client stuck at ${slow.of(run.runId).length}`);
    for (const events of [fast.of(run.runId), slow.of(run.runId)]) {
      assert.equal(events.length, total);
      assert.ok(events.every((e, i) => e.seq === i), 'every seq once, in order');
    }
    assert.equal(total, steps * 5 + 1 + steps / 1000 + 1, 'run.started, 5 per step, checkpoints, run.finished');
  } finally {
    await stopDaemon(daemon);
  }
});
