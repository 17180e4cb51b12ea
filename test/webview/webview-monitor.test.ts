// The training monitor page in headless Chromium, fed a recorded event log of a real tiny run (test/fixtures) through
// the real message protocol: the charts, the Pareto front and its table, the banner and the exports show what the
// log says; a 100,000-point log still renders every point; themes render; no CSP violation. Screenshots are kept in
// test-artifacts/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TelemetryEvent } from '../../daemon/protocol/events';
import type { RunSummary } from '../../daemon/protocol/methods';
import type { MonitorNotifications, MonitorState } from '../../daemon/protocol/webview';
import { ROOT, artifactPath, openWebview, skipReason, type WebviewHarness } from './harness';
import { disparityPreview, previewEvent } from '../unit/preview-fixtures';

const skip = skipReason('monitor');
const log: TelemetryEvent[] = readFileSync(join(ROOT, 'test/fixtures/extension/tiny-run.events.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as TelemetryEvent);
const runId = (log[0] as Extract<TelemetryEvent, { kind: 'run.started' }>).data.runId;

function summary(id: string, name: string, status: RunSummary['status']): RunSummary {
  return { runId: id, name, status, runDir: `/tmp/${id}`, createdAt: 1, updatedAt: 2, nextSeq: 0, progress: {}, resumable: false };
}
function state(ids: string[], runs: RunSummary[]): MonitorState {
  return {
    selected: ids.map((id) => ({ hostId: 'local', runId: id })),
    runs,
    hosts: [{ id: 'local', label: 'Local', connection: 'connected', backend: 'wasm · CPU' }],
    waiting: null,
    error: null,
  };
}

async function ready(h: WebviewHarness, s: MonitorState): Promise<void> {
  await h.waitForPosted('core/ready');
  await h.deliver<MonitorNotifications, 'core/ready/completion'>('core/ready/completion', { state: s });
}

const count = (kind: TelemetryEvent['kind']) => log.filter((e) => e.kind === kind).length;

test('the monitor shows what a recorded run log says', { skip }, async () => {
  const h = await openWebview('monitor', { theme: 'dark' });
  try {
    await ready(h, state([runId], [summary(runId, 'tiny', 'completed')]));
    // Deliver as the extension does: in batches, in seq order.
    for (let i = 0; i < log.length; i += 10) await h.deliver<MonitorNotifications, 'monitor/events'>('monitor/events', { runId, events: log.slice(i, i + 10) });
    const lastSeq = log[log.length - 1].seq;
    await h.page.waitForFunction((s) => document.body.dataset.lastSeq === String(s), lastSeq);
    await h.page.waitForTimeout(200);

    const points = (chart: string) => h.page.getAttribute(`[data-chart="${chart}"]`, 'data-points');
    assert.equal(await points('loss'), String(count('step')), 'one loss point per step event');
    assert.equal(await points('learningRate'), String(count('step')));
    const evalSeries = (await h.page.getAttribute('[data-chart="evaluation"]', 'data-series'))!.split('|');
    const evalLabels = [...new Set(log.filter((e) => e.kind === 'evaluation').map((e) => (e.kind === 'evaluation' ? `eval/${e.data.subnet}/${e.data.split}` : '')))];
    assert.deepEqual(evalSeries.sort(), evalLabels.sort());
    assert.equal(await points('search'), String(count('search.generation')));
    // uPlot drew a canvas for the loss chart
    assert.equal(await h.page.locator('[data-chart="loss"] canvas').count(), 1);
    // A run trained by one worker sends no workers event: no Workers section, no job charts.
    assert.equal(count('workers'), 0);
    assert.equal(await h.page.locator('section.workers').isHidden(), true);
    assert.equal(await h.page.locator('[data-chart="allReduce"]').isHidden(), true);

    // The Pareto front: one dot and one table row per point of the last measured front.
    const pareto = log.filter((e): e is Extract<TelemetryEvent, { kind: 'pareto' }> => e.kind === 'pareto');
    const front = (pareto.find((p) => p.data.measured) ?? pareto[pareto.length - 1]).data.points;
    assert.equal(await h.page.locator('.pareto svg g.front circle').count(), front.length);
    assert.equal(await h.page.locator('.pareto svg g.measured circle').count(), count('measure.progress'));
    assert.equal(await h.page.locator('.front-table tbody tr').count(), front.length);
    // Every evaluated architecture is a line of the parallel coordinates.
    assert.equal(await h.page.locator('.parallel svg path').count(), count('measure.progress'));

    // The header and banner say what the log says: the run finished.
    const finished = log.find((e) => e.kind === 'run.finished');
    assert.ok(finished && finished.kind === 'run.finished');
    assert.match((await h.page.textContent('.banner'))!, new RegExp(`Run ${finished.data.status}`));
    assert.match((await h.page.textContent('.subtitle'))!, /wasm 4\.22\.0/);

    // Clicking a front point asks the extension to show that subnet.
    await h.page.locator('.pareto svg g.front circle').first().click();
    const show = (await h.waitForPosted('monitor/showSubnet')).params as { index: number; point: { arch: unknown } };
    const clicked = await h.page.locator('.pareto svg g.front circle').first().getAttribute('data-index');
    assert.equal(show.index, Number(clicked));
    assert.deepEqual(show.point.arch, front[show.index].arch);

    // CSV export of the loss chart: a header and one row per step, handed to the extension to save.
    await h.page.click('[data-chart="loss"] button:has-text("CSV")');
    const csv = (await h.waitForPosted('core/saveFile')).params as { suggestedName: string; content: string; encoding: string };
    assert.equal(csv.encoding, 'utf8');
    assert.match(csv.suggestedName, /loss\.csv$/);
    const rows = csv.content.trim().split('\n');
    assert.equal(rows[0], 'step,loss');
    assert.equal(rows.length, count('step') + 1);
    // PNG export: base64 of a real PNG
    await h.page.click('[data-chart="loss"] button:has-text("PNG")');
    await h.page.waitForFunction(() => (window as unknown as { __posted: { params: { suggestedName?: string } }[] }).__posted.some((p) => p.params?.suggestedName?.endsWith('.png')));
    const png = (await h.posted()).find((p) => (p.params as { suggestedName?: string }).suggestedName?.endsWith('.png'))!.params as { content: string };
    assert.equal(Buffer.from(png.content, 'base64').subarray(1, 4).toString('ascii'), 'PNG');

    // Smoothing and log axis are view state the page persists for a restored panel.
    await h.page.locator('#smoothing').fill('0.9');
    await h.page.check('#log-y');
    const persisted = (await h.persisted()) as { smoothing: number; logY: boolean; selected: unknown };
    assert.equal(persisted.smoothing, 0.9);
    assert.equal(persisted.logY, true);
    assert.deepEqual(persisted.selected, [{ hostId: 'local', runId }]);

    await h.page.screenshot({ path: artifactPath('webview-monitor-dark.png'), fullPage: true });
  } finally {
    await h.close();
  }
  assert.deepEqual(h.problems, []);
});

test('while nothing arrives the monitor says what it waits for', { skip }, async () => {
  const h = await openWebview('monitor', { theme: 'light' });
  try {
    await ready(h, state([runId], [summary(runId, 'tiny', 'running')]));
    const head = log.slice(0, 2); // run.started, then waiting: loading the dataset
    assert.equal(head[1].kind, 'waiting');
    await h.deliver<MonitorNotifications, 'monitor/events'>('monitor/events', { runId, events: head });
    await h.page.waitForFunction(() => document.body.dataset.lastSeq === '1');
    await h.page.waitForTimeout(100);
    const reason = head[1].kind === 'waiting' ? head[1].data.reason : '';
    assert.equal((await h.page.textContent('.banner'))!.trim(), `Waiting: ${reason}`);
    // The daemon going away is said too.
    await h.deliver<MonitorNotifications, 'monitor/state'>('monitor/state', { state: { ...state([runId], []), waiting: 'the daemon on Local is not reachable: connection closed' } });
    await h.page.waitForFunction(() => /not reachable/.test(document.querySelector('.banner')?.textContent ?? ''));
    await h.page.screenshot({ path: artifactPath('webview-monitor-waiting-light.png') });
  } finally {
    await h.close();
  }
  assert.deepEqual(h.problems, []);
});

test('runs are overlaid for comparison and every point of a 100,000-step run is drawn', { skip }, async (t) => {
  const h = await openWebview('monitor', { theme: 'high-contrast' });
  try {
    const big = 'big-run';
    await ready(h, state([big, runId], [summary(big, 'big', 'running'), summary(runId, 'tiny', 'completed')]));
    await h.deliver<MonitorNotifications, 'monitor/events'>('monitor/events', { runId, events: log });
    const N = 100_000;
    const events: TelemetryEvent[] = [];
    let seq = 0;
    events.push({ seq: seq++, time: 0, kind: 'run.started', data: { runId: big, name: 'big', task: 'classification', seed: 1, backend: { backend: 'cpu', version: '4.22.0', device: 'test' } } });
    events.push({ seq: seq++, time: 0, kind: 'phase', data: { index: 0, phase: 'largest', epochs: 1, stepsPerEpoch: N, learningRate: 0.1, sample: { kernel: [7], expand: [6], depth: [4], width: [1], resolution: [32] } } });
    for (let s = 0; s < N; s++) {
      const loss = 2.3 * Math.exp(-s / 20000) + 0.1 * Math.sin(s);
      events.push({ seq: seq++, time: s, kind: 'step', data: { phaseIndex: 0, epoch: 0, step: s, totalSteps: N, loss, learningRate: 0.1, imagesPerSec: 900 + (s % 50), worker: 0 } });
    }
    const t0 = Date.now();
    for (let i = 0; i < events.length; i += 4000) await h.deliver<MonitorNotifications, 'monitor/events'>('monitor/events', { runId: big, events: events.slice(i, i + 4000) });
    await h.page.waitForFunction((n) => document.querySelector('[data-chart="loss"]')?.getAttribute('data-points') === String(n), N, { timeout: 60_000 });
    t.diagnostic(`100,000 steps replayed and drawn in ${Date.now() - t0} ms (Chromium, 4000 events per message)`);
    const labels = (await h.page.getAttribute('[data-chart="loss"]', 'data-series'))!.split('|');
    assert.deepEqual(labels, ['big: loss', 'tiny: loss']);
    // A redraw of the whole chart (smoothing change) at 100k points, timed for the report, not asserted.
    const ms = await h.page.evaluate(async () => {
      const input = document.getElementById('smoothing') as HTMLInputElement;
      const start = performance.now();
      input.value = '0.95';
      input.dispatchEvent(new Event('input'));
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      return performance.now() - start;
    });
    t.diagnostic(`re-smoothing and redrawing 2 × 100,000-point series: ${ms.toFixed(0)} ms`);
    await h.page.screenshot({ path: artifactPath('webview-monitor-100k-high-contrast.png'), fullPage: true });
  } finally {
    await h.close();
  }
  assert.deepEqual(h.problems, []);
});

test('a restored panel asks for its runs again with the state it persisted', { skip }, async () => {
  const h = await openWebview('monitor', { restoredState: { selected: [{ hostId: 'local', runId }], smoothing: 0.3, logY: true, logX: false } });
  try {
    await h.waitForPosted('core/ready');
    assert.equal(await h.page.inputValue('#smoothing'), '0.3');
    assert.equal(await h.page.isChecked('#log-y'), true);
  } finally {
    await h.close();
  }
  assert.deepEqual(h.problems, []);
});

test('a run trained by several workers shows them, and the worker the job lost', { skip }, async () => {
  const h = await openWebview('monitor', { theme: 'dark' });
  try {
    const id = 'job-run';
    await ready(h, state([id], [summary(id, 'job', 'running')]));
    let seq = 0;
    const ev = (kind: TelemetryEvent['kind'], data: unknown): TelemetryEvent => ({ seq: seq++, time: 1000 + seq * 100, kind, data }) as TelemetryEvent;
    const running = (rank: number, node: number, host: string, imagesPerSec: number, allReduceMs: number) => ({ rank, node, host, imagesPerSec, allReduceMs, state: 'running' });
    const events: TelemetryEvent[] = [ev('run.started', { runId: id, name: 'job', task: 'classification', seed: 1, backend: { backend: 'cpu', version: '4.22.0', device: 'test' } })];
    for (let s = 0; s < 3; s++) {
      events.push(ev('step', { phaseIndex: 0, epoch: 0, step: s, totalSteps: 10, loss: 2 - s / 10, learningRate: 0.1, imagesPerSec: 100, worker: 0 }));
      events.push(
        ev('workers', {
          step: s,
          algorithm: 'subnet-parallel',
          workers: [running(0, 0, 'alpha', 100 + s, 4), running(1, 0, 'alpha', 100, 5), running(2, 1, 'beta', 90, 12), running(3, 1, 'beta', 90, 11)],
        }),
      );
    }
    await h.deliver<MonitorNotifications, 'monitor/events'>('monitor/events', { runId: id, events });
    await h.page.waitForFunction((s) => document.body.dataset.lastSeq === String(s), seq - 1);
    await h.page.waitForSelector('section.workers:not([hidden])');

    const headings = await h.page.locator('.workers-table thead th').allTextContents();
    assert.deepEqual(headings, ['rank', 'host', 'node', 'images/s', 'all-reduce ms/step', 'state'], 'subnet-parallel shows the node column');
    assert.equal(await h.page.locator('.workers-table tr.worker').count(), 4);
    const row2 = await h.page.locator('.workers-table tr.worker[data-rank="2"] td').allTextContents();
    assert.deepEqual(row2, ['2', 'beta', '1', '90.0', '12.0', 'running']);
    const summaryLine = (await h.page.textContent('.workers-summary'))!;
    assert.match(summaryLine, /subnet-parallel/);
    assert.match(summaryLine, /4 workers on 2 hosts/);
    assert.match(summaryLine, /2 nodes/);
    assert.match(summaryLine, /382\.0 images\/s in all/);
    assert.equal(await h.page.getAttribute('[data-chart="jobImagesPerSec"]', 'data-points'), '3');
    assert.equal(await h.page.getAttribute('[data-chart="allReduce"]', 'data-points'), '3');

    // The job fails: the daemon's last snapshot marks the lost worker, with what happened.
    const detail = "the training job (4 workers on 2 hosts) stopped: rank 2 (host 'beta') closed its connection; resume the run to continue from the last checkpoint";
    const failed: TelemetryEvent[] = [
      ev('workers', {
        step: -1,
        algorithm: 'data-parallel',
        workers: [0, 1, 2, 3].map((rank) => ({
          rank,
          node: rank,
          host: rank < 2 ? 'alpha' : 'beta',
          imagesPerSec: 0,
          allReduceMs: 0,
          state: rank === 2 ? 'lost' : 'done',
          ...(rank === 2 ? { detail } : {}),
        })),
      }),
      ev('run.finished', { status: 'failed', message: `training failed: ${detail}`, wallMs: 1000 }),
    ];
    await h.deliver<MonitorNotifications, 'monitor/events'>('monitor/events', { runId: id, events: failed });
    await h.page.waitForFunction((s) => document.body.dataset.lastSeq === String(s), seq - 1);
    await h.page.waitForSelector('.workers-table tr.worker-lost');
    assert.deepEqual(await h.page.locator('.workers-table thead th').allTextContents(), ['rank', 'host', 'images/s', 'all-reduce ms/step', 'state'], 'no node column for data-parallel');
    const lost = h.page.locator('.workers-table tr.worker.worker-lost');
    assert.equal(await lost.count(), 1);
    assert.equal(await lost.getAttribute('data-rank'), '2');
    assert.match((await lost.locator('td.state').textContent())!, /lost/, 'the state is said in text, not by colour alone');
    assert.equal((await h.page.textContent('.workers-table tr.worker-detail[data-rank="2"] td.detail'))!.trim(), detail);
    assert.equal(await h.page.locator('.workers-table tr.worker-done').count(), 3);
    assert.match((await h.page.textContent('.workers-summary'))!, /the job stopped.*rank 2 lost/);
    assert.match((await h.page.textContent('.banner'))!, /Run failed: training failed: .*rank 2/);
    await h.page.screenshot({ path: artifactPath('webview-monitor-workers-dark.png'), fullPage: true });
  } finally {
    await h.close();
  }
  assert.deepEqual(h.problems, []);
});

test('a stereo run\'s previews show as a Disparity card: four non-blank pictures per pair, its EPE, a picker by label', { skip }, async () => {
  const h = await openWebview('monitor', { theme: 'dark' });
  try {
    const id = 'stereo-run';
    await ready(h, state([id], [summary(id, 'stereo', 'running')]));
    let seq = 0;
    const ev = (kind: TelemetryEvent['kind'], data: unknown): TelemetryEvent => ({ seq: seq++, time: 1000 + seq * 100, kind, data }) as TelemetryEvent;
    const sample = { kernel: [3], expand: [3], depth: [2], width: [1], resolution: [48] };
    const started = ev('run.started', { runId: id, name: 'stereo', task: 'stereo', seed: 1, backend: { backend: 'cpu', version: '4.22.0', device: 'test' } });
    await h.deliver<MonitorNotifications, 'monitor/events'>('monitor/events', { runId: id, events: [started] });
    await h.page.waitForFunction(() => document.body.dataset.lastSeq === '0');
    assert.equal(await h.page.locator('section.disparity').isHidden(), true, 'no previews, no card');

    const phasePreview = disparityPreview({ pairs: 2 });
    const frontPreview = disparityPreview({ pairs: 1, maxDisparity: 12 });
    const events = [
      ev('phase', { index: 0, phase: 'largest', epochs: 1, stepsPerEpoch: 2, learningRate: 0.1, sample }),
      ev('preview', previewEvent('largest', 0, phasePreview)),
      ev('preview', previewEvent('front #0', undefined, frontPreview)),
    ];
    await h.deliver<MonitorNotifications, 'monitor/events'>('monitor/events', { runId: id, events });
    await h.page.waitForSelector('section.disparity:not([hidden])');
    const card = h.page.locator('section.disparity');
    assert.equal(await card.getAttribute('data-previews'), '2');
    // The latest (front #0) is shown first, and the picker lists both, newest first.
    assert.equal(await card.getAttribute('data-label'), 'front #0');
    assert.deepEqual(await h.page.locator('#preview-picker option').allTextContents(), ['front #0 (latest)', 'phase 1 (largest): largest']);
    assert.equal(await h.page.locator('.disparity-pairs tr.pair').count(), 1);
    assert.match((await h.page.textContent('.disparity-pairs thead'))!, /0.*12 px/, 'the scale bar spans 0 … maxDisparity px');

    /** Per canvas of the card's pair rows: its class and how many distinct colours it holds. */
    const canvases = () =>
      h.page.$$eval('.disparity-pairs tr.pair canvas', (list) =>
        list.map((c) => {
          const canvas = c as HTMLCanvasElement;
          const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
          const colours = new Set<number>();
          for (let i = 0; i < data.length; i += 4) colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
          return { cls: canvas.className, width: canvas.width, colours: colours.size, opaque: data.every((v, i) => i % 4 !== 3 || v === 255) };
        }),
      );
    let drawn = await canvases();
    assert.deepEqual(drawn.map((c) => c.cls), ['picture left', 'picture predicted', 'picture truth', 'picture error']);
    for (const c of drawn) {
      assert.ok(c.colours > 2, `${c.cls} is not blank (${c.colours} colours)`);
      assert.ok(c.opaque && c.width === frontPreview.pairs[0].width);
    }
    assert.match((await h.page.textContent('.disparity-pairs tr.pair td.epe'))!, new RegExp(`${frontPreview.pairs[0].epe.toFixed(2)} px`));

    // Picking the phase's preview shows its two pairs.
    await h.page.selectOption('#preview-picker', 'phase 0');
    await h.page.waitForFunction(() => document.querySelector('section.disparity')?.getAttribute('data-label') === 'largest');
    assert.equal(await h.page.locator('.disparity-pairs tr.pair').count(), 2);
    drawn = await canvases();
    assert.equal(drawn.length, 8);
    assert.ok(drawn.every((c) => c.colours > 2));
    const epes = await h.page.locator('.disparity-pairs tr.pair').evaluateAll((rows) => rows.map((r) => Number((r as HTMLElement).dataset.epe)));
    assert.deepEqual(epes, phasePreview.pairs.map((p) => p.epe));
    // A preview arriving later does not take the picked one away.
    await h.deliver<MonitorNotifications, 'monitor/events'>('monitor/events', { runId: id, events: [ev('preview', previewEvent('front #1', undefined, frontPreview))] });
    await h.page.waitForFunction(() => document.querySelector('section.disparity')?.getAttribute('data-previews') === '3');
    assert.equal(await card.getAttribute('data-label'), 'largest');
    await card.screenshot({ path: artifactPath('webview-monitor-disparity-dark.png') });
  } finally {
    await h.close();
  }
  assert.deepEqual(h.problems, []);
});
