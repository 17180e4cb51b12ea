// webviews/: the two webview pages (browser bundles). This one is the training monitor: live charts of a run's
// telemetry (replayed, then live), the search's Pareto front and the evaluated architectures, with the habits of
// TensorBoard and W&B — smoothing, log axes, zoom, overlaid runs, PNG/CSV export — what the run waits for, the
// workers of a run trained by several, and a stereo run's disparity previews.
import 'uplot/dist/uPlot.min.css';
import './monitor.css';
import uPlot from 'uplot';
import type { MonitorCommands, MonitorNotifications, MonitorState, RunKey } from '../../daemon/protocol/webview';
import type { RunSummary } from '../../daemon/protocol/methods';
import { metricLabel } from '../../daemon/protocol/results';
import { PageChannel } from '../shared/vscode-api';
import { dataUrlPayload, el, readPalette, watchTheme } from '../shared/theme';
import { LineChart, type ChartData, type ChartSeries } from './line-chart';
import { RunModel, smooth, tableCsv, type AlignedTable } from './model';
import { ParetoView } from './pareto';
import { ParallelView } from './parallel';
import { WorkersView } from './workers';
import { DisparityView } from './disparity';

interface Persisted {
  selected: RunKey[];
  smoothing: number;
  logY: boolean;
  logX: boolean;
}

const channel = new PageChannel<MonitorCommands, MonitorNotifications, Persisted>();
const models = new Map<string, RunModel>();
let state: MonitorState = { selected: channel.persisted.selected ?? [], runs: [], hosts: [], waiting: 'connecting to the extension', error: null };
let smoothing = channel.persisted.smoothing ?? 0.6;
let logY = channel.persisted.logY ?? false;
let logX = channel.persisted.logX ?? false;
let palette = readPalette();

// ——— layout ———
const app = document.getElementById('app')!;
const header = el('header', 'top');
const title = el('h1', undefined, 'MANTA Training Monitor');
const subtitle = el('div', 'subtitle');
const runPicker = el('div', 'run-picker');
header.append(title, subtitle, runPicker);
const banner = el('div', 'banner');
banner.setAttribute('role', 'status');
const toolbar = el('div', 'toolbar');
const smoothLabel = el('label', 'tool');
smoothLabel.append('Smoothing ');
const smoothInput = el('input');
smoothInput.type = 'range';
smoothInput.min = '0';
smoothInput.max = '0.99';
smoothInput.step = '0.01';
smoothInput.value = String(smoothing);
smoothInput.id = 'smoothing';
const smoothValue = el('span', 'value', smoothing.toFixed(2));
smoothLabel.append(smoothInput, smoothValue);
const logYLabel = el('label', 'tool');
const logYInput = el('input');
logYInput.type = 'checkbox';
logYInput.id = 'log-y';
logYInput.checked = logY;
logYLabel.append(logYInput, ' Log y');
const logXLabel = el('label', 'tool');
const logXInput = el('input');
logXInput.type = 'checkbox';
logXInput.id = 'log-x';
logXInput.checked = logX;
logXLabel.append(logXInput, ' Log cost axis');
const resetButton = el('button', 'button', 'Reset zoom');
resetButton.title = 'Reset the zoom of every chart (or double-click a chart)';
const csvAll = el('button', 'button', 'Export all CSV');
toolbar.append(smoothLabel, logYLabel, logXLabel, resetButton, csvAll);
const workersBox = el('div', 'workers-box');
const grid = el('div', 'grid');
const previewsBox = el('div', 'previews-box');
const results = el('div', 'results');
const logBox = el('section', 'card logs');
logBox.append(el('h2', undefined, 'Log'));
const logList = el('ol', 'log-list');
logBox.append(logList);
app.append(header, banner, workersBox, toolbar, grid, previewsBox, results, logBox);

function save(name: string, content: string, encoding: 'utf8' | 'base64'): void {
  channel.send('core/saveFile', { suggestedName: name, content, encoding });
}

const chartActions = {
  png: (c: LineChart) => {
    const url = c.toPng();
    if (url) save(`${focusName()}-${c.id}.png`, dataUrlPayload(url), 'base64');
  },
  csv: (c: LineChart) => {
    const spec = SPECS.find((s) => s.id === c.id);
    const m = focusModel();
    if (spec && m) save(`${focusName()}-${c.id}.csv`, tableCsv(spec.table(m), spec.xLabel, spec.keys(m)), 'utf8');
  },
};

