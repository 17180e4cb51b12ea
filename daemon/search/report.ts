// The run's self-contained HTML report: headline metric (results' `task`) against cost, with the fronts and any baselines, each front point's architecture,
// the front subnets' predictions where the task previews them (report-previews.ts), the training curves and the
// predictor's held-out fit — inline SVG, CSS and data: images only, no scripts or external resources, so it opens
// anywhere (a browser, a VS Code webview, an e-mail attachment).
import type { Arch } from '../ofa/arch';
import type { TelemetryEvents } from '../protocol/events';
import { formatMetric, isRateMetric, metricLabel } from '../protocol/results';
import type { RunPhaseName } from '../protocol/values';
import { frontPreviewsHtml } from './report-previews';
import type { ResultsFile } from './results';

/** The training telemetry the curves are drawn from. */
export interface TrainingCurves {
  steps: { step: number; loss: number; accuracy?: number; phaseIndex: number }[];
  evaluations: { step: number; phaseIndex: number; subnet: string; accuracy: number }[];
  phases: { index: number; phase: RunPhaseName; startStep: number }[];
}

/** Collects curves from events as they are emitted (or replayed from an event log). */
export class CurveCollector {
  readonly curves: TrainingCurves = { steps: [], evaluations: [], phases: [] };
  private lastStep = 0;

  add(kind: string, data: unknown): void {
    if (kind === 'step') {
      const d = data as TelemetryEvents['step'];
      this.lastStep = d.step;
      this.curves.steps.push({ step: d.step, loss: d.loss, accuracy: d.accuracy, phaseIndex: d.phaseIndex });
    } else if (kind === 'evaluation') {
      const d = data as TelemetryEvents['evaluation'];
      if (d.split === 'validation') this.curves.evaluations.push({ step: d.step, phaseIndex: d.phaseIndex, subnet: d.subnet, accuracy: d.accuracy });
    } else if (kind === 'phase') {
      const d = data as TelemetryEvents['phase'];
      if (!this.curves.phases.some((p) => p.index === d.index)) this.curves.phases.push({ index: d.index, phase: d.phase, startStep: this.lastStep });
    }
  }
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function fmt(v: number | undefined, digits = 2): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  return v.toFixed(digits);
}

function fmtCount(v: number): string {
  if (v >= 1e9) return `${(v / 1e9).toFixed(2)} G`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)} M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)} k`;
  return String(v);
}

/** An axis tick of a metric: whole percentages for rates (as before), 3 significant digits otherwise (the unit is in
 * the axis label). */
function metricTick(metric: string): (v: number) => string {
  return isRateMetric(metric) ? (v) => `${(v * 100).toFixed(0)}%` : (v) => String(+v.toPrecision(3));
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Simple methods on the test split (results' `baselines`), one column per metric any of them has. */
function baselinesHtml(baselines: ResultsFile['baselines']): string {
  if (!baselines || baselines.length === 0) return '';
  const metrics = [...new Set(baselines.flatMap((b) => Object.keys(b.metrics)))];
  const head = `<tr><th>baseline</th>${metrics.map((m) => `<th>${esc(metricLabel(m))}</th>`).join('')}</tr>`;
  const rows = baselines.map((b) => `<tr><td>${esc(b.name)}</td>${metrics.map((m) => `<td>${esc(formatMetric(m, b.metrics[m]))}</td>`).join('')}</tr>`).join('');
  return `<h3>Baselines</h3>
