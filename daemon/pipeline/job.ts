// The whole `manta search` job: engine → dataset → supernet → progressive shrinking (checkpointed) → measure subnets
// → accuracy predictor → latency table → evolution → re-measure and export the front → results.json and report.html.
// Every stage reports through the `emit` it is given (telemetry) and `onProgress` (a one-line display); the job
// itself writes only the run's result files, never the event log (its caller owns that).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import type { ResolvedConfig } from '../../schemas';
import { initEngine } from '../engine';
import { Rng } from '../engine/rng';
import { loadDataset, type Dataset } from '../data';
import type { Arch } from '../ofa/arch';
import { ClassificationTask } from '../tasks/classification';
import type { BackendInfo, Emit, ParetoPoint, TelemetryEvents } from '../protocol/events';
import { EfficiencyModel, type SubnetCosts } from '../search/efficiency';
import { evolve } from '../search/evolution';
import { saveModel } from '../search/export';
import { ArchGenome } from '../search/genome';
import { buildLatencyTable, validateLatencyTable, type LatencyTable } from '../search/latency';
import { measureSubnets, sampleSubnetsToMeasure, type MeasuredSubnet } from '../search/measure';
import { dominates, spreadAlongFront } from '../search/pareto';
import { genomePredictor, trainPredictor } from '../search/predictor';
import { CurveCollector, renderReport } from '../search/report';
import { writeResults, type FrontEntry, type ResultsFile } from '../search/results';
import { createScorer } from '../search/scorer';
import { decodeCheckpoint } from '../train/checkpoint-codec';
import { readLatestCheckpoint, removeStaleTempFiles, type CheckpointFile } from '../train/checkpoint-files';
import type { TrainerState } from '../train/state';
import { trainSupernet, type TrainSupernetResult } from '../train/train-supernet';
import { CHECKPOINT_DIR, CONFIG_FILE, EVENTS_FILE, MEASUREMENTS_FILE, REPORT_FILE, RESULTS_FILE, SUBNETS_DIR } from './run-folder';

export type JobStage = 'setup' | 'train' | 'latency' | 'measure' | 'predictor' | 'search' | 'front' | 'report';

export interface JobProgress {
  stage: JobStage;
  done: number;
  total: number;
  /** A few words for a progress line, e.g. "loss 1.23 acc 45.0%". */
  detail?: string;
}

export interface RunJobOptions {
  runDir: string;
  /** The folder the config's relative paths (dataset files) resolve against. */
  configDir: string;
  emit: Emit;
  onProgress?: (p: JobProgress) => void;
  /** Continue from the newest readable checkpoint in runDir/checkpoints (and reuse finished measurements). */
  resume?: boolean;
  signal?: AbortSignal;
  /** Where latency tables are cached (default: $MANTA_CACHE_DIR or ~/.cache/manta). */
  cacheDir?: string;
  /** Training batches prepared in a worker thread (default) or in this thread. */
  prefetch?: 'worker' | 'sync';
  /** Subnets timed directly to check the latency table (default 5; 0 skips the check). */
  latencyChecks?: number;
}

export interface JobResult {
  status: 'completed' | 'stopped';
  resultsPath?: string;
  reportPath?: string;
  results?: ResultsFile;
}

/** Sub-streams of the run seed used by the search (training uses its own). */
const STREAM = { measure: 101, latency: 102 } as const;

export function defaultCacheDir(): string {
  return process.env.MANTA_CACHE_DIR ?? join(homedir(), '.cache', 'manta');
}

