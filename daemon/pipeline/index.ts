// daemon/run/: a run — config → train → search → results — as one job emitting telemetry, used in-process by the CLI
// and in a worker process by the daemon service; and re-opening a finished run to export any of its subnets.
export { runJob, defaultCacheDir, type JobProgress, type JobResult, type JobStage, type RunJobOptions } from './job';
export { exportSubnet, type ExportedSubnet } from './export-subnet';
export { openRun, type OpenedRun } from './open-run';
