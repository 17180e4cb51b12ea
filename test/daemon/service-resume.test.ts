// kill -9 of a run's worker, and of the daemon itself, at random points of a real (tiny) training job: the run is
// listed as interrupted, resumes from its last good checkpoint, and ends with the same weights as an uninterrupted run
// with the same seed; its event log stays exact. Set MANTA_TEST_SEED to replay a failing draw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AttachRequest, ListRunsRequest, ResumeRunRequest, StartRunRequest } from '../../daemon/protocol';
import { readLogSeqs, startDaemon, stopDaemon, tempDir, tinyConfig } from './harness';
import { assertExactLog, connect, finalWeights, processGone, reachStep, rng, seed, waitStatus, workerPid } from './resume-helpers';

test(`kill -9 of the worker and of the daemon, then resume: same final weights as an uninterrupted run (seed ${seed})`, async () => {
  const dir = tempDir();
  const configPath = path.join(dir, 'tiny.manta.json');
  await fs.writeFile(configPath, JSON.stringify(tinyConfig('resume', { trainSize: 64, epochs: 2, checkpointEverySteps: 2 })));
  let daemon = await startDaemon({ dir });
  try {
    let { client, seen } = await connect(daemon);
    const start = async () => {
      const { run } = await client.connection.sendRequest(StartRunRequest, { configPath });
      await client.connection.sendRequest(AttachRequest, { runId: run.runId, fromSeq: 0 });
      return run;
    };
    const totalSteps = 16; // 64 images / batch 16 × 4 epochs

    const straight = await start();
    await waitStatus(seen, client, straight.runId, 'completed', daemon);
    const expected = await finalWeights(straight.runDir);
    assert.equal(expected.step, totalSteps);

    // The worker dies at a random step.
    const byWorker = await start();
    await reachStep(seen, byWorker.runId, 1 + rng.int(totalSteps - 2));
    process.kill(workerPid(byWorker.runDir), 'SIGKILL');
    const interrupted = await waitStatus(seen, client, byWorker.runId, 'interrupted', daemon);
    assert.equal(interrupted.resumable, true);
    await client.connection.sendRequest(ResumeRunRequest, { runId: byWorker.runId });
    await waitStatus(seen, client, byWorker.runId, 'completed', daemon);

    // The daemon dies at a random step; its worker follows; a new daemon finds the run interrupted.
    const byDaemon = await start();
    await reachStep(seen, byDaemon.runId, 1 + rng.int(totalSteps - 2));
    daemon.proc.kill('SIGKILL');
    await daemon.exited;
    client.close();
    const orphan = workerPid(byDaemon.runDir);
    await processGone(orphan, 'the worker outlived its daemon');
    daemon = await startDaemon({ dir });
    ({ client, seen } = await connect(daemon));
    const { runs } = await client.connection.sendRequest(ListRunsRequest, {});
    assert.deepEqual(
      runs.map((r) => [r.runId, r.status]),
      [[straight.runId, 'completed'], [byWorker.runId, 'completed'], [byDaemon.runId, 'interrupted']],
    );
    await client.connection.sendRequest(ResumeRunRequest, { runId: byDaemon.runId });
    await waitStatus(seen, client, byDaemon.runId, 'completed', daemon);

    for (const run of [byWorker, byDaemon]) {
      const got = await finalWeights(run.runDir);
      assert.equal(got.step, expected.step);
      assert.deepEqual(Object.keys(got.weights).sort(), Object.keys(expected.weights).sort());
      for (const name of Object.keys(expected.weights)) assert.ok(got.weights[name].equals(expected.weights[name]), `weights ${name} of ${run.runId} equal bit for bit`);
      await assertExactLog(run.runDir);
      // Killed after a checkpoint: continued from it; killed before the first: started over (both leave one run's log).
      const log = await readLogSeqs(run.runDir);
      const resumed = log.find((e) => e.kind === 'log' && /^resuming from the checkpoint of step (\d+)/.test((e.data as { message: string }).message));
      const started = log.filter((e) => e.kind === 'run.started').map((e) => (e.data as { resumedFromStep?: number }).resumedFromStep);
      if (resumed) assert.deepEqual(started, [undefined, Number(/step (\d+)/.exec((resumed.data as { message: string }).message)![1])]);
      else assert.deepEqual(started, [undefined]);
    }
  } finally {
    await stopDaemon(daemon);
  }
});
