import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig } from '../../schemas';

const root = join(__dirname, '..', '..');

test('the generated config types match the schema (no drift)', () => {
  execFileSync(process.execPath, [join(root, 'schemas/generate-types.mjs'), '--check'], { stdio: 'pipe' });
});

const minimal = {
  name: 'q',
  task: 'classification',
  data: { kind: 'synthetic' },
  supernet: { units: [{ width: 24 }, { width: 40 }, { width: 80 }, { width: 112 }, { width: 160 }] },
  training: { phases: [{ phase: 'largest', epochs: 1 }] },
};

test('a minimal config validates and gets OFA defaults filled in, without touching the input', () => {
  const input = JSON.parse(JSON.stringify(minimal));
  const r = validateConfig(input);
  assert.equal(r.ok, true);
  if (!r.ok) return;
  assert.deepEqual(input, minimal);
  assert.deepEqual(r.config.supernet.kernelChoices, [3, 5, 7]);
  assert.deepEqual(r.config.supernet.expandChoices, [3, 4, 6]);
  assert.deepEqual(r.config.supernet.depthChoices, [2, 3, 4]);
  assert.equal(r.config.training.subnetsPerStep, 4);
  assert.equal(r.config.search.evolution.population, 100);
  assert.equal(r.config.search.evolution.generations, 500);
  assert.equal(r.config.data.kind === 'synthetic' && r.config.data.classes, 10);
  assert.equal(r.config.supernet.stem.width, 16);
});

test('every problem of a broken config is reported at once, each with its JSON path', () => {
  const broken = {
    ...minimal,
    task: 'segmentation',
    seed: -1,
    extra: true,
    data: { kind: 'idx', trainImages: 'a.gz' },
    training: { phases: [{ phase: 'largest', epochs: 0 }], batchSize: 'big' },
  };
  const r = validateConfig(broken);
  assert.equal(r.ok, false);
  const paths = r.problems.map((p) => p.path);
  for (const expected of ['/task', '/seed', '/extra', '/data', '/training/phases/0/epochs', '/training/batchSize']) {
    assert.ok(paths.includes(expected), `expected a problem at ${expected}, got ${paths.join(', ')}`);
  }
  const missing = r.problems.filter((p) => p.path === '/data' && p.rule === 'required').map((p) => p.message);
  assert.ok(missing.some((m) => m.includes("'testLabels'")));
});

test('the example configs validate, with no warning of MANTA\'s own and no $schema path that only works in the repository', async () => {
  const { resolveConfig } = await import('../../schemas/load-config');
  const dir = join(root, 'examples');
  const files = readdirSync(dir).filter((f) => f.endsWith('.manta.json'));
  assert.ok(files.length >= 1, 'examples/ has configs');
  for (const f of files) {
    const value = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;
    const r = validateConfig(value);
    assert.equal(r.ok, true, `${f}: ${JSON.stringify(r.problems)}`);
    // The cross-field checks (strides vs resolutions …) as the language server and `manta search` run them.
    const { warnings } = resolveConfig({ value, source: f });
    assert.deepEqual(warnings.map((w) => `${w.path}: ${w.message}`), [], `${f} has warnings`);
    // The extension's jsonValidation associates *.manta.json with the schema; a relative $schema breaks once copied.
    assert.ok(value.$schema === undefined || /^https?:/.test(String(value.$schema)), `${f}: $schema ${String(value.$schema)} only resolves inside the repository`);
  }
});

test('cross-field checks: order, subsets, strides, dataset files', async () => {
  const { checkConfig, checkConfigFiles, totalStride } = await import('../../schemas/checks');
  const r = validateConfig({
    ...minimal,
    supernet: { ...minimal.supernet, kernelChoices: [5, 3], resolutionChoices: [16, 32] },
    training: { phases: [{ phase: 'kernel', epochs: 1, kernel: [3, 9] }] },
  });
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.equal(totalStride(r.config), 64);
  const problems = checkConfig(r.config);
  const at = (path: string) => problems.filter((p) => p.path === path).map((p) => p.rule);
  assert.deepEqual(at('/supernet/kernelChoices'), ['ascending']);
  assert.deepEqual(at('/supernet/resolutionChoices/0'), ['resolution-vs-strides']);
  assert.deepEqual(at('/supernet/resolutionChoices/1'), ['resolution-vs-strides']);
  assert.deepEqual(at('/training/phases/0/kernel/1'), ['subset']);
  assert.deepEqual(at('/training/phases/0/phase'), ['largest-first']);
  assert.equal(problems.find((p) => p.rule === 'largest-first')?.severity, 'warning');

  const files = checkConfigFiles({ data: { kind: 'idx', trainImages: 'nope.gz', trainLabels: __filename, testImages: __dirname, testLabels: __filename, classes: 10, validationSplit: 0.1, augmentation: { cropPadding: 0, horizontalFlip: false } } }, __dirname);
  assert.deepEqual(files.map((p) => [p.path, p.rule]), [['/data/trainImages', 'exists'], ['/data/testImages', 'is-file']]);
});

