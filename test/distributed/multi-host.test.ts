// Training jobs across hosts, for real: two "hosts" are Linux network namespaces joined by a switch (a bridge in a
// namespace of its own, veth links to it), each with its own `manta daemon` from dist/ and its own HOME, runtime,
// state and cache folders. The test process sends both daemons `manta/startRun` with the job's placement, as the
// extension does, and watches the runs: data parallel and subnet parallel across the hosts complete (host 0 searches,
// host 1 ends after training); a killed worker on host 1, a cut link and a wrong token end host 0's run within the
// job's timeout with a message that names the peer; after the first two, resuming both hosts with a new token
// completes the runs from host 0's last checkpoint. Needs root and `ip netns` (skipped otherwise).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  AttachRequest,
  DetachRequest,
  GetRunResultsRequest,
  ListRunsRequest,
  ResumeRunRequest,
  StartRunRequest,
  StopRunRequest,
  type JobPlacement,
  type RunSummary,
  type TelemetryEvent,
  type TelemetryEvents,
} from '../../daemon/protocol';
import { connectSocket, type DaemonClient } from '../../daemon/service/client';
import { Collector, tinyConfig, waitFor } from '../daemon/harness';
import { Network, netnsUnavailable, staleDistSource, type HostDaemon } from './netns';

const skip = netnsUnavailable();
const FINAL = new Set(['completed', 'failed', 'stopped', 'interrupted', 'paused']);
/** The job's timeoutSeconds in these tests; a lost peer must be reported within it (plus the slack below). */
const TIMEOUT_S = 6;
/** Slack over the timeout for noticing a lost peer: a step in flight, the run's teardown, the status reaching us. */
const SLACK_MS = 15000;

interface HostSide {
  daemon: HostDaemon;
  client: DaemonClient;
  seen: Collector;
}

let network: Network;
const sides: HostSide[] = [];
let port = 29400;

function labels(): string[] {
  return network.hosts.map((h) => h.label);
}

function token(): string {
  return randomBytes(32).toString('hex');
}

function placement(i: number, jobToken: string, jobPort: number, workersPerHost = 1): JobPlacement {
  return {
    hosts: labels(),
    hostIndex: i,
    workersPerHost,
    coordinator: { host: network.hosts[0].address, port: jobPort },
    bindAddress: network.hosts[i].address,
    token: jobToken,
  };
}

interface JobConfig {
  algorithm: 'data-parallel' | 'subnet-parallel';
  trainSize: number;
  epochs: number;
  /** Training workers on each host (default 1: the run's own process). */
  workersPerHost?: number;
}

function config(name: string, c: JobConfig): object {
  const base = tinyConfig(name, { trainSize: c.trainSize, epochs: c.epochs, checkpointEverySteps: 2 }) as Record<string, unknown>;
  return { ...base, distributed: { algorithm: c.algorithm, workersPerHost: c.workersPerHost ?? 1, timeoutSeconds: TIMEOUT_S } };
}

interface Job {
  name: string;
  config: JobConfig;
  port: number;
  /** The tokens the hosts were given. */
  tokens: string[];
  /** Run id on each host. */
  runs: RunSummary[];
}

/** Starts the job on every host (each gets the same placement but its index and address) and attaches to the runs. */
async function startJob(name: string, c: JobConfig, tokens?: string[]): Promise<Job> {
  const jobPort = port++;
  const shared = token();
  const runs = await Promise.all(
    sides.map(async (side, i) => {
      const configPath = path.join(side.daemon.host.configDir, `${name}.manta.json`);
      await fs.writeFile(configPath, JSON.stringify(config(name, c)));
      const { run } = await side.client.connection.sendRequest(StartRunRequest, { configPath, job: placement(i, tokens?.[i] ?? shared, jobPort, c.workersPerHost) });
      await side.client.connection.sendRequest(AttachRequest, { runId: run.runId, fromSeq: 0 });
      return run;
    }),
  );
  return { name, config: c, port: jobPort, runs, tokens: tokens ?? [shared, shared] };
}

