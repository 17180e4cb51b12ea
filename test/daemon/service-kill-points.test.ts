// kill -9 of the daemon at named points around a checkpoint — after the rename of a new checkpoint and before its
// event reaches the log, with the event in the daemon's memory but not yet written, written but not yet confirmed to
// the worker, confirmed but not yet pruned, in the middle of pruning, and inside a resume (after the pick, after the
// cut) — made exact by the test-only pause points (daemon/train/test-pause.ts). Several runs share each daemon, each
// paused at the same point, so one kill -9 is a kill point of each. Before every resume the newest checkpoint whose
// event is in the log must still be on disk, and the resume must continue from it; at the end each run completes with
// the weights of an uninterrupted run. With keepCheckpoints 1, deleting the older checkpoint before the newer one is
// recorded loses all training: that is what this catches. A real (tiny) training job gets three such kills and must
// end bit-identical to an uninterrupted run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ListRunsRequest, ResumeRunRequest, StartRunRequest, StartSyntheticRunRequest, type RunSummary } from '../../daemon/protocol';
import type { DaemonClient } from '../../daemon/service/client';
import { decodeCheckpoint } from '../../daemon/train/checkpoint-codec';
import { checkpointFileName } from '../../daemon/train/checkpoint-files';
import { startDaemon, stopDaemon, tempDir, tinyConfig, waitFor, type TestDaemon } from './harness';
import { assertExactLog, connect, finalWeights, processGone, waitStatus } from './resume-helpers';

interface Line {
  seq: number;
  kind: string;
  data: Record<string, unknown>;
}

async function readLog(runDir: string): Promise<Line[]> {
  const out: Line[] = [];
  for (const line of (await fs.readFile(path.join(runDir, 'events.jsonl'), 'utf8')).split('\n')) {
    try {
      out.push(JSON.parse(line) as Line);
    } catch {
      // a torn last line: not recorded
    }
  }
  return out;
}

/** The newest checkpoint recorded in the log: the last `checkpoint` event. */
async function newestRecorded(runDir: string): Promise<{ step: number; seq: number } | undefined> {
  const log = await readLog(runDir);
  const last = log.filter((e) => e.kind === 'checkpoint').pop();
  return last ? { step: last.data.step as number, seq: last.seq } : undefined;
}

function workerPidOf(runDir: string): Promise<number | undefined> {
  return fs
    .readFile(path.join(runDir, 'run.json'), 'utf8')
    .then((t) => (JSON.parse(t) as { workerPid?: number }).workerPid)
    .catch(() => undefined);
}

interface Cycle {
  /** `<point>#<n>` (MANTA_TEST_PAUSE_AT). */
  at: string;
  /** Whether the pause lies inside the resume request (the resume's log message is not written then). */
  inResume: boolean;
}

/**
 * One kill point for each of `runs`: a daemon whose every run pauses at `cycle.at`; resumes them all, waits until
 * each has paused, and kills the daemon. Before resuming, checks that each run's newest recorded checkpoint is on disk
 * and decodes; after the kill, that the resume continued from it. Returns how many resumes were checked so.
 */
