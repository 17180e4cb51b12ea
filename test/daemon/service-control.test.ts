// Run control on synthetic runs: pause and resume, stop (running or paused), the state errors, and a shutdown that
// leaves a running run resumable by the next daemon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseError } from 'vscode-jsonrpc/node';
import {
  ListRunsRequest,
  MantaErrorCodes,
  PauseRunRequest,
  ResumeRunRequest,
  ShutdownRequest,
  StopRunRequest,
} from '../../daemon/protocol';
import { readLogSeqs, startDaemon, stopDaemon, tempDir } from './harness';
import { assertExactLog, connect, finalWeights, reachStep, startAttached, waitStatus } from './resume-helpers';

async function stateError(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof ResponseError && e.code === MantaErrorCodes.InvalidRunState && pattern.test(e.message));
}

test('pause, resume, stop, and what each status refuses', async () => {
  const dir = tempDir();
  const daemon = await startDaemon({ dir, args: ['--synthetic-runs'] });
  try {
    const { client, seen } = await connect(daemon);
    const c = client.connection;
    const params = { name: 'control', steps: 1500, checkpointEvery: 100, stepWorkMs: 1 };
    const run = await startAttached(client, params);
    await stateError(c.sendRequest(ResumeRunRequest, { runId: run.runId }), /is running; only a paused or interrupted run can be resumed/);
    await reachStep(seen, run.runId, 300);
    const paused = (await c.sendRequest(PauseRunRequest, { runId: run.runId })).run;
    assert.deepEqual([paused.status, paused.resumable], ['paused', true]);
    await stateError(c.sendRequest(PauseRunRequest, { runId: run.runId }), /is paused; only a running run can be paused/);
    assert.equal((await c.sendRequest(ResumeRunRequest, { runId: run.runId })).run.status, 'running');
    await waitStatus(seen, client, run.runId, 'completed', daemon);
    assert.equal((await finalWeights(run.runDir)).step, params.steps);
    await assertExactLog(run.runDir);
    await stateError(c.sendRequest(StopRunRequest, { runId: run.runId }), /is completed/);

    // Stop while running: final, with a run.finished saying so.
    const second = await startAttached(client, { ...params, name: 'stopped' });
    await reachStep(seen, second.runId, 200);
    const stopped = (await c.sendRequest(StopRunRequest, { runId: second.runId })).run;
    assert.deepEqual([stopped.status, stopped.resumable], ['stopped', false]);
    const log = await readLogSeqs(second.runDir);
    assert.deepEqual(log[log.length - 1].kind === 'run.finished' && (log[log.length - 1].data as { status: string }).status, 'stopped');
    await stateError(c.sendRequest(ResumeRunRequest, { runId: second.runId }), /is stopped/);

    // Stop while paused.
    const third = await startAttached(client, { ...params, name: 'paused-then-stopped' });
    await reachStep(seen, third.runId, 100);
    await c.sendRequest(PauseRunRequest, { runId: third.runId });
    assert.equal((await c.sendRequest(StopRunRequest, { runId: third.runId })).run.status, 'stopped');
    const thirdLog = await readLogSeqs(third.runDir);
    assert.equal((thirdLog[thirdLog.length - 1].data as { status?: string }).status, 'stopped');
  } finally {
    await stopDaemon(daemon);
  }
});

test('shutdown stops the workers; the next daemon lists their runs as interrupted and resumes them', async () => {
  const dir = tempDir();
  let daemon = await startDaemon({ dir, args: ['--synthetic-runs'] });
  try {
    let { client, seen } = await connect(daemon);
    const params = { name: 'shutdown', steps: 2000, checkpointEvery: 100, stepWorkMs: 1 };
    const run = await startAttached(client, params);
    await reachStep(seen, run.runId, 250);
    assert.deepEqual(await client.connection.sendRequest(ShutdownRequest, {}), { interruptedRuns: [run.runId] });
    assert.equal(await daemon.exited, 0);
    client.close();

    daemon = await startDaemon({ dir, args: ['--synthetic-runs'] });
    ({ client, seen } = await connect(daemon));
    const listed = (await client.connection.sendRequest(ListRunsRequest, {})).runs;
    assert.deepEqual(listed.map((r) => [r.runId, r.status, r.resumable]), [[run.runId, 'interrupted', true]]);
    await client.connection.sendRequest(ResumeRunRequest, { runId: run.runId });
    await waitStatus(seen, client, run.runId, 'completed', daemon);
    assert.equal((await finalWeights(run.runDir)).step, params.steps);
    await assertExactLog(run.runDir);
  } finally {
    await stopDaemon(daemon);
  }
});
