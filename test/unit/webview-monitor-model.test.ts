// The monitor's pure model (webviews/monitor/model.ts): the aligned tables the charts take, the run model built from
// telemetry events (replays overlapping live batches, phases, the front, the previews), smoothing and CSV export; the
// preview colours both the card and the report draw with. No DOM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TelemetryEvent, TelemetryEvents, TelemetryKind, WorkerStatus } from '../../daemon/protocol/events';
import type { Arch } from '../../daemon/protocol/values';
import { accuracyOf, AlignedTable, costOf, RunModel, smooth, tableCsv } from '../../webviews/monitor/model';
import { disparityRgb, errorRgb, NO_TRUTH_RGB, previewMeanEpe, previewPairBytes, previewPictureRgba } from '../../daemon/protocol/disparity-colors';
import { disparityPreview, previewEvent } from './preview-fixtures';

const arch: Arch = { ks: [3, 3], e: [3, 3], d: [1, 1], r: 32, w: 1 };

function events(): { next: <K extends TelemetryKind>(kind: K, data: TelemetryEvents[K], time?: number) => TelemetryEvent } {
  let seq = 0;
  return {
    next: (kind, data, time = 1000 + seq * 1000) => ({ seq: seq++, time, kind, data }) as TelemetryEvent,
  };
}

const step = (n: number, loss: number, worker = 0): TelemetryEvents['step'] => ({
  phaseIndex: 0,
  epoch: 0,
  step: n,
  totalSteps: 10,
  loss,
  learningRate: 0.1,
  imagesPerSec: 100,
  worker,
});

test('AlignedTable appends, inserts late x in order, overwrites an existing x and pads other columns with null', () => {
  const t = new AlignedTable();
  t.put(1, 'a', 10);
  t.put(3, 'a', 30);
  t.put(3, 'b', 31);
  t.put(2, 'b', 20); // late: inserted between 1 and 3
  t.put(1, 'a', 11); // existing x: overwritten
  assert.deepEqual(t.x, [1, 2, 3]);
  assert.deepEqual(t.columns.get('a'), [11, null, 30]);
  assert.deepEqual(t.columns.get('b'), [null, 20, 31]);
  assert.equal(t.length, 3);
  assert.deepEqual(t.column('c'), [null, null, null], 'a new column starts all null, as long as x');
  t.truncateAfter(2);
  assert.deepEqual(t.x, [1, 2]);
  assert.deepEqual(t.columns.get('a'), [11, null]);
  assert.deepEqual(t.columns.get('c'), [null, null]);
});

test('tableCsv writes the x column, then every column, empty where null, quoting where needed', () => {
  const t = new AlignedTable();
  t.put(0, 'loss', 2.5);
  t.put(1, 'eval/largest,x', 0.5);
  assert.equal(tableCsv(t, 'step'), 'step,loss,"eval/largest,x"\n0,2.5,\n1,,0.5\n');
  assert.equal(tableCsv(t, 'step', ['loss']), 'step,loss\n0,2.5\n1,\n');
});

test('smooth is a debiased EMA that keeps gaps; weight 0 leaves values as they are', () => {
  const values = [1, null, 3, Number.NaN, 5];
  assert.deepEqual(smooth(values, 0), values);
  const s = smooth(values, 0.5);
  assert.equal(s[0], 1, 'the first point is not pulled towards 0');
  assert.equal(s[1], null);
  assert.equal(s[3], null);
  // last = 0.5·(0.5·1) + 0.5·3 = 1.75 after two points, debiased by 1 − 0.25.
  assert.ok(Math.abs((s[2] as number) - 1.75 / 0.75) < 1e-12);
  assert.ok((s[4] as number) > (s[2] as number) && (s[4] as number) < 5);
});

test('costOf follows the objective; accuracyOf prefers test, then validation, then predicted accuracy', () => {
  const p = { macs: 100, params: 10, latencyMs: 1.5 };
  assert.equal(costOf(p, 'macs'), 100);
  assert.equal(costOf(p, 'params'), 10);
  assert.equal(costOf(p, 'latency'), 1.5);
  assert.ok(Number.isNaN(costOf({ macs: 1, params: 1 }, 'latency')));
  const point = { arch, macs: 1, params: 1, predictedAccuracy: 0.5 };
  assert.equal(accuracyOf(point), 0.5);
  assert.equal(accuracyOf({ ...point, validationAccuracy: 0.6 }), 0.6);
  assert.equal(accuracyOf({ ...point, validationAccuracy: 0.6, testAccuracy: 0.7 }), 0.7);
});

