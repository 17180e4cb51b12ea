// The one base class of errors caused by the user's input or machine (a bad config, a missing file, a backend that
// is not installed): their message is a complete sentence for a person, shown without a stack trace; every other
// error is a bug in MANTA.

export class UserError extends Error {
  /** A stable machine-readable reason, e.g. 'data.missing-file'. */
  readonly reason: string;
  constructor(message: string, reason = 'user-error') {
    super(message);
    this.name = new.target.name;
    this.reason = reason;
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
