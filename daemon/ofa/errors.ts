// User-facing errors of the supernet: each is one line naming the bad thing and what to do about it.
import { UserError } from '../protocol/user-error';

/** An architecture that does not fit the search space (from a results file, a request or a hand edit). */
export class ArchError extends UserError {
  constructor(message: string) {
    super(message, 'ofa.arch');
  }
}

/** Weights that do not fit the supernet (a checkpoint from another config, a truncated file). */
export class WeightsError extends UserError {
  constructor(message: string) {
    super(message, 'ofa.weights');
  }
}

/** A search-space or supernet config the supernet cannot be built from (beyond what the schema checks). */
export class SupernetConfigError extends UserError {
  constructor(message: string) {
    super(message, 'ofa.config');
  }
}
