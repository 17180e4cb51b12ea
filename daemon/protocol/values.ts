// Value types shared by the daemon, the extension and the webviews, typed once: an architecture, the choice lists,
// phase names and a phase's scores, objectives, constraints and backend names. Where the config's generated types already spell one
// (schemas/config.generated.ts), it is derived from them, so the schema stays the single source. Plain JSON only.
import type { ResolvedConfig, ResolvedPhase } from '../../schemas/config.generated';

/**
 * An architecture as plain JSON, as OFA's `sample_active_subnet` returns it: what the visualizer draws, what the
 * predictor encodes and what a run's results store. Per-block lists have units × maxDepth entries, unit-major;
 * entries of blocks beyond a unit's depth are kept (so mutation can re-grow a unit) but have no effect.
 */
export interface Arch {
  /** Depthwise kernel size of every block slot. */
  ks: number[];
  /** Expand ratio of every block slot. */
  e: number[];
  /** Depth (active blocks) of every unit. */
  d: number[];
  /** Input resolution. */
  r: number;
  /** Width multiplier of the units' output channels. */
  w: number;
}

/** A progressive-shrinking phase: 'largest' or the dimension it makes elastic. */
export type PhaseName = ResolvedPhase['phase'];

/** A phase as a run's `phase` events name it: a progressive-shrinking phase, or 'finetune' (a fine-tuning run's one). */
export type RunPhaseName = PhaseName | 'finetune';

/** An elastic dimension of the search space: kernel, expand, depth, width or resolution. */
export type ChoiceName = Exclude<PhaseName, 'largest'>;

/** The choice lists of a search space, one per elastic dimension. */
export type ChoiceLists = Required<Pick<ResolvedPhase, ChoiceName>>;

/** The choice lists a phase samples from. */
export type SampleSpace = ChoiceLists;

/** Accuracy and loss of one subnet measured after a phase (batch norm recalibrated, validation split). */
export interface SubnetScore {
  accuracy: number;
  loss: number;
}

/** How a progressive-shrinking phase ended: its largest and smallest subnets measured (a run's results.json). */
export interface PhaseResult {
  index: number;
  phase: PhaseName;
  largest: SubnetScore;
  smallest: SubnetScore;
}

/** The cost traded against accuracy on the Pareto front. */
export type Objective = ResolvedConfig['search']['objective'];

/** Upper bounds a subnet must meet. */
export type Constraints = ResolvedConfig['search']['constraints'];

/** A tfjs backend as a config or MANTA_BACKEND names it: 'auto' or one backend. */
export type BackendChoice = ResolvedConfig['backend'];

/** A tfjs backend MANTA can run on. */
export type BackendName = Exclude<BackendChoice, 'auto'>;

/** How well the accuracy predictor ranks held-out subnets (also the `predictor` telemetry event). */
export interface PredictorStats {
  rmse: number;
  kendallTau: number;
  /**
   * 95 % confidence interval of the held-out Kendall's tau (percentile bootstrap over the held-out subnets); absent
   * in results written before it was recorded.
   */
  kendallTauCI?: { low: number; high: number; level: number; method: 'bootstrap' };
  trainSize: number;
  heldOutSize: number;
  warning?: string;
}

/** The kinds of derived run: made from a finished run without retraining its supernet. */
export type DerivedRunKind = 'search' | 'finetune';

/** Where a derived run comes from (run.json, results.json, a run's summary). */
export interface DerivedFrom {
  runId: string;
  kind: DerivedRunKind;
}

/** How supernet training is spread over workers (the config's /distributed/algorithm). */
export type DistributedAlgorithm = ResolvedConfig['distributed']['algorithm'];

/**
 * Where one host's daemon stands in a training job that spans several hosts (startRun/resumeRun's `job`). Host i's
 * workers are ranks i·workersPerHost … (i+1)·workersPerHost − 1; host 0 is the coordinator, whose run goes on to the
 * search after training. The token is the job's secret: it proves a peer belongs to the job and is never stored.
 */
export interface JobPlacement {
  /** Label of every host of the job, in order (host 0 is the coordinator). */
  hosts: string[];
  /** This daemon's host in `hosts`. */
  hostIndex: number;
  /** Training workers on every host (the same on all). */
  workersPerHost: number;
  /** The coordinator's rendezvous address as the other hosts reach it. */
  coordinator: { host: string; port: number };
  /** Address this host's workers listen on for their peers (an address the other hosts can reach). */
  bindAddress: string;
  /** Hex secret shared by the job's hosts. */
  token: string;
}
