// One time-series chart on uPlot: raw curves faint behind their smoothed version, linear or log y, drag to zoom and
// double-click to reset (zoom survives live updates), phase markers, PNG and CSV export. uPlot draws 100k points
// per series in milliseconds; redraws are coalesced by the page.
import uPlot from 'uplot';
import { faint, el, type Palette } from '../shared/theme';

export interface ChartSeries {
  label: string;
  /** The values as received; smoothing, if any, is drawn over them. */
  raw: (number | null)[];
  /** Smoothed values (same length), or undefined for series that are never smoothed (e.g. learning rate). */
  smoothed?: (number | null)[];
  colorIndex: number;
  /** Draw points only (sparse series such as evaluations). */
  points?: boolean;
}

export interface ChartMarker {
  x: number;
  label: string;
}

export interface ChartData {
  x: number[];
  series: ChartSeries[];
  markers: ChartMarker[];
}

export class LineChart {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;
  private plot: uPlot | undefined;
  private signature = '';
  private zoomed = false;
  private logY = false;
  private markers: ChartMarker[] = [];
  private last: ChartData | undefined;
  private readonly emptyNote: HTMLElement;
  private readonly heading: HTMLElement;
  private readonly pngButton: HTMLElement;
  private readonly csvButton: HTMLElement;

  constructor(
    parent: HTMLElement,
    readonly id: string,
    private titleText: string,
    private readonly xLabel: string,
    private palette: Palette,
    private readonly actions: { png(chart: LineChart): void; csv(chart: LineChart): void },
  ) {
    this.root = el('section', 'card chart');
    this.root.dataset.chart = id;
    const head = el('header', 'card-head');
    this.heading = el('h2');
    head.append(this.heading);
    const tools = el('div', 'card-tools');
    const png = (this.pngButton = el('button', 'icon-button', 'PNG'));
    png.onclick = () => this.actions.png(this);
    const csv = (this.csvButton = el('button', 'icon-button', 'CSV'));
    csv.onclick = () => this.actions.csv(this);
    this.setTitle(titleText);
    tools.append(png, csv);
    head.append(tools);
    this.body = el('div', 'chart-body');
    this.emptyNote = el('p', 'empty-note', 'no data yet');
    this.body.append(this.emptyNote);
    this.root.append(head, this.body);
    parent.append(this.root);
    new ResizeObserver(() => this.resize()).observe(this.body);
  }

  get title(): string {
    return this.titleText;
  }

  /** Renames the chart (a metric's chart follows the run's task: accuracy, end-point error, …). */
  setTitle(title: string): void {
    this.titleText = title;
    if (this.heading.textContent === title) return;
    this.heading.textContent = title;
    this.pngButton.title = `Export ${title} as PNG`;
    this.csvButton.title = `Export ${title} data as CSV`;
  }

  /** Number of points of the first series (what the tests read). */
  get pointCount(): number {
    return this.plot ? this.plot.data[0].length : 0;
  }

  get data(): ChartData | undefined {
    return this.last;
  }

  setPalette(p: Palette): void {
    this.palette = p;
    this.signature = '';
    if (this.last) this.update(this.last);
  }

  setLogY(on: boolean): void {
    if (this.logY === on) return;
    this.logY = on;
    this.signature = '';
    if (this.last) this.update(this.last);
  }

  resetZoom(): void {
    this.zoomed = false;
    if (this.plot && this.last) this.plot.setData(this.plot.data, true);
  }