test('RunModel ingests events once each, in seq order, into series, phases, logs and the front', () => {
  const e = events();
  const backend = { backend: 'cpu', version: '4', device: 'test' };
  const batch: TelemetryEvent[] = [
    e.next('run.started', { runId: 'r', name: 'demo', task: 'classification', backend, seed: 1 }),
    e.next('phase', { index: 0, phase: 'largest', epochs: 1, stepsPerEpoch: 2, learningRate: 0.1, sample: { kernel: [3], expand: [3], depth: [1], width: [1], resolution: [32] } }),
    e.next('step', step(0, 2.0)),
    e.next('waiting', { reason: 'loading data' }),
    e.next('step', step(1, 1.5, 1)),
    e.next('phase', { index: 1, phase: 'kernel', epochs: 1, stepsPerEpoch: 2, learningRate: 0.05, sample: { kernel: [3, 5], expand: [3], depth: [1], width: [1], resolution: [32] } }),
    e.next('evaluation', { phaseIndex: 0, step: 1, subnet: 'largest', arch, split: 'validation', accuracy: 0.4, loss: 1.2 }),
    e.next('system', { host: 'h', worker: 0, cpuPercent: 50, rssMB: 100, heapMB: 50 }),
    e.next('log', { level: 'warn', message: 'careful' }),
    e.next('error', { message: 'boom' }),
  ];
  const m = new RunModel('r');
  assert.equal(m.ingest(batch), batch.length);
  assert.equal(m.ingest(batch.slice(2)), 0, 'a replay overlapping what was applied adds nothing');
  assert.equal(m.name, 'demo');
  assert.deepEqual(m.backend, backend);
  assert.equal(m.totalSteps, 10);
  assert.equal(m.lastStep, 1);
  assert.deepEqual(m.training.x, [0, 1]);
  assert.deepEqual(m.training.columns.get('loss'), [2.0, 1.5]);
  assert.deepEqual(m.training.columns.get('imagesPerSec/w0'), [100, null]);
  assert.deepEqual(m.training.columns.get('imagesPerSec/w1'), [null, 100]);
  assert.deepEqual(
    m.phases.map((p) => [p.index, p.phase, p.step, p.seconds]),
    [
      [0, 'largest', 0, 1],
      [1, 'kernel', 2, 5],
    ],
    'a phase starts at the step after the last one seen; seconds count from the first event',
  );
  assert.deepEqual(m.evaluation.columns.get('eval/largest/validation'), [0.4]);
  assert.equal(m.waiting, undefined, 'a step after "waiting" clears it');
  assert.deepEqual([...m.workers], ['h/w0']);
  assert.deepEqual(m.system.columns.get('cpu/h/w0'), [50]);
  assert.deepEqual(
    m.logs.map((l) => [l.level, l.message]),
    [
      ['warn', 'careful'],
      ['error', 'boom'],
    ],
  );

  const waiting = e.next('waiting', { reason: 'rendezvous' });
  m.ingest([waiting]);
  assert.equal(m.waiting, 'rendezvous');

  const cheap = { arch, macs: 10, params: 5, predictedAccuracy: 0.3 };
  const dear = { arch, macs: 50, params: 1, predictedAccuracy: 0.6 };
  m.ingest([e.next('pareto', { objective: 'params', points: [cheap, dear], measured: true })]);
  assert.deepEqual(m.frontPoints(), [dear, cheap], 'the front is sorted by the objective (params here)');
  m.ingest([e.next('pareto', { objective: 'macs', points: [dear], measured: false })]);
  assert.equal(m.pareto?.points.length, 2, 'a predicted front does not replace a measured one');

  m.ingest([e.next('run.finished', { status: 'completed', wallMs: 1 })]);
  assert.equal(m.finished?.status, 'completed');
  assert.equal(m.waiting, undefined);
});

// ——— the training job's workers (`workers` events of a run trained by several workers) ———

const worker = (rank: number, host: string, imagesPerSec: number, allReduceMs: number, node = rank): WorkerStatus => ({
  rank,
  node,
  host,
  imagesPerSec,
  allReduceMs,
  state: 'running',
});
const snapshot = (n: number, workers: WorkerStatus[], algorithm: TelemetryEvents['workers']['algorithm'] = 'data-parallel'): TelemetryEvents['workers'] => ({
  step: n,
  algorithm,
  workers,
});
const lostDetail = "the training job (2 workers on 2 hosts) stopped: rank 1 (host 'b') closed its connection; resume the run to continue from the last checkpoint";
/** The daemon's snapshot when the job fails: every worker, numbers 0, the lost one marked with the detail. */
const failure = (lostRank: number, hosts: string[]): TelemetryEvents['workers'] => ({
  step: -1,
  algorithm: 'data-parallel',
  workers: hosts.map((host, rank) => ({
    rank,
    node: rank,
    host,
    imagesPerSec: 0,
    allReduceMs: 0,
    state: rank === lostRank ? 'lost' : 'done',
    ...(rank === lostRank ? { detail: lostDetail } : {}),
  })),
});

