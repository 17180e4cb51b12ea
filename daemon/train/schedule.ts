// The progressive-shrinking schedule: which choices each phase samples, how many subnets a step trains, how many
// steps it runs, and its learning rate at every step, with OFA's per-phase defaults (K, warm-up). Pure functions of
// the config and the training-set size, so a resumed run recomputes the same schedule and only needs its step counter.
import type { ResolvedConfig } from '../../schemas';
import type { PhaseName, SampleSpace } from '../protocol/values';
import { TrainingConfigError } from './errors';

type TrainingConfig = ResolvedConfig['training'];
type SupernetConfig = ResolvedConfig['supernet'];
type PhaseConfig = TrainingConfig['phases'][number];

/**
 * OFA's subnets per step (dynamic_batch_size, train_ofa_net.py) by phase kind; width and resolution phases (OFA has
 * none) take training.subnetsPerStep.
 */
const OFA_SUBNETS_PER_STEP: Partial<Record<PhaseName, number>> = { largest: 1, kernel: 1, depth: 2, expand: 4 };

/** OFA warms up 5 epochs before 120 in its kernel phase and its second depth and expand stages: 5/125 of the phase. */
const OFA_WARMUP = { epochs: 5, of: 125 } as const;

/** The dimensions a phase can restrict, with the config fields that hold their choices. */
const DIMENSIONS = [
  { key: 'kernel', choices: 'kernelChoices' },
  { key: 'expand', choices: 'expandChoices' },
  { key: 'depth', choices: 'depthChoices' },
  { key: 'width', choices: 'widthChoices' },
  { key: 'resolution', choices: 'resolutionChoices' },
] as const;

export interface PlannedPhase {
  index: number;
  phase: PhaseName;
  epochs: number;
  /** Peak learning rate. */
  learningRate: number;
  warmupEpochs: number;
  /** The choice lists this phase samples from (ascending). */
  sample: SampleSpace;
  /**
   * Every list but the resolution holds only the supernet's largest choice: the full network (at the step's
   * resolution) trains alone, without distillation; its end is where the frozen teacher is taken.
   */
  largestOnly: boolean;
  /** Subnets sampled per step (K): the phase's own, else OFA's for its kind, else training.subnetsPerStep. */
  subnetsPerStep: number;
  /** The phase widens the expand or width choices, so channels are sorted by importance before it (OFA). */
  reorganizeChannels: boolean;
  /** First global step of the phase. */
  startStep: number;
  steps: number;
  warmupSteps: number;
}

export interface Schedule {
  /** Steps that make an epoch of the schedule (the data's batches per epoch, or fewer with a cap). */
  stepsPerEpoch: number;
  /** Whole batches in one pass over the training split: the data stream's epoch, which runs on across phases. */
  batchesPerEpoch: number;
  phases: PlannedPhase[];
  totalSteps: number;
}

/** Where a global step falls: its phase, the step within the phase, and the data stream's position. */
export interface StepPosition {
  phaseIndex: number;
  stepInPhase: number;
  /** Epoch within the phase (for telemetry). */
  epochInPhase: number;
  /** Run-wide data epoch and batch within it: the batch stream runs on across phases and schedule epochs. */
  dataEpoch: number;
  dataBatch: number;
}

/**
 * Batches per epoch: the whole batches of the training split (a last partial batch is dropped so that every step
 * sees the same batch size), at least one, capped by `training.stepsPerEpoch`.
 */
export function stepsPerEpoch(trainCount: number, batchSize: number, cap?: number): number {
  const whole = wholeBatches(trainCount, batchSize);
  return cap === undefined ? whole : Math.max(1, Math.min(cap, whole));
}

/** Whole batches in the split, at least one (as the data module's batch stream counts with dropLast). */
export function wholeBatches(trainCount: number, batchSize: number): number {
  return Math.max(1, Math.floor(trainCount / batchSize));
}

/**
 * Resolves each phase's choice lists. A 'largest' phase samples only the largest network, at every resolution (OFA
 * draws the image size of each batch in every phase), whatever came before; its lists can narrow that. Otherwise a
 * list the phase names is used (sorted; it must be a subset of the supernet's choices); a list left out is inherited
 * from the previous phase, except for the dimension the phase is named after, which then opens to all of the
 * supernet's choices (a phase `{ "phase": "kernel" }` makes the kernel elastic). The first phase's predecessor is the
 * largest network at every resolution.
 */
export function resolvePhaseSamples(training: TrainingConfig, supernet: SupernetConfig): SampleSpace[] {
  const full = fullSpace(supernet);
  const largest = { ...largestSpace(full), resolution: full.resolution };
  const out: SampleSpace[] = [];
  let previous = largest;
  training.phases.forEach((p, i) => {
    const sample = { ...previous };
    for (const { key, choices } of DIMENSIONS) {
      const given = p[key];
      if (p.phase === 'largest') sample[key] = given ? checkedSubset(given, full[key], i, key, choices) : largest[key];
      else if (given) sample[key] = checkedSubset(given, full[key], i, key, choices);
      else if (p.phase === key) sample[key] = full[key];
    }
    out.push(sample);
    previous = sample;
  });
  return out;
}

