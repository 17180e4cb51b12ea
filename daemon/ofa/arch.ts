// An architecture is plain JSON (see daemon/protocol/values.ts, its one home): what the visualizer draws, what the
// predictor encodes and what a run's results store. Re-exported here for daemon/ofa's own modules.
export type { Arch } from '../protocol/values';