export async function runJob(config: ResolvedConfig, opts: RunJobOptions): Promise<JobResult> {
  const started = Date.now();
  const runId = basename(opts.runDir);
  const curves = new CurveCollector();
  const emit: Emit = (kind, data) => {
    curves.add(kind, data);
    opts.emit(kind, data);
  };
  const progress = (stage: JobStage, done: number, total: number, detail?: string): void => opts.onProgress?.({ stage, done, total, detail });
  const warnings: string[] = [];
  const warn = (message: string): void => {
    warnings.push(message);
    emit('log', { level: 'warn', message });
  };
  const finish = (status: 'completed' | 'stopped', extra: Partial<TelemetryEvents['run.finished']> = {}): void =>
    emit('run.finished', { status, wallMs: Date.now() - started, ...extra });

  mkdirSync(opts.runDir, { recursive: true });
  const configFile = join(opts.runDir, CONFIG_FILE);
  if (!existsSync(configFile)) writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n');
  const checkpointDir = join(opts.runDir, CHECKPOINT_DIR);

  progress('setup', 0, 1, 'starting the engine');
  const engine = await initEngine({ backend: config.backend });
  const backend: BackendInfo = { backend: engine.backend, version: engine.version, device: engine.device };

  let resumeFrom: { file: CheckpointFile; value: TrainerState } | undefined;
  if (opts.resume) {
    await removeStaleTempFiles(checkpointDir);
    resumeFrom = await readLatestCheckpoint(checkpointDir, (bytes, source) => decodeCheckpoint(bytes, source), warn);
    if (resumeFrom) replayCurves(join(opts.runDir, EVENTS_FILE), resumeFrom.value.step, curves);
  }
  emit('run.started', { runId, name: config.name, task: config.task, backend, seed: config.seed, ...(resumeFrom ? { resumedFromStep: resumeFrom.value.step } : {}) });

  let task: ClassificationTask | undefined;
  try {
    progress('setup', 0, 1, 'loading the dataset');
    emit('waiting', { reason: 'loading the dataset' });
    const dataset = await loadDataset(config.data, { baseDir: opts.configDir, seed: config.seed });
    emit('log', { level: 'info', message: `dataset: ${dataset.describe}` });
    task = new ClassificationTask(config.supernet, { classes: dataset.classes, inputChannels: dataset.channels, seed: config.seed });

    // ——— training ———
    let lastStep: TelemetryEvents['step'] | undefined;
    const trainEmit: Emit = (kind, data) => {
      if (kind === 'step') lastStep = data as TelemetryEvents['step'];
      emit(kind, data);
    };
    const training = await trainSupernet(config, task, dataset, {
      emit: trainEmit,
      checkpointDir,
      resumeFrom: resumeFrom?.value,
      signal: opts.signal,
      prefetch: opts.prefetch,
      onProgress: (p) => {
        const s = lastStep;
        const detail = s
          ? `loss ${s.loss.toFixed(3)}${s.accuracy !== undefined ? ` acc ${(s.accuracy * 100).toFixed(1)}%` : ''} ${Math.round(s.imagesPerSec)} img/s`
          : undefined;
        progress('train', p.step, p.totalSteps, `phase ${p.phaseIndex + 1}/${config.training.phases.length}${detail ? ' · ' + detail : ''}`);
      },
    });
    if (training.stopped || opts.signal?.aborted) {
      finish('stopped', { message: `stopped at step ${training.steps} of ${training.totalSteps}; resume continues from the last checkpoint` });
      return { status: 'stopped' };
    }

    const search = await searchTrained(config, task, dataset, backend, training, { ...opts, emit }, progress, warn);
    if (!search) {
      finish('stopped', { message: 'stopped during the search; resume repeats the search from the trained supernet' });
      return { status: 'stopped' };
    }
    const { results, space } = search;
    results.runId = runId;
    results.wallMs = Date.now() - started;
    results.warnings = warnings;
    const resultsPath = join(opts.runDir, RESULTS_FILE);
    const reportPath = join(opts.runDir, REPORT_FILE);
    progress('report', 0, 1, 'writing results');
    writeResults(resultsPath, results);
    writeFileSync(reportPath, renderReport(results, curves.curves, space));
    progress('report', 1, 1);
    finish('completed', { resultsPath });
    return { status: 'completed', resultsPath, reportPath, results };
  } catch (e) {
    if (opts.signal?.aborted) {
      finish('stopped', { message: 'stopped' });
      return { status: 'stopped' };
    }
    emit('error', { message: (e as Error)?.message ?? String(e) });
    emit('run.finished', { status: 'failed', message: (e as Error)?.message ?? String(e), wallMs: Date.now() - started });
    throw e;
  } finally {
    task?.supernet.dispose();
  }
}

