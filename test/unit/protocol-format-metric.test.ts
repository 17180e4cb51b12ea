// The headline metric as people read it (daemon/protocol/results.ts): accuracy and rates as percentages, stereo's EPE
// in pixels — and the places that show it (CLI front table, report, status bar) follow the run's task, so a stereo run
// never reads "544.4%" while a classification run reads exactly as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMetric, isRateMetric, metricLabel, taskMetric, type FrontEntry, type ResultsFile } from '../../daemon/protocol/results';
import { formatFront } from '../../daemon/cli/commands/search';
import { renderReport, type TrainingCurves } from '../../daemon/search/report';
import { bestFrontEntry, describePoint, foldEvents, runStatusText, type LiveProgress } from '../../extension/views/run-progress';
import type { TelemetryEvent } from '../../daemon/protocol/events';
import { RunModel } from '../../webviews/monitor/model';
import { stereoArch, stereoResultsFile } from './preview-fixtures';

test('formatMetric: rates as percentages, EPE in pixels, others to 4 digits, nothing as a dash', () => {
  assert.equal(formatMetric('accuracy', 0.9123), '91.2%');
  assert.equal(formatMetric('accuracy', 1), '100.0%');
  assert.equal(formatMetric('d1', 0.0456), '4.6%');
  assert.equal(formatMetric('over1px', 0.25), '25.0%');
  assert.equal(formatMetric('over3px', 0), '0.0%');
  assert.equal(formatMetric('epe', 5.444), '5.444 px');
  assert.equal(formatMetric('epe', 1.2345), '1.234 px');
  assert.equal(formatMetric('loss', 0.123456), '0.1235');
  assert.equal(formatMetric('loss', 1234567), '1.235e+6');
  for (const m of ['accuracy', 'epe', 'loss']) {
    assert.equal(formatMetric(m, undefined), '–');
    assert.equal(formatMetric(m, NaN), '–');
  }
  assert.ok(isRateMetric('d1') && !isRateMetric('epe'));
});

test('metricLabel names the known metrics and leaves others as they are; taskMetric maps a task kind', () => {
  assert.equal(metricLabel('accuracy'), 'top-1 accuracy');
  assert.equal(metricLabel('epe'), 'end-point error (px)');
  assert.equal(metricLabel('d1'), 'D1 outliers');
  assert.equal(metricLabel('over1px'), '>1 px');
  assert.equal(metricLabel('over3px'), '>3 px');
  assert.equal(metricLabel('miou'), 'miou');
  assert.deepEqual(taskMetric('stereo'), { metric: 'epe', higherIsBetter: false });
  assert.deepEqual(taskMetric('classification'), { metric: 'accuracy', higherIsBetter: true });
  assert.deepEqual(taskMetric(undefined), { metric: 'accuracy', higherIsBetter: true });
});

function entry(index: number, epe: { predicted: number; validation: number; test: number }): FrontEntry {
  return {
    index,
    arch: stereoArch,
    macs: 1e6 * (index + 1),
    params: 1e4 * (index + 1),
    predictedAccuracy: epe.predicted,
    validationAccuracy: epe.validation,
    testAccuracy: epe.test,
    dominated: false,
  };
}

function stereoResults(): ResultsFile {
  const front = [entry(0, { predicted: 5.5, validation: 5.444, test: 5.61 }), entry(1, { predicted: 3.1, validation: 3.2, test: 3.25 })];
  return stereoResultsFile(front, {
    measured: [{ arch: stereoArch, macs: 1.5e6, params: 1e4, validationAccuracy: 4.2 }],
    training: { phases: [{ index: 0, phase: 'largest', largest: { accuracy: 6.5, loss: 6.5 }, smallest: { accuracy: 7.25, loss: 7.25 } }] as ResultsFile['training']['phases'], steps: 4, wallMs: 500 },
    baselines: [
      { name: 'zero disparity', metrics: { epe: 12.5, d1: 0.9, over1px: 0.95, over3px: 0.85 } },
      { name: 'block matching (SAD 9×9)', metrics: { epe: 4.321, d1: 0.3, over1px: 0.5, over3px: 0.25 } },
    ],
  });
}