async function killCycle(dir: string, cycle: Cycle, runs: RunSummary[], args: string[]): Promise<number> {
  const pauseLog = path.join(dir, 'paused.log');
  await fs.writeFile(pauseLog, '');
  const daemon = await startDaemon({ dir, args, env: { MANTA_TEST_PAUSE_AT: cycle.at, MANTA_TEST_PAUSE_LOG: pauseLog } });
  let checked = 0;
  try {
    const { client } = await connect(daemon);
    const listed = (await client.connection.sendRequest(ListRunsRequest, {})).runs;
    const expected = new Map<string, { step: number; seq: number } | undefined>();
    for (const run of runs) {
      assert.equal(listed.find((r) => r.runId === run.runId)?.status, 'interrupted', `run ${run.runId} is listed as interrupted before ${cycle.at}`);
      const recorded = await newestRecorded(run.runDir);
      if (recorded) {
        // The invariant: the newest checkpoint whose event is in the log is still on disk, whole.
        const file = path.join(run.runDir, 'checkpoints', checkpointFileName(recorded.step));
        assert.ok(existsSync(file), `run ${run.runId}: the newest recorded checkpoint (step ${recorded.step}) is on disk before resuming at ${cycle.at}`);
        decodeCheckpoint(await fs.readFile(file), file);
      }
      expected.set(run.runId, recorded);
      // A pause inside the resume request holds its answer back: do not wait for it.
      client.connection.sendRequest(ResumeRunRequest, { runId: run.runId }).catch(() => undefined);
    }
    await waitFor(
      async () => {
        const text = await fs.readFile(pauseLog, 'utf8');
        return runs.every((r) => text.includes(r.runId));
      },
      60000,
      () => `not every run paused at ${cycle.at}: ${daemon.stderr().slice(-1500)}`,
    );
    const pids = await Promise.all(runs.map((r) => workerPidOf(r.runDir)));
    daemon.proc.kill('SIGKILL');
    await daemon.exited;
    client.close();
    if (!cycle.inResume) {
      for (const pid of pids) if (pid) await processGone(pid, `worker ${pid} outlived its daemon`);
      for (const run of runs) {
        const want = expected.get(run.runId);
        const log = await readLog(run.runDir);
        // The resume cut the log back to the recorded checkpoint's event and said what it continues from, right after.
        const said = log.find((e) => e.seq === (want ? want.seq + 1 : 0) && e.kind === 'log');
        const message = String(said?.data.message);
        if (want) assert.equal(message, `resuming from the checkpoint of step ${want.step}`, `run ${run.runId} at ${cycle.at}`);
        else assert.match(message, /^no usable checkpoint/, `run ${run.runId} at ${cycle.at}`);
        const started = log.find((e) => e.kind === 'run.started' && e.seq > (want?.seq ?? -1));
        if (started) assert.equal(started.data.resumedFromStep, want?.step, `run ${run.runId}: the worker resumed from step ${want?.step}`);
        checked++;
      }
    } else {
      for (const pid of pids) if (pid) await processGone(pid, `worker ${pid} outlived its daemon`).catch(() => undefined);
    }
  } finally {
    if (daemon.proc.exitCode === null && daemon.proc.signalCode === null) daemon.proc.kill('SIGKILL');
    await daemon.exited;
  }
  return checked;
}

/** Starts `count` runs and kills the daemon at their first checkpoint's rename (so every run starts interrupted). */
async function startRuns(dir: string, args: string[], start: (client: DaemonClient, i: number) => Promise<RunSummary>, count: number): Promise<RunSummary[]> {
  const pauseLog = path.join(dir, 'paused.log');
  await fs.writeFile(pauseLog, '');
  const daemon = await startDaemon({ dir, args, env: { MANTA_TEST_PAUSE_AT: 'checkpoint.renamed#1', MANTA_TEST_PAUSE_LOG: pauseLog } });
  const runs: RunSummary[] = [];
  try {
    const { client } = await connect(daemon);
    for (let i = 0; i < count; i++) runs.push(await start(client, i));
    await waitFor(() => runs.every((r) => readFileSync(pauseLog, 'utf8').includes(r.runId)), 60000, () => `runs did not reach their first checkpoint: ${daemon.stderr().slice(-1500)}`);
    const pids = await Promise.all(runs.map((r) => workerPidOf(r.runDir)));
    daemon.proc.kill('SIGKILL');
    await daemon.exited;
    client.close();
    for (const pid of pids) if (pid) await processGone(pid, `worker ${pid} outlived its daemon`);
  } finally {
    if (daemon.proc.exitCode === null && daemon.proc.signalCode === null) daemon.proc.kill('SIGKILL');
    await daemon.exited;
  }
  return runs;
}

/** Resumes every run on a daemon without pauses and waits until each completed. */
async function finish(dir: string, args: string[], runs: RunSummary[]): Promise<TestDaemon> {
  const daemon = await startDaemon({ dir, args });
  try {
    const { client, seen } = await connect(daemon);
    for (const run of runs) await client.connection.sendRequest(ResumeRunRequest, { runId: run.runId });
    for (const run of runs) await waitStatus(seen, client, run.runId, 'completed', daemon);
    client.close();
  } catch (e) {
    await stopDaemon(daemon);
    throw e;
  }
  return daemon;
}

