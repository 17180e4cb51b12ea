// `manta finetune` as a user meets it (real processes, real files), on one tiny finished run: a front subnet trained
// for a few steps as a new run beside the source — test accuracy before (the front's own measurement) and after,
// the monitor's telemetry in its events.jsonl, the fine-tuned model exported (tfjs, loadable with stock tfjs and
// reproducing the reported accuracy through `manta export` of the new run; ONNX beside it) — and the source run left
// byte for byte as it was. Unknown run, unfinished run, index out of range, an arch outside the space, a run without
// its checkpoints and bad settings are one-line errors with exit code 2 that make no run folder.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf, initEngine } from '../../daemon/engine';
import type { FinetuneSummary, ResultsFile, TelemetryEvent } from '../../daemon/protocol';
import { fileHashes } from '../daemon/harness';
import { assertOneLineError as oneLine, runManta, searchTinyRun } from './run-cli-fixtures';

let dir: string;
let runsDir: string;
let runDir: string;
let results: ResultsFile;

const manta = (args: string[]) => runManta(args, join(dir, 'cache'));

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'manta-finetune-'));
  ({ runsDir, runDir, results } = searchTinyRun(dir));
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('manta finetune: a front subnet trained further as a new run — before and after, telemetry, exports, the source untouched', async () => {
  const source = fileHashes(runDir);
  const r = manta(['finetune', runDir, '--arch', '0', '--epochs', '2', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /finetune 4\/4/, 'the progress line counts the steps');
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'exactly one JSON object on stdout');
  const out = JSON.parse(lines[0]) as FinetuneSummary & { runDir: string };
  const entry = results.front[0];

  // What was fine-tuned, how, and what it gave.
  assert.equal(out.sourceRunId, results.runId);
  assert.equal(out.frontIndex, 0);
  assert.deepEqual(out.arch, entry.arch);
  assert.equal(out.metric, 'accuracy');
  // The fixture caps an epoch at 2 steps: 2 epochs are 4 steps; its training has a 'largest' phase, whose frozen
  // teacher the checkpoint keeps.
  assert.deepEqual({ steps: out.settings.steps, stepsPerEpoch: out.settings.stepsPerEpoch, batchSize: out.settings.batchSize }, { steps: 4, stepsPerEpoch: 2, batchSize: 16 });
  assert.equal(out.settings.learningRate, 0.02, "the last phase's learning rate by default");
  assert.equal(out.teacher, 'largest-phase');
  // Before is the subnet as searched, measured as the front stage measured it.
  assert.ok(Math.abs(out.before.testAccuracy - entry.testAccuracy!) < 1e-6, `before ${out.before.testAccuracy} vs the front's ${entry.testAccuracy}`);
  assert.ok(Math.abs(out.before.validationAccuracy - entry.validationAccuracy!) < 1e-6);
  for (const m of [out.before, out.after]) for (const v of [m.testAccuracy, m.validationAccuracy]) assert.ok(v >= 0 && v <= 1);
  assert.ok(out.wallMs >= out.trainWallMs && out.trainWallMs > 0);

  // The new run: beside the source, saying where it comes from, its own config, results and events.
  const ftDir = out.runDir;
  assert.equal(join(ftDir, '..'), runsDir);
  const meta = JSON.parse(readFileSync(join(ftDir, 'run.json'), 'utf8')) as { status: string; derivedFrom?: { runId: string; kind: string } };
  assert.equal(meta.status, 'completed');
  assert.deepEqual(meta.derivedFrom, { runId: results.runId, kind: 'finetune' });
  const config = JSON.parse(readFileSync(join(ftDir, 'config.json'), 'utf8')) as { finetune: Record<string, number> };
  assert.equal(config.finetune.epochs, 2);
  const ftResults = JSON.parse(readFileSync(join(ftDir, 'results.json'), 'utf8')) as ResultsFile;
  assert.deepEqual(ftResults.finetune, (({ runDir: _r, ...s }) => s)(out));
  assert.deepEqual(ftResults.derivedFrom, { runId: results.runId, kind: 'finetune' });
  assert.equal(ftResults.front.length, 1);
  assert.equal(ftResults.front[0].testAccuracy, out.after.testAccuracy);

  // The telemetry the monitor draws: one 'finetune' phase, steps from 0 to the last, the subnet's evaluations.
  const events = readFileSync(join(ftDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TelemetryEvent);
  const kinds = events.map((e) => e.kind);
  assert.equal(kinds[kinds.indexOf('run.started')], 'run.started');
  const phases = events.filter((e) => e.kind === 'phase');
  assert.deepEqual(phases.map((e) => e.kind === 'phase' && e.data.phase), ['finetune']);
  const steps = events.flatMap((e) => (e.kind === 'step' ? [e.data] : []));
  assert.equal(steps[0].step, 0);
  assert.equal(steps[steps.length - 1].step, 3);
  assert.ok(steps.every((s) => s.totalSteps === 4 && Number.isFinite(s.loss) && s.learningRate > 0));
  const evaluations = events.flatMap((e) => (e.kind === 'evaluation' ? [e.data] : []));
  assert.ok(evaluations.every((e) => e.subnet === 'subnet'));
  const at = (step: number, split: string) => evaluations.find((e) => e.step === step && e.split === split)?.accuracy;
  assert.equal(at(0, 'test'), out.before.testAccuracy);
  assert.equal(at(2, 'validation') !== undefined, true, 'validation after the first epoch');
  assert.equal(at(4, 'test'), out.after.testAccuracy);
  const finished = events.find((e) => e.kind === 'run.finished');
  assert.equal(finished?.kind === 'run.finished' && finished.data.status, 'completed');

  // The fine-tuned model: stock tfjs loads it; ONNX beside it.
  assert.equal(out.model, 'subnets/0/model.json');
  assert.equal(out.onnxModel, 'subnets/0/model.onnx');
  assert.ok(statSync(join(ftDir, 'subnets/0/model.onnx')).size > 1000);
  await initEngine({ backend: 'cpu' });
  const modelJson = JSON.parse(readFileSync(join(ftDir, out.model), 'utf8')) as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
  const weights = readFileSync(join(ftDir, 'subnets/0/weights.bin'));
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights, weightData: new Uint8Array(weights).buffer }),
  );
  const logits = model.predict(tf.zeros([2, out.arch.r, out.arch.r, 3])) as tf.Tensor;
  assert.deepEqual(logits.shape, [2, 4]);
  logits.dispose();
  model.dispose();

  // The new run's checkpoint holds the fine-tuned weights: exporting its subnet gives the accuracy reported after.
  const exported = manta(['export', ftDir, '--arch', '0', '--out', join(dir, 'exported')]);
  assert.equal(exported.status, 0, exported.stderr);
  const percent = (v: number) => `${(v * 100).toFixed(1)}%`;
  assert.match(exported.stdout, new RegExp(`validation ${percent(out.after.validationAccuracy)}, test ${percent(out.after.testAccuracy)}`));

  // The source run was only read.
  assert.deepEqual(fileHashes(runDir), source);
});