test('RunModel keeps the latest workers snapshot, replaced by each event, and a history of the job\'s throughput', () => {
  const e = events();
  const m = new RunModel('r');
  assert.equal(m.job === undefined, true, 'no snapshot before a workers event');
  m.ingest([e.next('step', step(0, 2.0)), e.next('workers', snapshot(0, [worker(0, 'a', 100, 10), worker(1, 'b', 80, 30)]))]);
  assert.equal(m.job?.step, 0);
  assert.equal(m.job?.algorithm, 'data-parallel');
  assert.deepEqual(
    m.job?.workers.map((w) => [w.rank, w.host, w.imagesPerSec, w.allReduceMs, w.state]),
    [
      [0, 'a', 100, 10, 'running'],
      [1, 'b', 80, 30, 'running'],
    ],
  );
  assert.equal(m.job?.hosts, 2);
  assert.equal(m.job?.totalImagesPerSec, 180);
  assert.equal(m.job?.meanAllReduceMs, 20);

  // The next snapshot replaces the whole list (ranks sorted), it does not merge numbers into the old one.
  m.ingest([e.next('step', step(4, 1.5)), e.next('workers', snapshot(4, [worker(1, 'b', 90, 6), worker(0, 'a', 110, 4)]))]);
  assert.equal(m.job?.step, 4);
  assert.deepEqual(
    m.job?.workers.map((w) => [w.rank, w.imagesPerSec, w.allReduceMs]),
    [
      [0, 110, 4],
      [1, 90, 6],
    ],
  );
  assert.deepEqual(m.jobHistory.x, [0, 4]);
  assert.deepEqual(m.jobHistory.columns.get('totalImagesPerSec'), [180, 200]);
  assert.deepEqual(m.jobHistory.columns.get('meanAllReduceMs'), [20, 5]);
  assert.equal(m.lastStep, 4, 'a workers event does not move the step');
  assert.equal(m.ingest([e.next('workers', snapshot(8, [worker(0, 'a', 1, 1)]))].map((x) => ({ ...x, seq: 0 }))), 0, 'a replayed event is not applied twice');
  assert.equal(m.job?.step, 4);

  // Subnet-parallel: workers of a node share it; nodes and hosts are counted apart.
  m.ingest([
    e.next(
      'workers',
      snapshot(8, [worker(0, 'a', 50, 2, 0), worker(1, 'a', 50, 2, 0), worker(2, 'b', 40, 3, 1), worker(3, 'b', 40, 3, 1)], 'subnet-parallel'),
    ),
  ]);
  assert.equal(m.job?.algorithm, 'subnet-parallel');
  assert.deepEqual(m.job?.workers.map((w) => w.node), [0, 0, 1, 1]);
  assert.equal(m.job?.hosts, 2);
  assert.equal(m.job?.nodes, 2);
  assert.equal(m.job?.totalImagesPerSec, 180);
});

test('the failure snapshot marks the lost worker with its detail; lost and stalled stick until a later snapshot says otherwise', () => {
  const e = events();
  const m = new RunModel('r');
  m.ingest([e.next('step', step(0, 2.0)), e.next('workers', snapshot(0, [worker(0, 'a', 100, 10), worker(1, 'b', 80, 30)]))]);
  const message = `training failed: ${lostDetail}`;
  m.ingest([
    e.next('workers', failure(1, ['a', 'b'])),
    e.next('error', { message }),
    e.next('run.finished', { status: 'failed', message, wallMs: 1 }),
  ]);
  assert.equal(m.job?.step, -1);
  assert.deepEqual(
    m.job?.workers.map((w) => [w.rank, w.state, w.detail]),
    [
      [0, 'done', undefined],
      [1, 'lost', lostDetail],
    ],
  );
  assert.deepEqual(m.troubledWorkers().map((w) => w.rank), [1]);
  assert.deepEqual(m.jobHistory.x, [0], 'the failure snapshot has no measurements: not a point of the history');
  assert.equal(m.finished?.status, 'failed');
  assert.equal(m.finished?.message, message);

  // A stalled worker stays marked while later snapshots leave its rank out, and is cleared by one that lists it.
  const s = new RunModel('s');
  const f = events();
  s.ingest([f.next('workers', snapshot(2, [worker(0, 'a', 100, 10), { ...worker(1, 'b', 0, 0), state: 'stalled', detail: "no data from rank 1 (host 'b') for 30 s" }]))]);
  s.ingest([f.next('workers', snapshot(3, [worker(0, 'a', 100, 900)]))]);
  assert.deepEqual(
    s.job?.workers.map((w) => [w.rank, w.state, w.detail]),
    [
      [0, 'running', undefined],
      [1, 'stalled', "no data from rank 1 (host 'b') for 30 s"],
    ],
  );
  assert.equal(s.job?.totalImagesPerSec, 100, 'totals are of the snapshot\'s own workers');
  s.ingest([f.next('workers', snapshot(4, [worker(0, 'a', 100, 10), worker(1, 'b', 70, 12)]))]);
  assert.deepEqual(s.job?.workers.map((w) => [w.rank, w.state, w.detail]), [
    [0, 'running', undefined],
    [1, 'running', undefined],
  ]);
  assert.deepEqual(s.troubledWorkers(), []);
});

