// The progressive-shrinking trainer, OFA's recipe: one `step()` is one update of the supernet — draw the step's
// resolution and sample the phase's K subnets (seeded from (seed, step[, index])), forward and backward each on the
// same batch at that resolution with label-smoothed cross-entropy plus distillation from the frozen teacher (the full
// network as it stood at the end of the 'largest' phase, daemon/train/teacher.ts), sum their gradients, reduce them
// across workers when there are several, then one SGD update. Its whole state, the teacher included, is a
// checkpoint; a resumed trainer continues to the same weights.
import { createHash } from 'node:crypto';
import { tf } from '../engine';
import { Rng } from '../engine/rng';
import type { ResolvedConfig } from '../../schemas';
import type { Arch } from '../ofa/arch';
import type { Outputs, Task, TrainStream } from '../ofa/task';
import type { Emit } from '../protocol/events';
import type { DistributedAlgorithm } from '../protocol/values';
import { CheckpointError } from './errors';
import { evaluateSubnet } from './evaluate';
import { planGradientBuckets, GradientAccumulator, reduceGradients, type GradientBucketLayout, type GradientReducer } from './gradients';
import { Sgd, type ParamInfo } from './optimizer';
import { learningRateAt, locateStep, planSchedule, type PlannedPhase, type Schedule } from './schedule';
import { TRAINER_STATE_FORMAT, type PhaseResult, type SubnetScore, type TensorRecord, type TrainerState } from './state';
import { Teacher } from './teacher';

/**
 * Sub-streams of the run seed (Rng.derive(seed, STREAM, …)), so no two uses of randomness share one. (3 was the
 * live teacher's dropout, which the frozen teacher does not have.)
 */
const STREAM = { subnet: 1, dropout: 2, data: 4, resolution: 5 } as const;

/**
 * The training job this trainer belongs to, when several workers train the supernet together (MANTA's two
 * algorithms). Every worker holds the same supernet; worker `rank` reads shard `rank` of every global batch.
 * - data-parallel: every rank trains the step's K sampled subnets; gradients are averaged over all ranks.
 * - subnet-parallel: the ranks of node n train node n's own subnet (one per node per step, whatever K is); the
 *   reducer averages within each node, then over nodes.
 * `ranks` are the ranks whose gradients this process computes: one in a real job; all of them in the one-process
 * reference that the tests compare a job with (each rank's shard run in turn as a micro-batch, gradients averaged).
 */
export interface TrainerJob {
  algorithm: DistributedAlgorithm;
  worldSize: number;
  /** Node id of every rank. */
  nodeOf: readonly number[];
  /** Host label of every rank (telemetry). */
  hostOf?: readonly string[];
  ranks: readonly number[];
}

export interface TrainerOptions {
  /** The job this trainer is part of (left out: one worker). */
  job?: TrainerJob;
  /** Telemetry: `phase`, `step` (sampled), `subnet.sampled` (with the sampled steps), `evaluation`, `log`. */
  emit?: Emit;
  /** Exchanges gradient buckets between workers; left out (one worker) the gradients are used as they are. */
  reducer?: GradientReducer;
  /** Floats per gradient bucket given to the reducer. */
  bucketFloats?: number;
  /** This worker's index, for `step` events. */
  worker?: number;
  /** Batch preparation: 'worker' (default, a worker thread) or 'sync' (the calling thread); both give the same batches. */
  prefetch?: 'worker' | 'sync';
  /**
   * Least time between two `step` events (default 1000 ms); the first and the last step of each phase always report.
   * Between reports nothing is read back from the backend and no event is built.
   */
  stepEventIntervalMs?: number;
}

/** What one step did, for callers that drive the loop (tests, benchmarks). */
export interface StepReport {
  step: number;
  phaseIndex: number;
  learningRate: number;
  archs: Arch[];
  /** Whether a `step` event went out for this step. */
  reported: boolean;
  /** In a job: whether any worker asked to stop at this step (all of them learn it from the same reduction). */
  stopAgreed: boolean;
}