interface ChartSpec {
  id: string;
  /** A fixed title, or one naming the focused run's headline metric (its label, e.g. 'end-point error (px)'). */
  title: string | ((metricLabel: string) => string);
  xLabel: string;
  table(m: RunModel): AlignedTable;
  keys(m: RunModel): string[];
  smoothed: boolean;
  points?: boolean;
  /** Phase markers in this chart's x unit. */
  markers?: (m: RunModel) => { x: number; label: string }[];
}

const stepMarkers = (m: RunModel) => m.phases.map((p) => ({ x: p.step, label: p.phase }));
const secondMarkers = (m: RunModel) => m.phases.map((p) => ({ x: p.seconds, label: p.phase }));
const keysWith = (prefix: string) => (m: RunModel) => [...m.training.columns.keys(), ...m.system.columns.keys()].filter((k) => k.startsWith(prefix));
const jobKey = (key: string) => (m: RunModel) => (m.jobHistory.columns.has(key) ? [key] : []);

const SPECS: ChartSpec[] = [
  { id: 'loss', title: 'Loss', xLabel: 'step', table: (m) => m.training, keys: () => ['loss'], smoothed: true, markers: stepMarkers },
  { id: 'accuracy', title: 'Training accuracy', xLabel: 'step', table: (m) => m.training, keys: (m) => (m.training.columns.has('accuracy') ? ['accuracy'] : []), smoothed: true, markers: stepMarkers },
  { id: 'evaluation', title: (metric) => `Validation ${metric}`, xLabel: 'step', table: (m) => m.evaluation, keys: (m) => [...m.evaluation.columns.keys()], smoothed: false, points: true, markers: stepMarkers },
  { id: 'learningRate', title: 'Learning rate', xLabel: 'step', table: (m) => m.training, keys: () => ['learningRate'], smoothed: false, markers: stepMarkers },
  { id: 'imagesPerSec', title: 'Images/s per worker', xLabel: 'step', table: (m) => m.training, keys: keysWith('imagesPerSec/'), smoothed: true, markers: stepMarkers },
  { id: 'jobImagesPerSec', title: 'Images/s, all workers of the job', xLabel: 'step', table: (m) => m.jobHistory, keys: jobKey('totalImagesPerSec'), smoothed: true, markers: stepMarkers },
  { id: 'allReduce', title: 'All-reduce ms per step (mean over workers)', xLabel: 'step', table: (m) => m.jobHistory, keys: jobKey('meanAllReduceMs'), smoothed: true, markers: stepMarkers },
  { id: 'search', title: (metric) => `Search: best predicted ${metric}`, xLabel: 'generation', table: (m) => m.search, keys: (m) => (m.search.columns.has('bestPredictedAccuracy') ? ['bestPredictedAccuracy'] : []), smoothed: false },
  { id: 'cpu', title: 'CPU % per host/worker', xLabel: 'seconds', table: (m) => m.system, keys: keysWith('cpu/'), smoothed: true, markers: secondMarkers },
  { id: 'memory', title: 'Memory (RSS MB) per host/worker', xLabel: 'seconds', table: (m) => m.system, keys: keysWith('rss/'), smoothed: false, markers: secondMarkers },
  { id: 'gpu', title: 'GPU utilisation %', xLabel: 'seconds', table: (m) => m.system, keys: keysWith('gpu/'), smoothed: true, markers: secondMarkers },
];

const titleOf = (spec: ChartSpec, m: RunModel | undefined): string => (typeof spec.title === 'string' ? spec.title : spec.title(metricLabel(m?.metric ?? 'accuracy')));
const charts = SPECS.map((s) => new LineChart(grid, s.id, titleOf(s, undefined), s.xLabel, palette, chartActions));
const pareto = new ParetoView(results, palette, (point, index) => {
  const runId = state.selected[0]?.runId;
  if (runId) channel.send('monitor/showSubnet', { runId, point, index });
});
const parallel = new ParallelView(results, palette);
const workersView = new WorkersView(workersBox);
const disparityView = new DisparityView(previewsBox);

