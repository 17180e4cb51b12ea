// The search's results: measured subnets and the Pareto front as an SVG scatter (the task's headline metric against
// the cost), with hover details, click to show a subnet in the visualizer, linear or log cost axis; and the front as
// a table.
import type { ParetoPoint } from '../../daemon/protocol/events';
import { formatMetric, isRateMetric, metricLabel } from '../../daemon/protocol/results';
import type { Objective } from '../../daemon/protocol/values';
import { accuracyOf, costOf, type MeasuredSubnet } from './model';
import { el, fillTable, svg, type Palette } from '../shared/theme';

export interface ParetoInput {
  objective: Objective;
  front: ParetoPoint[];
  measured: MeasuredSubnet[];
  frontMeasured: boolean;
  /** The headline metric the points' accuracy fields hold (the run's task), and its direction. */
  metric: string;
  higherIsBetter: boolean;
}

const COST_LABEL = { macs: 'MACs', params: 'parameters', latency: 'latency (ms)' } as const;

export function formatCost(v: number, objective: ParetoInput['objective']): string {
  if (objective === 'latency') return `${v.toFixed(2)} ms`;
  if (v >= 1e9) return `${(v / 1e9).toFixed(2)} G`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)} M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)} k`;
  return String(Math.round(v));
}

export class ParetoView {
  readonly root: HTMLElement;
  private readonly plot: HTMLElement;
  private readonly table: HTMLTableElement;
  private readonly tip: HTMLElement;
  private input: ParetoInput | undefined;
  private logX = false;

  constructor(
    parent: HTMLElement,
    private palette: Palette,
    private readonly onPick: (point: ParetoPoint, index: number) => void,
  ) {
    this.root = el('section', 'card pareto');
    const head = el('header', 'card-head');
    head.append(el('h2', undefined, 'Pareto front'));
    this.root.append(head);
    this.plot = el('div', 'pareto-plot');
    this.tip = el('div', 'tooltip');
    this.tip.hidden = true;
    this.table = el('table', 'front-table');
    this.root.append(this.plot, this.tip, this.table);
    parent.append(this.root);
    this.render();
  }

  setPalette(p: Palette): void {
    this.palette = p;
    this.render();
  }

  setLogX(on: boolean): void {
    this.logX = on;
    this.render();
  }

  update(input: ParetoInput): void {
    this.input = input;
    this.render();
  }

  /** The SVG markup of the scatter (tests and export read it). */
  get svgElement(): SVGSVGElement | null {
    return this.plot.querySelector('svg');
  }

  private render(): void {
    this.plot.replaceChildren();
    const input = this.input;
    if (!input || (input.front.length === 0 && input.measured.length === 0)) {
      this.plot.append(el('p', 'empty-note', 'no search results yet: the front appears once subnets are measured and searched'));
      this.table.replaceChildren();
      return;
    }
    const p = this.palette;
    const W = 520;
    const H = 260;
    const m = { l: 64, r: 12, t: 10, b: 36 };
    const value = (v: number) => formatMetric(input.metric, v);
    // Ticks stay short: a rate as before, anything else bare (the unit is in the axis name).
    const tick = isRateMetric(input.metric) ? value : (v: number) => String(+v.toPrecision(3));
    const label = metricLabel(input.metric);
    const all = [...input.measured.map((s) => ({ cost: costOf(s, input.objective), acc: s.accuracy })), ...input.front.map((f) => ({ cost: costOf(f, input.objective), acc: accuracyOf(f) }))].filter(
      (d) => Number.isFinite(d.cost) && d.cost > 0,
    );
    const xs = all.map((d) => d.cost);
    const ys = all.map((d) => d.acc);
    let x0 = Math.min(...xs);
    let x1 = Math.max(...xs);
    if (x0 === x1) [x0, x1] = [x0 * 0.9, x1 * 1.1];
    let y0 = Math.min(...ys);
    let y1 = Math.max(...ys);
    // A single value gets a band around it; only a fraction (a rate) is clamped to [0, 1].
    if (y0 === y1) [y0, y1] = isRateMetric(input.metric) ? [Math.max(0, y0 - 0.05), Math.min(1, y1 + 0.05)] : [Math.max(0, y0 - Math.abs(y0) * 0.1 - 0.05), y1 + Math.abs(y1) * 0.1 + 0.05];
    const fx = this.logX
      ? (v: number) => m.l + ((Math.log10(v) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0))) * (W - m.l - m.r)
      : (v: number) => m.l + ((v - x0) / (x1 - x0)) * (W - m.l - m.r);
    const fy = (v: number) => H - m.b - ((v - y0) / (y1 - y0)) * (H - m.t - m.b);
    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img', 'aria-label': `Pareto front: ${label} against ${COST_LABEL[input.objective]}${input.higherIsBetter ? '' : ' (lower is better)'}` });
    const axes = svg('g', { stroke: p.foreground, 'stroke-width': 1 });
    axes.append(svg('line', { x1: m.l, y1: H - m.b, x2: W - m.r, y2: H - m.b }), svg('line', { x1: m.l, y1: m.t, x2: m.l, y2: H - m.b }));
    root.append(axes);
    const text = (x: number, y: number, content: string, anchor = 'middle') => {
      const t = svg('text', { x, y, fill: p.foreground, 'font-size': 11, 'text-anchor': anchor });
      t.textContent = content;
      return t;
    };
    for (let i = 0; i <= 4; i++) {
      const cx = this.logX ? x0 * (x1 / x0) ** (i / 4) : x0 + ((x1 - x0) * i) / 4;
      root.append(text(fx(cx), H - m.b + 14, formatCost(cx, input.objective)));
      const cy = y0 + ((y1 - y0) * i) / 4;
      root.append(text(m.l - 4, fy(cy) + 4, tick(cy), 'end'));
    }
    root.append(text((m.l + W - m.r) / 2, H - 4, `${COST_LABEL[input.objective]}${this.logX ? ' (log)' : ''}`));
    // The metric's name on the y axis: an error reads as well as an accuracy only when the chart says which it is.
    const yName = text(12, (m.t + H - m.b) / 2, `${label}${input.higherIsBetter ? '' : ', lower is better'}`);
    yName.setAttribute('transform', `rotate(-90 12 ${(m.t + H - m.b) / 2})`);
    root.append(yName);
    const measured = svg('g', { class: 'measured', fill: p.muted, 'fill-opacity': 0.5 });
    for (const s of input.measured) {
      const c = costOf(s, input.objective);
      if (!Number.isFinite(c) || c <= 0) continue;
      measured.append(svg('circle', { cx: fx(c).toFixed(1), cy: fy(s.accuracy).toFixed(1), r: 2.5 }));
    }
    root.append(measured);
    const front = input.front.map((f, i) => ({ f, i, c: costOf(f, input.objective), a: accuracyOf(f) })).filter((d) => Number.isFinite(d.c) && d.c > 0);
    if (front.length > 1) {
      const d = front.map((q, k) => `${k === 0 ? 'M' : 'L'}${fx(q.c).toFixed(1)},${fy(q.a).toFixed(1)}`).join(' ');
      root.append(svg('path', { d, fill: 'none', stroke: p.series[0], 'stroke-width': 1.5 }));
    }
    const pts = svg('g', { class: 'front' });
    for (const q of front) {
      const dot = svg('circle', { cx: fx(q.c).toFixed(1), cy: fy(q.a).toFixed(1), r: 5, fill: p.series[0], stroke: p.background, 'stroke-width': 1, tabindex: 0, role: 'button' });
      dot.dataset.index = String(q.i);
      // The metric's short name ('accuracy', 'epe'): the formatted value carries the unit.
      const detail = `#${q.i + 1}: ${input.metric} ${value(q.a)}${input.frontMeasured ? '' : ' (predicted)'} · ${formatCost(q.c, input.objective)} · r ${q.f.arch.r} · d [${q.f.arch.d.join(',')}]`;
      dot.setAttribute('aria-label', detail);
      dot.addEventListener('mouseenter', () => {
        this.tip.textContent = detail;
        this.tip.hidden = false;
      });
      dot.addEventListener('mouseleave', () => (this.tip.hidden = true));
      dot.addEventListener('click', () => this.onPick(q.f, q.i));
      dot.addEventListener('keydown', (e) => {
        if ((e as KeyboardEvent).key === 'Enter') this.onPick(q.f, q.i);
      });
      pts.append(dot);
    }
    root.append(pts);
    this.plot.append(root);
    this.renderTable(input);
  }

  private renderTable(input: ParetoInput): void {
    const head = el('tr');
    // The metric's short name ('accuracy', 'epe') keeps the column narrow; its values carry the unit.
    for (const h of ['#', input.metric, input.frontMeasured ? 'measured' : 'predicted', COST_LABEL.macs, 'params', 'latency', 'resolution', 'width', 'depths', '']) head.append(el('th', undefined, h));
    const rows = input.front.map((f, i) => {
      const tr = el('tr');
      tr.dataset.index = String(i);
      const cells = [
        String(i + 1),
        formatMetric(input.metric, accuracyOf(f)),
        formatMetric(input.metric, f.validationAccuracy ?? f.predictedAccuracy),
        formatCost(f.macs, 'macs'),
        formatCost(f.params, 'params'),
        f.latencyMs !== undefined ? `${f.latencyMs.toFixed(2)} ms` : '—',
        String(f.arch.r),
        String(f.arch.w),
        f.arch.d.join(' '),
      ];
      for (const c of cells) tr.append(el('td', undefined, c));
      const td = el('td');
      const show = el('button', 'link-button', 'Show');
      show.title = 'Show this subnet in the supernet visualizer';
      show.onclick = () => this.onPick(f, i);
      td.append(show);
      tr.append(td);
      return tr;
    });
    fillTable(this.table, head, rows);
  }
}
