// The stereo supernet as SVG (DispNet-C over OFA units; daemon/tasks/stereo/layout.ts builds it): the left and right
// views enter two lanes through the stem and the siamese units 1…correlationUnit, drawn once on a band that says
// their weights are shared; then the correlation of the last siamese unit's left and right features (displacements,
// channels) and the 1×1 redirect of its left ones, concatenated into the remaining units; beneath, the decoder's six
// transposed convolutions from 1/64 back to full resolution, each under the encoder feature its U-link joins (units
// 5, 4, 3, 2, 1, then the stem; the left view's where siamese), each predicting a disparity map that also feeds the
// next, finer stage. Units highlight a subnet's blocks as in the classification diagram.
import type { HighlightedSubnet, StereoSupernetView, SupernetView } from '../../daemon/protocol/webview';
import { svg, type Palette } from '../shared/theme';
import { BOX_H, BOX_W, COL_GAP, GAP, colX, legend, pen, unitColumn } from './parts';

const UNITS = 6;
/** Columns, left to right: the input pair, the stem, the siamese units, the correlation and redirect, the others. */
const INPUT_COL = 0;
const STEM_COL = 1;
/** Decoder stages, coarse to fine: the unit (0-based) whose feature each U-link joins, the last one the stem's. */
const LINK_UNITS: (number | 'stem')[] = [4, 3, 2, 1, 0, 'stem'];

