// Telemetry events: what a run tells the world, typed once by an event-name-to-payload map. The daemon writes them
// to the run's event log and streams them to clients; the extension and the webviews read them. Plain JSON only.
import type { Arch, DistributedAlgorithm, Objective, PredictorStats, RunPhaseName, SampleSpace } from './values';

export interface BackendInfo {
  /** tfjs backend name: tensorflow, webgpu, wasm or cpu. */
  backend: string;
  /** tfjs version, and the backend package's version where it differs. */
  version: string;
  /** What the backend runs on, e.g. "CPU: AMD EPYC 9454 (2 threads), wasm SIMD" or a GPU name. */
  device: string;
}

export interface ParetoPoint {
  arch: Arch;
  macs: number;
  params: number;
  latencyMs?: number;
  predictedAccuracy: number;
  /** Measured after batch-norm recalibration; absent until re-measured. */
  validationAccuracy?: number;
  testAccuracy?: number;
}

export interface WorkerStatus {
  /** Rank in the job (0 is the coordinator). */
  rank: number;
  /** Node id (the subnet-parallel unit: workers of a node train the same subnet). */
  node: number;
  /** Label of the host it runs on. */
  host: string;
  imagesPerSec: number;
  /** Milliseconds the last step spent in the gradient all-reduce (waiting for peers included). */
  allReduceMs: number;
  state: 'running' | 'stalled' | 'lost' | 'done';
  /** Why it is stalled or lost, e.g. "no data from rank 2 (host 'b') for 30 s". */
  detail?: string;
}

/**
 * A stereo subnet's disparity on a few fixed validation pairs, as bytes a page draws on a canvas. Each picture is
 * base64 of width × height bytes, rows top to bottom: `left` the left view in grey; `predicted` and `truth` the
 * disparity scaled so that 0…254 spans 0…maxDisparity pixels (clamped), 255 in `truth` where there is no ground truth.
 */
export interface DisparityPreview {
  kind: 'disparity';
  maxDisparity: number;
  pairs: { width: number; height: number; left: string; predicted: string; truth: string; epe: number }[];
}

/** What a task shows of a subnet's predictions (only stereo has pictures so far). */
export type TaskPreview = DisparityPreview;

export interface TelemetryEvents {
  'run.started': { runId: string; name: string; task: string; backend: BackendInfo; seed: number; resumedFromStep?: number };
  'run.finished': { status: 'completed' | 'stopped' | 'failed'; resultsPath?: string; message?: string; wallMs: number };
  phase: { index: number; phase: RunPhaseName; epochs: number; stepsPerEpoch: number; learningRate: number; sample: SampleSpace };
  step: {
    phaseIndex: number;
    epoch: number;
    /** Step within the run, counting every phase. */
    step: number;
    totalSteps: number;
    loss: number;
    /** Training accuracy of the step's subnets on their batches, when computed. */
    accuracy?: number;
    learningRate: number;
    imagesPerSec: number;
    worker: number;
  };
  /**
   * The training job's workers (sent with sampled `step` events of a run trained by several workers): where each runs,
   * its throughput and the time its last step spent in the all-reduce; `state` marks a stalled or lost worker.
   */
  workers: { step: number; algorithm: DistributedAlgorithm; workers: WorkerStatus[] };
  'subnet.sampled': { step: number; index: number; seed: number; arch: Arch };
  evaluation: {
    phaseIndex: number;
    step: number;
    /** Which subnet: 'largest', 'smallest', or a label. */
    subnet: string;
    arch: Arch;
    split: 'validation' | 'test';
    accuracy: number;
    loss: number;
  };
  checkpoint: { step: number; file: string };
  /**
   * Pictures of a subnet's predictions on fixed validation examples: after each phase's evaluation (`phaseIndex`, the
   * largest subnet) and for each front subnet after the search (`label` 'front #i').
   */
  preview: { label: string; phaseIndex?: number; arch: Arch; preview: TaskPreview };
  'measure.progress': { done: number; total: number; arch: Arch; accuracy: number; macs: number; params: number };
  predictor: PredictorStats;
  'search.generation': { generation: number; generations: number; bestPredictedAccuracy: number; frontSize: number; candidatesScored: number };
  pareto: { objective: Objective; points: ParetoPoint[]; measured: boolean };
  system: { host: string; worker: number; cpuPercent: number; rssMB: number; heapMB: number; gpuUtilPercent?: number; gpuMemoryMB?: number };
  /** What the run is waiting for while no step arrives (data loading, compilation, rendezvous, a host). */
  waiting: { reason: string };
  log: { level: 'debug' | 'info' | 'warn' | 'error'; message: string };
  error: { message: string; code?: string };
}

export type TelemetryKind = keyof TelemetryEvents;

/** One event as stored in a run's event log and sent to clients. `seq` increases by one per event in a run. */
export type TelemetryEvent = {
  [K in TelemetryKind]: { seq: number; time: number; kind: K; data: TelemetryEvents[K] };
}[TelemetryKind];

/** What training and search code calls to report; the run assigns seq and time. */
export type Emit = <K extends TelemetryKind>(kind: K, data: TelemetryEvents[K]) => void;
