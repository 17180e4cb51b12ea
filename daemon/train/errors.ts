// User-facing errors of training: each has a one-line message naming the thing and what to do.
import { UserError } from '../protocol/user-error';

/** A training section of the config that validates against the schema but cannot be scheduled. */
export class TrainingConfigError extends UserError {
  constructor(message: string) {
    super(message, 'train.config');
  }
}

/** A checkpoint file or buffer that is truncated, corrupt, or does not match the run it is resumed into. */
export class CheckpointError extends UserError {
  constructor(message: string) {
    super(message, 'train.checkpoint');
  }
}