/** What a step asks of the job besides its gradients. */
export interface StepRequest {
  /** This worker wants the job to stop after this step (e.g. the user stopped the run on its host). */
  stop?: boolean;
}

/** Floats of the control block reduced with the gradients: [stop vote, then per rank: images/s, all-reduce ms]. */
function controlFloats(worldSize: number): number {
  return 1 + 2 * worldSize;
}

export class Trainer {
  readonly schedule: Schedule;
  private readonly seed: number;
  private readonly configKey: string;
  private readonly params: ParamInfo[];
  /** tfjs variable name → stable key. */
  private readonly keyOf: Map<string, string>;
  private readonly sgd: Sgd;
  private readonly layout: GradientBucketLayout | undefined;
  private readonly emit: Emit;
  private readonly job: TrainerJob;
  /** One batch stream per rank computed here. */
  private readonly streams = new Map<number, TrainStream<{ readonly size: number }>>();
  /** The last step's figures of every rank (from the control block), in a job with a reducer. */
  private lastWorkers: { imagesPerSec: number; allReduceMs: number }[] | undefined;
  private lastStepStats = { imagesPerSec: 0, allReduceMs: 0 };
  private current = 0;
  private preparedPhase = -1;
  private evaluatedPhases = 0;
  private results: PhaseResult[] = [];
  /** The frozen distillation teacher, once the 'largest' phase has ended. */
  private teacher: Teacher | undefined;
  private telemetry: { since: number; steps: number; images: number; loss: tf.Scalar | undefined; accuracy: number[] };
  private lastEventAt = -Infinity;

  constructor(
    private readonly config: ResolvedConfig,
    private readonly task: Task,
    private readonly options: TrainerOptions = {},
  ) {
    this.seed = config.seed;
    // One worker is a job of one: subnet-parallel then trains one subnet per step (its one node's), as the config says.
    this.job = options.job ?? { algorithm: config.distributed.algorithm, worldSize: 1, nodeOf: [0], ranks: [0] };
    checkJob(this.job, config.training.batchSize);
    this.schedule = planSchedule(config.training, config.supernet, task.data.trainCount);
    this.configKey = configFingerprint(config);
    const supernet = task.supernet;
    const decay = new Set(supernet.decayVariables);
    this.params = supernet.variables.map((variable) => ({ key: stableKey(variable.name), variable, decay: decay.has(variable) }));
    this.keyOf = new Map(this.params.map((p) => [p.variable.name, p.key]));
    const t = config.training;
    this.sgd = new Sgd({ momentum: t.momentum, nesterov: t.nesterov, weightDecay: t.weightDecay });
    this.layout = options.reducer
      ? planGradientBuckets(this.params.map((p) => ({ name: p.key, shape: p.variable.shape })), options.bucketFloats)
      : undefined;
    this.emit = options.emit ?? (() => undefined);
    this.telemetry = { since: performance.now(), steps: 0, images: 0, loss: undefined, accuracy: [] };
  }

  /** A trainer continuing from `state` (same config and task data as the run that wrote it). */
  static resume(state: TrainerState, config: ResolvedConfig, task: Task, options: TrainerOptions = {}): Trainer {
    const trainer = new Trainer(config, task, options);
    trainer.restore(state);
    return trainer;
  }

  /** Updates done so far: the index of the next step. */
  get stepIndex(): number {
    return this.current;
  }

  get totalSteps(): number {
    return this.schedule.totalSteps;
  }

  get done(): boolean {
    return this.current >= this.schedule.totalSteps;
  }

  /** Per-phase measurements so far. */
  get phaseResults(): readonly PhaseResult[] {
    return this.results;
  }

  /** The phase whose closing evaluation is due (all its steps done, not yet evaluated), if any. */
  evaluationDue(): number | undefined {
    const p = this.schedule.phases[this.evaluatedPhases];
    return p && this.current >= p.startStep + p.steps ? p.index : undefined;
  }

