// daemon/service/: the long-running daemon — JSON-RPC over stdio and a 0600 Unix socket, runs in worker processes,
// each run's event log with replay, checkpoints-based resume, and the validation of every request.
export { Daemon, type DaemonOptions } from './daemon';
export { EventLog, encodeEventBody, readEvents, type LineBatch, type ReadEventsOptions, type ReadHint, type StoredEvent } from './event-log';
export { connectSocket, connectStreams, type DaemonClient } from './client';
export { cacheDirFor, socketPathFor, stateDirFor } from './paths';
export { DaemonAlreadyRunning } from './socket-server';
export { resolveWorkerEntry } from './worker-ipc';