test('after a resume cuts the log back, the rebuilt model shows the workers as the cut log says, then the resumed job\'s', () => {
  const e = events();
  const log: TelemetryEvent[] = [
    e.next('run.started', { runId: 'r', name: 'job', task: 'classification', backend: { backend: 'cpu', version: '4', device: 'test' }, seed: 1 }),
    e.next('step', step(0, 2.0)),
    e.next('workers', snapshot(0, [worker(0, 'a', 100, 10), worker(1, 'b', 80, 30)])),
    e.next('checkpoint', { step: 0, file: 'ckpt-0' }),
    e.next('step', step(4, 1.5)),
    e.next('workers', snapshot(4, [worker(0, 'a', 110, 4), worker(1, 'b', 90, 6)])),
    e.next('workers', failure(1, ['a', 'b'])),
    e.next('run.finished', { status: 'failed', message: lostDetail, wallMs: 1 }),
  ];
  const before = new RunModel('r');
  before.ingest(log);
  assert.equal(before.job?.workers[1].state, 'lost');

  // The resume cuts the log back to the checkpoint event (runStatus truncatedToSeq); the monitor rebuilds its models
  // from the cut copy, so the failure, and the lost mark with it, are gone like the run's finish.
  const toSeq = log.find((x) => x.kind === 'checkpoint')!.seq;
  const cut = log.filter((x) => x.seq <= toSeq);
  const m = new RunModel('r');
  m.ingest(cut);
  assert.equal(m.finished, undefined);
  assert.equal(m.job?.step, 0);
  assert.deepEqual(m.job?.workers.map((w) => w.state), ['running', 'running']);
  assert.deepEqual(m.troubledWorkers(), []);
  assert.deepEqual(m.jobHistory.x, [0], 'the history is cut back with the steps');
  assert.deepEqual(m.training.x, [0]);

  // The events after the cut arrive again from the resumed worker (seqs reused): a new process, a new job whose
  // workers are unknown until its first snapshot; its snapshots overwrite the history at the same steps.
  const resumed = events();
  for (let i = 0; i <= toSeq; i++) resumed.next('log', { level: 'debug', message: 'skip' }); // seqs continue from the cut
  const after = [
    resumed.next('run.started', { runId: 'r', name: 'job', task: 'classification', backend: { backend: 'cpu', version: '4', device: 'test' }, seed: 1, resumedFromStep: 0 }),
    resumed.next('step', step(4, 1.4)),
  ];
  assert.equal(after[0].seq, toSeq + 1);
  m.ingest(after);
  assert.equal(m.job === undefined, true, 'the resumed process has not reported its workers yet');
  m.ingest([resumed.next('workers', snapshot(4, [worker(0, 'a', 120, 3), worker(1, 'c', 95, 5)]))]);
  assert.deepEqual(m.job?.workers.map((w) => [w.host, w.state]), [
    ['a', 'running'],
    ['c', 'running'],
  ]);
  assert.deepEqual(m.jobHistory.x, [0, 4]);
  assert.deepEqual(m.jobHistory.columns.get('totalImagesPerSec'), [180, 215]);

  // The same model fed the resumed events without the rebuild would skip them (their seqs were applied already):
  // that is why the monitor starts over on a cut.
  assert.equal(before.ingest(after), 0);
});

