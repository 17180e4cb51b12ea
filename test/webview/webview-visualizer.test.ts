// The supernet visualizer page in headless Chromium: the diagram shows the supernet's units and block slots, the
// subnet a recorded run sampled is highlighted block by block, and the SVG export is a standalone SVG file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TelemetryEvent } from '../../daemon/protocol/events';
import type { SupernetView, VisualizerNotifications, VisualizerState } from '../../daemon/protocol/webview';
import { ROOT, artifactPath, openWebview, skipReason } from './harness';

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
