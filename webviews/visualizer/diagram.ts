// The supernet diagram as SVG: input, stem, first block, the searchable units with one box per block slot, and the
// head (a stereo supernet: stereo-diagram.ts). With a subnet, its active blocks show their kernel size and expand
// ratio in the accent colour and the skipped slots fade; without one, every slot lists its choices. Colours are
// resolved to plain attributes so that an exported SVG looks the same outside VS Code.
import type { HighlightedSubnet, SupernetView } from '../../daemon/protocol/webview';
import { svg, type Palette } from '../shared/theme';
import { BOX_H, BOX_W, GAP, colX, legend, pen, unitColumn } from './parts';
import { renderStereoDiagram } from './stereo-diagram';

export function renderDiagram(view: SupernetView, subnet: HighlightedSubnet | null, p: Palette): SVGSVGElement {
  if (view.task === 'stereo' && view.stereo) return renderStereoDiagram(view, view.stereo, subnet, p);
  const units = view.units.length;
  const maxDepth = Math.max(...view.depth);
  const arch = subnet?.arch;
  const fixed = [
    { title: 'Input', detail: arch ? `${arch.r}×${arch.r}` : `${view.resolution.join('/')} px` },
    { title: 'Stem 3×3', detail: `${view.stemWidth ?? '?'} ch` },
    { title: 'First block', detail: `${view.firstBlockWidth ?? '?'} ch` },
  ];
  const columns = fixed.length + units + 1;
  const width = colX(columns) + 4;
  const top = 56;
  const height = top + 30 + maxDepth * (BOX_H + GAP) + 60;
  const root = svg('svg', { xmlns: 'http://www.w3.org/2000/svg', viewBox: `0 0 ${width} ${height}`, width, height, 'font-family': 'sans-serif', role: 'img' });
  root.setAttribute('aria-label', subnet ? `Supernet with subnet ${subnet.label} highlighted` : 'Supernet');
  root.append(svg('rect', { x: 0, y: 0, width, height, fill: p.background }));
  const draw = pen(p);
  fixed.forEach((f, i) => {
    root.append(draw.text(colX(i) + BOX_W / 2, top, f.title, { 'font-weight': 600 }));
    root.append(draw.box(colX(i), top + 12, true, [f.detail], 'fixed'));
  });
  for (let u = 0; u < units; u++) unitColumn(root, draw, p, view, arch, u, colX(fixed.length + u), top);
  const headX = colX(fixed.length + units);
  root.append(draw.text(headX + BOX_W / 2, top, 'Head', { 'font-weight': 600 }));
  root.append(draw.box(headX, top + 12, true, ['expand · mix', 'classifier'], 'fixed'));
  // arrows between the first row of columns
  for (let i = 0; i < columns - 1; i++) {
    const y = top + 12 + BOX_H / 2;
    root.append(svg('line', { x1: colX(i) + BOX_W, y1: y, x2: colX(i + 1), y2: y, stroke: p.muted, 'stroke-width': 1 }));
  }
  legend(root, draw, view, subnet, p, height - 28);
  return root;
}

/** The diagram as a standalone SVG file. */
export function svgFile(node: SVGSVGElement): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(node)}\n`;
}