/** The search part of the job, on a trained supernet. Undefined when stopped. */
async function searchTrained(
  config: ResolvedConfig,
  task: ClassificationTask,
  dataset: Dataset,
  backend: BackendInfo,
  training: TrainSupernetResult,
  opts: RunJobOptions,
  progress: (stage: JobStage, done: number, total: number, detail?: string) => void,
  warn: (m: string) => void,
): Promise<{ results: ResultsFile; space: { units: number; maxDepth: number } } | undefined> {
  const { emit, signal } = opts;
  const s = config.search;
  const space = task.space;
  const stopped = (): boolean => signal?.aborted === true;

  // ——— efficiency: the latency table (cached per backend + version + device) ———
  progress('latency', 0, 1, 'timing block variants');
  emit('waiting', { reason: 'building the latency lookup table' });
  let table: LatencyTable | undefined;
  try {
    table = await buildLatencyTable(space, dataset.channels, dataset.classes, {
      backend,
      cacheDir: opts.cacheDir ?? defaultCacheDir(),
      signal,
      onProgress: (done, total) => progress('latency', done, total, 'timing block variants'),
    });
  } catch (e) {
    if (stopped()) return undefined;
    if (s.objective === 'latency' || s.constraints.maxLatencyMs !== undefined) throw e;
    warn(`latency table unavailable (${(e as Error).message}); results have no latency`);
  }
  const efficiency = new EfficiencyModel(space, dataset.channels, dataset.classes, table);
  if (stopped()) return undefined;

  // ——— measure subnets for the predictor (reused on resume) ———
  const measureOpts = { calibrationSize: config.training.bnCalibrationSize, batchSize: Math.max(config.training.batchSize, 100), signal };
  const measurementsFile = join(opts.runDir, MEASUREMENTS_FILE);
  let measured = opts.resume ? readMeasurements(measurementsFile, space) : undefined;
  if (!measured) {
    const archs = sampleSubnetsToMeasure(space, s.measuredSubnets, Rng.derive(config.seed, STREAM.measure), (arch) =>
      efficiency.objectiveCost(efficiency.costs(arch), s.objective),
    );
    if (archs.length < s.measuredSubnets) warn(`the search space has only ${archs.length} distinct subnets; measured all of them`);
    progress('measure', 0, archs.length, 'measuring subnets');
    try {
      measured = await measureSubnets(task, dataset, archs, measureOpts, (m, i) => {
        const c = efficiency.costs(m.arch);
        emit('measure.progress', { done: i + 1, total: archs.length, arch: m.arch, accuracy: m.validationAccuracy, macs: c.macs, params: c.params });
        progress('measure', i + 1, archs.length, `last ${(m.validationAccuracy * 100).toFixed(1)}%`);
      });
    } catch (e) {
      if (stopped()) return undefined;
      throw e;
    }
    writeFileSync(measurementsFile, JSON.stringify({ format: 1, measured }) + '\n');
  }

  // ——— accuracy predictor ———
  progress('predictor', 0, 1, 'training the accuracy predictor');
  const predictor = await trainPredictor(
    measured.map((m) => ({ features: space.encode(m.arch), accuracy: m.validationAccuracy })),
    { ...s.predictor, seed: config.seed },
  );
  emit('predictor', { ...predictor.stats });
  if (predictor.stats.warning) warn(predictor.stats.warning);
  progress('predictor', 1, 1, `tau ${predictor.stats.kendallTau.toFixed(3)}`);
  if (stopped()) return undefined;

  // ——— evolution ———
  const genome = new ArchGenome(space);
  const archCost = efficiency.costFunction(s.objective, s.constraints);
  progress('search', 0, s.evolution.generations, 'evolving');
  const scorer = createScorer(predictor.weights);
  const evolution = await evolve(
    genome,
    genomePredictor(genome, scorer),
    (g) => archCost(genome.toArch(g)),
    { ...s.evolution, seed: config.seed, signal },
    (kind, data) => {
      emit(kind, data);
      if (kind === 'search.generation') {
        const d = data as TelemetryEvents['search.generation'];
        progress('search', d.generation, d.generations, `best predicted ${(d.bestPredictedAccuracy * 100).toFixed(1)}%`);
      }
    },
  )
    .catch((e: unknown) => {
      if (stopped()) return undefined;
      throw e;
    })
    .finally(() => scorer.dispose());
  if (!evolution) return undefined;
  const point = (arch: Arch, costs: SubnetCosts, predictedAccuracy: number): ParetoPoint => ({
    arch,
    macs: costs.macs,
    params: costs.params,
    ...(costs.latencyMs !== undefined ? { latencyMs: costs.latencyMs } : {}),
    predictedAccuracy,
  });
  const predictedFront = evolution.front.map((c) => {
    const arch = genome.toArch(c.arch);
    return point(arch, efficiency.costs(arch), c.accuracy);
  });
  emit('pareto', { objective: s.objective, points: predictedFront, measured: false });

  // ——— re-measure the front for real (validation and test) and export each point ———
  const chosen = spreadAlongFront(
    evolution.front.map((c, i) => ({ cost: c.cost, accuracy: c.accuracy, i })),
    s.frontSize,
  ).map((c) => predictedFront[c.i]);
  const front: FrontEntry[] = [];
  progress('front', 0, chosen.length, 're-measuring the front');
  try {
    await measureSubnets(task, dataset, chosen.map((p) => p.arch), { ...measureOpts, test: true }, async (m, i) => {
      const p = chosen[i];
      const dir = join(SUBNETS_DIR, String(i));
      // The batch norms hold this subnet's recalibrated statistics right now: extract before the next one.
      const model = task.supernet.extractSubnet(m.arch);
      try {
        await saveModel(model, join(opts.runDir, dir), { manta: { arch: m.arch, normalization: dataset.normalization, classes: dataset.classes } });
      } finally {
        model.dispose();
      }
      front.push({
        ...p,
        index: i,
        validationAccuracy: m.validationAccuracy,
        validationLoss: m.validationLoss,
        testAccuracy: m.testAccuracy,
        testLoss: m.testLoss,
        dominated: false,
        model: `${dir}/model.json`,
      });
      progress('front', i + 1, chosen.length, `#${i} test ${((m.testAccuracy ?? 0) * 100).toFixed(1)}%`);
    });
  } catch (e) {
    if (stopped()) return undefined;
    throw e;
  }
  const cost = (p: ParetoPoint): number => efficiency.objectiveCost(p, s.objective);
  for (const p of front) {
    p.dominated = front.some((q) => q !== p && dominates({ cost: cost(q), accuracy: q.validationAccuracy! }, { cost: cost(p), accuracy: p.validationAccuracy! }));
  }
  emit('pareto', { objective: s.objective, points: front.map(({ index: _i, dominated: _d, model: _m, validationLoss: _v, testLoss: _t, ...p }) => p), measured: true });

  // ——— how good is the latency table on this backend ———
  let latency: ResultsFile['latency'];
  const checks = opts.latencyChecks ?? 5;
  if (table && checks > 0) {
    const v = await validateLatencyTable(table, space, (arch) => task.supernet.extractSubnet(arch), checks, Rng.derive(config.seed, STREAM.latency));
    latency = { meanRelativeError: v.meanRelativeError, samples: v.samples.map(({ estimatedMs, measuredMs }) => ({ estimatedMs, measuredMs })), tableEntries: table.entries };
    if (v.meanRelativeError > 0.25) warn(`the latency table is off by ${(v.meanRelativeError * 100).toFixed(0)}% on average against directly timed subnets: treat latencies as rough`);
  }

  const results: ResultsFile = {
    format: 1,
    runId: '',
    name: config.name,
    finishedAt: new Date().toISOString(),
    wallMs: 0,
    backend,
    objective: s.objective,
    constraints: s.constraints,
    input: { channels: dataset.channels, classes: dataset.classes, normalization: dataset.normalization, ...(dataset.classNames ? { classNames: dataset.classNames } : {}) },
    front,
    predictedFront,
    measured: measured.map((m) => {
      const c = efficiency.costs(m.arch);
      return { arch: m.arch, macs: c.macs, params: c.params, ...(c.latencyMs !== undefined ? { latencyMs: c.latencyMs } : {}), validationAccuracy: m.validationAccuracy };
    }),
    predictor: predictor.stats,
    ...(latency ? { latency } : {}),
    search: {
      population: s.evolution.population,
      generations: s.evolution.generations,
      candidatesScored: evolution.candidatesScored,
      uniqueCandidates: evolution.uniqueCandidates,
      wallMs: evolution.wallMs,
      candidatesPerSec: evolution.candidatesScored / (evolution.wallMs / 1000),
    },
    training: { phases: training.phases, steps: training.steps, wallMs: training.wallMs },
    warnings: [],
  };
  return { results, space: { units: space.units, maxDepth: space.maxDepth } };
}

/** Finished measurements of an earlier attempt of this run, if they fit this search space. */
function readMeasurements(file: string, space: { validate(a: Arch): void }): MeasuredSubnet[] | undefined {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as { format?: number; measured?: MeasuredSubnet[] };
    if (v.format !== 1 || !Array.isArray(v.measured) || v.measured.length === 0) return undefined;
    for (const m of v.measured) {
      space.validate(m.arch);
      if (typeof m.validationAccuracy !== 'number') return undefined;
    }
    return v.measured;
  } catch {
    return undefined;
  }
}

/** The training curves of an earlier attempt, up to the checkpoint a resume continues from. */
function replayCurves(eventsFile: string, upToStep: number, curves: CurveCollector): void {
  let text: string;
  try {
    text = readFileSync(eventsFile, 'utf8');
  } catch {
    return;
  }
  for (const line of text.split('\n')) {
    if (!line.includes('"kind":"step"') && !line.includes('"kind":"evaluation"') && !line.includes('"kind":"phase"')) continue;
    try {
      const e = JSON.parse(line) as { kind: string; data: { step?: number } };
      if ((e.data.step ?? 0) <= upToStep) curves.add(e.kind, e.data);
    } catch {
      // a torn last line: skip
    }
  }
}
