// What both supernet diagrams (classification, stereo) draw alike: text, boxes, a unit's column of block slots
// highlighted by a subnet, and the legend of choices and the highlighted subnet. Colours are resolved to plain
// attributes so that an exported SVG looks the same outside VS Code.
import { formatMetric, metricLabel, taskMetric } from '../../daemon/protocol/results';
import type { Arch } from '../../daemon/protocol/values';
import type { HighlightedSubnet, SupernetView } from '../../daemon/protocol/webview';
import { svg, type Palette } from '../shared/theme';

export const BOX_W = 96;
export const BOX_H = 34;
export const GAP = 14;
export const COL_GAP = 22;

/** x of the left edge of diagram column `i`. */
export const colX = (i: number): number => 16 + i * (BOX_W + COL_GAP);

export interface Pen {
  text(x: number, y: number, s: string, attrs?: Record<string, string | number>): SVGTextElement;
  box(x: number, y: number, active: boolean, lines: string[], cls: string): SVGGElement;
}

export function pen(p: Palette): Pen {
  const text = (x: number, y: number, s: string, attrs: Record<string, string | number> = {}) => {
    const t = svg('text', { x, y, fill: p.foreground, 'font-size': 11, 'text-anchor': 'middle', ...attrs });
    t.textContent = s;
    return t;
  };
  const box = (x: number, y: number, active: boolean, lines: string[], cls: string) => {
    const g = svg('g', { class: cls });
    g.append(
      svg('rect', {
        x,
        y,
        width: BOX_W,
        height: BOX_H,
        rx: 3,
        fill: active ? p.accent : 'none',
        'fill-opacity': active ? 0.18 : 0,
        stroke: active ? p.accent : p.muted,
        'stroke-width': active ? 1.5 : 1,
        'stroke-dasharray': active ? '' : '4 3',
      }),
    );
    lines.forEach((l, i) => g.append(text(x + BOX_W / 2, y + 14 + i * 13, l, { fill: active ? p.foreground : p.muted })));
    return g;
  };
  return { text, box };
}

/**
 * Unit `u`'s column at `x`: its title and width above, a box per block slot from `top` + 12 — with an arch, the
 * active blocks (kernel, expand) and the skipped ones, and the depth beneath; without, every slot's choices.
 */
export function unitColumn(root: SVGElement, pen: Pen, p: Palette, view: SupernetView, arch: Arch | undefined, u: number, x: number, top: number, title = `Unit ${u + 1}`): void {
  const maxDepth = Math.max(...view.depth);
  const unit = view.units[u];
  const d = arch ? arch.d[u] : undefined;
  root.append(pen.text(x + BOX_W / 2, top - 16, title, { 'font-weight': 600 }));
  root.append(pen.text(x + BOX_W / 2, top, `${Math.round(unit.width * (arch?.w ?? 1))} ch · s${unit.stride}${unit.squeezeExcite ? ' · SE' : ''}`, { fill: p.muted, 'font-size': 10 }));
  for (let b = 0; b < maxDepth; b++) {
    const y = top + 12 + b * (BOX_H + GAP);
    const slot = u * maxDepth + b;
    if (arch && d !== undefined) {
      const active = b < d;
      const lines = [`k${arch.ks[slot]} · e${arch.e[slot]}`, active ? `block ${b + 1}` : 'skipped'];
      const g = pen.box(x, y, active, lines, active ? 'block active' : 'block skipped');
      g.setAttribute('data-slot', String(slot));
      root.append(g);
    } else {
      const optional = b >= Math.min(...view.depth);
      root.append(pen.box(x, y, !optional, [`k{${view.kernel.join(',')}}`, `e{${view.expand.join(',')}}`], 'block choice'));
    }
    if (b > 0) root.append(svg('line', { x1: x + BOX_W / 2, y1: y - GAP, x2: x + BOX_W / 2, y2: y, stroke: p.muted }));
  }
  if (d !== undefined) root.append(pen.text(x + BOX_W / 2, top + 12 + maxDepth * (BOX_H + GAP) + 4, `depth ${d}`, { 'font-weight': 600 }));
}

/** The choice lists at `y`, and the highlighted subnet's facts beneath. */
export function legend(root: SVGElement, pen: Pen, view: SupernetView, subnet: HighlightedSubnet | null, p: Palette, y: number): void {
  const choices = `choices: kernel {${view.kernel.join(', ')}} · expand {${view.expand.join(', ')}} · depth {${view.depth.join(', ')}} · width {${view.width.join(', ')}} · resolution {${view.resolution.join(', ')}}`;
  root.append(pen.text(16, y, choices, { 'text-anchor': 'start', fill: p.muted }));
  if (subnet) {
    const { metric } = taskMetric(view.task);
    const facts = [
      subnet.label,
      `r ${subnet.arch.r}`,
      `w ${subnet.arch.w}`,
      subnet.macs !== undefined ? `${(subnet.macs / 1e6).toFixed(2)} MMACs` : '',
      subnet.accuracy !== undefined ? `${metricLabel(metric)} ${formatMetric(metric, subnet.accuracy)}` : '',
    ].filter(Boolean);
    root.append(pen.text(16, y + 16, `highlighted (${subnet.source}): ${facts.join(' · ')}`, { 'text-anchor': 'start' }));
  }
}
