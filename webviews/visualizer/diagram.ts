// The supernet diagram as SVG: input, stem, first block, the searchable units with one box per block slot, and the
// head. With a subnet, its active blocks show their kernel size and expand ratio in the accent colour and the
// skipped slots fade; without one, every slot lists its choices. Colours are resolved to plain attributes so that an
// exported SVG looks the same outside VS Code.
import type { HighlightedSubnet, SupernetView } from '../../daemon/protocol/webview';
import { svg, type Palette } from '../shared/theme';

const BOX_W = 96;
const BOX_H = 34;
const GAP = 14;
const COL_GAP = 22;

export function renderDiagram(view: SupernetView, subnet: HighlightedSubnet | null, p: Palette): SVGSVGElement {
  const units = view.units.length;
  const maxDepth = Math.max(...view.depth);
  const arch = subnet?.arch;
  const w = arch?.w ?? 1;
  const fixed = [
    { title: 'Input', detail: arch ? `${arch.r}×${arch.r}` : `${view.resolution.join('/')} px` },
    { title: 'Stem 3×3', detail: `${view.stemWidth ?? '?'} ch` },
    { title: 'First block', detail: `${view.firstBlockWidth ?? '?'} ch` },
  ];
  const colX = (i: number) => 16 + i * (BOX_W + COL_GAP);
  const columns = fixed.length + units + 1;
  const width = colX(columns) + 4;
  const top = 56;
  const height = top + 30 + maxDepth * (BOX_H + GAP) + 60;
  const root = svg('svg', { xmlns: 'http://www.w3.org/2000/svg', viewBox: `0 0 ${width} ${height}`, width, height, 'font-family': 'sans-serif', role: 'img' });
  root.setAttribute('aria-label', subnet ? `Supernet with subnet ${subnet.label} highlighted` : 'Supernet');
  root.append(svg('rect', { x: 0, y: 0, width, height, fill: p.background }));
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
  fixed.forEach((f, i) => {
    root.append(text(colX(i) + BOX_W / 2, top, f.title, { 'font-weight': 600 }));
    root.append(box(colX(i), top + 12, true, [f.detail], 'fixed'));
  });
  const maxDepthSlots = maxDepth;
  for (let u = 0; u < units; u++) {
    const x = colX(fixed.length + u);
    const unit = view.units[u];
    const d = arch ? arch.d[u] : undefined;
    root.append(text(x + BOX_W / 2, top - 16, `Unit ${u + 1}`, { 'font-weight': 600 }));
    root.append(text(x + BOX_W / 2, top, `${Math.round(unit.width * w)} ch · s${unit.stride}${unit.squeezeExcite ? ' · SE' : ''}`, { fill: p.muted, 'font-size': 10 }));
    for (let b = 0; b < maxDepthSlots; b++) {
      const y = top + 12 + b * (BOX_H + GAP);
      const slot = u * maxDepthSlots + b;
      if (arch && d !== undefined) {
        const active = b < d;
        const lines = [`k${arch.ks[slot]} · e${arch.e[slot]}`, active ? `block ${b + 1}` : 'skipped'];
        const g = box(x, y, active, lines, active ? 'block active' : 'block skipped');
        g.setAttribute('data-slot', String(slot));
        root.append(g);
      } else {
        const optional = b >= Math.min(...view.depth);
        root.append(box(x, y, !optional, [`k{${view.kernel.join(',')}}`, `e{${view.expand.join(',')}}`], 'block choice'));
      }
      if (b > 0) root.append(svg('line', { x1: x + BOX_W / 2, y1: y - GAP, x2: x + BOX_W / 2, y2: y, stroke: p.muted }));
    }
    if (d !== undefined) root.append(text(x + BOX_W / 2, top + 12 + maxDepthSlots * (BOX_H + GAP) + 4, `depth ${d}`, { 'font-weight': 600 }));
  }
  const headX = colX(fixed.length + units);
  root.append(text(headX + BOX_W / 2, top, 'Head', { 'font-weight': 600 }));
  root.append(box(headX, top + 12, true, ['expand · mix', 'classifier'], 'fixed'));
  // arrows between the first row of columns
  for (let i = 0; i < columns - 1; i++) {
    const y = top + 12 + BOX_H / 2;
    root.append(svg('line', { x1: colX(i) + BOX_W, y1: y, x2: colX(i + 1), y2: y, stroke: p.muted, 'stroke-width': 1 }));
  }
  const legendY = height - 28;
  const choices = `choices: kernel {${view.kernel.join(', ')}} · expand {${view.expand.join(', ')}} · depth {${view.depth.join(', ')}} · width {${view.width.join(', ')}} · resolution {${view.resolution.join(', ')}}`;
  root.append(text(16, legendY, choices, { 'text-anchor': 'start', fill: p.muted }));
  if (subnet) {
    const facts = [
      subnet.label,
      `r ${subnet.arch.r}`,
      `w ${subnet.arch.w}`,
      subnet.macs !== undefined ? `${(subnet.macs / 1e6).toFixed(2)} MMACs` : '',
      subnet.accuracy !== undefined ? `accuracy ${(100 * subnet.accuracy).toFixed(1)}%` : '',
    ].filter(Boolean);
    root.append(text(16, legendY + 16, `highlighted (${subnet.source}): ${facts.join(' · ')}`, { 'text-anchor': 'start' }));
  }
  return root;
}

/** The diagram as a standalone SVG file. */
export function svgFile(node: SVGSVGElement): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(node)}\n`;
}
