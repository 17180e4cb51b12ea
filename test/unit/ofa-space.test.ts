import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../daemon/engine/rng';
import type { Arch } from '../../daemon/ofa/arch';
import { expandedChannels, makeDivisible, roundHalfEven, seChannels, unitChannels } from '../../daemon/ofa/channels';
import { ArchError, SupernetConfigError } from '../../daemon/ofa/errors';
import { SearchSpace } from '../../daemon/ofa/space';
import { isUserError } from '../../daemon/protocol/user-error';
import type { SampleSpace } from '../../daemon/protocol/values';
import { mbv3Config, smallConfig } from './ofa-fixtures';

const space = new SearchSpace(mbv3Config({ resolutionChoices: [24, 32], widthChoices: [0.75, 1] }));

test('channel rules are OFA’s: make_divisible, Python rounding, SE reduction', () => {
  // Values from ofa/utils/pytorch_modules.py make_divisible(v, 8) evaluated in Python.
  assert.equal(makeDivisible(96), 96);
  assert.equal(makeDivisible(3.9), 8);
  assert.equal(makeDivisible(35.9), 40); // rounds down to 32, more than 10% below: bumped
  assert.equal(makeDivisible(35), 32);
  assert.equal(makeDivisible(100), 104);
  assert.equal(roundHalfEven(2.5), 2);
  assert.equal(roundHalfEven(3.5), 4);
  assert.equal(roundHalfEven(2.6), 3);
  assert.equal(expandedChannels(24, 6), 144);
  assert.equal(expandedChannels(40, 3), 120);
  assert.equal(expandedChannels(112, 4), 448);
  assert.equal(seChannels(144), 40); // make_divisible(36, 8)
  assert.equal(seChannels(16), 8);
  assert.equal(unitChannels(112, 1), 112);
  assert.equal(unitChannels(112, 0.75), 88);
  assert.equal(unitChannels(20, 0.5), 16); // make_divisible(10, 8) = 16 (8 is over 10% below)
});

test('the space reads its lists and sizes from the config', () => {
  assert.deepEqual(space.kernel, [3, 5, 7]);
  assert.deepEqual(space.expand, [3, 4, 6]);
  assert.deepEqual(space.depth, [2, 3, 4]);
  assert.equal(space.units, 5);
  assert.equal(space.maxDepth, 4);
  assert.equal(space.blocks, 20);
  assert.throws(() => new SearchSpace(smallConfig({ widthChoices: [0.5] })), SupernetConfigError);
});

test('largest and smallest take the extreme of every list, or of a restriction', () => {
  const l = space.largest();
  assert.ok(l.ks.every((k) => k === 7) && l.e.every((e) => e === 6) && l.d.every((d) => d === 4));
  assert.equal(l.r, 32);
  assert.equal(l.w, 1);
  const s = space.smallest();
  assert.ok(s.ks.every((k) => k === 3) && s.e.every((e) => e === 3) && s.d.every((d) => d === 2));
  assert.equal(s.r, 24);
  assert.equal(s.w, 0.75);
  const phase: SampleSpace = { kernel: [3, 5], expand: [6], depth: [4], width: [1], resolution: [32] };
  const lp = space.largest(phase);
  assert.ok(lp.ks.every((k) => k === 5) && lp.e.every((e) => e === 6));
});

test('sampling is seeded, stays inside the restriction and reaches every allowed value', () => {
  const phase: SampleSpace = { kernel: [5, 7], expand: [4, 6], depth: [3, 4], width: [1], resolution: [32] };
  const seen = { ks: new Set<number>(), e: new Set<number>(), d: new Set<number>() };
  const rng = new Rng(11);
  for (let i = 0; i < 200; i++) {
    const a = space.sample(rng, phase);
    space.validate(a);
    a.ks.forEach((k) => seen.ks.add(k));
    a.e.forEach((e) => seen.e.add(e));
    a.d.forEach((d) => seen.d.add(d));
    assert.equal(a.w, 1);
    assert.equal(a.r, 32);
  }
  assert.deepEqual([...seen.ks].sort(), [5, 7]);
  assert.deepEqual([...seen.e].sort(), [4, 6]);
  assert.deepEqual([...seen.d].sort(), [3, 4]);
  assert.deepEqual(space.sample(new Rng(5)), space.sample(new Rng(5)));
  assert.notDeepEqual(space.sample(new Rng(5)), space.sample(new Rng(6)));
});

