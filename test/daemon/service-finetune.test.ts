// Fine-tuning through the daemon (manta/finetune): a finished tiny run's front subnet is trained further as a new
// derived run in a worker — followed like any run (attach: a 'finetune' phase, steps, the subnet's evaluations), its
// results (before and after, the fine-tuned model among its files) through the protocol — while the source run's
// folder stays byte for byte the same. A run that has not completed, an index outside the front and settings out of
// range are refused before any run is made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { AttachRequest, FinetuneRequest, GetRunResultsRequest, ListRunFilesRequest, ListRunsRequest, MantaErrorCodes } from '../../daemon/protocol';
import { fileHashes, readLogSeqs, refusedWith, startDaemon, startTinyRun, stopDaemon, tempDir } from './harness';
import { connect, waitStatus } from './resume-helpers';

test('manta/finetune trains a front subnet of a finished run as a new derived run; the source stays untouched', async () => {
  const dir = tempDir();
  const daemon = await startDaemon({ dir });
  try {
    const { client, seen } = await connect(daemon);
    const c = client.connection;
    const { run: source } = await startTinyRun(c, dir, 'tune');
    await assert.rejects(c.sendRequest(FinetuneRequest, { runId: source.runId, index: 0 }), refusedWith(MantaErrorCodes.InvalidRunState, /made from a completed run/));
    await waitStatus(seen, client, source.runId, 'completed', daemon, 180_000);
    const before = fileHashes(source.runDir);
    const sourceResults = (await c.sendRequest(GetRunResultsRequest, { runId: source.runId })).results;
    const runsBefore = (await c.sendRequest(ListRunsRequest, {})).runs.length;

    // Refused before a run is made: the daemon's messages are the CLI's.
    const n = sourceResults.front.length;
    await assert.rejects(c.sendRequest(FinetuneRequest, { runId: source.runId, index: n }), refusedWith(MantaErrorCodes.UserError, /front has \d+ entr/, 'run.bad-arch'));
    await assert.rejects(c.sendRequest(FinetuneRequest, { runId: source.runId }), refusedWith(MantaErrorCodes.UserError, /say which subnet/, 'run.bad-arch'));
    await assert.rejects(c.sendRequest(FinetuneRequest, { runId: source.runId, index: 0, epochs: 0 }), refusedWith(MantaErrorCodes.InvalidParams, /epochs/));
    assert.equal((await c.sendRequest(ListRunsRequest, {})).runs.length, runsBefore, 'no run made for a refused request');

    const { run } = await c.sendRequest(FinetuneRequest, { runId: source.runId, index: 0, epochs: 1, kdRatio: 0 });
    assert.deepEqual(run.derivedFrom, { runId: source.runId, kind: 'finetune' });
    assert.equal(path.dirname(run.runDir), path.dirname(source.runDir), 'the new run lies beside its source');
    await c.sendRequest(AttachRequest, { runId: run.runId, fromSeq: 0 });
    const done = await waitStatus(seen, client, run.runId, 'completed', daemon, 120_000);
    assert.equal(done.progress.phase, 'finetune');

    // What the monitor was sent: the run's events, with the fine-tune's phase, steps and evaluations.
    const events = seen.of(run.runId);
    assert.deepEqual(events.flatMap((e) => (e.kind === 'phase' ? [e.data.phase] : [])), ['finetune']);
    const steps = events.flatMap((e) => (e.kind === 'step' ? [e.data.step] : []));
    assert.ok(steps.length > 0 && steps[0] === 0, `steps ${steps.join(',')}`);
    assert.ok(events.some((e) => e.kind === 'evaluation' && e.data.subnet === 'subnet' && e.data.split === 'test' && e.data.step === 0));
    assert.deepEqual((await readLogSeqs(run.runDir)).map((e) => e.seq), events.map((e) => e.seq), 'the log holds what was streamed');

    // Its results through the protocol: before and after, no teacher asked for, the model among its files.
    const { results } = await c.sendRequest(GetRunResultsRequest, { runId: run.runId });
    const summary = results.finetune;
    assert.ok(summary, 'results.json has the fine-tune summary');
    assert.equal(summary.sourceRunId, source.runId);
    assert.deepEqual(summary.arch, sourceResults.front[0].arch);
    assert.equal(summary.teacher, 'none');
    assert.ok(Math.abs(summary.before.testAccuracy - sourceResults.front[0].testAccuracy!) < 1e-6);
    assert.equal(results.front[0].testAccuracy, summary.after.testAccuracy);
    const { files } = await c.sendRequest(ListRunFilesRequest, { runId: run.runId });
    const names = files.map((f) => f.file);
    for (const f of ['results', 'config', 'subnets/0/model.json', 'subnets/0/weights.bin', 'subnets/0/model.onnx']) assert.ok(names.includes(f), `${f} in ${names.join(', ')}`);

    assert.deepEqual(fileHashes(source.runDir), before, 'the source run was only read');
  } finally {
    await stopDaemon(daemon);
  }
});
