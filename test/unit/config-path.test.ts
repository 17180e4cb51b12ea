// schemas/load-config.ts, the one config path: syntax errors by place (never the text), every schema problem at
// once, the checks across fields (errors refuse, warnings are returned), defaults filled in, the input untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, inspectConfig, resolveConfig } from '../../schemas/load-config';

const config = {
  name: 'unit',
  task: 'classification',
  data: { kind: 'synthetic', classes: 4, imageSize: 8, channels: 3 },
  supernet: { units: [{ width: 4, stride: 1 }, { width: 4, stride: 2 }, { width: 8, stride: 1 }, { width: 8, stride: 2 }, { width: 8, stride: 1 }], resolutionChoices: [8] },
  training: { phases: [{ phase: 'largest', epochs: 1 }] },
};

test('a good config resolves with its defaults; the input is not modified', () => {
  const input = structuredClone(config);
  const { config: resolved, warnings } = resolveConfig({ value: input, source: 'unit' });
  assert.deepEqual(input, config);
  assert.equal(typeof resolved.seed, 'number');
  assert.equal(resolved.output.runsDir.length > 0, true);
  assert.deepEqual(warnings, []);
  const fromText = resolveConfig({ text: JSON.stringify(config), source: 'unit.json' });
  assert.deepEqual(fromText.config, resolved);
});

test('text that is not JSON: each error by line and column, never the text itself', () => {
  const e = (() => {
    try {
      resolveConfig({ text: '{\n  "name": "hush-hush",\n  "seed": }', source: 'x.manta.json' });
    } catch (err) {
      return err;
    }
  })();
  assert.ok(e instanceof ConfigError);
  assert.equal(e.reason, 'config.invalid');
  assert.ok(e.problems.every((p) => p.stage === 'syntax' && p.rule === 'syntax' && p.at));
  assert.match(e.lines()[0], /^x\.manta\.json: not valid JSON at line 3, column 11: value expected$/);
  assert.ok(!e.message.includes('hush-hush'));
});

test('schema problems all at once; cross-field checks only on a schema-valid config; warnings returned', () => {
  const bad = { ...structuredClone(config), seed: 'zero', extra: 1 };
  const inspected = inspectConfig({ value: bad });
  assert.deepEqual(inspected.problems.map((p) => [p.stage, p.path]).sort(), [['schema', '/extra'], ['schema', '/seed']]);
  assert.throws(() => resolveConfig({ value: bad, source: 's' }), (e: ConfigError) => e.problems.length === 2 && /^invalid config s: /.test(e.message));

  const crossField = structuredClone(config) as typeof config & { training: { phases: Record<string, unknown>[] } };
  crossField.training.phases.push({ phase: 'kernel', epochs: 1, kernel: [3, 7] });
  (crossField.supernet as Record<string, unknown>).kernelChoices = [3, 5];
  assert.throws(
    () => resolveConfig({ value: crossField }),
    (e: ConfigError) => e.problems.length === 1 && e.problems[0].path === '/training/phases/1/kernel/1' && e.problems[0].stage === 'checks',
  );

  const warned = structuredClone(config);
  warned.supernet.units = warned.supernet.units.map((u) => ({ ...u, stride: 2 }));
  const { warnings } = resolveConfig({ value: warned });
  assert.deepEqual(warnings.map((w) => [w.path, w.rule, w.severity]), [['/supernet/resolutionChoices/0', 'resolution-vs-strides', 'warning']]);
});

test('dataset files are checked only with a folder to resolve them against', () => {
  const idx = { ...structuredClone(config), data: { kind: 'idx', classes: 10, trainImages: 'a', trainLabels: 'b', testImages: 'c', testLabels: 'd' } };
  assert.equal(inspectConfig({ value: idx }).problems.length, 0);
  const files = inspectConfig({ value: idx }, { baseDir: '/nonexistent-manta-dir' }).problems;
  assert.deepEqual(files.map((p) => [p.stage, p.path]), [['files', '/data/trainImages'], ['files', '/data/trainLabels'], ['files', '/data/testImages'], ['files', '/data/testLabels']]);
});
