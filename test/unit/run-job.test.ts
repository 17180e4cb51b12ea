// The whole job on a tiny config: it stops on request and resumes from its checkpoint, then trains, searches and
// writes every result file; the exported front models load with stock tf.loadLayersModel over HTTP and reproduce
// the accuracy the results report; `exportSubnet` re-exports a front point with the same measured accuracy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { tf } from '../../daemon/engine';
import { evalBatches, loadDataset } from '../../daemon/data';
import type { TelemetryKind } from '../../daemon/protocol/events';
import { exportSubnet, runJob } from '../../daemon/pipeline';
import type { ResultsFile } from '../../daemon/search/results';
import { batchTensors } from '../../daemon/tasks/classification';
import { validateConfig } from '../../schemas';
import { TINY } from './job-fixtures';

function resolved() {
  const r = validateConfig(TINY);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.config;
}

/** Serves `dir` on 127.0.0.1 for the duration of `fn`. */
async function serving<T>(dir: string, fn: (base: string) => Promise<T>): Promise<T> {
  const server = createServer((req, res) => {
    const file = join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    return await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    await new Promise((r) => server.close(r));
  }
}

test('a tiny search job stops, resumes, and leaves every result file', { timeout: 170_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'manta-job-'));
  const runDir = join(root, 'run');
  const config = resolved();
  try {
    // First attempt: stopped on request during training.
    const controller = new AbortController();
    const first: TelemetryKind[] = [];
    const stopped = await runJob(config, {
      runDir,
      configDir: root,
      cacheDir: join(root, 'cache'),
      prefetch: 'sync',
      latencyChecks: 2,
      signal: controller.signal,
      emit: (kind) => first.push(kind),
      onProgress: (p) => {
        if (p.stage === 'train' && p.done >= 6) controller.abort();
      },
    });
    assert.equal(stopped.status, 'stopped');
    assert.ok(first.includes('checkpoint'));
    assert.equal(first[first.length - 1], 'run.finished');
    assert.ok(readdirSync(join(runDir, 'checkpoints')).some((f) => f.endsWith('.ckpt')));

    // Resumed: continues from the checkpoint to the end.
    const events: { kind: TelemetryKind; data: unknown }[] = [];
    const done = await runJob(config, {
      runDir,
      configDir: root,
      cacheDir: join(root, 'cache'),
      prefetch: 'sync',
      latencyChecks: 2,
      resume: true,
      emit: (kind, data) => events.push({ kind, data }),
    });
    assert.equal(done.status, 'completed');
    const kinds = new Set(events.map((e) => e.kind));
    for (const k of ['run.started', 'phase', 'step', 'evaluation', 'measure.progress', 'predictor', 'search.generation', 'pareto', 'run.finished'] as const) {
      assert.ok(kinds.has(k), `no ${k} event`);
    }
    const started = events.find((e) => e.kind === 'run.started')!.data as { resumedFromStep?: number };
    assert.ok((started.resumedFromStep ?? 0) >= 4, 'the second attempt resumed from a checkpoint');
    assert.deepEqual(events[events.length - 1], { kind: 'run.finished', data: (events[events.length - 1].data as object) });
    assert.equal((events[events.length - 1].data as { status: string }).status, 'completed');
    assert.equal(events.filter((e) => e.kind === 'measure.progress').length, 12);

    for (const f of ['config.json', 'results.json', 'report.html', 'measurements.json']) assert.ok(existsSync(join(runDir, f)), `no ${f}`);
    const results = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as ResultsFile;
    assert.ok(results.front.length >= 1, 'a front');
    assert.equal(results.measured.length, 12);
    assert.equal(results.predictor.trainSize + results.predictor.heldOutSize, 12);
    assert.ok(results.latency && results.latency.samples.length === 2, `latency: ${JSON.stringify(results.latency)}; warnings: ${results.warnings?.join(" / ")}`);
    for (let i = 1; i < results.front.length; i++) assert.ok(results.front[i].macs > results.front[i - 1].macs);
    for (const p of results.front) {
      assert.ok(p.validationAccuracy !== undefined && p.testAccuracy !== undefined && p.latencyMs! > 0);
      assert.ok(existsSync(join(runDir, p.model!)) && existsSync(join(runDir, 'subnets', String(p.index), 'weights.bin')));
    }
    const html = readFileSync(join(runDir, 'report.html'), 'utf8');
    assert.match(html, /<svg/);
    assert.doesNotMatch(html, /<script|src=|href=|url\(/i, 'the report must not load anything');

    // The exported models load with stock tfjs over HTTP and reproduce the reported test accuracy.
    const data = await loadDataset(config.data, { baseDir: root, seed: config.seed });
    await serving(join(runDir, 'subnets'), async (base) => {
      for (const p of results.front) {
        const model = await tf.loadLayersModel(`${base}/${p.index}/model.json`);
        let correct = 0;
        for (const batch of evalBatches(data.test, 50)) {
          correct += tf.tidy(() => {
            const { x, y } = batchTensors(batch, data.test, p.arch.r);
            const predicted = (model.predict(x) as tf.Tensor2D).argMax(1);
            return tf.sum(tf.equal(predicted, y)).dataSync()[0];
          });
        }
        model.dispose();
        assert.ok(Math.abs(correct / data.test.count - p.testAccuracy!) <= 1 / data.test.count + 1e-9, `front #${p.index}: exported ${correct / data.test.count} vs reported ${p.testAccuracy}`);
      }
    });

    // Exporting a front point later measures it the same way.
    const again = await exportSubnet(runDir, 0, { outDir: join(root, 'again') });
    assert.ok(existsSync(join(root, 'again', 'model.json')));
    assert.ok(Math.abs(again.validationAccuracy - results.front[0].validationAccuracy!) < 1e-9);
    assert.equal(again.macs, results.front[0].macs);
    await assert.rejects(exportSubnet(runDir, 99), /front has points 0…/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
