// The config language server's pure parts: every problem at once with its range, path and rule; the checks across
// fields; quick fixes that really repair the text; completions, hovers and the search-space size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diagnoseConfig } from '../../extension/server/diagnose';
import { editorChecks, totalStride, type FileProbe } from '../../extension/server/checks';
import { applyEdits, fixEdits } from '../../extension/server/fixes';
import { completeConfig } from '../../extension/server/completions';
import { hoverConfig } from '../../extension/server/hovers';
import { formatCount, searchSpaceSize } from '../../extension/server/space';
import { validateConfig } from '../../schemas';

// OFA-MobileNetV3's unit strides: stem 2 × 2·2·2·1·2 = 32, so resolution 32 ends on a 1×1 map.
const units = [16, 24, 40, 48, 96].map((width, i) => ({ width, stride: i === 3 ? 1 : 2 }));
function config(patch: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'tiny',
    task: 'classification',
    data: { kind: 'synthetic', classes: 4, imageSize: 32 },
    supernet: { units },
    training: { phases: [{ phase: 'largest', epochs: 1 }] },
    ...patch,
  };
}
const text = (v: unknown) => JSON.stringify(v, null, 2);
const fsProbe: FileProbe = {
  kind(p) {
    try {
      const s = statSync(p);
      return s.isDirectory() ? 'dir' : 'file';
    } catch {
      return undefined;
    }
  },
};

test('a valid config has no problem and the schema accepts it', () => {
  const c = config();
  assert.equal(validateConfig(c).ok, true);
  assert.deepEqual(diagnoseConfig(text(c)), []);
});

test('every schema problem is reported at once, each at the text of its own field with path and rule', () => {
  const c = config({ seed: -1, backend: 'tpu' });
  (c.training as { phases: unknown[] }).phases = [{ phase: 'largest', epochs: 0 }];
  const t = text(c);
  const found = diagnoseConfig(t);
  const byPath = new Map(found.map((d) => [d.path, d]));
  assert.equal(byPath.get('/seed')?.rule, 'minimum');
  assert.equal(byPath.get('/backend')?.rule, 'enum');
  assert.equal(byPath.get('/training/phases/0/epochs')?.rule, 'exclusiveMinimum');
  for (const d of found.filter((x) => x.source === 'schema')) {
    assert.equal(d.severity, 'error');
  }
  const seed = byPath.get('/seed')!;
  assert.equal(t.slice(seed.span.start, seed.span.end), '-1');
  const backend = byPath.get('/backend')!;
  assert.equal(t.slice(backend.span.start, backend.span.end), '"tpu"');
});

test('a missing required property is anchored on the object that lacks it, not the whole document', () => {
  const c = config();
  delete (c.supernet as Record<string, unknown>).units;
  const t = text(c);
  const d = diagnoseConfig(t).find((x) => x.rule === 'required');
  assert.ok(d, 'required problem reported');
  assert.equal(d.path, '/supernet');
  assert.equal(t.slice(d.span.start, d.span.end), '"supernet"');
});

test('a misspelt property gets a rename quick fix that produces a valid config', () => {
  const c = config();
  (c.training as Record<string, unknown>).batchSzie = 16;
  const t = text(c);
  const d = diagnoseConfig(t).find((x) => x.rule === 'additionalProperties');
  assert.ok(d);
  assert.equal(d.path, '/training/batchSzie');
  assert.equal(t.slice(d.span.start, d.span.end), '"batchSzie"');
  assert.equal(d.fixes[0]?.kind, 'renameKey');
  const fixed = applyEdits(t, fixEdits(t, d.fixes[0]));
  assert.equal(validateConfig(JSON.parse(fixed)).ok, true);
  assert.equal(JSON.parse(fixed).training.batchSize, 16);
});

test('choice lists out of order are reported (the daemon\'s rule) and the sort fix orders them', () => {
  const c = config({ supernet: { units, kernelChoices: [7, 3, 5], expandChoices: [6, 3] } });
  const t = text(c);
  const found = diagnoseConfig(t).filter((d) => d.rule === 'ascending');
  assert.deepEqual(found.map((d) => d.path).sort(), ['/supernet/expandChoices', '/supernet/kernelChoices']);
  assert.ok(found.every((d) => d.source === 'daemon' && d.severity === 'error'));
  let fixed = t;
  for (const path of ['/supernet/kernelChoices', '/supernet/expandChoices']) {
    const d = diagnoseConfig(fixed).find((x) => x.path === path && x.rule === 'ascending')!;
    fixed = applyEdits(fixed, fixEdits(fixed, d.fixes[0]));
  }
  const v = JSON.parse(fixed);
  assert.deepEqual(v.supernet.kernelChoices, [3, 5, 7]);
  assert.deepEqual(v.supernet.expandChoices, [3, 6]);
  assert.deepEqual(diagnoseConfig(fixed).filter((d) => d.rule === 'ascending'), []);
});

