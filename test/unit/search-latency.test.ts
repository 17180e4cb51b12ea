// The latency lookup table: built once per backend + version + device and then read from the cache, additive over
// blocks (a deeper subnet never estimates faster), robust to a corrupt cache, and checked against timed subnets.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../../daemon/engine';
import { Rng } from '../../daemon/engine/rng';
import { ClassificationSupernet } from '../../daemon/tasks/classification';
import { SearchSpace } from '../../daemon/ofa/space';
import { buildLatencyTable, validateLatencyTable } from '../../daemon/search/latency';
import type { BackendInfo } from '../../daemon/protocol/events';
import { validateConfig } from '../../schemas';

let backend: BackendInfo;
before(async () => {
  // cpu: every backend times the same way; cpu runs these tiny models quickly and everywhere.
  const info = await initEngine({ backend: 'cpu' });
  backend = { backend: info.backend, version: info.version, device: info.device };
});

function tinySupernet() {
  const r = validateConfig({
    name: 't',
    task: 'classification',
    data: { kind: 'synthetic' },
    supernet: {
      stem: { width: 8 },
      firstBlock: { width: 8 },
      units: [{ width: 8 }, { width: 8 }, { width: 16, squeezeExcite: true, activation: 'hswish' }, { width: 16, stride: 1 }, { width: 16 }],
      finalExpandWidth: 16,
      featureMixWidth: 16,
      kernelChoices: [3, 5],
      expandChoices: [2, 4],
      depthChoices: [1, 2],
      resolutionChoices: [16],
    },
    training: { phases: [{ phase: 'largest', epochs: 1 }] },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.config.supernet;
}

test('the table is timed once, then read from the cache; another backend version is timed again', async () => {
  const space = new SearchSpace(tinySupernet());
  const cacheDir = mkdtempSync(join(tmpdir(), 'manta-latency-'));
  try {
    const first = await buildLatencyTable(space, 3, 5, { backend, cacheDir, repeats: 3 });
    assert.ok(first.timedNow > 10);
    assert.equal(readdirSync(cacheDir).filter((f) => f.endsWith('.json')).length, 1);
    const second = await buildLatencyTable(space, 3, 5, { backend, cacheDir, repeats: 3 });
    assert.equal(second.timedNow, 0);
    const rng = new Rng(1);
    for (let i = 0; i < 20; i++) {
      const arch = space.sample(rng);
      assert.equal(second.estimate(arch), first.estimate(arch));
      assert.ok(first.estimate(arch) > 0 && Number.isFinite(first.estimate(arch)));
      // Additive over blocks, each block ≥ 0: one more block never estimates faster.
      for (let u = 0; u < space.units; u++) {
        if (arch.d[u] === 1) assert.ok(first.estimate({ ...arch, d: arch.d.map((d, j) => (j === u ? 2 : d)) }) >= first.estimate(arch));
      }
    }
    const other = await buildLatencyTable(space, 3, 5, { backend: { ...backend, version: `${backend.version}-other` }, cacheDir, repeats: 3 });
    assert.ok(other.timedNow > 0);
    assert.equal(readdirSync(cacheDir).filter((f) => f.endsWith('.json')).length, 2);

    const refreshed = await buildLatencyTable(space, 3, 5, { backend, cacheDir, repeats: 3, refresh: true });
    assert.equal(refreshed.timedNow, first.timedNow);
    assert.equal((await buildLatencyTable(space, 3, 5, { backend, cacheDir, repeats: 3 })).timedNow, 0);

    // A corrupt cache file is timed again, not fatal.
    for (const f of readdirSync(cacheDir)) writeFileSync(join(cacheDir, f), '{"version": 1, "entr');
    const repaired = await buildLatencyTable(space, 3, 5, { backend, cacheDir, repeats: 3 });
    assert.equal(repaired.timedNow, first.timedNow);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('validation times extracted subnets directly and reports the mean relative error', async () => {
  const config = tinySupernet();
  const supernet = new ClassificationSupernet(config, { classes: 5, inputChannels: 3, seed: 1 });
  try {
    const table = await buildLatencyTable(supernet.space, 3, 5, { backend, repeats: 3 });
    const v = await validateLatencyTable(table, supernet.space, (arch) => supernet.extractSubnet(arch), 3, new Rng(2), 3);
    assert.equal(v.samples.length, 3);
    for (const s of v.samples) assert.ok(s.measuredMs > 0 && s.estimatedMs > 0);
    const mre = v.samples.reduce((a, s) => a + Math.abs(s.estimatedMs - s.measuredMs) / s.measuredMs, 0) / 3;
    assert.ok(Math.abs(v.meanRelativeError - mre) < 1e-12);
  } finally {
    supernet.dispose();
  }
});