test('the distributed section: workers must split the batch evenly and nodes the workers; data-parallel ignores nodes', async () => {
  const { checkConfig } = await import('../../schemas/checks');
  const problemsOf = (distributed: object, batchSize = 32) => {
    const r = validateConfig({ ...minimal, training: { batchSize, phases: [{ phase: 'largest', epochs: 1 }] }, distributed });
    assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
    return r.ok ? checkConfig(r.config).filter((p) => p.path.startsWith('/distributed')) : [];
  };
  const bad = problemsOf({ workersPerHost: 3 });
  assert.deepEqual(bad.map((p) => [p.path, p.rule, p.severity]), [['/distributed/workersPerHost', 'batch-divisible', 'error']]);
  assert.match(bad[0].message, /use 1, 2 workers/);
  assert.deepEqual(problemsOf({ workersPerHost: 4, nodesPerHost: 3, algorithm: 'subnet-parallel' }).map((p) => p.rule), ['nodes-divide-workers']);
  assert.deepEqual(problemsOf({ workersPerHost: 4, nodesPerHost: 2 }).map((p) => [p.rule, p.severity]), [['nodes-unused', 'warning']]);
  assert.deepEqual(problemsOf({ workersPerHost: 4, nodesPerHost: 2, algorithm: 'subnet-parallel' }), []);
  assert.deepEqual(problemsOf({}), [], "the default ('auto' workers) is always valid: the daemon picks a count that divides the batch");
  const { config } = validateConfig({ ...minimal, training: { phases: [{ phase: 'largest', epochs: 1 }] } }) as { config: { distributed: unknown } };
  assert.deepEqual(config.distributed, { algorithm: 'data-parallel', workersPerHost: 'auto', nodesPerHost: 1, timeoutSeconds: 120, port: 29400 });
});

test('the task against its data and supernet: stereo needs six halving units, a full-resolution stem, stereo data and sizes in 64s', async () => {
  const { checkConfig } = await import('../../schemas/checks');
  const stereo = JSON.parse(readFileSync(join(root, 'examples/stereo.manta.json'), 'utf8')) as { supernet: { units: unknown[]; stem: object }; data: object };
  const rules = (value: unknown): string[] => {
    const r = validateConfig(value);
    assert.ok(r.ok, JSON.stringify(r.ok ? [] : r.problems));
    return r.ok ? checkConfig(r.config).filter((p) => p.severity === 'error').map((p) => `${p.path} ${p.rule}`) : [];
  };
  assert.deepEqual(rules(stereo), []);
  assert.deepEqual(rules({ ...stereo, supernet: { ...stereo.supernet, units: stereo.supernet.units.slice(0, 5) } }), ['/supernet/units unit-count']);
  assert.deepEqual(rules({ ...stereo, supernet: { ...stereo.supernet, stem: { width: 16 } } }), ['/supernet/stem/stride stereo-stride']);
  assert.deepEqual(rules({ ...stereo, data: { ...stereo.data, width: 100 } }), ['/data/width stereo-size']);
  assert.deepEqual(rules({ ...stereo, data: { kind: 'synthetic' } }), ['/data/kind task-data']);
  assert.deepEqual(rules({ ...stereo, task: 'classification' }), ['/data/kind task-data', '/supernet/units unit-count']);
  const r = validateConfig({ ...stereo, data: { ...stereo.data, width: 100 } });
  assert.match(r.ok ? checkConfig(r.config).find((p) => p.rule === 'stereo-size')!.message : '', /multiple of 64.*use 64 or 128/);
});
