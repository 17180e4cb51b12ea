// Every error code the daemon answers with, in one place. JSON-RPC 2.0's own codes (-32700 … -32600) keep their
// meaning; MANTA's codes live in the reserved range [-33099, -33000], so they never collide with JSON-RPC's,
// vscode-jsonrpc's (-32099 … -32000) or LSP's (-32899 … -32800).

export const MantaErrorCodes = {
  // JSON-RPC 2.0
  /** The bytes were not JSON, or the message frame was malformed (the daemon then closes the connection). */
  ParseError: -32700,
  /** Valid JSON that is not a JSON-RPC 2.0 request or notification (batches included: not supported). */
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  /** Params fail the method's JSON Schema; the message names the field and the rule, `data.problems` lists all. */
  InvalidParams: -32602,
  /** A bug in the daemon; the message says what failed. */
  InternalError: -32603,

  // MANTA: [-33099, -33000]
  reservedRangeStart: -33099,
  reservedRangeEnd: -33000,
  /** A request other than `manta/hello` arrived before a successful hello. */
  HandshakeRequired: -33000,
  /** Client and daemon protocol majors differ; the message says which side to update. */
  IncompatibleVersion: -33001,
  /** The config fails the schema or the cross-field checks; `data.problems` lists every problem. */
  InvalidConfig: -33002,
  /** A path (config dir, dataset, runs dir, export dir) lies outside the allowed roots. */
  PathOutsideRoots: -33003,
  /** A path the request needs (config file, dataset file or folder) does not exist or has the wrong kind. */
  PathNotFound: -33004,
  /** No run with this id is known to the daemon. */
  UnknownRun: -33005,
  /** The run's status does not allow this (e.g. pausing a finished run, resuming a running one). */
  InvalidRunState: -33006,
  /** The daemon is shutting down and takes no new work. */
  ShuttingDown: -33007,
  /** A job the daemon ran for the request (export, latency table, host probe) failed; the message says why. */
  TaskFailed: -33008,
  /** A user error reported by MANTA's own modules (unreadable dataset, missing backend …); `data.reason` names it. */
  UserError: -33009,
} as const;

export type MantaErrorCode = (typeof MantaErrorCodes)[Exclude<keyof typeof MantaErrorCodes, 'reservedRangeStart' | 'reservedRangeEnd'>];

/** One problem of a request: a JSON pointer into the params (or the config), the rule broken, and a sentence. */
export interface ParamProblem {
  path: string;
  rule: string;
  message: string;
}

/** The `data` of every error the daemon sends. */
export interface MantaErrorData {
  /** Every problem found, for InvalidParams, InvalidConfig, PathOutsideRoots, PathNotFound, and the UserError of a
   * runs folder that cannot be written (`reason` 'run.runs-dir-not-writable'). */
  problems?: ParamProblem[];
  /** Stable machine-readable reason of a UserError, e.g. 'data.missing-file'. */
  reason?: string;
  /** The versions involved, for IncompatibleVersion. */
  protocolVersion?: { daemon: string; client: string };
}