<p>Simple methods measured on the same test pairs, for comparison.</p>
<table class="baselines"><thead>${head}</thead><tbody>${rows}</tbody></table>`;
}

/** Nice tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(+t.toPrecision(12));
  return out;
}

interface Series {
  label: string;
  color: string;
  points: { x: number; y: number; title?: string }[];
  line?: boolean;
  dashed?: boolean;
  hollow?: boolean;
  radius?: number;
}

/** A scatter/line chart as an SVG string. */
function chart(series: Series[], opts: { width: number; height: number; xLabel: string; yLabel: string; xFormat: (v: number) => string; yFormat: (v: number) => string }): string {
  const { width, height } = opts;
  const m = { left: 60, right: 16, top: 16, bottom: 44 };
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return '<p class="muted">No data.</p>';
  let [x0, x1] = [Math.min(...all.map((p) => p.x)), Math.max(...all.map((p) => p.x))];
  let [y0, y1] = [Math.min(...all.map((p) => p.y)), Math.max(...all.map((p) => p.y))];
  const padX = (x1 - x0) * 0.05 || Math.abs(x0) * 0.1 || 1;
  const padY = (y1 - y0) * 0.08 || Math.abs(y0) * 0.1 || 0.01;
  [x0, x1, y0, y1] = [x0 - padX, x1 + padX, y0 - padY, y1 + padY];
  const sx = (x: number) => m.left + ((x - x0) / (x1 - x0)) * (width - m.left - m.right);
  const sy = (y: number) => height - m.bottom - ((y - y0) / (y1 - y0)) * (height - m.top - m.bottom);
  const parts: string[] = [`<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">`];
  for (const t of ticks(x0, x1)) {
    parts.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${m.top}" y2="${height - m.bottom}" class="grid"/>`);
    parts.push(`<text x="${sx(t)}" y="${height - m.bottom + 16}" text-anchor="middle">${esc(opts.xFormat(t))}</text>`);
  }
  for (const t of ticks(y0, y1)) {
    parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${sy(t)}" y2="${sy(t)}" class="grid"/>`);
    parts.push(`<text x="${m.left - 6}" y="${sy(t) + 4}" text-anchor="end">${esc(opts.yFormat(t))}</text>`);
  }
  parts.push(`<text x="${(m.left + width - m.right) / 2}" y="${height - 8}" text-anchor="middle" class="axis">${esc(opts.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${(m.top + height - m.bottom) / 2}) rotate(-90)" text-anchor="middle" class="axis">${esc(opts.yLabel)}</text>`);
  for (const s of series) {
    if (s.line && s.points.length > 1) {
      const d = s.points.map((p, i) => `${i ? 'L' : 'M'}${sx(p.x).toFixed(1)} ${sy(p.y).toFixed(1)}`).join(' ');
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>`);
    }
    if (s.radius !== 0) {
      for (const p of s.points) {
        const fill = s.hollow ? 'none' : s.color;
        parts.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="${s.radius ?? 3}" fill="${fill}" stroke="${s.color}" stroke-width="1.3">${p.title ? `<title>${esc(p.title)}</title>` : ''}</circle>`);
      }
    }
  }
  let lx = m.left + 8;
  for (const s of series) {
    parts.push(`<circle cx="${lx}" cy="${m.top + 6}" r="4" fill="${s.hollow ? 'none' : s.color}" stroke="${s.color}"/><text x="${lx + 8}" y="${m.top + 10}">${esc(s.label)}</text>`);
    lx += 16 + s.label.length * 6.4;
  }
  parts.push('</svg>');
  return parts.join('');
}

/** An architecture as blocks per unit: width ∝ expand ratio, height ∝ kernel size, labelled k/e. */
export function archSvg(arch: Arch, units: number, maxDepth: number): string {
  const cell = 44;
  const width = 70 + maxDepth * cell;
  const height = units * 30 + 24;
  const maxE = Math.max(...arch.e);
  const maxK = Math.max(...arch.ks);
  const parts = [`<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">`];
  parts.push(`<text x="4" y="14" class="muted">r ${arch.r} · w ${arch.w}</text>`);
  for (let u = 0; u < units; u++) {
    const y = 24 + u * 30;
    parts.push(`<text x="4" y="${y + 16}">unit ${u + 1}</text>`);
    for (let i = 0; i < maxDepth; i++) {
      const slot = u * maxDepth + i;
      const x = 58 + i * cell;
      if (i >= arch.d[u]) {
        parts.push(`<rect x="${x}" y="${y + 4}" width="${cell - 6}" height="18" class="off"/>`);
        continue;
      }
      const w = 14 + ((cell - 20) * arch.e[slot]) / maxE;
      const h = 10 + (14 * arch.ks[slot]) / maxK;
      parts.push(`<rect x="${x}" y="${y + (26 - h) / 2}" width="${w.toFixed(1)}" height="${h.toFixed(1)}" class="blk"><title>kernel ${arch.ks[slot]}, expand ${arch.e[slot]}</title></rect>`);
      parts.push(`<text x="${x + 2}" y="${y + 17}" class="tiny">k${arch.ks[slot]}e${arch.e[slot]}</text>`);
    }
  }
  parts.push('</svg>');
  return parts.join('');
}

const OBJECTIVE_LABEL = { macs: 'MACs', params: 'parameters', latency: 'latency (ms, batch 1)' } as const;