  /** One update of the supernet. */
  async step(request: StepRequest = {}): Promise<StepReport> {
    if (this.done) throw new Error(`Trainer.step: all ${this.schedule.totalSteps} steps are done`);
    const started = performance.now();
    const step = this.current;
    const pos = locateStep(this.schedule, step);
    const phase = this.schedule.phases[pos.phaseIndex];
    if (this.preparedPhase < phase.index) this.beginPhase(phase);
    const lr = learningRateAt(phase, pos.stepInPhase);
    const now = performance.now();
    const last = pos.stepInPhase === phase.steps - 1;
    const report = pos.stepInPhase === 0 || last || now - this.lastEventAt >= (this.options.stepEventIntervalMs ?? 1000);

    const supernet = this.task.supernet;
    const kd = !phase.largestOnly && this.config.training.kdRatio > 0 && this.teacher !== undefined;
    const lossOptions = {
      labelSmoothing: this.config.training.labelSmoothing,
      kdRatio: kd ? this.config.training.kdRatio : 0,
      progress: step / Math.max(1, this.schedule.totalSteps - 1),
    };
    const accumulator = new GradientAccumulator();
    const owned: tf.Tensor[] = [];
    let grads: Map<string, tf.Tensor> | undefined;
    let lossTotal: tf.Scalar | undefined;
    let images = 0;
    let passes = 0;
    const resolution = this.resolutionAt(step, phase);
    const stepSubnets = this.sampleSubnets(step, phase, resolution);
    let reportedSubnets: { arch: Arch; seed: number }[] = stepSubnets;
    let stopAgreed = false;
    let allReduceMs = 0;
    try {
      for (const rank of this.job.ranks) {
        const batch = await this.nextBatch(rank, pos.dataEpoch, pos.dataBatch);
        images += batch.size;
        const subnets = this.subnetsOfRank(rank, stepSubnets, step, phase, resolution);
        if (rank === this.job.ranks[0]) reportedSubnets = subnets;
        // One input for the step (OFA's per-batch image size): the subnets and the teacher all run at `resolution`.
        const made = tf.tidy(() => this.task.tensors(batch, resolution));
        const input = tf.keep(made.x);
        const y = tf.keep(made.y);
        owned.push(input, y);
        let teacherOutputs: Outputs | undefined;
        if (kd && this.teacher) {
          const frozen = this.teacher;
          teacherOutputs = tf.tidy(() => frozen.outputs(input, resolution));
          owned.push(...(Array.isArray(teacherOutputs) ? teacherOutputs : [teacherOutputs]));
        }
        for (const s of subnets) {
          const { value, grads: g } = tf.variableGrads(() => {
            const out = supernet.forward(input, s.arch, { training: true, seed: s.dropoutSeed });
            if (report) {
              const m = this.task.metric(out, y);
              if (m.name === 'accuracy') this.telemetry.accuracy.push(m.value);
            }
            return this.task.loss(out, y, teacherOutputs, lossOptions);
          }, supernet.variables as tf.Variable[]);
          accumulator.add(g);
          passes++;
          if (lossTotal) {
            const sum = tf.add(lossTotal, value) as tf.Scalar;
            tf.dispose([lossTotal, value]);
            lossTotal = sum;
          } else lossTotal = value;
        }
      }
      grads = this.byKey(accumulator.take());
      if (this.job.ranks.length > 1) grads = scaleAll(grads, 1 / this.job.ranks.length);
      if (this.options.reducer && this.layout) {
        const control = new Float32Array(controlFloats(this.job.worldSize));
        control[0] = request.stop ? 1 : 0;
        const rank = this.job.ranks[0];
        control[1 + 2 * rank] = this.lastStepStats.imagesPerSec;
        control[2 + 2 * rank] = this.lastStepStats.allReduceMs;
        const reduceStarted = performance.now();
        grads = await reduceGradients(grads, this.layout, this.options.reducer, control);
        allReduceMs = performance.now() - reduceStarted;
        // The control block was averaged over the workers like the gradients: a sum is the mean times their count.
        const scale = this.job.worldSize / this.job.ranks.length;
        stopAgreed = control[0] > 0;
        this.lastWorkers = Array.from({ length: this.job.worldSize }, (_, r) => ({
          imagesPerSec: control[1 + 2 * r] * scale,
          allReduceMs: control[2 + 2 * r] * scale,
        }));
      }
      this.sgd.apply(this.params, grads, lr);
      if (lossTotal) this.addLoss(lossTotal, passes);
      lossTotal = undefined;
    } finally {
      lossTotal?.dispose();
      accumulator.dispose();
      if (grads) for (const g of grads.values()) g.dispose();
      tf.dispose(owned);
    }
    this.current = step + 1;
    this.telemetry.steps++;
    this.telemetry.images += images;
    const seconds = Math.max(1e-9, (performance.now() - started) / 1000);
    this.lastStepStats = { imagesPerSec: images / seconds, allReduceMs };
    if (report) this.report(step, pos.epochInPhase, phase, lr, reportedSubnets);
    return { step, phaseIndex: phase.index, learningRate: lr, archs: reportedSubnets.map((s) => s.arch), reported: report, stopAgreed };
  }