const POINTS = [
  'checkpoint.renamed', // the new checkpoint is on disk, its event not yet sent
  'log.before-checkpoint-write', // its event is in the daemon's memory, not in the log file
  'log.after-checkpoint-write', // its event is in the log, the worker not yet told
  'checkpoint.recorded', // the worker was told, has not pruned yet
  'checkpoint.pruned-one', // in the middle of pruning
];

test('kill -9 of the daemon at 54 points around checkpoints: every resume continues from the newest recorded checkpoint', async () => {
  const dir = tempDir();
  const args = ['--synthetic-runs'];
  const params = { steps: 400, checkpointEvery: 5, keepCheckpoints: 1 };
  const RUNS = 3;
  const cycles: Cycle[] = [];
  for (const n of [1, 2, 3]) for (const point of POINTS) cycles.push({ at: `${point}#${n}`, inResume: false });
  cycles.push({ at: 'resume.picked#1', inResume: true }, { at: 'resume.truncated#1', inResume: true });
  // 17 daemon kills × 3 runs, plus the kill that leaves each run interrupted at its first checkpoint.
  assert.equal(cycles.length, 17);
  const runs = await startRuns(dir, args, async (client) => (await client.connection.sendRequest(StartSyntheticRunRequest, { name: 'kp', ...params })).run, RUNS);
  let checked = 0;
  for (const cycle of cycles) checked += await killCycle(dir, cycle, runs, args);
  assert.equal(checked, 15 * RUNS, 'every resume outside the resume request was checked');
  const daemon = await finish(dir, args, runs);
  try {
    const { client, seen } = await connect(daemon);
    const { run: straight } = await client.connection.sendRequest(StartSyntheticRunRequest, { name: 'straight', ...params });
    await waitStatus(seen, client, straight.runId, 'completed', daemon);
    const expected = await finalWeights(straight.runDir);
    for (const run of runs) {
      const got = await finalWeights(run.runDir);
      assert.equal(got.step, params.steps);
      assert.ok(got.weights.w.equals(expected.weights.w), `run ${run.runId} ends with the uninterrupted weights`);
      await assertExactLog(run.runDir);
    }
    client.close();
  } finally {
    await stopDaemon(daemon);
  }
});

test('a real training job killed (-9, the daemon) between a checkpoint and its log entry, and around its confirmation, ends bit-identical', async () => {
  const dir = tempDir();
  const configPath = path.join(dir, 'tiny.manta.json');
  const config = tinyConfig('kp-real', { trainSize: 64, epochs: 2, checkpointEverySteps: 2 }) as { training: { keepCheckpoints: number } };
  config.training.keepCheckpoints = 1;
  await fs.writeFile(configPath, JSON.stringify(config));
  const runs = await startRuns(dir, [], async (client) => (await client.connection.sendRequest(StartRunRequest, { configPath })).run, 1);
  let checked = 0;
  for (const at of ['checkpoint.renamed#2', 'log.before-checkpoint-write#2', 'log.after-checkpoint-write#2']) checked += await killCycle(dir, { at, inResume: false }, runs, []);
  assert.equal(checked, 3);
  const daemon = await finish(dir, [], runs);
  try {
    const { client, seen } = await connect(daemon);
    const { run: straight } = await client.connection.sendRequest(StartRunRequest, { configPath });
    await waitStatus(seen, client, straight.runId, 'completed', daemon);
    const expected = await finalWeights(straight.runDir);
    const got = await finalWeights(runs[0].runDir);
    assert.equal(got.step, expected.step);
    assert.deepEqual(Object.keys(got.weights).sort(), Object.keys(expected.weights).sort());
    for (const name of Object.keys(expected.weights)) assert.ok(got.weights[name].equals(expected.weights[name]), `weights ${name} equal bit for bit`);
    await assertExactLog(runs[0].runDir);
    client.close();
  } finally {
    await stopDaemon(daemon);
  }
});
