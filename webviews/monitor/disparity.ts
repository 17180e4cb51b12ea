// The Disparity card of a stereo run: the previews the run sent (one per phase, one per front subnet), the latest
// shown unless one is picked, one row per validation pair — left view, predicted disparity, ground truth and the error
// map, each a canvas filled through ImageData — and the pair's end-point error. Colours come from
// daemon/protocol/disparity-colors.ts, as in the run's report; the scale bars say what they mean in pixels.
import {
  DISPARITY_BYTE_MAX,
  ERROR_BINS,
  PREVIEW_PICTURES,
  disparityRgb,
  previewMeanEpe,
  previewPairBytes,
  previewPictureRgba,
  type PreviewPicture,
  type Rgb,
} from '../../daemon/protocol/disparity-colors';
import type { DisparityPreview } from '../../daemon/protocol/events';
import { el, fillTable } from '../shared/theme';
import type { RunPreview } from './model';

const HEADINGS: Record<PreviewPicture, string> = {
  left: 'Left view',
  predicted: 'Predicted disparity',
  truth: 'Ground truth',
  error: 'Error |predicted − truth|',
};

const px = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)} px` : '—');

/** A canvas of `width` × `height` pixels holding `rgba` (CSS scales it). */
function pictureCanvas(width: number, height: number, rgba: Uint8ClampedArray, cls: string): HTMLCanvasElement {
  const canvas = el('canvas', cls);
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
  return canvas;
}

/** A one-pixel-high strip of colours, stretched by CSS into a scale bar. */
function strip(colors: readonly Rgb[], cls: string): HTMLCanvasElement {
  const rgba = new Uint8ClampedArray(colors.length * 4);
  colors.forEach(([r, g, b], i) => rgba.set([r, g, b, 255], 4 * i));
  return pictureCanvas(colors.length, 1, rgba, cls);
}

/** A scale bar with labels spread under it. */
function scale(bar: HTMLCanvasElement, labels: string[], title: string): HTMLElement {
  const box = el('div', 'scale');
  box.title = title;
  const row = el('div', 'scale-labels');
  for (const l of labels) row.append(el('span', undefined, l));
  box.append(bar, row);
  return box;
}

export class DisparityView {
  readonly root: HTMLElement;
  private readonly picker: HTMLSelectElement;
  private readonly summary: HTMLElement;
  private readonly table: HTMLTableElement;
  /** The preview the user picked; undefined follows the latest. */
  private picked: string | undefined;
  private latestKey: string | undefined;
  /** What the picker and the pictures show now, so that a redraw with nothing new costs nothing. */
  private listed = '';
  private drawn = '';

  constructor(parent: HTMLElement) {
    this.root = el('section', 'card disparity');
    this.root.setAttribute('aria-label', 'Disparity previews');
    const head = el('header', 'card-head');
    const pickLabel = el('label', 'tool');
    pickLabel.append('Subnet ');
    this.picker = el('select', 'preview-picker');
    this.picker.id = 'preview-picker';
    pickLabel.append(this.picker);
    head.append(el('h2', undefined, 'Disparity'), pickLabel);
    this.summary = el('p', 'disparity-summary');
    this.table = el('table', 'disparity-pairs');
    this.root.append(head, this.summary, this.table);
    this.root.hidden = true;
    parent.append(this.root);
    this.picker.onchange = () => {
      // Picking the latest again means following the latest.
      this.picked = this.picker.value === this.latestKey ? undefined : this.picker.value;
      this.drawn = '';
      this.onPick?.();
    };
  }

  /** Called when the user picks a preview (the page redraws). */
  onPick: (() => void) | undefined;

  /** Shows the focused run's previews (hidden while it has none); `title` names one in the picker. */
  update(previews: readonly RunPreview[], title: (p: RunPreview) => string): void {
    const disparity = previews.filter((p): p is RunPreview & { preview: DisparityPreview } => p.preview.kind === 'disparity');
    this.root.hidden = disparity.length === 0;
    this.root.dataset.previews = String(disparity.length);
    const latest = disparity[disparity.length - 1];
    this.latestKey = latest?.key;
    if (this.picked !== undefined && !disparity.some((p) => p.key === this.picked)) this.picked = undefined;
    const shown = disparity.find((p) => p.key === this.picked) ?? latest;

    const listing = disparity.map((p) => `${p.key}@${p.seq}`).join('|');
    if (listing !== this.listed) {
      this.listed = listing;
      // Newest first: the default, the latest, heads the list.
      this.picker.replaceChildren(
        ...[...disparity].reverse().map((p) => {
          const option = el('option', undefined, p === latest ? `${title(p)} (latest)` : title(p));
          option.value = p.key;
          return option;
        }),
      );
    }
    if (!shown) {
      this.summary.textContent = '';
      this.table.replaceChildren();
      this.drawn = '';
      delete this.root.dataset.label;
      return;
    }
    this.picker.value = shown.key;
    const drawing = `${shown.key}@${shown.seq}`;
    if (drawing === this.drawn) return;
    this.drawn = drawing;
    this.root.dataset.label = shown.label;
    this.draw(shown, title(shown));
  }

  private draw(entry: RunPreview & { preview: DisparityPreview }, name: string): void {
    const { preview } = entry;
    const max = preview.maxDisparity;
    this.summary.textContent = [
      name,
      `${preview.pairs.length} validation pair${preview.pairs.length === 1 ? '' : 's'}`,
      `mean EPE ${px(previewMeanEpe(preview))}`,
      `disparity 0…${max} px`,
    ].join(' · ');

    const head = el('tr');
    for (const picture of PREVIEW_PICTURES) {
      const th = el('th', `picture-${picture}`, HEADINGS[picture]);
      if (picture === 'predicted') {
        const colors = Array.from({ length: DISPARITY_BYTE_MAX + 1 }, (_, i) => disparityRgb(i));
        th.append(scale(strip(colors, 'scale-bar disparity-scale'), ['0', `${max / 2} px`, `${max} px`], 'disparity in pixels of the full-resolution left view'));
      } else if (picture === 'truth') {
        th.append(el('div', 'muted note', 'grey: no ground truth'));
      } else if (picture === 'error') {
        // Ten bins doubling from 0.1875 px: 3 px, KITTI's outlier threshold, falls in the middle.
        th.append(scale(strip(ERROR_BINS.map((b) => b.rgb), 'scale-bar error-scale'), ['0', '3 px', `≥${ERROR_BINS[ERROR_BINS.length - 2].upToPx} px`], 'absolute disparity error (KITTI colours); grey: no ground truth'));
      }
      head.append(th);
    }
    head.append(el('th', 'epe', 'EPE'));

    const rows = preview.pairs.map((pair, index) => {
      const tr = el('tr', 'pair');
      tr.dataset.pair = String(index);
      tr.dataset.epe = String(pair.epe);
      try {
        const bytes = previewPairBytes(pair);
        for (const picture of PREVIEW_PICTURES) {
          const td = el('td');
          td.append(pictureCanvas(pair.width, pair.height, previewPictureRgba(picture, bytes, max), `picture ${picture}`));
          tr.append(td);
        }
      } catch (e) {
        // A malformed pair (wrong size, bad base64) says so in its row instead of breaking the card.
        const td = el('td', 'muted', `pair ${index + 1} cannot be drawn: ${(e as Error).message}`);
        td.colSpan = PREVIEW_PICTURES.length;
        tr.replaceChildren(td);
      }
      tr.append(el('td', 'epe', px(pair.epe)));
      return tr;
    });
    fillTable(this.table, head, rows);
  }
}