const curves: TrainingCurves = {
  steps: [{ step: 0, loss: 7, phaseIndex: 0 }],
  evaluations: [
    { step: 10, phaseIndex: 0, subnet: 'largest', accuracy: 6.5 },
    { step: 20, phaseIndex: 0, subnet: 'largest', accuracy: 5.5 },
  ],
  phases: [{ index: 0, phase: 'largest', startStep: 0 }],
};

test('a stereo report shows EPE in pixels, says lower is better and has the baselines table', () => {
  const html = renderReport(stereoResults(), curves, { units: 6, maxDepth: 2 });
  assert.doesNotMatch(html, /544\.4%|561\.0%/, 'no EPE as a percentage');
  assert.match(html, /<h2>End-point error \(px\) against MACs<\/h2>/);
  assert.match(html, /Lower is better/);
  // The front table: predicted, validation and test EPE in px.
  assert.match(html, /<td>5\.500 px<\/td><td>5\.444 px<\/td><td>5\.610 px<\/td>/);
  assert.match(html, /validation 4\.200 px/, "a measured subnet's hover title");
  // The per-phase table and the axis names.
  assert.match(html, /<td>6\.500 px<\/td><td>7\.250 px<\/td>/);
  assert.ok((html.match(/class="axis">end-point error \(px\)</g) ?? []).length === 2, 'scatter and evaluation chart name the metric');
  // The baselines: one row each, every metric formatted, the sentence above it, next to the front table.
  const at = html.indexOf('<h3>Baselines</h3>');
  assert.ok(at > html.indexOf('<th>predicted</th>') && at < html.indexOf('<h2>Architectures of the front</h2>'), 'after the front table');
  assert.match(html, /Simple methods measured on the same test pairs, for comparison\./);
  assert.match(html, /<th>baseline<\/th><th>end-point error \(px\)<\/th><th>D1 outliers<\/th><th>&#62;1 px<\/th><th>&#62;3 px<\/th>/);
  assert.match(html, /<tr><td>zero disparity<\/td><td>12\.500 px<\/td><td>90\.0%<\/td><td>95\.0%<\/td><td>85\.0%<\/td><\/tr>/);
  assert.match(html, /<tr><td>block matching \(SAD 9×9\)<\/td><td>4\.321 px<\/td><td>30\.0%<\/td><td>50\.0%<\/td><td>25\.0%<\/td><\/tr>/);
});

test('a classification report keeps percentages and has no baselines; results without a task read as accuracy', () => {
  const r = stereoResults();
  delete r.task;
  delete r.baselines;
  r.front = [entry(0, { predicted: 0.9, validation: 0.912, test: 0.905 })];
  const html = renderReport(r, { steps: [], evaluations: [], phases: [] }, { units: 6, maxDepth: 2 });
  assert.match(html, /<td>90\.0%<\/td><td>91\.2%<\/td><td>90\.5%<\/td>/);
  assert.match(html, /<h2>Top-1 accuracy against MACs<\/h2>/);
  assert.doesNotMatch(html, /<h3>Baselines|lower is better/i);
});

test('the CLI front table follows the metric; classification reads exactly as before', () => {
  const stereo = formatFront(stereoResults());
  assert.match(stereo.split('\n')[0], /^Pareto front of stereo \(macs; end-point error \(px\), lower is better; the best of every subnet measured/);
  assert.match(stereo, /5\.500 px\s+5\.444 px\s+5\.610 px/);
  assert.doesNotMatch(stereo, /%/);

  const r = stereoResults();
  r.task = { kind: 'classification', metric: 'accuracy', higherIsBetter: true };
  r.front = [{ ...entry(0, { predicted: 0.9, validation: 0.912, test: 0.905 }), latencyMs: 1.5, source: 'measured' }, { ...entry(1, { predicted: 0.8, validation: 0.8, test: 0.8 }), testAccuracy: undefined }];
  r.predictor.kendallTauCI = { low: 0.21, high: 0.74, level: 0.95, method: 'bootstrap' };
  assert.equal(
    formatFront(r),
    [
      'Pareto front of stereo (macs; the best of every subnet measured):',
      '#   MACs  params  latency  predicted    val   test      from  arch (k/e per block, d per unit)',
      '0  1.00M   10.0k   1.50ms      90.0%  91.2%  90.5%  measured  d=212121 r=48 w=1',
      '1  2.00M   20.0k        –      80.0%  80.0%      –         –  d=212121 r=48 w=1',
      "predictor: Kendall's tau 0.500 (95% CI 0.21–0.74) on 5 held-out subnets",
    ].join('\n'),
  );
});

test('the status bar names the lowest-EPE front entry of a stereo run in pixels', () => {
  let seq = 0;
  const ev = <K extends TelemetryEvent['kind']>(kind: K, data: Extract<TelemetryEvent, { kind: K }>['data']): TelemetryEvent => ({ seq: seq++, time: 0, kind, data }) as TelemetryEvent;
  const front = stereoResults().front;
  const p: LiveProgress = { stage: 'starting' };
  foldEvents(p, [
    ev('run.started', { runId: 's', name: 'stereo', task: 'stereo', backend: { backend: 'cpu', version: '4', device: 'test' }, seed: 1 }),
    ev('pareto', { objective: 'macs', points: front, measured: true }),
    ev('run.finished', { status: 'completed', wallMs: 1 }),
  ]);
  assert.equal(runStatusText('stereo', 'completed', p).text, '$(pass) stereo: done · 3.250 px at 2.00 MMACs');
  assert.equal(bestFrontEntry(front, false), front[1]);
  assert.equal(bestFrontEntry(front), front[0], 'higher is better by default');
  assert.equal(describePoint(front[0], 'epe'), '5.610 px at 1.00 MMACs');
});

test("the monitor's model learns the metric from run.started; a stereo search's best predicted EPE reads positive", () => {
  let seq = 0;
  const ev = <K extends TelemetryEvent['kind']>(kind: K, data: Extract<TelemetryEvent, { kind: K }>['data']): TelemetryEvent => ({ seq: seq++, time: 0, kind, data }) as TelemetryEvent;
  const backend = { backend: 'cpu', version: '4', device: 'test' };
  const m = new RunModel('s');
  assert.deepEqual([m.metric, m.higherIsBetter], ['accuracy', true], 'accuracy until the run says otherwise');
  m.ingest([
    ev('run.started', { runId: 's', name: 'stereo', task: 'stereo', backend, seed: 1 }),
    // The event carries the task's metric itself (the daemon turns the evolution's fitness back into EPE).
    ev('search.generation', { generation: 1, generations: 2, bestPredictedAccuracy: 3.5, frontSize: 2, candidatesScored: 8 }),
    ev('search.generation', { generation: 2, generations: 2, bestPredictedAccuracy: 3.25, frontSize: 2, candidatesScored: 16 }),
  ]);
  assert.deepEqual([m.task, m.metric, m.higherIsBetter], ['stereo', 'epe', false]);
  assert.deepEqual(m.search.columns.get('bestPredictedAccuracy'), [3.5, 3.25]);

  const c = new RunModel('c');
  c.ingest([
    ev('run.started', { runId: 'c', name: 'cls', task: 'classification', backend, seed: 1 }),
    ev('search.generation', { generation: 1, generations: 1, bestPredictedAccuracy: 0.9, frontSize: 2, candidatesScored: 8 }),
  ]);
  assert.deepEqual([c.metric, c.higherIsBetter], ['accuracy', true]);
  assert.deepEqual(c.search.columns.get('bestPredictedAccuracy'), [0.9]);
});