  /** Recalibrates and measures the largest and the smallest subnet of phase `index`'s space; emits `evaluation`. */
  async evaluatePhase(index: number): Promise<PhaseResult> {
    const phase = this.schedule.phases[index];
    const t = this.config.training;
    const space = this.task.space;
    const measure = async (label: 'largest' | 'smallest', arch: Arch): Promise<SubnetScore> => {
      const r = await evaluateSubnet(this.task, arch, {
        split: 'validation',
        calibrationSize: t.bnCalibrationSize,
        batchSize: t.batchSize,
        limit: t.evaluationSize,
      });
      const event = { phaseIndex: index, step: this.current, subnet: label, arch, split: 'validation' as const };
      this.emit('evaluation', { ...event, accuracy: r.accuracy, loss: r.loss });
      return { accuracy: r.accuracy, loss: r.loss };
    };
    const largestArch = space.largest(phase.sample);
    // A largest-only phase trains one network (at several resolutions): it is measured once, at the largest.
    const smallestArch = phase.largestOnly ? largestArch : space.smallest(phase.sample);
    const largest = await measure('largest', largestArch);
    // Its batch norms hold the largest subnet's statistics now: the task's pictures of it, before the next measure.
    if (this.task.preview) this.emit('preview', { label: 'largest', phaseIndex: index, arch: largestArch, preview: await this.task.preview(largestArch) });
    let smallest: SubnetScore;
    if (space.key(smallestArch) === space.key(largestArch)) {
      // One network (a largest-only phase): measured once, reported under both names.
      smallest = largest;
      this.emit('evaluation', { phaseIndex: index, step: this.current, subnet: 'smallest', arch: smallestArch, split: 'validation', ...largest });
    } else smallest = await measure('smallest', smallestArch);
    const result: PhaseResult = { index, phase: phase.phase, largest, smallest };
    this.results = [...this.results.filter((r) => r.index !== index), result].sort((a, b) => a.index - b.index);
    this.evaluatedPhases = Math.max(this.evaluatedPhases, index + 1);
    return result;
  }

  /** The trainer's whole state between two steps (weights and optimizer slots copied out). */
  checkpoint(): TrainerState {
    const weights: Record<string, TensorRecord> = {};
    const tensors = this.task.supernet.getWeights();
    try {
      for (const [name, t] of Object.entries(tensors)) weights[name] = { shape: [...t.shape], data: (t.dataSync() as Float32Array).slice() };
    } finally {
      tf.dispose(Object.values(tensors));
    }
    return {
      format: TRAINER_STATE_FORMAT,
      seed: this.seed,
      configKey: this.configKey,
      step: this.current,
      totalSteps: this.schedule.totalSteps,
      preparedPhase: this.preparedPhase,
      evaluatedPhases: this.evaluatedPhases,
      rngs: {},
      results: this.results.map((r) => ({ ...r, largest: { ...r.largest }, smallest: { ...r.smallest } })),
      tensors: { weights, slots: this.sgd.state(), ...(this.teacher ? { teacher: this.teacher.weights() } : {}) },
    };
  }