test('phase lists must stay within the supernet choices; the fix keeps the valid ones', () => {
  const c = config({
    training: {
      phases: [
        { phase: 'largest', epochs: 1 },
        { phase: 'kernel', epochs: 1, kernel: [3, 4, 7, 9] },
        { phase: 'depth', epochs: 1, depth: [2, 3, 4, 6] },
      ],
    },
  });
  const t = text(c);
  const subset = diagnoseConfig(t).filter((x) => x.rule === 'subset');
  assert.deepEqual(subset.map((x) => x.path), ['/training/phases/1/kernel/1', '/training/phases/1/kernel/3', '/training/phases/2/depth/3']);
  assert.equal(t.slice(subset[0].span.start, subset[0].span.end), '4');
  const fixed = applyEdits(t, fixEdits(t, subset[2].fixes[0]));
  assert.deepEqual(JSON.parse(fixed).training.phases[2].depth, [2, 3, 4]);
  const kernelFixed = applyEdits(t, fixEdits(t, subset[0].fixes[0]));
  assert.deepEqual(JSON.parse(kernelFixed).training.phases[1].kernel, [3, 7]);
});

test('resolutions are checked against the product of the strides', () => {
  assert.equal(totalStride({ units }), 32);
  // schema defaults: stem 2 × first block 1 × five units of stride 2 = 64
  assert.equal(totalStride({ units: units.map(({ width }) => ({ width })) }), 64);
  const narrow = units.map((u, i) => ({ ...u, stride: i < 2 ? 2 : 1 }));
  assert.equal(totalStride({ units: narrow }), 8);
  const c = config({ supernet: { units, resolutionChoices: [16, 40, 64] } });
  const found = diagnoseConfig(text(c)).filter((x) => x.rule === 'resolution-vs-strides' || x.rule === 'resolution-multiple');
  assert.deepEqual(
    found.map((x) => [x.path, x.rule, x.source]),
    [
      ['/supernet/resolutionChoices/0', 'resolution-vs-strides', 'daemon'],
      ['/supernet/resolutionChoices/1', 'resolution-multiple', 'editor'],
    ],
  );
  const fix = found[1].fixes[0];
  assert.equal(fix.kind === 'replace' && fix.value, 32);
});

test('width multipliers must reach 1, and the first phase should train the largest network', () => {
  const c = config({
    supernet: { units, widthChoices: [0.5, 0.75] },
    training: { phases: [{ phase: 'kernel', epochs: 1 }] },
  });
  const t = text(c);
  const found = diagnoseConfig(t);
  const width = found.find((x) => x.rule === 'largest-is-one')!;
  assert.ok(width);
  assert.deepEqual(JSON.parse(applyEdits(t, fixEdits(t, width.fixes[0]))).supernet.widthChoices, [0.5, 0.75, 1]);
  const first = found.find((x) => x.rule === 'largest-first')!;
  assert.equal(JSON.parse(applyEdits(t, fixEdits(t, first.fixes[0]))).training.phases[0].phase, 'largest');
});

test('dataset paths are resolved against the config folder and must exist with the right kind', () => {
  const dir = mkdtempSync(join(tmpdir(), 'manta-cfg-'));
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'train-images.gz'), 'x');
  const c = config({
    data: { kind: 'idx', trainImages: 'data/train-images.gz', trainLabels: 'data/missing.gz', testImages: 'data', testLabels: 'data/train-images.gz' },
  });
  const found = diagnoseConfig(text(c), { configDir: dir, probe: fsProbe }).filter((x) => ['exists', 'is-file', 'is-directory'].includes(x.rule));
  assert.deepEqual(found.map((x) => [x.path, x.rule]), [
    ['/data/trainLabels', 'exists'],
    ['/data/testImages', 'is-file'],
  ]);
  // the language server names the machine it looked on: a search on an SSH host checks the paths there
  const named = diagnoseConfig(text(c), { configDir: dir, probe: fsProbe, checkedOn: 'this machine (box)' }).find((x) => x.rule === 'exists');
  assert.match(named?.message ?? '', /missing\.gz.* — checked on this machine \(box\); a search started on an SSH host checks the paths there$/);
  // without a folder to resolve against, nothing is claimed about files
  assert.deepEqual(diagnoseConfig(text(c)).filter((x) => x.rule === 'exists'), []);
});