export function renderStereoDiagram(view: SupernetView, stereo: StereoSupernetView, subnet: HighlightedSubnet | null, p: Palette): SVGSVGElement {
  const arch = subnet?.arch;
  const maxDepth = Math.max(...view.depth);
  const rows = Math.max(maxDepth, 2);
  // Units 1…c see both views; the correlation follows unit c.
  const c = Math.min(Math.max(1, Math.round(stereo.correlationUnit)), UNITS - 1);
  const correlationCol = c + 2;
  const unitCol = (u: number) => (u < c ? 2 + u : 3 + u);
  const linkCol = (from: number | 'stem') => (from === 'stem' ? STEM_COL : unitCol(from));
  const top = 84;
  const rowY = (r: number) => top + 12 + r * (BOX_H + GAP);
  const encoderBottom = rowY(rows) - GAP;
  const decoderY = encoderBottom + 70;
  const outputY = decoderY + BOX_H + 34;
  const width = colX(UNITS + 3) + 4;
  const height = outputY + BOX_H + 64;
  const centre = (col: number) => colX(col) + BOX_W / 2;

  const root = svg('svg', { xmlns: 'http://www.w3.org/2000/svg', viewBox: `0 0 ${width} ${height}`, width, height, 'font-family': 'sans-serif', role: 'img' });
  root.setAttribute('aria-label', subnet ? `Stereo supernet with subnet ${subnet.label} highlighted` : 'Stereo supernet');
  root.append(svg('rect', { x: 0, y: 0, width, height, fill: p.background }));
  // One arrowhead for every flow line (ids are local to this SVG; an exported file keeps it).
  const defs = svg('defs');
  const marker = svg('marker', { id: 'manta-arrow', viewBox: '0 0 8 8', refX: 7, refY: 4, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  marker.append(svg('path', { d: 'M0 0 L8 4 L0 8 z', fill: p.muted }));
  defs.append(marker);
  root.append(defs);
  const draw = pen(p);
  const flow = (points: [number, number][], cls: string, attrs: Record<string, string | number> = {}) =>
    svg('polyline', { points: points.map(([x, y]) => `${x},${y}`).join(' '), fill: 'none', stroke: p.muted, 'stroke-width': 1, 'marker-end': 'url(#manta-arrow)', class: cls, ...attrs });

  // The siamese band behind the stem and units 1…c.
  const bandX = colX(STEM_COL) - 8;
  const band = svg('rect', { x: bandX, y: top - 44, width: colX(unitCol(c - 1)) + BOX_W + 8 - bandX, height: encoderBottom + 30 - (top - 44), rx: 6, fill: p.accent, 'fill-opacity': 0.06, stroke: p.muted, 'stroke-dasharray': '6 4', class: 'siamese' });
  root.append(band);
  root.append(draw.text(bandX + 8, top - 50, 'siamese: left and right views through shared weights', { 'text-anchor': 'start', fill: p.muted, 'font-size': 10 }));

  // Inputs and stem.
  const resolution = arch ? `${arch.r}×${arch.r}` : `${view.resolution.join('/')} px`;
  root.append(draw.text(centre(INPUT_COL), top, 'Input pair', { 'font-weight': 600 }));
  root.append(draw.box(colX(INPUT_COL), rowY(0), true, ['left view', resolution], 'fixed stereo-input left'));
  root.append(draw.box(colX(INPUT_COL), rowY(1), true, ['right view', resolution], 'fixed stereo-input right'));
  root.append(draw.text(centre(STEM_COL), top - 16, 'Stem 3×3', { 'font-weight': 600 }));
  root.append(draw.text(centre(STEM_COL), top, `${view.stemWidth ?? '?'} ch · s1 · 1/1`, { fill: p.muted, 'font-size': 10 }));
  root.append(draw.box(colX(STEM_COL), rowY(0), true, ['shared', 'left · right'], 'fixed stem'));

  // Two lanes, L above R, from the views through the siamese columns.
  const laneL = rowY(0) + BOX_H * 0.3;
  const laneR = rowY(0) + BOX_H * 0.7;
  root.append(flow([[colX(INPUT_COL) + BOX_W, rowY(0) + BOX_H / 2], [colX(STEM_COL), laneL]], 'lane left'));
  root.append(flow([[colX(INPUT_COL) + BOX_W, rowY(1) + BOX_H / 2], [colX(STEM_COL), laneR]], 'lane right'));
  const siameseCols = [STEM_COL, ...Array.from({ length: c }, (_, u) => unitCol(u)), correlationCol];
  for (let i = 0; i + 1 < siameseCols.length; i++) {
    for (const [y, side] of [[laneL, 'left'], [laneR, 'right']] as const) root.append(flow([[colX(siameseCols[i]) + BOX_W, y], [colX(siameseCols[i + 1]), y]], `lane ${side}`));
  }

  // The six units.
  const units = Math.min(view.units.length, UNITS);
  for (let u = 0; u < units; u++) unitColumn(root, draw, p, view, arch, u, colX(unitCol(u)), top, `Unit ${u + 1} · 1/${2 ** (u + 1)}`);

  // The correlation of unit c's left and right features, and the redirect of its left ones; concatenated onwards.
  const channels = Math.floor(stereo.maxDisplacement / Math.max(1, stereo.correlationStride)) + 1;
  const joinX = colX(correlationCol) - COL_GAP / 2;
  root.append(draw.text(centre(correlationCol), top - 16, 'Correlation', { 'font-weight': 600 }));
  root.append(draw.text(centre(correlationCol), top, `1-D · unit ${c} · 1/${2 ** c}`, { fill: p.muted, 'font-size': 10 }));
  const correlation = draw.box(colX(correlationCol), rowY(0), true, [`d 0…${stereo.maxDisplacement} · step ${stereo.correlationStride}`, `${channels} ch`], 'fixed correlation');
  correlation.setAttribute('data-channels', String(channels));
  root.append(correlation);
  root.append(draw.box(colX(correlationCol), rowY(1), true, ['redirect 1×1', `${stereo.redirectWidth} ch (left)`], 'fixed redirect'));
  root.append(draw.text(centre(correlationCol), rowY(1) + BOX_H + 14, `concat ${channels + stereo.redirectWidth} ch`, { fill: p.muted, 'font-size': 10 }));
  root.append(flow([[joinX, laneL], [joinX, rowY(1) + BOX_H / 2], [colX(correlationCol), rowY(1) + BOX_H / 2]], 'redirect-in'));
  const afterIn: [number, number] = [colX(unitCol(c)), rowY(0) + BOX_H / 2];
  root.append(flow([[colX(correlationCol) + BOX_W, rowY(0) + BOX_H / 2], afterIn], 'concat'));
  root.append(flow([[colX(correlationCol) + BOX_W, rowY(1) + BOX_H / 2], afterIn], 'concat'));
  for (let u = c; u + 1 < units; u++) root.append(flow([[colX(unitCol(u)) + BOX_W, rowY(0) + BOX_H / 2], [colX(unitCol(u + 1)), rowY(0) + BOX_H / 2]], 'lane'));

  // The decoder: six transposed convolutions, coarse to fine, each under the encoder feature its U-link joins.
  const decMid = decoderY + BOX_H / 2;
  root.append(draw.text(centre(INPUT_COL), decMid - 4, 'Decoder', { 'font-weight': 600 }));
  root.append(draw.text(centre(INPUT_COL), decMid + 10, 'transposed ×2', { fill: p.muted, 'font-size': 10 }));
  root.append(draw.text(centre(INPUT_COL), outputY + BOX_H / 2 - 4, 'Outputs', { 'font-weight': 600 }));
  root.append(draw.text(centre(INPUT_COL), outputY + BOX_H / 2 + 10, 'disparity per scale', { fill: p.muted, 'font-size': 10 }));
  const linkTop = encoderBottom + 26;
  const lastUnit = units - 1;
  const stages = stereo.decoderWidths.slice(0, LINK_UNITS.length);
  if (lastUnit >= 0 && stages.length > 0) root.append(flow([[centre(unitCol(lastUnit)), linkTop], [centre(unitCol(lastUnit)), decMid], [colX(linkCol(LINK_UNITS[0])) + BOX_W, decMid]], 'decoder-in'));
  stages.forEach((channelsOut, k) => {
    const from = LINK_UNITS[k];
    const col = linkCol(from);
    const scaleText = `1/${32 >> k}`;
    const deconv = draw.box(colX(col), decoderY, true, [`deconv ${k + 1} → ${scaleText}`, `${Math.round(channelsOut)} ch`], 'fixed deconv');
    deconv.setAttribute('data-scale', scaleText);
    root.append(deconv);
    // The U-link: the encoder feature at this scale (the left view's, where the encoder is siamese).
    const siamese = from === 'stem' || from < c;
    const link = flow([[centre(col), linkTop], [centre(col), decoderY]], 'ulink', { 'stroke-dasharray': '5 3' });
    link.setAttribute('data-from', from === 'stem' ? 'stem' : `unit ${from + 1}`);
    root.append(link);
    root.append(draw.text(centre(col) + 5, (linkTop + decoderY) / 2 + 4, siamese ? 'U-link (left)' : 'U-link', { 'text-anchor': 'start', fill: p.muted, 'font-size': 10 }));
    if (k > 0) root.append(flow([[colX(linkCol(LINK_UNITS[k - 1])), decMid], [colX(col) + BOX_W, decMid]], 'decoder'));
    const output = draw.box(colX(col), outputY, true, ['disparity', scaleText], 'fixed disparity');
    output.setAttribute('data-scale', scaleText);
    root.append(output);
    root.append(flow([[centre(col), decoderY + BOX_H], [centre(col), outputY]], 'predict'));
    // Each disparity map, upsampled, feeds the next finer stage.
    if (k + 1 < stages.length) root.append(flow([[colX(col), outputY + BOX_H / 2], [colX(linkCol(LINK_UNITS[k + 1])) + BOX_W * 0.8, decoderY + BOX_H]], 'disparity-up', { 'stroke-dasharray': '2 3' }));
  });

  legend(root, draw, view, subnet, p, height - 28);
  return root;
}
