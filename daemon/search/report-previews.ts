// The report's pictures of the front subnets' predictions (results.json `front[i].preview`): for a stereo run, per
// validation pair the left view, the predicted disparity, the ground truth and the error map, with the pair's
// end-point error — the monitor's Disparity card, in the same colours (daemon/protocol/disparity-colors.ts), as
// inline PNG data: URLs so that report.html stays one self-contained file.
import { PNG } from 'pngjs';
import {
  DISPARITY_BYTE_MAX,
  ERROR_BINS,
  PREVIEW_PICTURES,
  disparityRgb,
  previewMeanEpe,
  previewPictureRgba,
  type PreviewPairBytes,
  type PreviewPicture,
  type Rgb,
} from '../protocol/disparity-colors';
import type { DisparityPreview } from '../protocol/events';
import type { FrontEntry } from './results';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const px = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)} px` : '–');

const CAPTIONS: Record<PreviewPicture, string> = {
  left: 'left view',
  predicted: 'predicted disparity',
  truth: 'ground truth',
  error: 'error |predicted − truth|',
};

// daemon/data/stereo's encodeImagePng is out of reach here (search may not import data/, architecture.md): pngjs
// directly, opaque RGBA in, RGB out.
/** Opaque RGBA pixels as a PNG data: URL. */
export function pngDataUrl(width: number, height: number, rgba: Uint8ClampedArray): string {
  if (rgba.length !== width * height * 4) throw new RangeError(`pngDataUrl: ${rgba.length} bytes for a ${width}×${height} RGBA image`);
  const options = { colorType: 2, inputColorType: 6, inputHasAlpha: true, bitDepth: 8 } as const;
  const png = new PNG({ width, height, ...options });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return `data:image/png;base64,${PNG.sync.write(png, options).toString('base64')}`;
}

/** A 1-pixel-high strip of colours, stretched by the page into a scale bar. */
function stripUrl(colors: readonly Rgb[]): string {
  const rgba = new Uint8ClampedArray(colors.length * 4);
  colors.forEach(([r, g, b], i) => rgba.set([r, g, b, 255], 4 * i));
  return pngDataUrl(colors.length, 1, rgba);
}

function scaleHtml(url: string, labels: string[]): string {
  return `<div class="scale"><img class="bar" alt="" src="${url}"><div class="ticks">${labels.map((l) => `<span>${esc(l)}</span>`).join('')}</div></div>`;
}

const bytesOf = (pair: DisparityPreview['pairs'][number]): PreviewPairBytes => ({
  width: pair.width,
  height: pair.height,
  left: Buffer.from(pair.left, 'base64'),
  predicted: Buffer.from(pair.predicted, 'base64'),
  truth: Buffer.from(pair.truth, 'base64'),
});

/** One subnet's preview: a row per pair, four pictures and the EPE. */
export function disparityPreviewHtml(preview: DisparityPreview, caption: string): string {
  const max = preview.maxDisparity;
  const disparityScale = scaleHtml(stripUrl(Array.from({ length: DISPARITY_BYTE_MAX + 1 }, (_, i) => disparityRgb(i))), ['0', `${max / 2} px`, `${max} px`]);
  const errorScale = scaleHtml(stripUrl(ERROR_BINS.map((b) => b.rgb)), ['0', '3 px', `≥${ERROR_BINS[ERROR_BINS.length - 2].upToPx} px`]);
  const head = PREVIEW_PICTURES.map((p) => `<th>${esc(CAPTIONS[p])}${p === 'predicted' ? disparityScale : p === 'error' ? errorScale : p === 'truth' ? '<div class="muted">grey: no ground truth</div>' : ''}</th>`).join('');
  const rows = preview.pairs
    .map((pair, i) => {
      let cells: string;
      try {
        const bytes = bytesOf(pair);
        cells = PREVIEW_PICTURES.map((p) => `<td><img class="pic" alt="pair ${i + 1}: ${esc(CAPTIONS[p])}" width="${pair.width}" height="${pair.height}" src="${pngDataUrl(pair.width, pair.height, previewPictureRgba(p, bytes, max))}"></td>`).join('');
      } catch (e) {
        // A malformed pair is named in its row; the rest of the report stands.
        cells = `<td colspan="${PREVIEW_PICTURES.length}" class="muted">pair ${i + 1} cannot be drawn: ${esc((e as Error).message)}</td>`;
      }
      return `<tr>${cells}<td>${px(pair.epe)}</td></tr>`;
    })
    .join('');
  return `<figure class="preview"><figcaption>${esc(caption)}</figcaption><table class="pairs"><thead><tr>${head}<th>EPE</th></tr></thead><tbody>${rows}</tbody></table></figure>`;
}

/** The report's section of front subnets' previews; empty when no entry has one. */
export function frontPreviewsHtml(front: readonly FrontEntry[]): string {
  const shown = front.filter((p): p is FrontEntry & { preview: DisparityPreview } => p.preview?.kind === 'disparity');
  if (shown.length === 0) return '';
  const max = shown[0].preview.maxDisparity;
  return `<h2>Predictions of the front</h2>
<p class="muted">Each front subnet on fixed validation pairs: the left view, the predicted disparity and the ground truth in turbo over 0…${max} px (far: blue, near: red), and the error |predicted − truth| in KITTI's colours (blue below 3 px, yellow to red above); grey pixels have no ground truth. EPE: mean end-point error over the pixels with ground truth.</p>
${shown.map((p) => disparityPreviewHtml(p.preview, `#${p.index} · mean EPE ${px(previewMeanEpe(p.preview))}`)).join('\n')}`;
}
