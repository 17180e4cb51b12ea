// What a trainer's checkpoint holds: plain data plus named float32 tensors. Enough to continue a run to the same
// final weights as if it had never stopped.
import type { RngState } from '../engine/rng';
import type { PhaseResult, SubnetScore } from '../protocol/values';

export type { PhaseResult, SubnetScore };

export interface TensorRecord {
  shape: number[];
  data: Float32Array;
}

/** The trainer state a checkpoint of this MANTA holds (format 1, from before the frozen teacher, is read but not resumed). */
export const TRAINER_STATE_FORMAT = 2;

export interface TrainerState {
  /** 2: this MANTA's; 1: written before the frozen teacher and symmetric padding (its weights stay readable). */
  format: 1 | 2;
  seed: number;
  /** Fingerprint of everything that shapes the schedule and the weights; a checkpoint resumes only a matching run. */
  configKey: string;
  /** Updates done; the next step to run. */
  step: number;
  totalSteps: number;
  /** Last phase whose start (channel sorting, optimizer reset, `phase` event) has run; -1 before the first. */
  preparedPhase: number;
  /** Phases whose closing evaluation is done. */
  evaluatedPhases: number;
  /**
   * Every random stream of training is derived from (seed, step, index) or (seed, epoch), so the step counter is the
   * position of those streams; stateful generators, if any, are saved here by name.
   */
  rngs: Record<string, RngState>;
  results: PhaseResult[];
  tensors: {
    /** Supernet weights by variable name, running batch-norm statistics included. */
    weights: Record<string, TensorRecord>;
    /** Optimizer slots (momentum buffers) by variable name. */
    slots: Record<string, TensorRecord>;
    /**
     * The frozen teacher's weights by variable name (running batch-norm statistics included): the supernet as it was
     * at the end of its 'largest' phase. Absent until that phase has ended (or in a run without one).
     */
    teacher?: Record<string, TensorRecord>;
  };
}
