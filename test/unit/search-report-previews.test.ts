// The report's pictures of a stereo front (daemon/search/report-previews.ts): a front entry with a preview gives four
// decodable PNG images per pair, in the colours of daemon/protocol/disparity-colors.ts, with the pair's EPE; the
// report's own policy lets data: images show; a front without previews has no such section.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import { NO_TRUTH_RGB, previewPairBytes, previewPictureRgba } from '../../daemon/protocol/disparity-colors';
import type { FrontEntry, ResultsFile } from '../../daemon/protocol/results';
import { renderReport, type TrainingCurves } from '../../daemon/search/report';
import { frontPreviewsHtml } from '../../daemon/search/report-previews';
import { disparityPreview, stereoArch, stereoResultsFile } from './preview-fixtures';

function entry(index: number, preview?: FrontEntry['preview']): FrontEntry {
  return { index, arch: stereoArch, macs: 1e6 * (index + 1), params: 1e4, predictedAccuracy: 0.5, validationAccuracy: 0.5, dominated: false, ...(preview ? { preview } : {}) };
}

const results = (front: FrontEntry[]): ResultsFile => stereoResultsFile(front);

const curves: TrainingCurves = { steps: [], evaluations: [], phases: [] };
const space = { units: 6, maxDepth: 2 };

/** The PNG images (data: URLs) of an HTML string, decoded, with their alt text. */
function images(html: string): { alt: string; png: PNG }[] {
  return [...html.matchAll(/<img class="pic" alt="([^"]*)"[^>]*src="data:image\/png;base64,([A-Za-z0-9+/=]+)"/g)].map((m) => ({ alt: m[1], png: PNG.sync.read(Buffer.from(m[2], 'base64')) }));
}

test('a front entry with a preview gives four decodable PNG images per pair, with its EPE', () => {
  const withTwo = disparityPreview({ pairs: 2 });
  const withOne = disparityPreview({ pairs: 1, maxDisparity: 12 });
  const html = renderReport(results([entry(0, withTwo), entry(1), entry(2, withOne)]), curves, space);
  assert.match(html, /Content-Security-Policy" content="[^"]*img-src data:/, "the report's own policy allows its data: images");
  assert.match(html, /<h2>Predictions of the front<\/h2>/);
  const figures = html.split('<figure class="preview">').slice(1);
  assert.equal(figures.length, 2, 'one figure per front entry with a preview');
  assert.match(figures[0], /<figcaption>#0 · mean EPE/);
  assert.match(figures[1], /<figcaption>#2 · mean EPE/);

  const first = images(figures[0]);
  assert.equal(first.length, 4 * withTwo.pairs.length);
  assert.deepEqual(first.slice(0, 4).map((i) => i.alt), ['pair 1: left view', 'pair 1: predicted disparity', 'pair 1: ground truth', 'pair 1: error |predicted − truth|']);
  for (const { png } of first) assert.deepEqual([png.width, png.height], [withTwo.pairs[0].width, withTwo.pairs[0].height]);
  assert.equal(images(figures[1]).length, 4);
  for (const [k, pair] of withTwo.pairs.entries()) assert.match(figures[0], new RegExp(`<td>${pair.epe.toFixed(2)} px</td></tr>`), `pair ${k + 1}'s EPE`);
  assert.match(figures[1], /12 px/, "the disparity scale ends at the preview's maxDisparity");

  // The pixels are the shared colours: the error picture of pair 1 decodes to previewPictureRgba's, grey where no truth.
  const bytes = previewPairBytes(withTwo.pairs[0]);
  const expected = previewPictureRgba('error', bytes, withTwo.maxDisparity);
  const decoded = first[3].png.data;
  assert.deepEqual([...decoded], [...expected]);
  const noTruth = bytes.truth.indexOf(255);
  assert.deepEqual([...decoded.subarray(4 * noTruth, 4 * noTruth + 3)], NO_TRUTH_RGB);
});

test('a front without previews has no pictures section; a malformed pair is named, not thrown', () => {
  const html = renderReport(results([entry(0), entry(1)]), curves, space);
  assert.doesNotMatch(html, /Predictions of the front|<img/);
  assert.equal(frontPreviewsHtml([]), '');
  const bad = disparityPreview({ pairs: 1 });
  bad.pairs[0].width += 1;
  const section = frontPreviewsHtml([entry(0, bad)]);
  assert.match(section, /pair 1 cannot be drawn: preview left: \d+ bytes for a 49×24 picture/);
});