/** The whole schedule for a training split of `trainCount` examples. */
export function planSchedule(training: TrainingConfig, supernet: SupernetConfig, trainCount: number): Schedule {
  const spe = stepsPerEpoch(trainCount, training.batchSize, training.stepsPerEpoch);
  const samples = resolvePhaseSamples(training, supernet);
  const largest = largestSpace(fullSpace(supernet));
  const phases: PlannedPhase[] = [];
  let start = 0;
  let previous = largest;
  training.phases.forEach((p: PhaseConfig, index) => {
    const steps = Math.max(1, Math.round(p.epochs * spe));
    const warmupEpochs = p.warmupEpochs ?? defaultWarmupEpochs(training.phases, index);
    // A default warm-up is a fraction of the phase; rounded to whole steps it may still need one step of cosine.
    const warmupSteps = p.warmupEpochs === undefined ? Math.min(Math.round(warmupEpochs * spe), steps - 1) : Math.round(warmupEpochs * spe);
    if (warmupEpochs > 0 && warmupSteps >= steps) {
      throw new TrainingConfigError(
        `training.phases[${index}].warmupEpochs (${warmupEpochs}) must be shorter than its epochs (${p.epochs}); lower it or add epochs`,
      );
    }
    const sample = samples[index];
    const largestOnly = DIMENSIONS.every(({ key }) => key === 'resolution' || (sample[key].length === 1 && sample[key][0] === largest[key][0]));
    phases.push({
      index,
      phase: p.phase,
      epochs: p.epochs,
      learningRate: p.learningRate,
      warmupEpochs,
      sample,
      largestOnly,
      subnetsPerStep: p.subnetsPerStep ?? (largestOnly ? 1 : (OFA_SUBNETS_PER_STEP[p.phase] ?? training.subnetsPerStep)),
      reorganizeChannels: widens(sample.expand, previous.expand) || widens(sample.width, previous.width),
      startStep: start,
      steps,
      warmupSteps,
    });
    start += steps;
    previous = sample;
  });
  return { stepsPerEpoch: spe, batchesPerEpoch: wholeBatches(trainCount, training.batchSize), phases, totalSteps: start };
}

/**
 * OFA's warm-up for phase `index` when the config gives none: a kernel phase and the second and later phases of a
 * depth or expand run warm up for 1/25 of the phase; others start at the peak.
 */
function defaultWarmupEpochs(phases: readonly PhaseConfig[], index: number): number {
  const p = phases[index];
  const earlierOfKind = phases.slice(0, index).filter((q) => q.phase === p.phase).length;
  const warms = p.phase === 'kernel' || ((p.phase === 'depth' || p.phase === 'expand') && earlierOfKind > 0);
  return warms ? (p.epochs * OFA_WARMUP.epochs) / OFA_WARMUP.of : 0;
}

/** Learning rate of a phase's step: linear warm-up to the peak (OFA: (s+1)/W), then a cosine to zero. */
export function learningRateAt(phase: PlannedPhase, stepInPhase: number): number {
  const s = Math.min(Math.max(stepInPhase, 0), phase.steps - 1);
  if (s < phase.warmupSteps) return (phase.learningRate * (s + 1)) / phase.warmupSteps;
  const t = (s - phase.warmupSteps) / (phase.steps - phase.warmupSteps);
  return 0.5 * phase.learningRate * (1 + Math.cos(Math.PI * t));
}

/** The phase and data position of a global step (`step` in [0, totalSteps)). */
export function locateStep(schedule: Schedule, step: number): StepPosition {
  if (!Number.isInteger(step) || step < 0 || step >= schedule.totalSteps) {
    throw new RangeError(`step ${step} is outside the schedule's ${schedule.totalSteps} steps`);
  }
  let phaseIndex = 0;
  while (step >= schedule.phases[phaseIndex].startStep + schedule.phases[phaseIndex].steps) phaseIndex++;
  const stepInPhase = step - schedule.phases[phaseIndex].startStep;
  const bpe = schedule.batchesPerEpoch;
  return {
    phaseIndex,
    stepInPhase,
    epochInPhase: Math.floor(stepInPhase / schedule.stepsPerEpoch),
    dataEpoch: Math.floor(step / bpe),
    dataBatch: step % bpe,
  };
}

function fullSpace(supernet: SupernetConfig): SampleSpace {
  const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
  return {
    kernel: sorted(supernet.kernelChoices),
    expand: sorted(supernet.expandChoices),
    depth: sorted(supernet.depthChoices),
    width: sorted(supernet.widthChoices),
    resolution: sorted(supernet.resolutionChoices),
  };
}

function largestSpace(full: SampleSpace): SampleSpace {
  const last = (xs: number[]): number[] => [xs[xs.length - 1]];
  return {
    kernel: last(full.kernel),
    expand: last(full.expand),
    depth: last(full.depth),
    width: last(full.width),
    resolution: last(full.resolution),
  };
}

function checkedSubset(given: number[], allowed: number[], phase: number, key: string, choicesField: string): number[] {
  for (const v of given) {
    if (!allowed.includes(v)) {
      throw new TrainingConfigError(
        `training.phases[${phase}].${key} has ${v}, which is not in supernet.${choicesField} [${allowed.join(', ')}]; use a subset of it`,
      );
    }
  }
  return [...given].sort((a, b) => a - b);
}

function widens(next: number[], previous: number[]): boolean {
  return next.some((v) => !previous.includes(v));
}
