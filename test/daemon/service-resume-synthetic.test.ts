// Resume mechanics on synthetic runs (seconds, not minutes): several kills of the worker at random steps, and the
// debris of a crash mid-write — a torn last log line, a half-written checkpoint — skipped with warnings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ListRunsRequest, ResumeRunRequest } from '../../daemon/protocol';
import { listCheckpointFiles } from '../../daemon/train/checkpoint-files';
import { readLogSeqs, startDaemon, stopDaemon, tempDir, waitFor } from './harness';
import { assertExactLog, connect, finalWeights, processGone, reachStep, rng, seed, startAttached, waitStatus, workerPid } from './resume-helpers';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test(`a synthetic run killed three times at random steps resumes each time to the uninterrupted weights (seed ${seed})`, async () => {
  const dir = tempDir();
  const daemon = await startDaemon({ dir, args: ['--synthetic-runs'] });
  try {
    const { client, seen } = await connect(daemon);
    const params = { name: 'synthetic', steps: 3000, checkpointEvery: 100, stepWorkMs: 0.5 };
    const start = () => startAttached(client, params);
    const straight = await start();
    await waitStatus(seen, client, straight.runId, 'completed', daemon);
    const expected = await finalWeights(straight.runDir);

    const killed = await start();
    let reached = 0;
    let lastPid = 0;
    for (let i = 0; i < 3; i++) {
      // The resumed worker must be up (run.json names it) before we pick the next point: the old pid file would
      // name a dead process, and events kept from before the cut-back must not count as progress of the new one.
      const pid = await waitFor(() => {
        const p = workerPid(killed.runDir);
        return p !== lastPid && isAlive(p) ? p : undefined;
      }, 90000, () => `the worker of run ${killed.runId} did not start`);
      const seenStep = Math.max(0, ...seen.of(killed.runId).map((e) => (e.kind === 'step' ? e.data.step : 0)));
      // Kill points stay in the first 70% of the run, so the worker is still training when the kill lands.
      reached = Math.min(Math.floor(params.steps * 0.7), Math.max(reached, seenStep) + 1 + rng.int(500));
      await reachStep(seen, killed.runId, reached);
      process.kill(pid, 'SIGKILL');
      lastPid = pid;
      await waitStatus(seen, client, killed.runId, 'interrupted', daemon);
      await client.connection.sendRequest(ResumeRunRequest, { runId: killed.runId });
    }
    await waitStatus(seen, client, killed.runId, 'completed', daemon);
    const got = await finalWeights(killed.runDir);
    assert.equal(got.step, params.steps);
    assert.ok(got.weights.w.equals(expected.weights.w));
    await assertExactLog(killed.runDir);
    // The attached client dropped what each cut-back voided and holds the log exactly.
    assert.deepEqual(seen.of(killed.runId), await readLogSeqs(killed.runDir));
    assert.equal(seen.truncations.filter((t) => t.runId === killed.runId).length, 3);
  } finally {
    await stopDaemon(daemon);
  }
});

test('a torn last log line and a half-written checkpoint are skipped with warnings, never a crash', async () => {
  const dir = tempDir();
  let daemon = await startDaemon({ dir, args: ['--synthetic-runs'] });
  try {
    let { client, seen } = await connect(daemon);
    const params = { name: 'torn', steps: 1200, checkpointEvery: 100, stepWorkMs: 1 };
    const run = await startAttached(client, params);
    await reachStep(seen, run.runId, 450);
    daemon.proc.kill('SIGKILL');
    await daemon.exited;
    client.close();
    const pid = workerPid(run.runDir);
    await processGone(pid, 'the worker outlived its daemon');
    // What a crash mid-write leaves: half a checkpoint (newest), half a log line.
    const files = await listCheckpointFiles(path.join(run.runDir, 'checkpoints'));
    const newest = files[files.length - 1];
    const bytes = await fs.readFile(newest.path);
    await fs.writeFile(newest.path, bytes.subarray(0, bytes.length >> 1));
    await fs.appendFile(path.join(run.runDir, 'events.jsonl'), '{"seq":999999,"kind":"step","ti');

    daemon = await startDaemon({ dir, args: ['--synthetic-runs'] });
    ({ client, seen } = await connect(daemon));
    const listed = (await client.connection.sendRequest(ListRunsRequest, {})).runs[0];
    assert.equal(listed.status, 'interrupted');
    assert.match(daemon.stderr(), /cut off \d+ bytes of a truncated last line/);
    await client.connection.sendRequest(ResumeRunRequest, { runId: run.runId });
    await waitStatus(seen, client, run.runId, 'completed', daemon);
    assert.match(daemon.stderr(), new RegExp(`discarding checkpoint ${path.basename(newest.path)}: .*`));
    const log = await readLogSeqs(run.runDir);
    const resumedAt = log.find((e) => e.kind === 'run.started' && (e.data as { resumedFromStep?: number }).resumedFromStep !== undefined);
    assert.equal((resumedAt?.data as { resumedFromStep: number }).resumedFromStep, files[files.length - 2].step, 'resumed from the checkpoint before the broken one');
    await assertExactLog(run.runDir);
    assert.equal((await finalWeights(run.runDir)).step, params.steps);
  } finally {
    await stopDaemon(daemon);
  }
});
