// The supernet visualizer page in headless Chromium: the diagram shows the supernet's units and block slots, the
// subnet a recorded run sampled is highlighted block by block, and the SVG export is a standalone SVG file; a stereo
// config's supernet shows its siamese units, correlation, redirect, decoder with U-links and six disparity outputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TelemetryEvent } from '../../daemon/protocol/events';
import type { SupernetView, VisualizerNotifications, VisualizerState } from '../../daemon/protocol/webview';
import { ROOT, artifactPath, openWebview, skipReason } from './harness';
import { supernetView } from '../../extension/server/supernet-view';

const skip = skipReason('visualizer');
const log: TelemetryEvent[] = readFileSync(join(ROOT, 'test/fixtures/extension/tiny-run.events.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as TelemetryEvent);

// The supernet of test/fixtures/extension/tiny.manta.json, as the language server describes it.
const supernet: SupernetView = {
  units: [8, 16, 16, 24, 24].map((width, i) => ({ width, stride: i < 2 ? 2 : 1, activation: 'relu', squeezeExcite: false })),
  kernel: [3, 5],
  expand: [2, 3],
  depth: [1, 2],
  width: [1],
  resolution: [16],
  stemWidth: 8,
  firstBlockWidth: 8,
};

test('the visualizer draws the supernet and highlights the sampled subnet; SVG export is standalone', { skip }, async () => {
  const sampled = log.filter((e): e is Extract<TelemetryEvent, { kind: 'subnet.sampled' }> => e.kind === 'subnet.sampled').pop()!;
  const arch = sampled.data.arch;
  const h = await openWebview('visualizer', { theme: 'dark' });
  try {
    await h.waitForPosted('core/ready');
    const state: VisualizerState = { title: 'tiny', origin: { kind: 'run', hostId: 'local', runId: 'r1' }, supernet, subnet: null, followTraining: true, waiting: null };
    await h.deliver<VisualizerNotifications, 'core/ready/completion'>('core/ready/completion', { state });
    await h.page.waitForSelector('.stage svg');
    // Without a subnet: every slot shows its choices (units × max depth).
    assert.equal(await h.page.locator('.stage svg g.block.choice').count(), 5 * 2);
    await h.deliver<VisualizerNotifications, 'visualizer/state'>('visualizer/state', {
      state: { ...state, subnet: { arch, source: 'training', label: `step ${sampled.data.step}` } },
    });
    await h.page.waitForSelector('.stage svg g.block.active');
    const active = arch.d.reduce((a, b) => a + b, 0);
    assert.equal(await h.page.locator('.stage svg g.block.active').count(), active);
    assert.equal(await h.page.locator('.stage svg g.block.skipped').count(), 5 * 2 - active);
    // Each active block shows the kernel size and expand ratio the arch gives its slot.
    const first = h.page.locator('.stage svg g.block.active').first();
    const slot = Number(await first.getAttribute('data-slot'));
    assert.match((await first.textContent())!, new RegExp(`k${arch.ks[slot]} · e${arch.e[slot]}`));
    assert.equal(await h.page.isChecked('#follow'), true);
    await h.page.uncheck('#follow');
    assert.deepEqual((await h.waitForPosted('visualizer/follow')).params, { followTraining: false });

    await h.page.click('#export-svg');
    const saved = (await h.waitForPosted('core/saveFile')).params as { suggestedName: string; content: string; encoding: string };
    assert.equal(saved.suggestedName, 'tiny-supernet.svg');
    assert.match(saved.content, /^<\?xml[^>]*>\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    // Colours are plain attributes, not theme variables, so the file renders outside VS Code.
    assert.doesNotMatch(saved.content, /var\(--vscode/);
    assert.deepEqual(((await h.persisted()) as { origin: unknown }).origin, state.origin);
    await h.page.screenshot({ path: artifactPath('webview-visualizer-dark.png'), fullPage: true });
  } finally {
    await h.close();
  }
  assert.deepEqual(h.problems, []);
});

test('a stereo supernet: siamese units on two lanes, the correlation, the decoder\'s U-links and six outputs; a subnet highlights its blocks', { skip }, async () => {
  const units = [16, 24, 32, 48, 64, 96].map((width) => ({ width, stride: 2 }));
  const stereoConfig = { name: 'stereo', task: 'stereo', supernet: { stem: { width: 12, stride: 1 }, units, kernelChoices: [3, 5], expandChoices: [2, 3], depthChoices: [1, 2, 3], resolutionChoices: [64], stereo: { maxDisplacement: 8, correlationStride: 2 } } };
  const view = supernetView(stereoConfig)!;
  assert.equal(view.task, 'stereo');
  const h = await openWebview('visualizer', { theme: 'light' });
  try {
    await h.waitForPosted('core/ready');
    const state: VisualizerState = { title: 'stereo.manta.json', origin: { kind: 'config', uri: 'file:///stereo.manta.json' }, supernet: view, subnet: null, followTraining: false, waiting: null };
    await h.deliver<VisualizerNotifications, 'core/ready/completion'>('core/ready/completion', { state });
    await h.page.waitForSelector('.stage svg');
    const svg = h.page.locator('.stage svg');
    assert.equal(await svg.getAttribute('aria-label'), 'Stereo supernet');
    // Six units of three slots, each drawn once; the two views enter on two lanes through the siamese band.
    assert.equal(await svg.locator('g.block.choice').count(), 6 * 3);
    assert.deepEqual(await svg.locator('g.stereo-input').allTextContents(), ['left view64 px', 'right view64 px']);
    assert.equal(await svg.locator('rect.siamese').count(), 1);
    assert.match((await svg.textContent())!, /siamese: left and right views through shared weights/);
    assert.equal(await svg.locator('polyline.lane.left').count(), 5, 'inputs → stem → unit 1 → unit 2 → unit 3 → correlation');
    assert.equal(await svg.locator('polyline.lane.right').count(), 5);
    // The correlation at unit 3: displacements 0…8 in steps of 2 give 5 channels; the redirect and their concat.
    const correlation = svg.locator('g.correlation');
    assert.equal(await correlation.getAttribute('data-channels'), '5');
    assert.match((await correlation.textContent())!, /d 0…8 · step 2.*5 ch/);
    assert.match((await svg.locator('g.redirect').textContent())!, /redirect 1×1.*32 ch/);
    assert.match((await svg.textContent())!, /concat 37 ch/);
    // The decoder: six transposed convolutions, coarse to fine, each with a U-link to its encoder feature, and six outputs.
    assert.deepEqual(await svg.locator('g.deconv').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-scale'))), ['1/32', '1/16', '1/8', '1/4', '1/2', '1/1']);
    assert.deepEqual(await svg.locator('g.deconv').allTextContents(), ['deconv 1 → 1/3264 ch', 'deconv 2 → 1/1648 ch', 'deconv 3 → 1/832 ch', 'deconv 4 → 1/424 ch', 'deconv 5 → 1/216 ch', 'deconv 6 → 1/116 ch']);
    assert.deepEqual(await svg.locator('polyline.ulink').evaluateAll((ls) => ls.map((l) => l.getAttribute('data-from'))), ['unit 5', 'unit 4', 'unit 3', 'unit 2', 'unit 1', 'stem']);
    assert.equal(await svg.locator('g.disparity').count(), 6);
    assert.equal(await svg.locator('polyline.disparity-up').count(), 5, 'each coarser disparity feeds the next stage');
    assert.deepEqual(await svg.locator('polyline.ulink + text').allTextContents(), ['U-link', 'U-link', 'U-link (left)', 'U-link (left)', 'U-link (left)', 'U-link (left)']);

    // Correlating after unit 2: only units 1–2 are siamese, and unit 3's U-link takes the one feature it has.
    const early = supernetView({ ...stereoConfig, supernet: { ...stereoConfig.supernet, stereo: { correlationUnit: 2 } } })!;
    await h.deliver<VisualizerNotifications, 'visualizer/state'>('visualizer/state', { state: { ...state, supernet: early } });
    await h.page.waitForFunction(() => document.querySelector('.stage svg')?.textContent?.includes('1-D · unit 2 · 1/4'));
    assert.equal(await svg.locator('polyline.lane.left').count(), 4, 'inputs → stem → unit 1 → unit 2 → correlation');
    assert.deepEqual(await svg.locator('polyline.ulink + text').allTextContents(), ['U-link', 'U-link', 'U-link', 'U-link (left)', 'U-link (left)', 'U-link (left)']);
    assert.equal(await svg.locator('g.block.choice').count(), 6 * 3);
    await h.deliver<VisualizerNotifications, 'visualizer/state'>('visualizer/state', { state });
    await h.page.waitForFunction(() => document.querySelector('.stage svg')?.textContent?.includes('1-D · unit 3 · 1/8'));

    // A subnet highlights its active blocks in the six units.
    const arch = { ks: Array.from({ length: 18 }, (_, i) => (i % 2 ? 5 : 3)), e: Array(18).fill(2), d: [1, 2, 3, 2, 1, 3], r: 64, w: 1 };
    await h.deliver<VisualizerNotifications, 'visualizer/state'>('visualizer/state', { state: { ...state, subnet: { arch, source: 'pareto', label: 'front #0' } } });
    await h.page.waitForSelector('.stage svg g.block.active');
    assert.equal(await svg.locator('g.block.active').count(), 12);
    assert.equal(await svg.locator('g.block.skipped').count(), 18 - 12);
    const slots = await svg.locator('g.block.active').evaluateAll((gs) => gs.map((g) => Number(g.getAttribute('data-slot'))));
    assert.deepEqual(slots, [0, 3, 4, 6, 7, 8, 9, 10, 12, 15, 16, 17]);
    const last = svg.locator('g.block.active[data-slot="17"]');
    assert.match((await last.textContent())!, /k5 · e2/);
    await h.page.click('#export-svg');
    const saved = (await h.waitForPosted('core/saveFile')).params as { suggestedName: string; content: string };
    assert.equal(saved.suggestedName, 'stereo-supernet.svg');
    assert.match(saved.content, /<marker id="manta-arrow"/);
    await h.page.screenshot({ path: artifactPath('webview-visualizer-stereo-light.png'), fullPage: true });
  } finally {
    await h.close();
  }
  assert.deepEqual(h.problems, []);
});