// ——— data to charts ———
function modelOf(runId: string): RunModel {
  let m = models.get(runId);
  if (!m) {
    m = new RunModel(runId);
    models.set(runId, m);
  }
  return m;
}
const focusModel = (): RunModel | undefined => (state.selected[0] ? models.get(state.selected[0].runId) : undefined);
const summaryOf = (runId: string): RunSummary | undefined => state.runs.find((r) => r.runId === runId);
const focusName = () => (state.selected[0] ? (summaryOf(state.selected[0].runId)?.name ?? state.selected[0].runId) : 'manta');

function chartData(spec: ChartSpec): ChartData {
  const shown = state.selected.map((k) => models.get(k.runId)).filter((m): m is RunModel => m !== undefined);
  const multi = shown.length > 1;
  const tables: uPlot.AlignedData[] = [];
  const meta: { label: string; smoothed: boolean }[] = [];
  shown.forEach((m) => {
    const table = spec.table(m);
    const keys = spec.keys(m).filter((k) => table.columns.has(k));
    if (keys.length === 0 || table.length === 0) return;
    tables.push([table.x, ...keys.map((k) => table.columns.get(k)!)] as uPlot.AlignedData);
    const runName = summaryOf(m.runId)?.name ?? m.name ?? m.runId;
    for (const k of keys) meta.push({ label: multi ? `${runName}: ${k}` : k, smoothed: spec.smoothed });
  });
  if (tables.length === 0) return { x: [], series: [], markers: [] };
  const joined = tables.length === 1 ? tables[0] : uPlot.join(tables);
  const series: ChartSeries[] = meta.map((mt, i) => {
    const raw = joined[i + 1] as (number | null)[];
    return { label: mt.label, raw, smoothed: mt.smoothed && smoothing > 0 ? smooth(raw, smoothing) : undefined, colorIndex: i, points: spec.points };
  });
  const focus = focusModel();
  return { x: joined[0] as number[], series, markers: focus && spec.markers ? spec.markers(focus) : [] };
}

function waitingText(): string | null {
  if (state.error) return state.error;
  if (state.waiting) return `Waiting: ${state.waiting}`;
  const m = focusModel();
  if (!m || m.lastSeq < 0) return 'Waiting for the run\'s first events from the daemon';
  if (m.finished) return `Run ${m.finished.status}${m.finished.message ? `: ${m.finished.message}` : ''} after ${(m.finished.wallMs / 1000).toFixed(1)} s`;
  if (m.waiting) return `Waiting: ${m.waiting}`;
  return null;
}

function renderHeader(): void {
  const m = focusModel();
  const s = state.selected[0] ? summaryOf(state.selected[0].runId) : undefined;
  title.textContent = s ? `${s.name} — ${s.status}` : 'MANTA Training Monitor';
  const backend = m?.backend ? `${m.backend.backend} ${m.backend.version} · ${m.backend.device}` : undefined;
  const hosts = state.hosts.map((h) => `${h.label}: ${h.connection}${h.backend ? ` (${h.backend})` : ''}`).join(' · ');
  const progress = m && m.totalSteps ? `step ${m.lastStep + 1}/${m.totalSteps}` : undefined;
  const phase = m?.phases.length ? `phase ${m.phases[m.phases.length - 1].index + 1}: ${m.phases[m.phases.length - 1].phase}` : undefined;
  subtitle.textContent = [phase, progress, backend, hosts].filter(Boolean).join(' · ');
  // One checkbox per run: the first checked is the focus; the others are overlaid.
  runPicker.replaceChildren();
  if (state.runs.length > 1) {
    runPicker.append(el('span', 'muted', 'Runs: '));
    for (const r of state.runs.slice(0, 12)) {
      const label = el('label', 'run-choice');
      const box = el('input');
      box.type = 'checkbox';
      box.checked = state.selected.some((k) => k.runId === r.runId);
      box.onchange = () => {
        const hostId = state.hosts[0]?.id ?? 'local';
        const next = box.checked ? [...state.selected, { hostId, runId: r.runId }] : state.selected.filter((k) => k.runId !== r.runId);
        selectRuns(next);
      };
      label.append(box, ` ${r.name} ${new Date(r.createdAt).toLocaleString()} (${r.status})`);
      label.title = r.runId;
      runPicker.append(label);
    }
  }
  const wait = waitingText();
  banner.textContent = wait ?? '';
  banner.hidden = wait === null;
  banner.classList.toggle('error', state.error !== null || m?.finished?.status === 'failed');
}

