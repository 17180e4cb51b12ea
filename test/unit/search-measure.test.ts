// Which subnets are measured for the predictor: distinct, both ends of the space, and with a cost, spread over the
// whole cost range (uniform sampling alone rarely draws the cheap and expensive ends, where the front's ends lie).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../daemon/engine/rng';
import { SearchSpace } from '../../daemon/ofa/space';
import { OFA_MBV3_UNITS } from '../../daemon/ofa/presets';
import { EfficiencyModel } from '../../daemon/search/efficiency';
import { sampleSubnetsToMeasure } from '../../daemon/search/measure';
import { validateConfig, type MantaConfig } from '../../schemas';

function space(extra: Partial<MantaConfig['supernet']> = {}): SearchSpace {
  const r = validateConfig({
    name: 't',
    task: 'classification',
    data: { kind: 'synthetic' },
    supernet: { units: OFA_MBV3_UNITS, resolutionChoices: [24, 32], ...extra },
    training: { phases: [{ phase: 'largest', epochs: 1 }] },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return new SearchSpace(r.config.supernet);
}

test('measured subnets are distinct, canonical, seeded and include both ends', () => {
  const s = space();
  const a = sampleSubnetsToMeasure(s, 50, new Rng(1));
  assert.equal(a.length, 50);
  assert.equal(new Set(a.map((x) => s.key(x))).size, 50);
  assert.deepEqual(a[0], s.canonical(s.smallest()));
  assert.deepEqual(a[1], s.canonical(s.largest()));
  for (const x of a) assert.deepEqual(x, s.canonical(x));
  assert.deepEqual(sampleSubnetsToMeasure(s, 50, new Rng(1)), a);
  // A space with fewer subnets than asked: all of them, and no endless loop.
  const tiny = space({ kernelChoices: [3], expandChoices: [3], depthChoices: [2], resolutionChoices: [32] });
  assert.equal(sampleSubnetsToMeasure(tiny, 20, new Rng(2)).length, 1);
});

test('with a cost, the measured subnets cover the cost range far better than uniform sampling', () => {
  const s = space();
  const eff = new EfficiencyModel(s, 3, 10);
  const macs = (x: Parameters<typeof eff.costs>[0]) => eff.costs(x).macs;
  const lo = macs(s.smallest());
  const hi = macs(s.largest());
  const decile = (x: number) => Math.min(9, Math.floor(((x - lo) / (hi - lo)) * 10));
  const coverage = (archs: ReturnType<typeof sampleSubnetsToMeasure>) => new Set(archs.map((x) => decile(macs(x)))).size;
  const spread = sampleSubnetsToMeasure(s, 40, new Rng(3), macs);
  const uniform = sampleSubnetsToMeasure(s, 40, new Rng(3));
  assert.equal(spread.length, 40);
  assert.equal(new Set(spread.map((x) => s.key(x))).size, 40);
  assert.ok(coverage(spread) >= 8, `spread sampling covers ${coverage(spread)} of 10 cost deciles`);
  assert.ok(coverage(spread) > coverage(uniform), `spread ${coverage(spread)} vs uniform ${coverage(uniform)} deciles`);
});