test('normalization must have one value or one per channel', () => {
  const c = config({ data: { kind: 'synthetic', channels: 1, normalization: { mean: [0.5, 0.5, 0.5], std: [0.2] } } });
  const found = editorChecks(c).filter((x) => x.rule === 'normalization-channels');
  assert.deepEqual(found.map((x) => x.path), ['/data/normalization/std', '/data/normalization/mean']);
});

test('editor checks still run when the schema rejects the config', () => {
  const c = config({ seed: 'zero', training: { phases: [{ phase: 'largest', epochs: 2, warmupEpochs: 3 }] } });
  const found = diagnoseConfig(text(c));
  assert.ok(found.some((x) => x.path === '/seed' && x.source === 'schema'));
  assert.ok(found.some((x) => x.rule === 'warmup-within-phase' && x.path === '/training/phases/0/warmupEpochs'));
});

test('JSON syntax errors are reported instead of schema problems', () => {
  const found = diagnoseConfig('{ "name": "x", }');
  assert.ok(found.length >= 1);
  assert.ok(found.every((d) => d.rule === 'syntax'));
});

test('the search space size is counted as OFA counts it', () => {
  const size = searchSpaceSize({ units })!;
  // per unit: 9^2 + 9^3 + 9^4 = 7371; five units; one width, one resolution
  assert.equal(size.subnets, 7371 ** 5);
  assert.equal(formatCount(size.subnets), '2.2 × 10^19');
  assert.equal(searchSpaceSize({ units, kernelChoices: [3], expandChoices: [3], depthChoices: [1, 2], widthChoices: [0.5, 1] })!.subnets, 2 ** 5 * 2);
});

test('completions offer data kinds, and dataset paths from the config folder', () => {
  const t = '{\n  "data": { "kind": "" }\n}';
  const at = t.indexOf('""') + 1;
  const kinds = completeConfig(t, at).map((c) => c.label);
  assert.deepEqual(kinds.sort(), ['cifar10', 'folder', 'idx', 'stereo-folder', 'stereo-synthetic', 'synthetic']);

  const dir = mkdtempSync(join(tmpdir(), 'manta-cmp-'));
  mkdirSync(join(dir, 'mnist'));
  writeFileSync(join(dir, 'mnist', 'train-images-idx3-ubyte.gz'), 'x');
  const t2 = '{\n  "data": { "kind": "idx", "trainImages": "mnist/tr" }\n}';
  const at2 = t2.indexOf('mnist/tr') + 'mnist/tr'.length;
  const listDir = (p: string) => readdirSync(p, { withFileTypes: true }).map((e) => ({ name: e.name, dir: e.isDirectory() }));
  const files = completeConfig(t2, at2, { configDir: dir, listDir });
  assert.deepEqual(files.map((f) => f.label), ['train-images-idx3-ubyte.gz']);
  const edited = applyEdits(t2, [{ span: files[0].span, newText: files[0].insertText }]);
  assert.equal(JSON.parse(edited).data.trainImages, 'mnist/train-images-idx3-ubyte.gz');
});

test('hovers document the field and show the search space and what a phase samples', () => {
  const c = config({
    training: { phases: [{ phase: 'largest', epochs: 1 }, { phase: 'kernel', epochs: 2, kernel: [3, 5, 7] }] },
  });
  const t = text(c);
  const costs = { kind: 'described', description: { size: 7371 ** 5, macs: { min: 3.9e6, max: 15.2e6 }, params: { min: 2.1e6, max: 6.4e6 } } } as const;
  const onSupernet = hoverConfig(t, t.indexOf('"supernet"') + 2, { costs });
  assert.ok(onSupernet);
  assert.match(onSupernet.markdown, /Search space: 2\.2 × 10\^19 subnets · MACs 3\.9M–15\.2M · params 2\.1M–6\.4M/);
  const onEpochs = hoverConfig(t, t.lastIndexOf('"epochs"') + 2)!;
  assert.match(onEpochs.markdown, /\*\*epochs\*\*/);
  assert.match(onEpochs.markdown, /This phase samples: kernel \[3, 5, 7\] · expand \[6\] · depth \[4\]/);
});

test('the shipped examples show no error or warning in the editor', async () => {
  const { readFileSync } = await import('node:fs');
  const dir = join(__dirname, '../../examples');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.manta.json'))) {
    const found = diagnoseConfig(readFileSync(join(dir, f), 'utf8')).filter((x) => x.severity !== 'info');
    assert.deepEqual(found.map((x) => `${x.severity} ${x.path}: ${x.message}`), [], f);
  }
});