test('a restriction outside the choices is a config error naming the list', () => {
  const bad: SampleSpace = { kernel: [9], expand: [6], depth: [4], width: [1], resolution: [32] };
  assert.throws(() => space.sample(new Rng(1), bad), (e: Error) => e instanceof SupernetConfigError && /kernel list has 9/.test(e.message));
  const empty: SampleSpace = { kernel: [3], expand: [], depth: [4], width: [1], resolution: [32] };
  assert.throws(() => space.largest(empty), /expand list is empty/);
});

test('mutation and crossover give valid archs built from their inputs', () => {
  const rng = new Rng(3);
  const a = space.sample(rng);
  const b = space.sample(rng);
  assert.deepEqual(space.mutate(a, rng, 0), a);
  let changed = 0;
  for (let i = 0; i < 20; i++) {
    const m = space.mutate(a, rng, 0.5);
    space.validate(m);
    if (space.key(m) !== space.key(a)) changed++;
  }
  assert.ok(changed > 15, `mutation at p=0.5 changed only ${changed} of 20`);
  for (let i = 0; i < 20; i++) {
    const c = space.crossover(a, b, rng);
    space.validate(c);
    c.ks.forEach((k, j) => assert.ok(k === a.ks[j] || k === b.ks[j]));
    c.e.forEach((e, j) => assert.ok(e === a.e[j] || e === b.e[j]));
    c.d.forEach((d, j) => assert.ok(d === a.d[j] || d === b.d[j]));
    assert.ok(c.r === a.r || c.r === b.r);
  }
  // The parents are not modified.
  assert.deepEqual(a, space.mutate(a, rng, 0));
});

test('encode is OFA’s one-hot layout and decode inverts it', () => {
  const K = 3;
  const E = 3;
  const B = 20;
  assert.equal(space.featureLength, B * K + B * E + 5 * 3 + 2 + 2);
  const rng = new Rng(8);
  for (let i = 0; i < 50; i++) {
    const a = space.sample(rng);
    const f = space.encode(a);
    const active = a.d.reduce((x, y) => x + y, 0);
    assert.equal(f.reduce((x, y) => x + y, 0), 2 * active + 5 + 1 + 1);
    // Block slot 0 is always active: its kernel one-hot sits at the kernel's index.
    assert.equal(f[space.kernel.indexOf(a.ks[0])], 1);
    assert.equal(f[B * K + space.expand.indexOf(a.e[0])], 1);
    const back = space.decode(f);
    assert.equal(space.key(back), space.key(a));
    assert.deepEqual(back, space.canonical(a));
    assert.deepEqual(space.encode(back), f);
  }
  const f = space.encode(space.smallest());
  f[3 * K] = 1; // slot 3 is inactive at depth 2
  assert.throws(() => space.decode(f), ArchError);
});

test('key names the network: inactive slots do not count, active ones do', () => {
  const a = space.smallest();
  const b: Arch = { ...a, ks: [...a.ks], e: [...a.e] };
  b.ks[3] = 7; // inactive (depth 2)
  assert.equal(space.key(a), space.key(b));
  b.ks[1] = 7;
  assert.notEqual(space.key(a), space.key(b));
  assert.equal(space.key(a), 'r24-w0.75-k3e3.k3e3_k3e3.k3e3_k3e3.k3e3_k3e3.k3e3_k3e3.k3e3');
});

test('validate names the bad field and the choices', () => {
  const good = space.largest();
  const cases: [Partial<Arch>, RegExp][] = [
    [{ ks: good.ks.slice(1) }, /arch\.ks has 19 entries; this search space has 20/],
    [{ e: good.e.map((e, i) => (i === 4 ? 5 : e)) }, /arch\.e\[4\] is 5; choose one of supernet\.expandChoices \[3, 4, 6\]/],
    [{ d: [4, 4, 4, 4, 1] }, /arch\.d\[4\] is 1/],
    [{ r: 33 }, /arch\.r is 33; choose one of supernet\.resolutionChoices \[24, 32\]/],
    [{ w: 0.5 }, /arch\.w is 0\.5/],
  ];
  for (const [patch, message] of cases) {
    assert.throws(
      () => space.validate({ ...good, ...patch }),
      (e: Error) => e instanceof ArchError && isUserError(e) && message.test(e.message),
    );
  }
  assert.throws(() => space.validate(null as unknown as Arch), ArchError);
});