test('manta finetune: unknown run, unfinished run, index out of range, an arch outside the space, no checkpoint, bad settings — one line, no new run', () => {
  const folders = () => readdirSync(runsDir).sort();
  const before = folders();
  oneLine(manta(['finetune', 'no-such-run-20260101', '--state-dir', join(dir, 'state'), '--arch', '0']), /^manta: unknown run 'no-such-run-20260101': no such run folder/);

  const unfinished = join(dir, 'unfinished');
  mkdirSync(unfinished);
  copyFileSync(join(runDir, 'config.json'), join(unfinished, 'config.json'));
  oneLine(manta(['finetune', unfinished, '--arch', '0']), /^manta: run unfinished has no results yet: fine-tune one of its subnets once its search has finished\n$/);

  const n = results.front.length;
  oneLine(manta(['finetune', runDir, '--arch', '7']), new RegExp(`^manta: --arch 7: run ${results.runId}'s front has ${n} entries \\(0…${n - 1}\\); pick one of them\\n$`));
  oneLine(manta(['finetune', runDir, '--arch', '{"ks":[9],"e":[1],"d":[1],"r":16,"w":1}']), new RegExp(`^manta: --arch does not fit run ${results.runId}'s search space: `));

  const bare = join(dir, 'no-checkpoints');
  mkdirSync(bare);
  for (const f of ['config.json', 'results.json', 'run.json']) copyFileSync(join(runDir, f), join(bare, f));
  oneLine(manta(['finetune', bare, '--arch', '0']), /^manta: run \S+ has no checkpoint in \S+checkpoints: fine-tuning starts from its trained supernet; restore that folder or run the search again\n$/);

  oneLine(manta(['finetune', runDir, '--arch', '0', '--lr', 'fast']), /^manta: --lr must be a number, not "fast"\n$/);
  oneLine(manta(['finetune', runDir, '--arch', '0', '--batch-size', '2.5']), /^manta: the batch size \(--batch-size\) must be a whole number 1…4096, not 2\.5\n$/);
  assert.match(manta(['finetune', runDir]).stderr, /^usage: manta finetune/);
  assert.deepEqual(folders(), before, 'no run folder was made for a refused fine-tune');
});