test('RunModel lists previews by phase and by label, the latest last; a repeated one replaces the earlier', () => {
  const e = events();
  const m = new RunModel('stereo');
  const sample = { kernel: [3], expand: [3], depth: [1], width: [1], resolution: [48] };
  const first = disparityPreview({ pairs: 1 });
  const log = [
    e.next('phase', { index: 0, phase: 'largest', epochs: 1, stepsPerEpoch: 2, learningRate: 0.1, sample }),
    e.next('preview', previewEvent('largest', 0, first)),
    e.next('phase', { index: 1, phase: 'kernel', epochs: 1, stepsPerEpoch: 2, learningRate: 0.1, sample }),
    e.next('preview', previewEvent('largest', 1)),
    e.next('preview', previewEvent('front #0')),
    e.next('preview', previewEvent('front #1')),
  ];
  m.ingest(log);
  assert.deepEqual(m.previews.map((p) => p.key), ['phase 0', 'phase 1', 'front #0', 'front #1']);
  assert.deepEqual(m.previews.map((p) => m.previewTitle(p)), ['phase 1 (largest): largest', 'phase 2 (kernel): largest', 'front #0', 'front #1']);
  assert.equal(m.previews[0].preview, first);
  assert.equal(m.previews[2].phaseIndex, undefined);
  // A resumed run previews phase 1 again: it replaces the old one and is now the latest.
  const again = disparityPreview({ pairs: 3 });
  m.ingest([e.next('preview', previewEvent('largest', 0, again))]);
  assert.deepEqual(m.previews.map((p) => p.key), ['phase 1', 'front #0', 'front #1', 'phase 0']);
  assert.equal(m.previews[3].preview.pairs.length, 3);
  // A replay of events already applied changes nothing.
  assert.equal(m.ingest(log), 0);
  assert.deepEqual(m.previews.map((p) => p.key), ['phase 1', 'front #0', 'front #1', 'phase 0']);
});

test('preview pictures: grey left view, turbo disparity, grey where no truth, KITTI error colours', () => {
  assert.deepEqual(disparityRgb(255), NO_TRUTH_RGB);
  assert.notDeepEqual(disparityRgb(0), disparityRgb(254));
  // Turbo runs from dark blue (far) to red (near): blue falls, red rises over the scale.
  assert.ok(disparityRgb(20)[2] > disparityRgb(20)[0] && disparityRgb(240)[0] > disparityRgb(240)[2]);
  assert.deepEqual(errorRgb(0.1), [49, 54, 149]);
  assert.deepEqual(errorRgb(2.9), [224, 243, 248], 'below 3 px: still the light blue of the last good bin');
  assert.deepEqual(errorRgb(3), [254, 224, 144], 'from 3 px: yellow');
  assert.deepEqual(errorRgb(1000), [165, 0, 38]);
  assert.deepEqual(errorRgb(-0.1), errorRgb(0.1), 'the magnitude counts');

  const preview = disparityPreview({ pairs: 2 });
  assert.ok(Math.abs(previewMeanEpe(preview) - (preview.pairs[0].epe + preview.pairs[1].epe) / 2) < 1e-12);
  const pair = previewPairBytes(preview.pairs[0]);
  const { width, height } = pair;
  assert.equal(pair.left.length, width * height);
  const noTruth = pair.truth.indexOf(255);
  assert.ok(noTruth >= 0, 'occluded pixels of the fixture have no ground truth');
  for (const picture of ['left', 'predicted', 'truth', 'error'] as const) {
    const rgba = previewPictureRgba(picture, pair, preview.maxDisparity);
    assert.equal(rgba.length, width * height * 4);
    assert.ok(rgba.every((v, i) => i % 4 !== 3 || v === 255), `${picture} is opaque`);
  }
  const left = previewPictureRgba('left', pair, preview.maxDisparity);
  assert.deepEqual([...left.subarray(0, 3)], [pair.left[0], pair.left[0], pair.left[0]]);
  const truth = previewPictureRgba('truth', pair, preview.maxDisparity);
  assert.deepEqual([...truth.subarray(4 * noTruth, 4 * noTruth + 3)], NO_TRUTH_RGB);
  const error = previewPictureRgba('error', pair, preview.maxDisparity);
  assert.deepEqual([...error.subarray(4 * noTruth, 4 * noTruth + 3)], NO_TRUTH_RGB);
  // Where truth exists the error colour is that of |predicted − truth| in pixels.
  const i = pair.truth.findIndex((t) => t !== 255);
  const errPx = (Math.abs(pair.predicted[i] - pair.truth[i]) / 254) * preview.maxDisparity;
  assert.deepEqual([...error.subarray(4 * i, 4 * i + 3)], errorRgb(errPx));
  assert.throws(() => previewPictureRgba('left', { ...pair, left: pair.left.subarray(1) }, 8), /bytes for a 48×24 picture/);
});
