// The status bar's line for the run it follows (extension/views/run-progress.ts): it moves with the run's events —
// phase and step, measuring, searching, done with the best front entry — instead of staying at "starting".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FinetuneSummary, ParetoPoint, TelemetryEvent } from '../../daemon/protocol';
import { bestFrontEntry, describeFinetune, describePoint, foldEvents, progressFromSummary, runStatusText, type LiveProgress } from '../../extension/views/run-progress';

const arch = { r: 28, w: 1, ks: [3], e: [3], d: [2] } as unknown as ParetoPoint['arch'];
let seq = 0;
const ev = <K extends TelemetryEvent['kind']>(kind: K, data: Extract<TelemetryEvent, { kind: K }>['data']): TelemetryEvent =>
  ({ seq: seq++, time: 0, kind, data }) as TelemetryEvent;

test('the status text follows a run: starting, phase and step, measuring, searching, done with the best front entry', () => {
  const p: LiveProgress = progressFromSummary({});
  const text = (status: 'running' | 'completed' | 'failed' | 'stopped' = 'running') => runStatusText('fashion-mnist', status, p).text;
  assert.equal(text(), '$(sync~spin) fashion-mnist: starting');

  foldEvents(p, [
    ev('phase', { index: 1, phase: 'kernel', epochs: 1, stepsPerEpoch: 312, learningRate: 0.02, sample: {} as never }),
    ev('step', { phaseIndex: 1, epoch: 0, step: 311, totalSteps: 624, loss: 1, learningRate: 0.02, imagesPerSec: 410.4, worker: 0 }),
  ]);
  assert.equal(text(), '$(sync~spin) fashion-mnist: kernel (phase 2) · step 312/624 (50%) · 410 img/s');

  foldEvents(p, [ev('measure.progress', { done: 40, total: 120, arch, accuracy: 0.8, macs: 1e6, params: 1e5 })]);
  assert.equal(text(), '$(sync~spin) fashion-mnist: measuring 40/120');

  const front: ParetoPoint[] = [
    { arch, macs: 1_200_000, params: 1e5, predictedAccuracy: 0.85, validationAccuracy: 0.86 },
    { arch, macs: 4_100_000, params: 2e5, predictedAccuracy: 0.9, validationAccuracy: 0.91, testAccuracy: 0.912 },
  ];
  foldEvents(p, [
    ev('predictor', { rmse: 0.01, kendallTau: 0.8, trainSize: 100, heldOutSize: 20 }),
    ev('search.generation', { generation: 120, generations: 500, bestPredictedAccuracy: 0.9, frontSize: 8, candidatesScored: 1000 }),
  ]);
  assert.equal(text(), '$(sync~spin) fashion-mnist: searching 120/500');
  foldEvents(p, [ev('pareto', { objective: 'macs', points: front, measured: true }), ev('run.finished', { status: 'completed', wallMs: 1000 })]);
  // A predicted front after the measured one does not replace it.
  foldEvents(p, [ev('pareto', { objective: 'macs', points: [front[0]], measured: false })]);
  assert.equal(text('completed'), '$(pass) fashion-mnist: done · 91.2% at 4.10 MMACs');
  assert.equal(text('stopped'), '$(debug-stop) fashion-mnist: stopped');
  assert.match(runStatusText('fashion-mnist', 'completed', p).tooltip, /best front entry: 91\.2% at 4\.10 MMACs/);
});

test('a run summary\'s progress seeds the text before any event; the best front entry is the most accurate', () => {
  const p = progressFromSummary({ stage: 'training', phase: 'depth', phaseIndex: 2, step: 10, totalSteps: 40 });
  assert.equal(runStatusText('q', 'running', p).text, '$(sync~spin) q: depth (phase 3) · step 10/40 (25%)');
  assert.equal(runStatusText('q', 'running', progressFromSummary({ stage: 'searching' })).text, '$(sync~spin) q: searching');
  const a = { arch, macs: 500, params: 1, predictedAccuracy: 0.7 };
  const b = { arch, macs: 300, params: 1, predictedAccuracy: 0.7 };
  const c = { arch, macs: 2_500_000_000, params: 1, predictedAccuracy: 0.6, validationAccuracy: 0.75 };
  assert.equal(bestFrontEntry([a, b, c]), c);
  assert.equal(bestFrontEntry([a, b]), b, 'fewer MACs on a tie');
  assert.equal(bestFrontEntry([]), undefined);
  assert.equal(describePoint(c), '75.0% at 2.50 GMACs');
  assert.equal(describePoint(a), '70.0% at 0.5 kMACs');
});

test("a fine-tuning run's end says what it gained: test accuracy before and after, what, and how long", () => {
  const m = (test: number) => ({ validationAccuracy: test, validationLoss: 1, testAccuracy: test, testLoss: 1 });
  const s: FinetuneSummary = {
    sourceRunId: 'fashion-mnist-20260101-120000-abcd',
    frontIndex: 2,
    arch,
    macs: 1e6,
    params: 1e4,
    metric: 'accuracy',
    higherIsBetter: true,
    settings: { epochs: 3, learningRate: 0.01, warmupEpochs: 0.1, kdRatio: 1, batchSize: 64, steps: 2529, stepsPerEpoch: 843, warmupSteps: 84 },
    teacher: 'largest-phase',
    before: m(0.712),
    after: m(0.7404),
    trainWallMs: 120_000,
    wallMs: 130_400,
    model: 'subnets/0/model.json',
  };
  assert.equal(describeFinetune(s), 'test accuracy 71.2% → 74.0% (front #2 of fashion-mnist-20260101-120000-abcd, 3 epochs, 2 min 10 s)');
  assert.equal(describeFinetune({ ...s, frontIndex: undefined, settings: { ...s.settings, epochs: 1 }, wallMs: 9_600 }), 'test accuracy 71.2% → 74.0% (a subnet of fashion-mnist-20260101-120000-abcd, 1 epoch, 10 s)');
});