  update(data: ChartData): void {
    this.last = data;
    this.markers = data.markers;
    const hasData = data.x.length > 0 && data.series.length > 0;
    this.emptyNote.hidden = hasData;
    if (!hasData) {
      this.plot?.destroy();
      this.plot = undefined;
      this.signature = '';
      return;
    }
    const columns: (number | null)[][] = [];
    const seriesOpts: uPlot.Series[] = [{ label: this.xLabel }];
    for (const s of data.series) {
      const color = this.palette.series[s.colorIndex % this.palette.series.length];
      if (s.smoothed) {
        columns.push(s.raw);
        seriesOpts.push({ label: `${s.label} (raw)`, stroke: faint(color, this.palette.highContrast ? 0.6 : 0.25), width: 1, points: { show: false } });
        columns.push(s.smoothed);
        seriesOpts.push({ label: s.label, stroke: color, width: 1.5, points: { show: false }, spanGaps: true });
      } else {
        columns.push(s.raw);
        seriesOpts.push({
          label: s.label,
          stroke: color,
          width: s.points ? 0 : 1.5,
          spanGaps: true,
          points: s.points ? { show: true, size: 6, fill: color, stroke: color } : { show: false },
          paths: s.points ? () => null : undefined,
        });
      }
    }
    const aligned = [data.x, ...columns] as uPlot.AlignedData;
    const signature = JSON.stringify(seriesOpts.map((o) => [o.label, o.stroke])) + this.logY;
    if (this.plot && signature === this.signature) {
      // Keep the user's zoom while data streams in.
      this.plot.setData(aligned, !this.zoomed);
      return;
    }
    this.signature = signature;
    this.plot?.destroy();
    this.zoomed = false;
    const p = this.palette;
    const axis = (label?: string): uPlot.Axis => ({
      stroke: p.foreground,
      grid: { stroke: p.grid, width: 1 },
      ticks: { stroke: p.grid, width: 1 },
      label,
      labelFont: '12px var(--vscode-font-family, sans-serif)',
      font: '11px var(--vscode-font-family, sans-serif)',
    });
    const { width, height } = this.size();
    this.plot = new uPlot(
      {
        width,
        height,
        series: seriesOpts,
        scales: { x: { time: false }, y: this.logY ? { distr: 3 } : {} },
        axes: [axis(this.xLabel), axis()],
        cursor: { drag: { x: true, y: false, setScale: true } },
        legend: { live: true },
        hooks: {
          setSelect: [() => (this.zoomed = true)],
          draw: [(u) => this.drawMarkers(u)],
        },
      },
      aligned,
      this.body,
    );
    this.plot.over.addEventListener('dblclick', () => this.resetZoom());
  }

  private drawMarkers(u: uPlot): void {
    if (this.markers.length === 0) return;
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = this.palette.muted;
    ctx.fillStyle = this.palette.muted;
    ctx.setLineDash([4, 4]);
    ctx.lineWidth = devicePixelRatio;
    ctx.font = `${11 * devicePixelRatio}px sans-serif`;
    for (const m of this.markers) {
      const x = Math.round(u.valToPos(m.x, 'x', true));
      if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
      ctx.beginPath();
      ctx.moveTo(x, u.bbox.top);
      ctx.lineTo(x, u.bbox.top + u.bbox.height);
      ctx.stroke();
      ctx.fillText(m.label, x + 3 * devicePixelRatio, u.bbox.top + 12 * devicePixelRatio);
    }
    ctx.restore();
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(200, this.body.clientWidth), height: 220 };
  }

  private resize(): void {
    if (this.plot) this.plot.setSize(this.size());
  }

  /** The chart as a PNG (title, background and legend text drawn in), base64. */
  toPng(): string | undefined {
    if (!this.plot) return undefined;
    const src = this.plot.ctx.canvas;
    const out = document.createElement('canvas');
    const pad = 28 * devicePixelRatio;
    out.width = src.width;
    out.height = src.height + pad;
    const ctx = out.getContext('2d')!;
    ctx.fillStyle = this.palette.background;
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.fillStyle = this.palette.foreground;
    ctx.font = `${13 * devicePixelRatio}px sans-serif`;
    const labels = this.plot.series.slice(1).filter((s) => !String(s.label).endsWith('(raw)')).map((s) => String(s.label));
    ctx.fillText(`${this.title} — ${labels.join(', ')}`, 8 * devicePixelRatio, 18 * devicePixelRatio);
    ctx.drawImage(src, 0, pad);
    return out.toDataURL('image/png');
  }
}