  /** Loads a checkpoint into this trainer (before its first step). */
  restore(state: TrainerState): void {
    if (state.format !== TRAINER_STATE_FORMAT) {
      throw new CheckpointError(
        `the checkpoint has trainer format ${String(state.format)}, written by a MANTA that trained another way (live teacher, 'same' padding); this one resumes format ${TRAINER_STATE_FORMAT}: start a new run`,
      );
    }
    if (state.configKey !== this.configKey || state.totalSteps !== this.schedule.totalSteps) {
      throw new CheckpointError('the checkpoint was written by a run with another config or dataset; resume it with that config, or start a new run');
    }
    if (!Number.isInteger(state.step) || state.step < 0 || state.step > this.schedule.totalSteps) {
      throw new CheckpointError(`the checkpoint's step ${state.step} is outside this run's ${this.schedule.totalSteps} steps`);
    }
    const weights: Record<string, tf.Tensor> = {};
    try {
      for (const [name, r] of Object.entries(state.tensors.weights)) weights[name] = tf.tensor(r.data, r.shape, 'float32');
      this.task.supernet.setWeights(weights);
    } finally {
      tf.dispose(Object.values(weights));
    }
    const keys = new Set(this.params.map((p) => p.key));
    for (const name of Object.keys(state.tensors.slots)) {
      if (!keys.has(name)) throw new CheckpointError(`the checkpoint has optimizer state for '${name}', which this supernet lacks; start a new run`);
    }
    this.sgd.load(state.tensors.slots);
    this.teacher?.dispose();
    this.teacher = Teacher.fromState(state, this.task.supernet);
    this.current = state.step;
    this.preparedPhase = state.preparedPhase;
    this.evaluatedPhases = state.evaluatedPhases;
    this.results = state.results.map((r) => ({ ...r }));
    this.emit('log', { level: 'info', message: `resumed at step ${state.step} of ${this.schedule.totalSteps}` });
  }

  /** Stops the batch worker and frees the optimizer's tensors. The supernet stays the task's. */
  async close(): Promise<void> {
    this.telemetry.loss?.dispose();
    this.telemetry.loss = undefined;
    this.sgd.dispose();
    this.teacher?.dispose();
    this.teacher = undefined;
    for (const stream of this.streams.values()) await stream.close();
    this.streams.clear();
  }

  /**
   * The teacher frozen when the first distilling phase begins (the supernet as the 'largest' phase left it), channel
   * sorting before a phase that widens the expand ratios (OFA), a fresh optimizer, and the `phase` event.
   */
  private beginPhase(phase: PlannedPhase): void {
    if (!phase.largestOnly && this.config.training.kdRatio > 0 && !this.teacher) {
      // Without a largest-only phase before this one there is no trained full network to distil from (OFA always
      // has one): such a run trains without distillation rather than against its random initialisation.
      if (this.schedule.phases.slice(0, phase.index).some((p) => p.largestOnly)) {
        this.teacher = Teacher.snapshot(this.task.supernet);
        this.emit('log', { level: 'info', message: `phase ${phase.index} (${phase.phase}): distilling from the supernet frozen at the end of the largest phase` });
      } else if (phase.index === this.schedule.phases.findIndex((p) => !p.largestOnly)) {
        this.emit('log', { level: 'warn', message: `no 'largest' phase before phase ${phase.index} (${phase.phase}): no trained teacher to distil from, so training runs without distillation` });
      }
    }
    if (phase.reorganizeChannels) {
      // OFA's expand stage: 0 when two ratios are sampled, 1 with three, … (re_organize_middle_weights).
      const stage = Math.max(0, phase.sample.expand.length - 2);
      this.task.supernet.reorganizeChannels(stage);
      this.emit('log', { level: 'info', message: `phase ${phase.index} (${phase.phase}): channels sorted by importance (expand stage ${stage})` });
    }
    // Each OFA stage starts with a new optimizer; it also keeps momentum consistent with the permuted channels.
    this.sgd.reset();
    this.preparedPhase = phase.index;
    this.emit('phase', {
      index: phase.index,
      phase: phase.phase,
      epochs: phase.epochs,
      stepsPerEpoch: this.schedule.stepsPerEpoch,
      learningRate: phase.learningRate,
      sample: phase.sample,
    });
  }