/** Resumes the job on every host with a new token (same hosts, positions and port). */
async function resumeJob(job: Job): Promise<void> {
  const fresh = token();
  await Promise.all(
    sides.map((side, i) => side.client.connection.sendRequest(ResumeRunRequest, { runId: job.runs[i].runId, job: placement(i, fresh, job.port, job.config.workersPerHost) })),
  );
}

async function summary(i: number, runId: string): Promise<RunSummary> {
  const { runs } = await sides[i].client.connection.sendRequest(ListRunsRequest, {});
  const run = runs.find((r) => r.runId === runId);
  assert.ok(run, `run ${runId} is listed on ${labels()[i]}`);
  return run;
}

/** Waits until host i's run has a final (or resumable) status and returns it. */
async function settled(i: number, runId: string, ms: number): Promise<RunSummary> {
  return waitFor(
    async () => {
      const s = await summary(i, runId);
      return FINAL.has(s.status) ? s : undefined;
    },
    ms,
    () => `run ${runId} on ${labels()[i]} did not finish within ${ms / 1000} s; daemon: ${sides[i].daemon.stderr().slice(-3000)}\nevents: ${eventTail(i, runId)}`,
  );
}

function eventTail(i: number, runId: string): string {
  return sides[i].seen
    .of(runId)
    .filter((e) => e.kind !== 'subnet.sampled' && e.kind !== 'system')
    .slice(-12)
    .map((e) => `${e.kind} ${JSON.stringify(e.data).slice(0, 300)}`)
    .join('\n');
}

function events<K extends keyof TelemetryEvents>(i: number, runId: string, kind: K): TelemetryEvents[K][] {
  return sides[i].seen
    .of(runId)
    .filter((e: TelemetryEvent) => e.kind === kind)
    .map((e) => e.data as TelemetryEvents[K]);
}

function describeRun(s: RunSummary, i: number): string {
  return `${labels()[i]}: ${s.status}${s.message ? ` (${s.message})` : ''}`;
}

/** Waits until host 0 has trained `step` steps and written a checkpoint: the job is under way. */
async function underWay(job: Job, step: number): Promise<void> {
  const runId = job.runs[0].runId;
  await waitFor(
    () => {
      if (events(0, runId, 'run.finished').length > 0) throw new Error(`the job ended before step ${step}: ${eventTail(0, runId)}`);
      return events(0, runId, 'step').some((s) => s.step >= step) && events(0, runId, 'checkpoint').length > 0;
    },
    120000,
    () => `host 0 did not reach step ${step}: ${eventTail(0, runId)}\n${sides[0].daemon.stderr().slice(-2000)}`,
  );
}

/** Both hosts complete: host 0 with results and `workers` events of the 2 workers on the 2 hosts; host 1 after training. */
async function assertCompleted(job: Job, ms: number): Promise<void> {
  const totalSteps = (job.config.trainSize / 16) * job.config.epochs * 2; // batch 16, two phases
  const [s0, s1] = await Promise.all([settled(0, job.runs[0].runId, ms), settled(1, job.runs[1].runId, ms)]);
  assert.equal(s0.status, 'completed', `${describeRun(s0, 0)}; ${describeRun(s1, 1)}\n${eventTail(0, job.runs[0].runId)}`);
  assert.equal(s1.status, 'completed', `${describeRun(s1, 1)}; ${describeRun(s0, 0)}\n${eventTail(1, job.runs[1].runId)}`);
  const { results } = await sides[0].client.connection.sendRequest(GetRunResultsRequest, { runId: job.runs[0].runId });
  assert.ok(results.front.length > 0, 'host 0 searched: a front in results.json');
  assert.equal(results.training.steps, totalSteps, 'host 0 trained every step of the schedule');
  const workers = events(0, job.runs[0].runId, 'workers').filter((w) => w.step >= 0);
  assert.ok(workers.length > 0, `host 0 sent workers events: ${eventTail(0, job.runs[0].runId)}`);
  const perHost = job.config.workersPerHost ?? 1;
  const expected = Array.from({ length: 2 * perHost }, (_, rank) => [rank, labels()[Math.floor(rank / perHost)]]);
  for (const w of workers) {
    assert.equal(w.workers.length, 2 * perHost, JSON.stringify(w));
    assert.deepEqual(w.workers.map((x) => [x.rank, x.host]), expected);
  }
  const finished1 = events(1, job.runs[1].runId, 'run.finished');
  assert.equal(finished1.length, 1);
  assert.match(finished1[0].message ?? '', new RegExp(`host '${labels()[0]}' measures and searches`));
  // Host 1 trained but did not search.
  await assert.rejects(sides[1].client.connection.sendRequest(GetRunResultsRequest, { runId: job.runs[1].runId }));
}