function renderLogs(): void {
  const m = focusModel();
  const logs = m?.logs.slice(-50) ?? [];
  logList.replaceChildren(
    ...logs.map((l) => {
      const li = el('li', `log-${l.level}`, `${new Date(l.time).toLocaleTimeString()} ${l.level}: ${l.message}`);
      return li;
    }),
  );
  logBox.hidden = logs.length === 0;
}

function render(): void {
  const t0 = performance.now();
  renderHeader();
  const m = focusModel();
  SPECS.forEach((spec, i) => {
    charts[i].setTitle(titleOf(spec, m));
    const data = chartData(spec);
    charts[i].update(data);
    charts[i].root.hidden = data.series.length === 0 && !['loss', 'learningRate'].includes(spec.id);
    charts[i].root.dataset.points = String(data.x.length);
    charts[i].root.dataset.series = data.series.map((s) => s.label).join('|');
  });
  const metric = { metric: m?.metric ?? 'accuracy', higherIsBetter: m?.higherIsBetter ?? true };
  pareto.update({ objective: m?.pareto?.objective ?? 'macs', front: m?.frontPoints() ?? [], measured: m?.measured ?? [], frontMeasured: m?.pareto?.measured ?? false, ...metric });
  parallel.update(m?.measured ?? [], metric);
  workersView.update(m?.job);
  disparityView.update(m?.previews ?? [], (p) => m?.previewTitle(p) ?? p.label);
  renderLogs();
  document.body.dataset.lastSeq = String(m?.lastSeq ?? -1);
  // How long the last full redraw took (read by the Chromium suite for the report).
  document.body.dataset.renderMs = (performance.now() - t0).toFixed(1);
}

// Redraws are coalesced: a replay of 100k events posts in chunks, and the charts draw once per frame at most.
let scheduled = false;
function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    render();
  });
}

function selectRuns(selected: RunKey[]): void {
  state = { ...state, selected };
  channel.persist({ selected });
  channel.send('monitor/selectRuns', { selected });
  schedule();
}

// ——— wiring ———
smoothInput.oninput = () => {
  smoothing = Number(smoothInput.value);
  smoothValue.textContent = smoothing.toFixed(2);
  channel.persist({ smoothing });
  schedule();
};
logYInput.onchange = () => {
  logY = logYInput.checked;
  channel.persist({ logY });
  for (const c of charts) c.setLogY(logY);
};
logXInput.onchange = () => {
  logX = logXInput.checked;
  channel.persist({ logX });
  pareto.setLogX(logX);
};
disparityView.onPick = schedule;
resetButton.onclick = () => charts.forEach((c) => c.resetZoom());
csvAll.onclick = () => {
  const m = focusModel();
  if (!m) return;
  save(`${focusName()}-training.csv`, tableCsv(m.training, 'step'), 'utf8');
};
for (const c of charts) c.setLogY(logY);
pareto.setLogX(logX);
watchTheme(() => {
  palette = readPalette();
  for (const c of charts) c.setPalette(palette);
  pareto.setPalette(palette);
  parallel.setPalette(palette);
});

let revealed = 0;
function applyState(next: MonitorState): void {
  state = next;
  channel.persist({ selected: next.selected });
  schedule();
  // MANTA: Show Pareto Front — scroll to the front once per request, after the redraw.
  if (next.reveal && next.reveal.seq !== revealed) {
    revealed = next.reveal.seq;
    document.body.dataset.view = next.reveal.view;
    requestAnimationFrame(() => requestAnimationFrame(() => pareto.root.scrollIntoView({ block: 'start' })));
  }
}
channel.on('core/ready/completion', ({ state: s }) => {
  models.clear();
  applyState(s);
});
channel.on('monitor/state', ({ state: s }) => applyState(s));
channel.on('monitor/events', ({ runId, events }) => {
  if (modelOf(runId).ingest(events) > 0) schedule();
});
channel.on('monitor/truncate', () => {
  // A resumed run cut its log back: start over from the extension's (already cut) copy of every log.
  models.clear();
  channel.send('core/ready', {});
});
channel.on('core/saved', ({ path }) => {
  if (path) {
    banner.textContent = `Saved ${path}`;
    banner.hidden = false;
  }
});
render();
channel.send('core/ready', {});
