// The search-space CodeLens and its costs on the language-server side: what the lenses say for each answer, and the
// cache that keeps the editor from waiting on a daemon (a short wait, then "computing" and a refresh when the answer
// lands; a timeout for one that never comes; answers dropped when the daemon comes or goes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DescribeSpaceParams, DescribeSpaceResult } from '../../daemon/protocol';
import { hoversSpace } from '../../extension/server/hovers';
import type { SpaceCostsAnswer } from '../../extension/server/lsp-ext';
import { SpaceCostsCache, spaceCostsKey } from '../../extension/server/space-costs';
import { costsText, spaceLenses } from '../../extension/server/space';

const units = [16, 24, 40, 48, 96].map((width, i) => ({ width, stride: i === 3 ? (1 as const) : (2 as const) }));
const described: DescribeSpaceResult = { size: 7371 ** 5, macs: { min: 3935184, max: 15198240 }, params: { min: 2142602, max: 6396570 }, inputChannels: 3, classes: 10 };
const params: DescribeSpaceParams = { config: { name: 'x', task: 'classification', data: { kind: 'synthetic' }, supernet: { units }, training: { phases: [] } } };

/** A promise and the function that settles it, for answers the test hands over when it chooses. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

test('the lenses: size and costs on one line; otherwise the size, and why the costs are missing', () => {
  assert.deepEqual(spaceLenses({ units }, { kind: 'described', description: described }), [
    { title: 'Search space: 2.2 × 10^19 subnets · MACs 3.9M–15.2M · params 2.1M–6.4M', action: 'showSupernet' },
  ]);
  assert.deepEqual(spaceLenses({ units }, { kind: 'unavailable', reason: 'start the MANTA daemon', noDaemon: true }), [
    { title: 'Search space: 2.2 × 10^19 subnets', action: 'showSupernet' },
    { title: 'MACs: start the MANTA daemon', action: 'connectDaemon' },
  ]);
  const folderless = spaceLenses({ units }, { kind: 'described', description: { size: 1, costsUnavailable: 'the folder /d/train does not exist' } });
  assert.deepEqual(folderless[1], { title: 'MACs: the folder /d/train does not exist', action: 'none' });
  assert.equal(spaceLenses({ units }, { kind: 'computing' })[1].title, 'MACs: computing…');
  assert.deepEqual(spaceLenses({ units: 'none' }, { kind: 'computing' }), []);
  assert.equal(costsText({ kind: 'described', description: { size: 1, macs: { min: 999, max: 2.5e9 }, params: { min: 1500, max: 1e6 } } }), 'MACs 999–2.50G · params 1.5k–1.0M');
});

test('hovers ask for the costs only over the supernet and its choice lists', () => {
  const t = JSON.stringify({ name: 'x', supernet: { units, kernelChoices: [3, 5] }, training: {} }, null, 2);
  assert.equal(hoversSpace(t, t.indexOf('"supernet"') + 2), true);
  assert.equal(hoversSpace(t, t.indexOf('"kernelChoices"') + 2), true);
  assert.equal(hoversSpace(t, t.indexOf('"name"') + 2), false);
  assert.equal(hoversSpace(t, t.indexOf('"width"') + 2), false);
});

test('an answer in time is shown at once and asked for once per config text', async () => {
  const asked: DescribeSpaceParams[] = [];
  let late = 0;
  const cache = new SpaceCostsCache(
    async (p) => (asked.push(p), { kind: 'described', description: described }),
    () => late++,
    { waitMs: 5000, timeoutMs: 10_000, capacity: 2 },
  );
  const key = spaceCostsKey('{"a":1}', '/p');
  assert.deepEqual(await cache.get(key, () => params), { kind: 'described', description: described });
  assert.deepEqual(await cache.get(key, () => params), { kind: 'described', description: described });
  assert.equal(asked.length, 1, 'the second lens is served from the cache');
  assert.notEqual(spaceCostsKey('{"a":1}', '/q'), key, 'the folder is part of the key');
  // Capacity 2: the least recently used answer goes.
  await cache.get(spaceCostsKey('b', undefined), () => params);
  await cache.get(spaceCostsKey('c', undefined), () => params);
  await cache.get(key, () => params);
  assert.equal(asked.length, 4);
  assert.equal(late, 0);
});

test('a slow answer shows "computing", then refreshes the lenses once when it lands', async () => {
  const answer = deferred<SpaceCostsAnswer>();
  const refreshed = deferred<void>();
  let late = 0;
  const cache = new SpaceCostsCache(() => answer.promise, () => (late++, refreshed.resolve()), { waitMs: 1, timeoutMs: 60_000, capacity: 8 });
  const key = spaceCostsKey('{}', undefined);
  assert.deepEqual(await cache.get(key, () => params), { kind: 'computing' });
  assert.deepEqual(await cache.get(key, () => params), { kind: 'computing' });
  answer.resolve({ kind: 'described', description: described });
  await refreshed.promise;
  assert.deepEqual(await cache.get(key, () => params), { kind: 'described', description: described });
  assert.equal(late, 1);
});

test('a daemon that never answers becomes a reason after the timeout; clearing forgets answers', async () => {
  const refreshed = deferred<void>();
  let calls = 0;
  const cache = new SpaceCostsCache(
    () => (calls++, new Promise<SpaceCostsAnswer>(() => undefined)),
    () => refreshed.resolve(),
    { waitMs: 1, timeoutMs: 20, capacity: 8 },
  );
  const key = spaceCostsKey('{}', undefined);
  assert.deepEqual(await cache.get(key, () => params), { kind: 'computing' });
  await refreshed.promise;
  const after = await cache.get(key, () => params);
  assert.equal(after.kind, 'unavailable');
  assert.match(after.kind === 'unavailable' ? after.reason : '', /the MANTA daemon did not answer within 20 ms/);
  assert.equal(calls, 1);
  cache.clear();
  await cache.get(key, () => params);
  assert.equal(calls, 2, 'after clear() the daemon is asked again');
});

test('a failing client is a reason, not an error', async () => {
  const cache = new SpaceCostsCache(() => Promise.reject(new Error('Unhandled method manta/lsp/describeSpace')), () => undefined, { waitMs: 1000, timeoutMs: 5000, capacity: 8 });
  const a = await cache.get('k', () => params);
  assert.equal(a.kind, 'unavailable');
  assert.match(a.kind === 'unavailable' ? a.reason : '', /could not ask the MANTA daemon \(Unhandled method/);
});
