// `manta evaluate` as a user meets it (real processes, real files), on one tiny finished run: its own data block
// reproduces results.json's test accuracy (the same recalibration and the same forward pass as the run's front
// stage, so the same number); other data gives a valid measurement; problems of the data file are named at their
// JSON pointer inside it; a data block the network cannot take says what differs; unknown run, unfinished run,
// index out of range, missing or broken data file are one-line errors with exit code 2.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunEvaluation } from '../../daemon/pipeline/evaluate-run';
import type { ResultsFile } from '../../daemon/search/results';
import { assertOneLineError as oneLine, runManta, searchTinyRun } from './run-cli-fixtures';

let dir: string;
let runDir: string;
let results: ResultsFile;
/** The run's resolved data block, as config.json stores it. */
let ownData: Record<string, unknown>;

const manta = (args: string[]) => runManta(args, join(dir, 'cache'));

function dataFile(name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'manta-evaluate-'));
  ({ runDir, results } = searchTinyRun(dir));
  ownData = (JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as { data: Record<string, unknown> }).data;
});

after(() => rmSync(dir, { recursive: true, force: true }));

test("manta evaluate: the run's own data block reproduces the front's test accuracy", () => {
  const r = manta(['evaluate', runDir, '--arch', '0', '--data', dataFile('own.json', ownData), '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /calibrate/, 'progress on stderr');
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'exactly one JSON object on stdout');
  const out = JSON.parse(lines[0]) as RunEvaluation;
  const entry = results.front[0];
  assert.equal(out.runId, results.runId);
  assert.equal(out.frontIndex, 0);
  assert.deepEqual(out.arch, entry.arch);
  assert.equal(out.split, 'test');
  assert.equal(out.count, ownData.testSize);
  assert.deepEqual(Object.keys(out.metrics), ['accuracy']);
  // The front stage measured it the same way (evaluateSubnet's recalibration, the same batches, the same weights).
  assert.ok(Math.abs(out.metrics.accuracy - entry.testAccuracy!) < 1e-6, `evaluate ${out.metrics.accuracy} vs results ${entry.testAccuracy}`);
  assert.match(out.data, /^synthetic: 4 classes, 16×16×3/);
});

test('manta evaluate: other data (by run id, human output) gives a valid accuracy over its split', () => {
  // A run of the daemon's, named by id: its registry pointer leads to the folder.
  const stateDir = join(dir, 'state');
  mkdirSync(join(stateDir, 'runs'), { recursive: true });
  writeFileSync(join(stateDir, 'runs', `${results.runId}.json`), JSON.stringify({ runId: results.runId, runDir }));
  const other = dataFile('other.json', { kind: 'synthetic', classes: 4, imageSize: 24, trainSize: 40, validationSize: 20, testSize: 50 });
  const r = manta(['evaluate', results.runId, '--state-dir', stateDir, '--arch', '1', '--data', other]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^run ${results.runId}, front #1, on the test split \\(50 examples\\) of synthetic: 4 classes, 24×24×3`));
  const accuracy = Number(/^ {2}accuracy +(\S+)$/m.exec(r.stdout)?.[1]);
  assert.ok(accuracy >= 0 && accuracy <= 1, r.stdout);

  const validation = manta(['evaluate', runDir, '--arch', JSON.stringify(results.front[1].arch), '--data', other, '--split', 'validation', '--json']);
  assert.equal(validation.status, 0, validation.stderr);
  const out = JSON.parse(validation.stdout) as RunEvaluation;
  assert.equal(out.count, 20);
  assert.equal(out.frontIndex, undefined);
  assert.ok(out.metrics.accuracy >= 0 && out.metrics.accuracy <= 1);
});

test('manta evaluate: problems of the data file at their pointer in it; data the network cannot take says what differs', () => {
  const bad = manta(['evaluate', runDir, '--arch', '0', '--data', dataFile('bad.json', { kind: 'synthetic', classes: 1, clases: 4 })]);
  assert.equal(bad.status, 2);
  const lines = bad.stderr.trim().split('\n');
  assert.ok(lines.includes(`${join(dir, 'bad.json')}: /classes: /classes must be >= 2`), bad.stderr);
  assert.ok(lines.includes(`${join(dir, 'bad.json')}: /clases: the data block has unknown property 'clases'`), bad.stderr);
  assert.doesNotMatch(bad.stderr, /\/data|at .*\.ts:/, 'pointers into the data file, no stack trace');

  // Relative paths resolve against the data file's folder.
  const idx = manta(['evaluate', runDir, '--arch', '0', '--data', dataFile('idx.json', { kind: 'idx', classes: 4, trainImages: 'a', trainLabels: 'b', testImages: 'c', testLabels: 'd' })]);
  assert.equal(idx.status, 2);
  assert.match(idx.stderr, new RegExp(`idx\\.json: /trainImages: /trainImages a does not exist \\(looked at ${join(dir, 'a')}\\)`));

  const classes = manta(['evaluate', runDir, '--arch', '0', '--data', dataFile('classes.json', { ...ownData, classes: 10 })]);
  assert.equal(classes.status, 2);
  assert.match(classes.stderr, /manta: \S+classes\.json does not fit the run's network: classes: 4 in the run's network, 10 in the data/);

  const stereo = manta(['evaluate', runDir, '--arch', '0', '--data', dataFile('stereo.json', { kind: 'stereo-synthetic' })]);
  assert.equal(stereo.status, 2);
  // Another task's data: refused by the config checks at /kind (or, without such a check, by the task's data loader).
  assert.match(stereo.stderr, /stereo\.json(: \/kind:| does not fit this run \(task 'classification'\):) data kind 'stereo-synthetic'/);
});

test('manta evaluate: unknown run, unfinished run, index out of range, missing or broken data file', () => {
  const own = dataFile('own.json', ownData);
  oneLine(manta(['evaluate', 'no-such-run-20260101', '--state-dir', join(dir, 'state'), '--arch', '0', '--data', own]), /^manta: unknown run 'no-such-run-20260101': no such run folder/);
  const unfinished = join(dir, 'unfinished');
  mkdirSync(unfinished);
  copyFileSync(join(runDir, 'config.json'), join(unfinished, 'config.json'));
  oneLine(manta(['evaluate', unfinished, '--arch', '0', '--data', own]), /^manta: cannot read \S+results\.json: the run has no results yet \(it has not finished\)\n$/);
  oneLine(manta(['evaluate', runDir, '--arch', '5', '--data', own]), new RegExp(`^manta: --arch 5: the run's front has ${results.front.length} entries \\(0…${results.front.length - 1}\\)\\n$`));
  oneLine(manta(['evaluate', runDir, '--arch', '0', '--data', join(dir, 'missing.json')]), /^manta: cannot read \S+missing\.json: no such file\n$/);
  oneLine(manta(['evaluate', runDir, '--arch', '0', '--data', dataFile('broken.json', '{"kind": ')]), /^manta: \S+broken\.json is not valid JSON/);
  oneLine(manta(['evaluate', runDir, '--arch', '0', '--data', own, '--split', 'train']), /^manta: --split must be test or validation/);
  assert.match(manta(['evaluate', runDir]).stderr, /^usage: manta evaluate/);
});
