// Helpers of the kill/resume tests: final weights from a run's newest checkpoint, the worker's pid, waiting for a
// status or a step, and the check that a resumed run's log reads like one uninterrupted run.
import assert from 'node:assert/strict';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Rng } from '../../daemon/engine/rng';
import { AttachRequest, ListRunsRequest, StartSyntheticRunRequest, type RunSummary, type StartSyntheticRunParams } from '../../daemon/protocol';
import { connectSocket, type DaemonClient } from '../../daemon/service/client';
import { decodeCheckpoint } from '../../daemon/train/checkpoint-codec';
import { listCheckpointFiles } from '../../daemon/train/checkpoint-files';
import { Collector, readLogSeqs, waitFor, type TestDaemon } from './harness';

export const seed = Number(process.env.MANTA_TEST_SEED ?? Date.now() % 1_000_000);
export const rng = new Rng(seed);

export async function finalWeights(runDir: string): Promise<{ step: number; weights: Record<string, Buffer> }> {
  const files = await listCheckpointFiles(path.join(runDir, 'checkpoints'));
  const newest = files[files.length - 1];
  const state = decodeCheckpoint(await fs.readFile(newest.path), newest.path);
  const weights: Record<string, Buffer> = {};
  for (const [name, t] of Object.entries(state.tensors.weights)) weights[name] = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return { step: state.step, weights };
}

export function workerPid(runDir: string): number {
  return (JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8')) as { workerPid: number }).workerPid;
}

export async function connect(daemon: TestDaemon): Promise<{ client: DaemonClient; seen: Collector }> {
  const seen = new Collector();
  const client = await connectSocket(daemon.socketPath, { beforeListen: (c) => seen.register(c) });
  return { client, seen };
}

export async function waitStatus(seen: Collector, client: DaemonClient, runId: string, status: string, daemon: TestDaemon, ms = 90000): Promise<RunSummary> {
  return waitFor(
    async () => {
      if (seen.status(runId) !== status) return undefined;
      return (await client.connection.sendRequest(ListRunsRequest, {})).runs.find((r) => r.runId === runId && r.status === status);
    },
    ms,
    () => `run ${runId} never became ${status} (is ${seen.status(runId)}); daemon: ${daemon.stderr().slice(-2000)}`,
  );
}

/** The log of a resumed run reads like one run: seqs 0…n-1, training steps increasing, one run.finished. */
export async function assertExactLog(runDir: string): Promise<void> {
  const log = await readLogSeqs(runDir);
  assert.deepEqual(log.map((e) => e.seq), log.map((_, i) => i));
  const steps = log.filter((e) => e.kind === 'step').map((e) => (e.data as { step: number }).step);
  assert.ok(steps.every((s, i) => i === 0 || s > steps[i - 1]), `step events strictly increasing: ${steps.join(',')}`);
  assert.equal(log.filter((e) => e.kind === 'run.finished').length, 1);
  assert.equal((log[log.length - 1].data as { status: string }).status, 'completed');
}

/** Starts a synthetic run and attaches `client` to it from its first event. */
export async function startAttached(client: DaemonClient, params: StartSyntheticRunParams): Promise<RunSummary> {
  const { run } = await client.connection.sendRequest(StartSyntheticRunRequest, params);
  await client.connection.sendRequest(AttachRequest, { runId: run.runId, fromSeq: 0 });
  return run;
}

/** Waits until the run has trained at least `step` steps (or finished training). */
export async function reachStep(seen: Collector, runId: string, step: number): Promise<void> {
  await waitFor(
    () => seen.of(runId).some((e) => (e.kind === 'step' && e.data.step >= step) || e.kind === 'measure.progress' || e.kind === 'run.finished'),
    90000,
    () => `run ${runId} did not reach step ${step}`,
  );
}


/** Resolves once process `pid` is gone (exited: a zombie waiting for its reaper counts as gone). */
export async function processGone(pid: number, what: string): Promise<void> {
  await waitFor(
    () => {
      try {
        process.kill(pid, 0);
      } catch {
        return true;
      }
      try {
        return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').startsWith('Z');
      } catch {
        return false;
      }
    },
    30000,
    () => what,
  );
}