/** The whole report as one HTML string. */
export function renderReport(r: ResultsFile, curves: TrainingCurves, space: { units: number; maxDepth: number }): string {
  const objective = r.objective;
  const cost = (p: { macs: number; params: number; latencyMs?: number }): number => (objective === 'latency' ? p.latencyMs ?? NaN : p[objective]);
  const xFormat = objective === 'latency' ? (v: number) => v.toFixed(2) : (v: number) => fmtCount(v);
  // The `…Accuracy` fields hold the task's headline metric; results written before `task` existed are classification.
  const metric = r.task?.metric ?? 'accuracy';
  const higherIsBetter = r.task?.higherIsBetter ?? true;
  const label = metricLabel(metric);
  const shown = (v: number | undefined): string => formatMetric(metric, v);
  const yFormat = metricTick(metric);
  const scatter = chart(
    [
      { label: 'measured subnets (validation)', color: '#9aa5b1', points: r.measured.map((m) => ({ x: cost(m), y: m.validationAccuracy, title: `validation ${shown(m.validationAccuracy)}` })), radius: 2.5 },
      { label: 'searched subnets, re-measured (validation)', color: '#a78bfa', points: (r.remeasured ?? []).map((m) => ({ x: cost(m), y: m.validationAccuracy, title: `predicted ${shown(m.predictedAccuracy)}, validation ${shown(m.validationAccuracy)}` })), radius: 3 },
      { label: 'predicted front', color: '#3b82f6', points: r.predictedFront.map((p) => ({ x: cost(p), y: p.predictedAccuracy })), line: true, dashed: true, radius: 0 },
      { label: 'front, measured (validation)', color: '#ea580c', points: r.front.map((p) => ({ x: cost(p), y: p.validationAccuracy ?? NaN, title: `#${p.index}: validation ${shown(p.validationAccuracy)}, test ${shown(p.testAccuracy)}` })), line: true, radius: 4 },
      { label: 'front (test)', color: '#16a34a', points: r.front.filter((p) => p.testAccuracy !== undefined).map((p) => ({ x: cost(p), y: p.testAccuracy!, title: `#${p.index}: test ${shown(p.testAccuracy)}` })), hollow: true, radius: 4 },
    ],
    { width: 760, height: 380, xLabel: OBJECTIVE_LABEL[objective], yLabel: label, xFormat, yFormat },
  );

  const rows = r.front
    .map(
      (p) => `<tr${p.dominated ? ' class="dominated"' : ''}><td>${p.index}</td><td>${fmtCount(p.macs)}</td><td>${fmtCount(p.params)}</td><td>${fmt(p.latencyMs, 3)}</td>` +
        `<td>${shown(p.predictedAccuracy)}</td><td>${shown(p.validationAccuracy)}</td><td>${shown(p.testAccuracy)}</td><td>${p.source ?? '–'}</td>` +
        `<td>${p.model ? `<code>${esc(p.model)}</code>` : '–'}</td></tr>`,
    )
    .join('');
  const archs = r.front
    .map((p) => `<figure><figcaption>#${p.index} · ${fmtCount(p.macs)} MACs · test ${shown(p.testAccuracy)}</figcaption>${archSvg(p.arch, space.units, space.maxDepth)}<details><summary>arch JSON</summary><code>${esc(JSON.stringify(p.arch))}</code></details></figure>`)
    .join('');

  const phaseName = new Map(curves.phases.map((p) => [p.index, p.phase]));
  const loss = chart(
    [{ label: 'training loss', color: '#3b82f6', points: curves.steps.map((s) => ({ x: s.step, y: s.loss })), line: true, radius: 0 }],
    { width: 760, height: 260, xLabel: 'step', yLabel: 'loss', xFormat: (v) => String(Math.round(v)), yFormat: (v) => v.toFixed(2) },
  );
  const evalSeries = (name: string, color: string): Series => ({
    label: `${name} subnet (validation)`,
    color,
    points: curves.evaluations.filter((e) => e.subnet === name).map((e) => ({ x: e.step, y: e.accuracy, title: `${phaseName.get(e.phaseIndex) ?? ''}: ${shown(e.accuracy)}` })),
    line: true,
  });
  const evalChart = chart([evalSeries('largest', '#ea580c'), evalSeries('smallest', '#16a34a')], {
    width: 760, height: 260, xLabel: 'step (end of each phase)', yLabel: label, xFormat: (v) => String(Math.round(v)), yFormat,
  });
  const phaseRows = r.training.phases
    .map((p) => `<tr><td>${p.index + 1}</td><td>${esc(p.phase)}</td><td>${shown(p.largest.accuracy)}</td><td>${shown(p.smallest.accuracy)}</td></tr>`)
    .join('');

  const warnings = r.warnings.length ? `<div class="warn"><b>Warnings</b><ul>${r.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul></div>` : '';
  const latency = r.latency
    ? `<p>${r.latency.model === 'fitted' ? `Latency model fitted to ${r.latency.tableEntries} directly timed subnets` : `Latency table: ${r.latency.tableEntries} timed variants`} on ${esc(r.backend.backend)}; mean relative error against ${r.latency.samples.length} directly timed subnets: <b>${(r.latency.meanRelativeError * 100).toFixed(1)}%</b>.</p>`
    : '';
  const constraints = Object.entries(r.constraints).map(([k, v]) => `${k} ≤ ${v}`).join(', ') || 'none';

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MANTA · ${esc(r.name)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:980px;color:#1f2933;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:32px;border-bottom:1px solid #e4e7eb;padding-bottom:4px}
.muted{color:#7b8794}table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 10px;border-bottom:1px solid #e4e7eb;text-align:right}
th{background:#f5f7fa}td:last-child,th:last-child{text-align:left}tr.dominated td{color:#9aa5b1}
svg text{font-size:11px;fill:#3e4c59}svg .axis{font-size:12px;fill:#1f2933}svg .grid{stroke:#eef0f3}svg .tiny{font-size:9px;fill:#fff}
svg .blk{fill:#3b82f6}svg .off{fill:none;stroke:#d9dee4;stroke-dasharray:3 2}
figure{display:inline-block;margin:8px 16px 8px 0;vertical-align:top}figcaption{font-size:12px;color:#52606d}
.warn{background:#fff7ed;border:1px solid #fdba74;padding:8px 12px;border-radius:6px}code{font-size:12px;word-break:break-all}
figure.preview{display:block;margin:12px 0}table.pairs td,table.pairs th{text-align:left;vertical-align:bottom;padding:2px 4px;font-weight:normal;font-size:12px}
table.pairs td:last-child{text-align:right;vertical-align:middle}img.pic{display:block;width:200px;height:auto;image-rendering:pixelated}
table.baselines td:first-child,table.baselines th:first-child{text-align:left}table.baselines td:last-child,table.baselines th:last-child{text-align:right}
.scale img.bar{display:block;width:200px;height:8px;image-rendering:pixelated}.scale .ticks{display:flex;justify-content:space-between;width:200px;color:#52606d}
</style></head><body>
<h1>${esc(r.name)}</h1>
<div class="muted">run ${esc(r.runId)} · finished ${esc(r.finishedAt)} · ${(r.wallMs / 1000).toFixed(1)} s · ${esc(r.backend.backend)} ${esc(r.backend.version)} on ${esc(r.backend.device)}</div>
${warnings}
<h2>${esc(capitalize(label))} against ${OBJECTIVE_LABEL[objective]}</h2>
${r.derivedFrom ? `<p>Searched again from run <code>${esc(r.derivedFrom.runId)}</code> without retraining: its trained supernet, measured subnets and accuracy predictor.</p>` : ''}
<p>Objective: ${OBJECTIVE_LABEL[objective]}; constraints: ${esc(constraints)}. The evolution searched on predicted ${esc(label)}; its front was re-measured (batch norm recalibrated), and the front below is the Pareto set of every subnet measured in the run — the predictor's measured set (“measured”) and the re-measured searched points (“searched”) — each measured on the test split too.${higherIsBetter ? '' : ' Lower is better: the best subnets for their cost lie along the bottom of the chart.'}</p>
${scatter}
<table><thead><tr><th>#</th><th>MACs</th><th>params</th><th>latency ms</th><th>predicted</th><th>validation</th><th>test</th><th>from</th><th>model</th></tr></thead><tbody>${rows}</tbody></table>
${baselinesHtml(r.baselines)}
${r.input.normalization ? `<p class="muted">Exported models take NHWC images resized to the arch's resolution, normalized as (x/255 − mean)/std with mean ${esc(JSON.stringify(r.input.normalization.mean))}, std ${esc(JSON.stringify(r.input.normalization.std))}; they output logits for ${r.input.classes} classes.</p>` : `<p class="muted">Exported models' input: ${esc(JSON.stringify(r.input))}.</p>`}
<h2>Architectures of the front</h2>
<p class="muted">Each row is a unit; each box an MBConv block (width: expand ratio, height: kernel size); dashed: blocks the depth leaves out.</p>
${archs}
${frontPreviewsHtml(r.front)}
<h2>Search</h2>
<p>Predictor of ${esc(label)}: held-out Kendall's tau <b>${fmt(r.predictor.kendallTau, 3)}</b>${r.predictor.kendallTauCI && Number.isFinite(r.predictor.kendallTauCI.low) ? ` (${Math.round(r.predictor.kendallTauCI.level * 100)}% bootstrap CI ${fmt(r.predictor.kendallTauCI.low, 2)}–${fmt(r.predictor.kendallTauCI.high, 2)})` : ''}, RMSE ${fmt(r.predictor.rmse, 4)} (${r.predictor.trainSize} training, ${r.predictor.heldOutSize} held-out subnets).
Evolution: population ${r.search.population}, ${r.search.generations} generations, ${r.search.candidatesScored} candidates (${r.search.uniqueCandidates} distinct) in ${(r.search.wallMs / 1000).toFixed(2)} s.</p>
${latency}
<h2>Training</h2>
${loss}
${evalChart}
<table><thead><tr><th>phase</th><th>dimension</th><th>largest</th><th>smallest</th></tr></thead><tbody>${phaseRows}</tbody></table>
<p class="muted">${r.training.steps} steps in ${(r.training.wallMs / 1000).toFixed(1)} s.</p>
</body></html>
`;
}