  /**
   * The step's resolution, one for all its subnets and the teacher (OFA's MyRandomResizedCrop draws one image size
   * per batch): from (seed, step), so every rank of a job draws the same.
   */
  private resolutionAt(step: number, phase: PlannedPhase): number {
    const choices = phase.sample.resolution;
    return choices.length === 1 ? choices[0] : Rng.derive(this.seed, STREAM.resolution, step).pick(choices);
  }

  /** The step's K subnets (data-parallel; every rank trains them all), or the largest in a largest-only phase. */
  private sampleSubnets(step: number, phase: PlannedPhase, resolution: number): { arch: Arch; seed: number; index: number }[] {
    return Array.from({ length: phase.subnetsPerStep }, (_, index) => this.subnetAt(step, phase, index, resolution));
  }

  private subnetAt(step: number, phase: PlannedPhase, index: number, resolution: number): { arch: Arch; seed: number; index: number } {
    const seed = Rng.derive(this.seed, STREAM.subnet, step, index).nextUint32();
    const space = this.task.space;
    const arch = phase.largestOnly ? space.largest(phase.sample) : space.sample(new Rng(seed), phase.sample);
    return { arch: { ...arch, r: resolution }, seed, index };
  }

  /** What rank `rank` trains this step: the shared K (data-parallel) or its node's own subnet (subnet-parallel). */
  private subnetsOfRank(
    rank: number,
    shared: { arch: Arch; seed: number; index: number }[],
    step: number,
    phase: PlannedPhase,
    resolution: number,
  ): { arch: Arch; seed: number; dropoutSeed: number }[] {
    const mine = this.job.algorithm === 'subnet-parallel' ? [this.subnetAt(step, phase, this.job.nodeOf[rank], resolution)] : shared;
    return mine.map((s) => ({ ...s, dropoutSeed: this.seedOf(STREAM.dropout, step, s.index, rank) }));
  }

  /**
   * A dropout seed. One worker keeps the single-process stream; in a job every rank (shard) has its own, so a
   * shard's masks are the same whether it runs on its own worker or as a micro-batch of the reference.
   */
  private seedOf(stream: number, step: number, index: number, rank: number): number {
    if (this.job.worldSize > 1) return Rng.derive(this.seed, stream, step, index, rank).nextUint32();
    return Rng.derive(this.seed, stream, step, index).nextUint32();
  }

  private async nextBatch(rank: number, epoch: number, batch: number): Promise<{ readonly size: number }> {
    let stream = this.streams.get(rank);
    const at = stream?.position();
    if (!stream || at?.epoch !== epoch || at.batch !== batch) {
      await stream?.close();
      stream = this.task.data.openTrainStream({
        batchSize: this.config.training.batchSize,
        seed: Rng.derive(this.seed, STREAM.data).nextUint32(),
        epoch,
        startBatch: batch,
        prefetch: this.options.prefetch,
        ...(this.job.worldSize > 1 ? { shard: { index: rank, count: this.job.worldSize } } : {}),
      });
      this.streams.set(rank, stream);
    }
    return stream.next();
  }

