// Search again without retraining (manta/searchAgain): a finished tiny run is searched for another objective and a
// constraint as a new derived run — no training steps, its own events, a front under the constraint, `derivedFrom`
// in run.json, the run summary and results.json — while the source run's folder stays byte for byte the same; a run
// that has not completed is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { AttachRequest, GetRunResultsRequest, MantaErrorCodes, SearchAgainRequest } from '../../daemon/protocol';
import { fileHashes, readLogSeqs, refusedWith, startDaemon, startTinyRun, stopDaemon, tempDir } from './harness';
import { connect, waitStatus } from './resume-helpers';

test('a finished run is searched again for another objective and constraint as a new derived run; the source stays untouched', async () => {
  const dir = tempDir();
  const daemon = await startDaemon({ dir });
  try {
    const { client, seen } = await connect(daemon);
    const c = client.connection;
    const { run: source } = await startTinyRun(c, dir, 'again');

    // Not completed yet: refused, naming the state.
    await assert.rejects(c.sendRequest(SearchAgainRequest, { runId: source.runId, objective: 'params' }), refusedWith(MantaErrorCodes.InvalidRunState, /made from a completed run/));
    await waitStatus(seen, client, source.runId, 'completed', daemon, 180_000);
    const before = fileHashes(source.runDir);
    const sourceResults = (await c.sendRequest(GetRunResultsRequest, { runId: source.runId })).results;
    assert.equal(sourceResults.objective, 'macs');

    // A params objective under a params bound between the smallest and the largest measured subnet.
    const params = sourceResults.measured.map((m) => m.params).sort((a, b) => a - b);
    const maxParams = params[Math.floor(params.length / 2)];
    const { run: derived } = await c.sendRequest(SearchAgainRequest, { runId: source.runId, objective: 'params', constraints: { maxParams } });
    assert.deepEqual(derived.derivedFrom, { runId: source.runId, kind: 'search' });
    assert.notEqual(derived.runDir, source.runDir);
    assert.equal(path.dirname(derived.runDir), path.dirname(source.runDir), 'the derived run lies beside its source');
    await c.sendRequest(AttachRequest, { runId: derived.runId, fromSeq: 0 });
    await waitStatus(seen, client, derived.runId, 'completed', daemon, 120_000);

    // Its own events: no training, a search, one run.finished.
    const log = await readLogSeqs(derived.runDir);
    const kinds = new Set(log.map((e) => e.kind));
    for (const training of ['step', 'phase', 'checkpoint', 'measure.progress']) assert.ok(!kinds.has(training), `no ${training} events in a search again (got ${[...kinds].join(', ')})`);
    for (const searched of ['run.started', 'predictor', 'search.generation', 'pareto']) assert.ok(kinds.has(searched), `a ${searched} event`);
    assert.equal(log.filter((e) => e.kind === 'run.finished').length, 1);
    assert.ok(!existsSync(path.join(derived.runDir, 'checkpoints')), 'no checkpoints: the supernet is the source run\'s');

    // run.json and results.json record where it comes from; the front is for the new objective, under the bound.
    const meta = JSON.parse(readFileSync(path.join(derived.runDir, 'run.json'), 'utf8')) as { derivedFrom?: unknown; status: string };
    assert.deepEqual(meta.derivedFrom, { runId: source.runId, kind: 'search' });
    const { results } = await c.sendRequest(GetRunResultsRequest, { runId: derived.runId });
    assert.deepEqual(results.derivedFrom, { runId: source.runId, kind: 'search' });
    assert.equal(results.objective, 'params');
    assert.deepEqual(results.constraints, { maxParams });
    assert.ok(results.front.length > 0, 'a front');
    for (const p of results.front) {
      assert.ok(p.params <= maxParams, `front subnet within the bound: ${p.params} > ${maxParams}`);
      assert.equal(typeof p.testAccuracy, 'number', 'test accuracy measured for every front entry');
      assert.ok(p.source === 'measured' || p.source === 'searched');
      assert.ok(existsSync(path.join(derived.runDir, p.model!)), `front entry ${p.index} exported`);
    }
    const stored = JSON.parse(readFileSync(path.join(derived.runDir, 'config.json'), 'utf8')) as { search: { objective: string } };
    assert.equal(stored.search.objective, 'params');

    // The source run is exactly as it was.
    assert.deepEqual(fileHashes(source.runDir), before);
  } finally {
    await stopDaemon(daemon);
  }
});
