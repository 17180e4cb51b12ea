// The fitted latency model of supernets without a unit stack (stereo): a non-negative fit of timed subnets' latency
// to their MACs and active blocks, timed once per runtime and supernet shape and then read from the cache, and a
// stereo run that searches EPE against latency end to end.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../../daemon/engine';
import type { Task } from '../../daemon/ofa/task';
import type { BackendInfo } from '../../daemon/protocol/events';
import type { JobProgress } from '../../daemon/pipeline';
import { runJob } from '../../daemon/pipeline';
import { buildFittedLatency, fitLatency } from '../../daemon/search/fitted-latency';
import { COUNTED_FEATURES, countedSubject, type LatencySubject } from '../../daemon/search/latency';
import { openTimingRuntime, type TimingOptions } from '../../daemon/search/latency-runtime';
import type { ResultsFile } from '../../daemon/search/results';
import { createTask } from '../../daemon/tasks';
import { tinyStereoConfig } from './stereo-fixtures';

let backend: BackendInfo;
let task: Task;
const root = mkdtempSync(join(tmpdir(), 'manta-fitted-latency-'));

before(async () => {
  // wasm: what stereo runs train and search on.
  const info = await initEngine({ backend: 'wasm' });
  backend = { backend: info.backend, version: info.version, device: info.device };
  task = await createTask(tinyStereoConfig(), { baseDir: root });
});

after(() => {
  task?.dispose();
  rmSync(root, { recursive: true, force: true });
});

/** Few short timed runs: these tests check the plumbing, not the figures (the latency bench does). */
const quick: TimingOptions = { rounds: 2, runsPerRound: 3, roundMinMs: 0, warmupRuns: 2, warmupMs: 0, rewarmRuns: 1 };

/** The task's supernet as the fit sees it, counting the subnets it extracts (each one is timed). */
function subject(cacheKey = 'tiny-stereo'): { subject: LatencySubject; built: () => number } {
  let built = 0;
  const s = countedSubject(
    task.space,
    (arch) => {
      built++;
      return task.supernet.extractSubnet(arch);
    },
    (arch) => task.supernet.macs(arch),
    cacheKey,
  );
  return { subject: s, built: () => built };
}

const sample = (macs: number, blocks: number, measuredMs: number) => ({ features: [macs * 1e6, blocks], measuredMs });

test('the fit is non-negative least squares on relative error, and takes the block term only when it predicts better', () => {
  const exact = fitLatency(COUNTED_FEATURES, [10, 20, 30, 40, 50].map((m, i) => sample(m, [3, 5, 4, 6, 5][i], 2 + 0.5 * m)));
  assert.ok(Math.abs(exact.intercept - 2) < 1e-6 && Math.abs(exact.weights.macs - 0.5) < 1e-6, JSON.stringify(exact));
  assert.equal(exact.weights.blocks, 0);
  assert.deepEqual(exact.used, ['macs']);
  assert.ok(exact.heldOutError < 1e-6);
  // Latency that also grows per block: the block term lowers the held-out error, so it is kept.
  const blocks = [3, 8, 4, 9, 5, 7];
  const b = fitLatency(COUNTED_FEATURES, [10, 20, 30, 40, 50, 25].map((m, i) => sample(m, blocks[i], 1 + 0.2 * m + 1.5 * blocks[i])));
  assert.ok(Math.abs(b.weights.blocks - 1.5) < 1e-6 && b.heldOutError < 1e-6, JSON.stringify(b));
  // Latency falling with MACs (noise) never gives a negative slope: the fit is the mean.
  const falling = fitLatency(COUNTED_FEATURES, [10, 20, 30].map((m) => sample(m, 4, 10 - 0.1 * m)));
  assert.equal(falling.weights.macs, 0);
  assert.ok(falling.intercept > 0);
});

test('the stereo fit gives positive latencies rising with MACs, and a second build reads the cache', async () => {
  const cacheDir = join(root, 'cache-fit');
  const runtime = openTimingRuntime({ runtime: 'engine' }, backend);
  const first = subject();
  const fit = await buildFittedLatency(first.subject, runtime, { cacheDir, subnets: 8, timing: quick });
  assert.equal(fit.samples.length, 8);
  assert.equal(fit.timedNow, 8);
  assert.equal(first.built(), 8);
  assert.ok(fit.fit.intercept >= 0 && fit.fit.weights.macs >= 0 && fit.fit.weights.blocks >= 0, JSON.stringify(fit.fit));
  const smallest = task.space.smallest();
  const largest = task.space.largest();
  assert.ok(task.supernet.macs(largest) > task.supernet.macs(smallest));
  assert.ok(fit.estimate(smallest) > 0);
  assert.ok(fit.estimate(largest) >= fit.estimate(smallest), `largest ${fit.estimate(largest)} ms, smallest ${fit.estimate(smallest)} ms`);
  for (const s of fit.samples) assert.ok(s.measuredMs > 0 && fit.estimate(s.arch) > 0);
  assert.ok(Number.isFinite(fit.fit.heldOutError) && fit.fit.heldOutError >= 0);

  const second = subject();
  const again = await buildFittedLatency(second.subject, runtime, { cacheDir, subnets: 8, timing: quick });
  assert.equal(second.built(), 0);
  assert.equal(again.timedNow, 0);
  assert.equal(again.cacheFile, fit.cacheFile);
  assert.deepEqual(again.fit, fit.fit);
  // Another supernet shape (the key) is timed afresh.
  const other = subject('another-shape');
  await buildFittedLatency(other.subject, runtime, { cacheDir, subnets: 2, timing: quick });
  assert.equal(other.built(), 2);
});

test('a stereo run searches EPE against latency: every front subnet has a latency, and the fit is checked', async () => {
  const base = tinyStereoConfig();
  const config = tinyStereoConfig({ search: { ...base.search, objective: 'latency', latency: { ...base.search.latency, fitSubnets: 6 } } });
  const runDir = join(root, 'run');
  const progress: JobProgress[] = [];
  const waiting: string[] = [];
  const result = await runJob(config, {
    runDir,
    configDir: root,
    emit: (kind, data) => {
      if (kind === 'waiting') waiting.push((data as { reason: string }).reason);
      if (kind === 'log' && (data as { message: string }).message.startsWith('latency on')) console.log((data as { message: string }).message);
    },
    onProgress: (p) => progress.push(p),
    prefetch: 'sync',
    cacheDir: join(root, 'cache-run'),
    latencyChecks: 2,
  });
  assert.equal(result.status, 'completed');
  const results = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as ResultsFile;
  assert.equal(results.objective, 'latency');
  assert.ok(results.front.length > 0);
  for (const p of results.front) assert.ok(p.latencyMs! > 0, `front latency ${p.latencyMs}`);
  for (const p of results.predictedFront) assert.ok(p.latencyMs! > 0);
  assert.ok(results.latency, 'no latency check in results.json');
  assert.equal(results.latency.samples.length, 2);
  assert.equal(results.latency.tableEntries, 6);
  assert.equal(results.latency.runtime?.backend, 'wasm');
  assert.ok(Number.isFinite(results.latency.meanRelativeError));
  console.log(`checked against ${results.latency.samples.length} timed subnets: ${(results.latency.meanRelativeError * 100).toFixed(1)}% off`);
  assert.ok(progress.some((p) => p.stage === 'latency' && p.detail?.startsWith('timing subnets') && p.done > 0));
  assert.ok(waiting.some((r) => r.includes('latency')));
});