  private byKey(grads: Map<string, tf.Tensor>): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [name, g] of grads) out.set(this.keyOf.get(name) ?? name, g);
    return out;
  }

  /** Adds the step's mean loss to the running sum on the backend (no read-back until a report). */
  private addLoss(lossTotal: tf.Scalar, subnets: number): void {
    const previous = this.telemetry.loss;
    this.telemetry.loss = tf.tidy(() => {
      const mean = tf.div(lossTotal, subnets) as tf.Scalar;
      return previous ? (tf.add(previous, mean) as tf.Scalar) : mean;
    });
    previous?.dispose();
    lossTotal.dispose();
  }

  private report(step: number, epoch: number, phase: PlannedPhase, lr: number, subnets: { arch: Arch; seed: number }[]): void {
    const t = this.telemetry;
    const now = performance.now();
    const loss = t.loss ? t.loss.dataSync()[0] / t.steps : Number.NaN;
    const accuracy = t.accuracy.length > 0 ? t.accuracy.reduce((a, b) => a + b, 0) / t.accuracy.length : undefined;
    const seconds = Math.max(1e-9, (now - t.since) / 1000);
    this.emit('step', {
      phaseIndex: phase.index,
      epoch,
      step,
      totalSteps: this.schedule.totalSteps,
      loss,
      ...(accuracy === undefined ? {} : { accuracy }),
      learningRate: lr,
      imagesPerSec: t.images / seconds,
      worker: this.options.worker ?? this.job.ranks[0],
    });
    if (this.lastWorkers) {
      const hostOf = this.job.hostOf;
      this.emit('workers', {
        step,
        algorithm: this.job.algorithm,
        workers: this.lastWorkers.map((w, rank) => ({
          rank,
          node: this.job.nodeOf[rank],
          host: hostOf?.[rank] ?? 'local',
          imagesPerSec: w.imagesPerSec,
          allReduceMs: w.allReduceMs,
          state: 'running' as const,
        })),
      });
    }
    subnets.forEach((s, index) => this.emit('subnet.sampled', { step, index, seed: s.seed, arch: s.arch }));
    t.loss?.dispose();
    this.telemetry = { since: now, steps: 0, images: 0, loss: undefined, accuracy: [] };
    this.lastEventAt = now;
  }
}

/** The stable name of a supernet variable: its tfjs name without the process-unique scope. */
function stableKey(tfName: string): string {
  const slash = tfName.indexOf('/');
  return slash < 0 ? tfName : tfName.slice(slash + 1);
}

/** A fingerprint of everything that shapes the schedule and the weights (not where or how often checkpoints go). */
export function configFingerprint(config: ResolvedConfig): string {
  const { checkpointEverySteps: _every, keepCheckpoints: _keep, ...training } = config.training;
  const relevant = { seed: config.seed, task: config.task, data: config.data, supernet: config.supernet, training };
  return createHash('sha256').update(stableJson(relevant)).digest('hex').slice(0, 32);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A job the trainer can run: ranks in range, equal shards, a node for every rank. */
function checkJob(job: TrainerJob, batchSize: number): void {
  const { worldSize, nodeOf, ranks } = job;
  if (!Number.isInteger(worldSize) || worldSize < 1) throw new RangeError(`a job needs at least one worker, not ${worldSize}`);
  if (nodeOf.length !== worldSize) throw new RangeError(`the job names nodes for ${nodeOf.length} of its ${worldSize} workers`);
  if (ranks.length === 0 || ranks.some((r) => !Number.isInteger(r) || r < 0 || r >= worldSize)) {
    throw new RangeError(`ranks ${ranks.join(', ')} are not all ranks of a ${worldSize}-worker job`);
  }
  if (batchSize % worldSize !== 0) {
    throw new RangeError(`the batch of ${batchSize} cannot be split evenly across ${worldSize} workers; choose a worker count that divides it`);
  }
}

/** Every gradient times `factor` (the inputs are disposed). */
function scaleAll(grads: Map<string, tf.Tensor>, factor: number): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [name, g] of grads) {
    out.set(name, tf.mul(g, factor));
    g.dispose();
  }
  return out;
}
