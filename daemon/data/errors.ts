// Errors of bad data: a one-line sentence naming the file (or folder) and what is wrong, shown without a stack trace.
import { UserError } from '../protocol/user-error';

/** Why a dataset could not be read; `reason` is stable for machines, the message is for a person. */
export type DataErrorReason =
  'data.missing-file' | 'data.bad-format' | 'data.truncated' | 'data.mismatch' | 'data.empty' | 'data.unreadable-image' | 'data.config';

export class DataError extends UserError {
  /** The file or folder at fault, when there is one. */
  readonly file?: string;
  constructor(message: string, reason: DataErrorReason, file?: string) {
    super(message, reason);
    this.file = file;
  }
}
