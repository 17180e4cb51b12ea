// Fine-tuning one searched subnet of a finished run (`manta finetune`, MANTA: Fine-tune Subnet…), a derived run
// (./derived.ts): the source's trained supernet restricted to the arch — its forward pass with that arch fixed, so only
// the weights the subnet uses get gradients — trained further with the trainer's SGD and loss on the run's training
// data and augmentation, a linear warm-up then a cosine, optionally distilled from a frozen teacher. The subnet is
// measured before (as searched, batch norms recalibrated) and after, exported (tfjs, and ONNX where it can be), and
// the fine-tuned weights are checkpointed in the new run, so `manta export`/`evaluate` of it see them. The source run
// is only read.
import { basename, join } from 'node:path';
import type { ResolvedConfig } from '../../schemas';
import { tf } from '../engine';
import { Rng } from '../engine/rng';
import type { Arch } from '../ofa/arch';
import type { Task, TrainStream } from '../ofa/task';
import type { BackendInfo } from '../protocol/events';
import type { FinetuneSummary, FinetuneTeacher, ResultsFile, SubnetMeasurement } from '../protocol/results';
import type { SampleSpace } from '../protocol/values';
import { saveModel } from '../search/export';
import { OnnxExportError, saveOnnxModel } from '../search/onnx';
import { readResults, writeResults } from '../search/results';
import { encodeCheckpoint } from '../train/checkpoint-codec';
import { writeCheckpointFile } from '../train/checkpoint-files';
import { Sgd, type ParamInfo } from '../train/optimizer';
import { learningRateAt, stepsPerEpoch, type PlannedPhase } from '../train/schedule';
import { TRAINER_STATE_FORMAT, type TensorRecord, type TrainerState } from '../train/state';
import { Teacher } from '../train/teacher';
import { configFingerprint } from '../train/trainer';
import type { DerivedJob, DerivedRunContext } from './derived-job';
import { ONNX_OUTPUT_NAME } from './export-subnet';
import { measureSubnets } from './measure-subnets';
import { measureOptions } from './stages/measure';
import { chooseSubnet, FinetuneError, resolveFinetuneSettings, type FinetuneOptions, type FinetuneSettings } from './finetune-request';
import { CHECKPOINT_DIR, RESULTS_FILE, SUBNETS_DIR } from './run-folder';

/** Sub-streams of the run seed for fine-tuning, apart from the trainer's: the batches and the dropout masks. */
const STREAM = { data: 11, dropout: 12 } as const;

/** The label of the fine-tuned subnet's `evaluation` events (the monitor's curve). */
export const SUBNET_LABEL = 'subnet';

/** The derived-run job of kind 'finetune' (./derived.ts's DERIVED_JOBS; its frame opens the source and reports the run). */
export const finetuneJob: DerivedJob<'finetune'> = {
  // The new run's config: the source's, with the settings the fine-tune runs with written out.
  deriveConfig: (source, options) => ({ ...source, finetune: resolveFinetuneSettings(source, options) }),
  run: (ctx, options) => finetune(ctx, options),
};