/** Stops whatever of `job` still runs (a test that failed half way must not leave a job training under the next). */
async function stopJob(job: Job | undefined): Promise<void> {
  if (!job) return;
  await Promise.all(
    sides.map(async (side, i) => {
      const s = await summary(i, job.runs[i].runId).catch(() => undefined);
      if (s && s.status === 'running') {
        await side.client.connection.sendRequest(StopRunRequest, { runId: job.runs[i].runId }).catch(() => undefined);
      }
    }),
  );
}

/** Detaches from the job's runs (the daemons close their logs) and attaches again where the client left off. */
async function reattach(job: Job): Promise<void> {
  for (const [i, side] of sides.entries()) {
    const runId = job.runs[i].runId;
    await side.client.connection.sendRequest(DetachRequest, { runId });
    await new Promise((r) => setTimeout(r, 200));
    const last = side.seen.of(runId).at(-1)?.seq ?? -1;
    await side.client.connection.sendRequest(AttachRequest, { runId, fromSeq: last + 1 });
  }
}

/** Host 0's run log (events.jsonl): the message of its "resuming from the checkpoint of step N" line. */
function resumedFromStep(runDir: string): number | undefined {
  const lines = readFileSync(path.join(runDir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean);
  for (const line of lines) {
    const e = JSON.parse(line) as { kind: string; data: { message?: string } };
    const m = e.kind === 'log' ? /^resuming from the checkpoint of step (\d+)/.exec(e.data.message ?? '') : null;
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** Files under `dir` whose bytes contain `secret`. */
function filesHolding(dir: string, secret: string): string[] {
  const found: string[] = [];
  const needle = Buffer.from(secret);
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const file = path.join(d, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.isFile() && readFileSync(file).includes(needle)) found.push(file);
    }
  };
  walk(dir);
  return found;
}

function workerPid(runDir: string): number {
  return (JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8')) as { workerPid: number }).workerPid;
}

const peerNamed = (rank: number, i: number) => new RegExp(`rank ${rank}\\b[^;]*host '${labels()[i]}'|host '${labels()[i]}'[^;]*rank ${rank}\\b`);

// Skipped test by test (not the suite), so the runner's summary counts them as skipped with the reason.
describe('training across two hosts (network namespaces)', { timeout: 360000 }, () => {
  before(async () => {
    if (skip) return;
    const stale = staleDistSource();
    if (stale) console.log(`note: ${stale} is newer than dist/manta.js; these tests run the daemon from dist/ (node esbuild.mjs rebuilds it)`);
    network = Network.create(2);
    await network.checkReachable(1, 0);
    for (let i = 0; i < 2; i++) {
      const daemon = await network.startDaemon(i);
      const seen = new Collector();
      const client = await connectSocket(daemon.socketPath, { beforeListen: (c) => seen.register(c) });
      sides.push({ daemon, client, seen });
    }
  });

  after(async () => {
    for (const side of sides) side.client.close();
    await network?.destroy();
  });

  test('data parallel across the two hosts: host 0 completes with results, host 1 after training', { skip }, async () => {
    const started = Date.now();
    const job = await startJob('dp', { algorithm: 'data-parallel', trainSize: 64, epochs: 1 });
    try {
      await assertCompleted(job, 120000);
      const w = events(0, job.runs[0].runId, 'workers').find((x) => x.step >= 0)!;
      assert.equal(w.algorithm, 'data-parallel');
      // The token is the job's secret: run.json keeps the placement without it, and no file of either host holds it.
      for (const [i, run] of job.runs.entries()) {
        const meta = JSON.parse(readFileSync(path.join(run.runDir, 'run.json'), 'utf8')) as { job?: Record<string, unknown> };
        assert.deepEqual(meta.job, (({ token: _t, ...rest }) => rest)(placement(i, job.tokens[i], job.port)));
        const holder = filesHolding(network.hosts[i].dir, job.tokens[i]);
        assert.deepEqual(holder, [], `no file of ${labels()[i]} holds the job token`);
      }
      console.log(`data parallel job: ${Date.now() - started} ms`);
    } finally {
      await stopJob(job);
    }
  });

  test('subnet parallel across the two hosts (one node per host): both complete', { skip }, async () => {
    const started = Date.now();
    const job = await startJob('sp', { algorithm: 'subnet-parallel', trainSize: 64, epochs: 1 });
    try {
      await assertCompleted(job, 120000);
      const w = events(0, job.runs[0].runId, 'workers').find((x) => x.step >= 0)!;
      assert.equal(w.algorithm, 'subnet-parallel');
      assert.deepEqual(w.workers.map((x) => x.node), [0, 1], 'subnet parallel: a node per host');
      console.log(`subnet parallel job: ${Date.now() - started} ms`);
    } finally {
      await stopJob(job);
    }
  });

  test('subnet parallel with 2 workers on each host (a node per host, 4 workers): both complete', { skip }, async () => {
    const started = Date.now();
    const job = await startJob('sp4', { algorithm: 'subnet-parallel', trainSize: 64, epochs: 1, workersPerHost: 2 });
    try {
      await assertCompleted(job, 120000);
      const w = events(0, job.runs[0].runId, 'workers').find((x) => x.step >= 0)!;
      assert.equal(w.algorithm, 'subnet-parallel');
      assert.deepEqual(w.workers.map((x) => x.node), [0, 0, 1, 1], "a host's two workers form its node");
      console.log(`subnet parallel job of 4 workers: ${Date.now() - started} ms`);
    } finally {
      await stopJob(job);
    }
  });

  test("host 1's worker killed mid-training: host 0 fails naming rank 1, and a resume of both completes", { skip }, async () => {
    const job = await startJob('kill', { algorithm: 'data-parallel', trainSize: 512, epochs: 2 });
    try {
      await underWay(job, 4);
      const pid = workerPid(job.runs[1].runDir);
      assert.ok(network.pidsIn(1).includes(pid), `host 1's run worker ${pid} runs in ${network.hosts[1].ns}`);
      const killedAt = Date.now();
      process.kill(pid, 'SIGKILL');
      const s0 = await settled(0, job.runs[0].runId, TIMEOUT_S * 1000 + SLACK_MS);
      const noticedMs = Date.now() - killedAt;
      assert.equal(s0.status, 'failed', describeRun(s0, 0));
      assert.match(s0.message ?? '', peerNamed(1, 1), `host 0's message names rank 1 on host 1: ${s0.message}`);
      assert.match(s0.message ?? '', /resume the run/);
      const lost = events(0, job.runs[0].runId, 'workers').filter((w) => w.workers.some((x) => x.state === 'lost'));
      assert.ok(lost.some((w) => w.workers[1].state === 'lost'), `a workers event marks rank 1 lost: ${JSON.stringify(lost)}`);
      assert.equal(s0.resumable, true, 'a job that lost a peer can be resumed');
      const s1 = await settled(1, job.runs[1].runId, 30000);
      assert.equal(s1.status, 'interrupted', describeRun(s1, 1));
      assert.equal(s1.resumable, true);
      console.log(`worker kill noticed by host 0 in ${noticedMs} ms: ${s0.message}`);
      // Clients come and go: attach afresh to the ended runs (their logs are opened anew) before resuming.
      await reattach(job);

      await resumeJob(job);
      await assertCompleted(job, 150000);
      const from = resumedFromStep(job.runs[0].runDir);
      assert.ok(from !== undefined && from > 0, `host 0 resumed from a checkpoint (step ${from})`);
    } finally {
      await stopJob(job);
    }
  });

  test("host 1's link cut mid-training: host 0 fails within the timeout naming the peer; link back, resume completes", { skip }, async () => {
    const job = await startJob('cut', { algorithm: 'data-parallel', trainSize: 512, epochs: 2 });
    try {
      await underWay(job, 4);
      const cutAt = Date.now();
      network.setLink(1, false);
      let s0: RunSummary, s1: RunSummary;
      try {
        s0 = await settled(0, job.runs[0].runId, TIMEOUT_S * 1000 + SLACK_MS);
        const noticedMs = Date.now() - cutAt;
        assert.equal(s0.status, 'failed', describeRun(s0, 0));
        assert.match(s0.message ?? '', peerNamed(1, 1), `host 0's message names rank 1 on host 1: ${s0.message}`);
        s1 = await settled(1, job.runs[1].runId, TIMEOUT_S * 1000 + SLACK_MS);
        assert.equal(s1.status, 'failed', describeRun(s1, 1));
        assert.match(s1.message ?? '', peerNamed(0, 0), `host 1's message names rank 0 on host 0: ${s1.message}`);
        assert.equal(s0.resumable, true, 'a job that lost a peer can be resumed');
        assert.equal(s1.resumable, true, 'a job that lost a peer can be resumed');
        console.log(`link cut noticed by host 0 in ${noticedMs} ms: ${s0.message}\nhost 1: ${s1.message}`);
      } finally {
        network.setLink(1, true);
      }
      await network.checkReachable(1, 0);
      await resumeJob(job);
      await assertCompleted(job, 150000);
      const from = resumedFromStep(job.runs[0].runDir);
      assert.ok(from !== undefined && from > 0, `host 0 resumed from a checkpoint (step ${from})`);
    } finally {
      await stopJob(job);
    }
  });

  test('a wrong token on host 1: host 0 fails within the timeout with an authentication error naming host 1', { skip }, async () => {
    const job = await startJob('token', { algorithm: 'data-parallel', trainSize: 64, epochs: 1 }, [token(), token()]);
    try {
      const startedAt = Date.now();
      const s0 = await settled(0, job.runs[0].runId, TIMEOUT_S * 1000 + SLACK_MS);
      const ms = Date.now() - startedAt;
      assert.equal(s0.status, 'failed', describeRun(s0, 0));
      assert.match(s0.message ?? '', peerNamed(1, 1), `host 0's message names rank 1 on host 1: ${s0.message}`);
      assert.match(s0.message ?? '', /token/i, `host 0's message says why: ${s0.message}`);
      assert.equal(events(0, job.runs[0].runId, 'step').length, 0, 'no step was trained');
      const s1 = await settled(1, job.runs[1].runId, TIMEOUT_S * 1000 + SLACK_MS);
      assert.equal(s1.status, 'failed', describeRun(s1, 1));
      assert.match(s1.message ?? '', /token/i, `host 1's message says why it was refused: ${s1.message}`);
      assert.match(s1.message ?? '', new RegExp(`host '${labels()[0]}'`), `host 1's message names the coordinator's host: ${s1.message}`);
      console.log(`wrong token: host 0 failed in ${ms} ms: ${s0.message}\nhost 1: ${s1.message}`);
    } finally {
      await stopJob(job);
    }
  });

  test('the daemons reported no internal error', { skip }, () => {
    for (const side of sides) assert.doesNotMatch(side.daemon.stderr(), /internal error|uncaught|unhandled/i, `${side.daemon.host.label}: ${side.daemon.stderr().slice(-3000)}`);
  });
});
