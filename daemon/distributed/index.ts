// daemon/distributed/ owns MANTA's workers as a group: rendezvous, authenticated TCP data mesh, collectives (ring and
// hierarchical all-reduce, broadcast, barrier) on flat float32 buffers, and failure detection.
//
// Why MANTA owns its collectives: there is no maintained Node binding for NCCL, Gloo or MPI, and a native addon
// would break the "one bundle, any host" deployment of the daemon over SSH. The trainer needs only a few
// collectives on flat float32 buckets between a handful of processes, which plain TCP from Node does at least as
// fast as Gloo on the same machine (`npm run bench -- allreduce --peer`).
export { joinGroup, type ProcessGroup, type GroupStats } from './group';
export { CollectiveError, type CollectiveErrorKind } from './errors';
export type { GroupOptions } from './options';
export { benchWorker, batchFor, type BenchWorkerJob, type BenchWorkerReply, type BenchWorkerResult } from './bench-worker-path';
