// Parallel coordinates of the evaluated architectures: each measured subnet is a line through its elastic choices
// (per-unit depth, mean kernel size, mean expand ratio, resolution, width) and its cost and the task's headline metric
// (accuracy, stereo's end-point error), coloured from worst to best by that metric, so the choices that pay stand out.
import type { Arch } from '../../daemon/protocol/values';
import type { MeasuredSubnet } from './model';
import { el, svg, type Palette } from '../shared/theme';

interface Axis {
  name: string;
  value(s: MeasuredSubnet): number;
}

function activeMean(arch: Arch, field: 'ks' | 'e'): number {
  const units = arch.d.length;
  const maxDepth = units > 0 ? arch.ks.length / units : 0;
  let sum = 0;
  let n = 0;
  for (let u = 0; u < units; u++) {
    for (let b = 0; b < arch.d[u]; b++) {
      sum += arch[field][u * maxDepth + b];
      n++;
    }
  }
  return n ? sum / n : 0;
}

/** `metric` names the last axis: the headline metric the measured subnets' `accuracy` holds. */
export function parallelAxes(units: number, metric = 'accuracy'): Axis[] {
  const axes: Axis[] = [];
  for (let u = 0; u < units; u++) axes.push({ name: `depth u${u + 1}`, value: (s) => s.arch.d[u] });
  axes.push({ name: 'mean kernel', value: (s) => activeMean(s.arch, 'ks') });
  axes.push({ name: 'mean expand', value: (s) => activeMean(s.arch, 'e') });
  axes.push({ name: 'resolution', value: (s) => s.arch.r });
  axes.push({ name: 'width', value: (s) => s.arch.w });
  axes.push({ name: 'MACs (M)', value: (s) => s.macs / 1e6 });
  axes.push({ name: metric, value: (s) => s.accuracy });
  return axes;
}

export class ParallelView {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;
  private data: MeasuredSubnet[] = [];
  private metric = { metric: 'accuracy', higherIsBetter: true };
  private drawn = -1;

  constructor(
    parent: HTMLElement,
    private palette: Palette,
  ) {
    this.root = el('section', 'card parallel');
    const head = el('header', 'card-head');
    head.append(el('h2', undefined, 'Evaluated architectures'));
    this.body = el('div', 'parallel-body');
    this.root.append(head, this.body);
    parent.append(this.root);
    this.render();
  }

  setPalette(p: Palette): void {
    this.palette = p;
    this.drawn = -1;
    this.render();
  }

  update(measured: MeasuredSubnet[], metric?: { metric: string; higherIsBetter: boolean }): void {
    this.data = measured;
    const changed = metric !== undefined && (metric.metric !== this.metric.metric || metric.higherIsBetter !== this.metric.higherIsBetter);
    if (metric) this.metric = metric;
    if (measured.length !== this.drawn || changed) this.render();
  }

  private render(): void {
    this.drawn = this.data.length;
    this.body.replaceChildren();
    if (this.data.length === 0) {
      this.body.append(el('p', 'empty-note', 'no measured subnets yet'));
      return;
    }
    const p = this.palette;
    const axes = parallelAxes(this.data[0].arch.d.length, this.metric.metric);
    const W = 760;
    const H = 240;
    const m = { l: 30, r: 30, t: 24, b: 16 };
    const step = (W - m.l - m.r) / (axes.length - 1);
    const ranges = axes.map((a) => {
      const vs = this.data.map(a.value);
      const lo = Math.min(...vs);
      const hi = Math.max(...vs);
      return lo === hi ? [lo - 1, hi + 1] : [lo, hi];
    });
    const y = (k: number, v: number) => H - m.b - ((v - ranges[k][0]) / (ranges[k][1] - ranges[k][0])) * (H - m.t - m.b);
    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img', 'aria-label': `${this.data.length} evaluated architectures` });
    const accK = axes.length - 1;
    const lines = svg('g', { fill: 'none', 'stroke-width': 1, 'stroke-opacity': this.data.length > 300 ? 0.25 : 0.55 });
    const [a0, a1] = ranges[accK];
    for (const s of this.data) {
      // t runs from worst (0) to best (1) whichever way the metric points.
      const t = this.metric.higherIsBetter ? (s.accuracy - a0) / (a1 - a0) : (a1 - s.accuracy) / (a1 - a0);
      const d = axes.map((a, k) => `${k === 0 ? 'M' : 'L'}${(m.l + k * step).toFixed(1)},${y(k, a.value(s)).toFixed(1)}`).join(' ');
      lines.append(svg('path', { d, stroke: t > 0.66 ? p.series[2] : t > 0.33 ? p.series[0] : p.series[4] }));
    }
    root.append(lines);
    axes.forEach((a, k) => {
      const x = m.l + k * step;
      root.append(svg('line', { x1: x, y1: m.t, x2: x, y2: H - m.b, stroke: p.foreground, 'stroke-width': 1 }));
      const t = svg('text', { x, y: m.t - 8, fill: p.foreground, 'font-size': 10, 'text-anchor': 'middle' });
      t.textContent = a.name;
      root.append(t);
    });
    this.body.append(root);
  }
}