async function finetune(ctx: DerivedRunContext, options: FinetuneOptions): Promise<{ resultsPath: string; results: ResultsFile; message: string }> {
  const started = Date.now();
  const { task, engine } = ctx.source;
  const config = ctx.config;
  const sourceResults = readResults(join(ctx.source.runDir, RESULTS_FILE));
  const { arch, frontIndex } = chooseSubnet(sourceResults, options);
  try {
    task.space.validate(arch);
  } catch (e) {
    throw new FinetuneError(`--arch does not fit run ${ctx.source.runId}'s search space: ${(e as Error).message}`, 'run.bad-arch');
  }
  const settings = resolveFinetuneSettings(config, options);
  const metric = task.metricInfo.name;
  ctx.emit('log', { level: 'info', message: `fine-tuning ${frontIndex === undefined ? 'the arch given' : `front #${frontIndex}`} of run ${ctx.source.runId}: ${describeSettings(settings)}` });

  // The teacher is frozen before the first update.
  let teacher: Teacher | undefined;
  let teacherKind: FinetuneTeacher = 'none';
  if (settings.kdRatio > 0) {
    ({ teacher, kind: teacherKind } = frozenTeacher(task, ctx.source.teacher));
    ctx.emit('log', { level: 'info', message: `distilling (ratio ${settings.kdRatio}) from ${TEACHER_WORDS[teacherKind]}` });
  }
  try {
    // Measured as the run's front was (its measurement options: the same calibration images, the same batches).
    const measure = async (step: number, when: string): Promise<SubnetMeasurement> => {
      ctx.progress('measure', 0, 1, `${when}: recalibrating batch norms, validation and test`);
      const [m] = await measureSubnets(task, [arch], { ...measureOptions(ctx, task), test: true });
      const r: SubnetMeasurement = { validationAccuracy: m.validationAccuracy, validationLoss: m.validationLoss, testAccuracy: m.testAccuracy ?? NaN, testLoss: m.testLoss ?? NaN };
      ctx.emit('evaluation', { phaseIndex: 0, step, subnet: SUBNET_LABEL, arch, split: 'validation', accuracy: r.validationAccuracy, loss: r.validationLoss });
      ctx.emit('evaluation', { phaseIndex: 0, step, subnet: SUBNET_LABEL, arch, split: 'test', accuracy: r.testAccuracy, loss: r.testLoss });
      return r;
    };
    const before = await measure(0, 'before');
    ctx.emit('log', { level: 'info', message: `before: test ${metric} ${before.testAccuracy.toPrecision(4)}, validation ${before.validationAccuracy.toPrecision(4)}` });

    const trainStarted = Date.now();
    const trained = await trainSubnet(ctx, task, arch, settings, teacher);
    const trainWallMs = Date.now() - trainStarted;
    teacher?.dispose();
    teacher = undefined;

    // The batch norms hold the fine-tuned subnet's recalibrated statistics after this: extract while they do.
    const after = await measure(trained.steps, 'after');
    ctx.progress('export', 0, 1, 'exporting the fine-tuned subnet');
    const subnetDir = `${SUBNETS_DIR}/0`;
    const model = task.supernet.extractSubnet(arch);
    let onnxFile: string | undefined;
    try {
      await saveModel(model, join(ctx.runDir, subnetDir), { manta: { ...task.exportMetadata(arch), finetunedFrom: ctx.source.runId } });
      onnxFile = writeOnnx(model, join(ctx.runDir, subnetDir), arch, task, ctx.warn);
    } finally {
      model.dispose();
    }
    await checkpointWeights(ctx, sourceResults);

    const summary: FinetuneSummary = {
      sourceRunId: ctx.source.runId,
      ...(frontIndex === undefined ? {} : { frontIndex }),
      arch,
      macs: task.supernet.macs(arch),
      params: task.supernet.params(arch),
      metric,
      higherIsBetter: task.metricInfo.higherIsBetter,
      settings: { ...settings, steps: trained.steps, stepsPerEpoch: trained.stepsPerEpoch, warmupSteps: trained.warmupSteps },
      teacher: teacherKind,
      before,
      after,
      trainWallMs,
      wallMs: Date.now() - started,
      model: `${subnetDir}/model.json`,
      ...(onnxFile ? { onnxModel: `${subnetDir}/${onnxFile}` } : {}),
    };
    const backend: BackendInfo = { backend: engine.backend, version: engine.version, device: engine.device };
    const results = derivedResults(basename(ctx.runDir), config, backend, sourceResults, summary);
    const resultsPath = join(ctx.runDir, RESULTS_FILE);
    writeResults(resultsPath, results);
    // The run's front, as a search's run ends with one: the fine-tuned subnet.
    const { index: _i, dominated: _d, model: _m, validationLoss: _v, testLoss: _t, ...point } = results.front[0];
    ctx.emit('pareto', { objective: results.objective, points: [point], measured: true });
    const message = `test ${metric} ${before.testAccuracy.toPrecision(4)} → ${after.testAccuracy.toPrecision(4)} after ${trained.steps} steps`;
    ctx.emit('log', { level: 'info', message: `after: ${message}, ${Math.round(summary.wallMs / 1000)} s` });
    return { resultsPath, results, message };
  } finally {
    teacher?.dispose();
  }
}

const TEACHER_WORDS: Record<FinetuneTeacher, string> = {
  'largest-phase': "the frozen teacher the run's checkpoint keeps (the supernet at the end of its 'largest' phase)",
  'final-largest': "the run's trained largest subnet, frozen (its checkpoint keeps no teacher)",
  none: 'nothing',
};

function describeSettings(s: FinetuneSettings): string {
  return `${s.epochs} epoch${s.epochs === 1 ? '' : 's'}, learning rate ${s.learningRate} (warm-up ${s.warmupEpochs} epochs, then cosine), batch ${s.batchSize}, distillation ${s.kdRatio > 0 ? s.kdRatio : 'off'}`;
}

/**
 * The distillation teacher: the frozen one the source's checkpoint keeps (the supernet at the end of its 'largest'
 * phase, OFA's teacher) when it is there; otherwise the source's final supernet, frozen now, whose largest subnet is
 * then the teacher. Either way a copy the fine-tuning leaves alone.
 */
function frozenTeacher(task: Task, records: Record<string, TensorRecord> | undefined): { teacher: Teacher; kind: Exclude<FinetuneTeacher, 'none'> } {
  const supernet = task.supernet;
  if (!records) return { teacher: Teacher.snapshot(supernet), kind: 'final-largest' };
  // The checkpoint's teacher goes into the supernet just long enough to be copied out of it.
  const current = supernet.getWeights();
  const frozen: Record<string, tf.Tensor> = {};
  try {
    for (const [name, r] of Object.entries(records)) frozen[name] = tf.tensor(r.data, r.shape, 'float32');
    supernet.setWeights(frozen);
    return { teacher: Teacher.snapshot(supernet), kind: 'largest-phase' };
  } finally {
    supernet.setWeights(current);
    tf.dispose([...Object.values(current), ...Object.values(frozen)]);
  }
}

interface TrainedSubnet {
  steps: number;
  stepsPerEpoch: number;
  warmupSteps: number;
}

/**
 * The training loop: the one subnet per step on one batch, the task's loss (label smoothing from `training`,
 * distillation when there is a teacher), SGD with the training's momentum, Nesterov and weight decay. Validation is
 * measured after every whole epoch, as before and after (batch norms recalibrated; training runs on batch
 * statistics, so that changes nothing). Stops after the current step when asked to (RunStopped: nothing is exported).
 */
async function trainSubnet(ctx: DerivedRunContext, task: Task, arch: Arch, settings: FinetuneSettings, teacher: Teacher | undefined): Promise<TrainedSubnet> {
  const t = ctx.config.training;
  const seed = ctx.config.seed;
  const spe = stepsPerEpoch(task.data.trainCount, settings.batchSize, t.stepsPerEpoch);
  const totalSteps = Math.max(1, Math.round(settings.epochs * spe));
  // A short warm-up, always leaving the cosine at least one step.
  const warmupSteps = Math.min(Math.round(settings.warmupEpochs * spe), totalSteps - 1);
  // learningRateAt reads only a phase's peak, length and warm-up.
  const schedule = { learningRate: settings.learningRate, steps: totalSteps, warmupSteps } as PlannedPhase;
  const supernet = task.supernet;
  const decay = new Set(supernet.decayVariables);
  const params: ParamInfo[] = supernet.variables.map((variable) => ({ key: variable.name, variable, decay: decay.has(variable) }));
  const sgd = new Sgd({ momentum: t.momentum, nesterov: t.nesterov, weightDecay: t.weightDecay });
  const lossOptions = { labelSmoothing: t.labelSmoothing, kdRatio: teacher ? settings.kdRatio : 0 };

  ctx.emit('phase', { index: 0, phase: 'finetune', epochs: settings.epochs, stepsPerEpoch: spe, learningRate: settings.learningRate, sample: archSample(task, arch) });
  const stream: TrainStream<{ readonly size: number }> = task.data.openTrainStream({
    batchSize: settings.batchSize,
    seed: Rng.derive(seed, STREAM.data).nextUint32(),
    epoch: 0,
    startBatch: 0,
  });
  // What the next `step` event averages: the steps since the last one.
  let recent = { since: performance.now(), steps: 0, images: 0, loss: undefined as tf.Scalar | undefined, accuracy: [] as number[] };
  let lastReport = -Infinity;
  try {
    for (let step = 0; step < totalSteps; step++) {
      ctx.checkStop(`stopped at step ${step} of ${totalSteps}; nothing was exported (fine-tune again to start over)`);
      const lr = learningRateAt(schedule, step);
      const last = step === totalSteps - 1;
      const report = step === 0 || last || performance.now() - lastReport >= 1000;
      const batch = await stream.next();
      const owned: tf.Tensor[] = [];
      try {
        const { x, y } = tf.tidy(() => task.tensors(batch, arch.r));
        owned.push(x, y);
        const target = teacher ? tf.tidy(() => teacher.outputs(x, arch.r)) : undefined;
        if (target) owned.push(...(Array.isArray(target) ? target : [target]));
        const dropoutSeed = Rng.derive(seed, STREAM.dropout, step).nextUint32();
        const { value, grads } = tf.variableGrads(() => {
          const out = supernet.forward(x, arch, { training: true, seed: dropoutSeed });
          if (report) {
            const m = task.metric(out, y);
            if (m.name === 'accuracy') recent.accuracy.push(m.value);
          }
          return task.loss(out, y, target, { ...lossOptions, progress: step / Math.max(1, totalSteps - 1) });
        }, supernet.variables as tf.Variable[]);
        try {
          sgd.apply(params, new Map(Object.entries(grads)), lr);
        } finally {
          tf.dispose(Object.values(grads));
        }
        const previous = recent.loss;
        recent.loss = previous ? (tf.add(previous, value) as tf.Scalar) : (tf.clone(value) as tf.Scalar);
        tf.dispose([previous, value].filter((v): v is tf.Scalar => v !== undefined));
      } finally {
        tf.dispose(owned);
      }
      recent.steps++;
      recent.images += batch.size;
      if (report) {
        const seconds = Math.max(1e-9, (performance.now() - recent.since) / 1000);
        const loss = recent.loss ? recent.loss.dataSync()[0] / recent.steps : Number.NaN;
        const accuracy = recent.accuracy.length > 0 ? recent.accuracy.reduce((a, b) => a + b, 0) / recent.accuracy.length : undefined;
        const imagesPerSec = recent.images / seconds;
        ctx.emit('step', { phaseIndex: 0, epoch: Math.floor(step / spe), step, totalSteps, loss, ...(accuracy === undefined ? {} : { accuracy }), learningRate: lr, imagesPerSec, worker: 0 });
        ctx.progress('finetune', step + 1, totalSteps, `loss ${loss.toFixed(3)}${accuracy === undefined ? '' : ` acc ${(accuracy * 100).toFixed(1)}%`} ${Math.round(imagesPerSec)} ex/s`);
        recent.loss?.dispose();
        recent = { since: performance.now(), steps: 0, images: 0, loss: undefined, accuracy: [] };
        lastReport = performance.now();
      }
      // The validation curve: after every whole epoch but the last (the final measurement follows the loop).
      if ((step + 1) % spe === 0 && !last) {
        const [m] = await measureSubnets(task, [arch], measureOptions(ctx, task));
        ctx.emit('evaluation', { phaseIndex: 0, step: step + 1, subnet: SUBNET_LABEL, arch, split: 'validation', accuracy: m.validationAccuracy, loss: m.validationLoss });
      }
    }
  } finally {
    recent.loss?.dispose();
    sgd.dispose();
    await stream.close();
  }
  return { steps: totalSteps, stepsPerEpoch: spe, warmupSteps };
}

/** The one subnet as a phase's choice lists (the `phase` event's `sample`): the values its active blocks take. */
function archSample(task: Task, arch: Arch): SampleSpace {
  const maxDepth = task.space.maxDepth;
  const active = (values: number[]): number[] => {
    const out = new Set<number>();
    arch.d.forEach((depth, unit) => {
      for (let b = 0; b < depth; b++) out.add(values[unit * maxDepth + b]);
    });
    return [...out].sort((a, b) => a - b);
  };
  return { kernel: active(arch.ks), expand: active(arch.e), depth: [...new Set(arch.d)].sort((a, b) => a - b), width: [arch.w], resolution: [arch.r] };
}

/**
 * The fine-tuned supernet as the new run's checkpoint: openRun prefers a run's own checkpoint, so `manta export` and
 * `manta evaluate` of the fine-tune run give the fine-tuned subnet (other archs of it were not trained for).
 */
async function checkpointWeights(ctx: DerivedRunContext, source: ResultsFile): Promise<void> {
  const tensors = ctx.source.task.supernet.getWeights();
  const weights: Record<string, TensorRecord> = {};
  try {
    for (const [name, t] of Object.entries(tensors)) weights[name] = { shape: [...t.shape], data: (t.dataSync() as Float32Array).slice() };
  } finally {
    tf.dispose(Object.values(tensors));
  }
  const steps = source.training.steps;
  const phases = source.training.phases;
  const state: TrainerState = {
    format: TRAINER_STATE_FORMAT,
    seed: ctx.config.seed,
    configKey: configFingerprint(ctx.config),
    // A finished training's position: nothing would be trained further from it.
    step: steps,
    totalSteps: steps,
    preparedPhase: phases.length - 1,
    evaluatedPhases: phases.length,
    rngs: {},
    results: phases,
    tensors: { weights, slots: {} },
  };
  await writeCheckpointFile(join(ctx.runDir, CHECKPOINT_DIR), steps, encodeCheckpoint(state), 1);
}

/**
 * model.onnx (and its README.md) beside model.json, as `manta export --format onnx` writes it; a subnet the converter
 * cannot express is a warning, the tfjs model stands.
 */
function writeOnnx(model: tf.LayersModel, dir: string, arch: Arch, task: Task, warn: (m: string) => void): string | undefined {
  try {
    return basename(
      saveOnnxModel(model, dir, {
        outputNames: [ONNX_OUTPUT_NAME],
        docString: `MANTA subnet ${JSON.stringify(arch)}, fine-tuned`,
        metadata: { manta: JSON.stringify(task.exportMetadata(arch)) },
        notes: [`What the inputs hold and the output means (the run's task): ${JSON.stringify(task.inputDescription())}.`, `Arch: ${JSON.stringify(arch)}.`],
      }).modelPath,
    );
  } catch (e) {
    if (!(e instanceof OnnxExportError)) throw e;
    warn(`no ONNX model for the fine-tuned subnet: ${e.message}`);
    return undefined;
  }
}

/**
 * The new run's results.json: its front is the one fine-tuned subnet (measured after fine-tuning, exported at
 * subnets/0/), `finetune` says before and after; the predictor's figures are the source run's (nothing was searched).
 */
function derivedResults(runId: string, config: ResolvedConfig, backend: BackendInfo, source: ResultsFile, s: FinetuneSummary): ResultsFile {
  const entry = s.frontIndex === undefined ? undefined : source.front[s.frontIndex];
  return {
    format: 1,
    runId,
    name: config.name,
    finishedAt: new Date().toISOString(),
    wallMs: s.wallMs,
    backend,
    objective: source.objective,
    constraints: source.constraints,
    input: source.input,
    ...(source.task ? { task: source.task } : {}),
    front: [
      {
        arch: s.arch,
        macs: s.macs,
        params: s.params,
        ...(entry?.latencyMs === undefined ? {} : { latencyMs: entry.latencyMs }),
        predictedAccuracy: entry?.predictedAccuracy ?? s.before.validationAccuracy,
        validationAccuracy: s.after.validationAccuracy,
        validationLoss: s.after.validationLoss,
        testAccuracy: s.after.testAccuracy,
        testLoss: s.after.testLoss,
        index: 0,
        dominated: false,
        model: s.model,
      },
    ],
    predictedFront: [],
    measured: [],
    predictor: source.predictor,
    search: { population: 0, generations: 0, candidatesScored: 0, uniqueCandidates: 0, wallMs: 0, candidatesPerSec: 0 },
    training: { phases: [], steps: s.settings.steps, wallMs: s.trainWallMs },
    warnings: [],
    derivedFrom: { runId: s.sourceRunId, kind: 'finetune' },
    finetune: s,
  };
}
