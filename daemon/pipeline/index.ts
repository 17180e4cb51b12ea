// daemon/pipeline/: one run — config → task → train → measure → predictor → evolve → front → report — as resumable
// stages over any task (daemon/tasks/), used in-process by the CLI and in a worker process by the daemon service; the
// run folder's layout; and re-opening a finished run to export any of its subnets.
export { runJob, defaultCacheDir, CURVE_KINDS, type EarlierEvent, type JobProgress, type JobResult, type JobStage, type RunJobOptions } from './job';
export { RunStopped, StageStore, type RunContext } from './context';
export { exportSubnet, type ExportedSubnet } from './export-subnet';
export { openRun, type OpenedRun } from './open-run';
