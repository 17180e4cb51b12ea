import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../daemon/engine/rng';
import { holdOut, orderAndCap, range } from '../../daemon/data/splits';

function histogram(indices: Int32Array, labels: Int32Array, classes: number): number[] {
  const h = new Array<number>(classes).fill(0);
  for (const i of indices) h[labels[i]]++;
  return h;
}

test('holdOut is stratified by largest remainder, disjoint, complete and seeded', () => {
  // Uneven classes: 50, 30, 15, 5 items.
  const sizes = [50, 30, 15, 5];
  const labels = Int32Array.from(sizes.flatMap((n, c) => new Array<number>(n).fill(c)));
  const { kept, held } = holdOut(range(100), labels, 4, 0.13, new Rng(1));
  assert.equal(held.length, 13);
  // Quotas 6.5, 3.9, 1.95, 0.65 → floors 6, 3, 1, 0 (10), the 3 left go to the largest remainders: 1.95, 3.9, 0.65.
  assert.deepEqual(histogram(held, labels, 4), [6, 4, 2, 1]);
  assert.deepEqual(
    [...kept, ...held].sort((a, b) => a - b),
    [...range(100)],
  );
  const again = holdOut(range(100), labels, 4, 0.13, new Rng(1));
  assert.deepEqual(again.held, held);
  assert.notDeepEqual(holdOut(range(100), labels, 4, 0.13, new Rng(2)).held, held);
});

test('holdOut keeps at least one item on each side when it can', () => {
  const labels = Int32Array.from([0, 1, 0]);
  assert.equal(holdOut(range(3), labels, 2, 0.01, new Rng(0)).held.length, 1);
  assert.equal(holdOut(range(3), labels, 2, 0.99, new Rng(0)).kept.length, 1);
  const one = holdOut(range(1), labels, 2, 0.5, new Rng(0));
  assert.deepEqual([one.kept.length, one.held.length], [1, 0]);
});

test('orderAndCap takes a seeded random subset, not the first items', () => {
  const capped = orderAndCap(range(1000), 100, new Rng(3));
  assert.equal(capped.length, 100);
  assert.equal(new Set(capped).size, 100);
  assert.ok(Math.max(...capped) > 500, 'drawn from the whole range');
  assert.equal(orderAndCap(range(10), undefined, new Rng(3)).length, 10);
  assert.equal(orderAndCap(range(10), 50, new Rng(3)).length, 10);
});
