// Every JSON-RPC method between a client (the extension, a test, a remote host's forwarded socket) and the daemon,
// each a typed constant with its params and result beside it. Requests go client → daemon; notifications go
// daemon → client. Params are validated by the daemon against `paramsSchemas` (params-schemas.ts).
// The page daemon/service/PROTOCOL.md describes this file (a test checks it was updated with it).
import { NotificationType, RequestType } from 'vscode-jsonrpc';
import type { MantaConfig } from '../../schemas/config.generated';
import type { MantaErrorData, ParamProblem } from './errors';
import type { BackendInfo, TelemetryEvent } from './events';
import type { ResultsFile } from './results';
import type { Arch, BackendName, Constraints, DerivedFrom, JobPlacement, Objective, RunPhaseName } from './values';

export type { MantaConfig };

/** Every method name, namespaced under manta/. */
export const Methods = {
  hello: 'manta/hello',
  hostInfo: 'manta/hostInfo',
  startRun: 'manta/startRun',
  stopRun: 'manta/stopRun',
  pauseRun: 'manta/pauseRun',
  resumeRun: 'manta/resumeRun',
  listRuns: 'manta/listRuns',
  attach: 'manta/attach',
  detach: 'manta/detach',
  exportSubnet: 'manta/exportSubnet',
  measureLatencyTable: 'manta/measureLatencyTable',
  shutdown: 'manta/shutdown',
  startSyntheticRun: 'manta/startSyntheticRun',
  describeSpace: 'manta/describeSpace',
  getRunResults: 'manta/getRunResults',
  getRunMeasurements: 'manta/getRunMeasurements',
  getRunConfig: 'manta/getRunConfig',
  listRunFiles: 'manta/listRunFiles',
  readRunFile: 'manta/readRunFile',
  deleteRun: 'manta/deleteRun',
  checkConfig: 'manta/checkConfig',
  finetune: 'manta/finetune',
  searchAgain: 'manta/searchAgain',
  // notifications, daemon → client
  events: 'manta/events',
  runStatus: 'manta/runStatus',
  log: 'manta/log',
} as const;
export type RequestMethod = Exclude<(typeof Methods)[keyof typeof Methods], 'manta/events' | 'manta/runStatus' | 'manta/log'>;

// ——— shared shapes ———

/** running: a worker is training/searching; paused: stopped by request, resumable; interrupted: its worker or the
 * daemon died before it finished, resumable from its last checkpoint; completed/stopped/failed: final. */
export type RunStatus = 'running' | 'paused' | 'completed' | 'stopped' | 'failed' | 'interrupted';
export const RUN_STATUSES: readonly RunStatus[] = ['running', 'paused', 'completed', 'stopped', 'failed', 'interrupted'];

/** The latest progress of a run, taken from its events (for tree views and status bars). */
export interface RunProgress {
  phase?: RunPhaseName;
  phaseIndex?: number;
  step?: number;
  totalSteps?: number;
  loss?: number;
  accuracy?: number;
  imagesPerSec?: number;
  /** What the run is doing beyond training: 'training', 'measuring', 'searching', 'exporting' … */
  stage?: string;
}

export interface RunSummary {
  runId: string;
  /** The config's name. */
  name: string;
  status: RunStatus;
  /** The run directory on the daemon's host: config.json, events.jsonl, checkpoints/, results. */
  runDir: string;
  configPath?: string;
  createdAt: number;
  updatedAt: number;
  /** The number of events in the run's log: the seq the next event will get. */
  nextSeq: number;
  progress: RunProgress;
  /** Why it failed, stopped or was interrupted. */
  message?: string;
  /** Whether `manta/resumeRun` applies (paused or interrupted). */
  resumable: boolean;
  /** A derived run (search again, fine-tune): the finished run it was made from, without retraining. */
  derivedFrom?: DerivedFrom;
}

// ——— requests (client → daemon) ———

export interface HelloParams {
  protocolVersion: string;
  client: { name: string; version: string };
}
export interface HelloResult {
  protocolVersion: string;
  daemon: { name: 'manta'; version: string; pid: number; startedAt: number };
}
/** First request on every connection; any other request before it fails with HandshakeRequired. An incompatible
 * version is refused with IncompatibleVersion; the client must refuse an incompatible daemon the same way. */
export const HelloRequest = new RequestType<HelloParams, HelloResult, MantaErrorData>(Methods.hello);

export interface BackendAvailability {
  name: BackendName;
  available: boolean;
  /** The device it runs on, or what to install when it is not available. */
  detail: string;
}
export interface HostInfo {
  hostname: string;
  platform: string;
  arch: string;
  daemonPid: number;
  cpu: { model: string; cores: number; loadAverage: number[] };
  memory: { totalMB: number; freeMB: number; daemonRssMB: number };
  versions: { manta: string; protocol: string; node: string; tfjs?: string };
  backends: BackendAvailability[];
  /** The backend a run with backend 'auto' gets, and its device; absent when the probe failed (see probeError). */
  defaultBackend?: BackendInfo & { threads?: number };
  /** Devices runs can use, e.g. the CPU and any GPU the backends report. */
  devices: string[];
  probeError?: string;
  /** Roots every path of a request must lie in, besides the config's own folder (empty: no extra limit). */
  allowedRoots: string[];
  socketPath?: string;
  activeRuns: number;
  /** What the GPU engine really computes on here (protocol 1.5): checked once per daemon, on the first hostInfo. */
  gpuEngine?: GpuEngineStatus;
}
/**
 * The GPU engine, checked for what it really uses rather than what it is called: @tensorflow/tfjs-node-gpu 4.x loads
 * libtensorflow 2.9, built for CUDA 11.2 and cuDNN 8.1, and on a host without those libraries it only logs that it
 * could not load them and computes on the CPU. The daemon lists the GPUs (`nvidia-smi -L`), loads the engine in a
 * short child process with its workers' environment, reads what libtensorflow logs and times one 1024×1024 matMul.
 */
export interface GpuEngineStatus {
  /** The GPUs `nvidia-smi -L` lists, e.g. 'GPU 0: NVIDIA H200'; empty without nvidia-smi or GPUs. */
  gpus: string[];
  /** 'tfjs-node-gpu' when @tensorflow/tfjs-node-gpu can be loaded where the daemon's workers load it. */
  engine: 'tfjs-node-gpu' | 'none';
  /** Whether the engine computes on a GPU; undefined when there is no engine or its check failed (see advice). */
  onGpu: boolean | undefined;
  /** The CUDA 11 / cuDNN 8 libraries the engine needs and cannot load (empty when it runs on a GPU). */
  missingLibraries: string[];
  /** What to do, as sentences for the user (absent when there is nothing to do). */
  advice?: string;
  /** The device the engine reported, e.g. 'GPU:0 NVIDIA H200' or 'CPU'. */
  device?: string;
  /** Milliseconds of one 1024×1024 float32 matMul on the engine, after a warm-up one. */
  timedMatMulMs?: number;
}
export type HostInfoParams = Record<string, never>;
export const HostInfoRequest = new RequestType<HostInfoParams, HostInfo, MantaErrorData>(Methods.hostInfo);

export interface StartRunParams {
  /** A config object as in a *.manta.json file; needs `configDir`, the folder its relative paths resolve against. */
  config?: MantaConfig;
  configDir?: string;
  /** Or the path of a *.manta.json file on the daemon's host (then neither config nor configDir). */
  configPath?: string;
  /**
   * This daemon's place in a training job across several hosts (the starter sends it to every host's daemon with
   * the same token). Left out: the run trains on this host alone, over the workers its config asks for.
   */
  job?: JobPlacement;
}
export interface RunResult {
  run: RunSummary;
}
/** Validates the config (schema, cross-field checks, dataset paths, allowed roots — every problem at once), creates
 * the run directory under the config's output.runsDir and starts a worker. */
export const StartRunRequest = new RequestType<StartRunParams, RunResult, MantaErrorData>(Methods.startRun);

export interface RunRef {
  runId: string;
}
/** Stops a running, paused or interrupted run for good (status stopped). */
export const StopRunRequest = new RequestType<RunRef, RunResult, MantaErrorData>(Methods.stopRun);
/** Stops a running run's worker, keeping its checkpoints (status paused); `manta/resumeRun` continues it. */
export const PauseRunRequest = new RequestType<RunRef, RunResult, MantaErrorData>(Methods.pauseRun);
/** Continues a paused or interrupted run from its last good checkpoint. The event log is first cut back to that
 * checkpoint's `checkpoint` event (attached clients get `manta/runStatus` with truncatedToSeq), so a replay shows
 * each step once. */
export const ResumeRunRequest = new RequestType<ResumeRunParams, RunResult, MantaErrorData>(Methods.resumeRun);
export interface ResumeRunParams extends RunRef {
  /** For a run that trained in a job across hosts: the job's placement again (a fresh token; the hosts the same). */
  job?: JobPlacement;
}

export type ListRunsParams = Record<string, never>;
export interface ListRunsResult {
  runs: RunSummary[];
}
export const ListRunsRequest = new RequestType<ListRunsParams, ListRunsResult, MantaErrorData>(Methods.listRuns);

export interface AttachParams {
  runId: string;
  /** The first event wanted: 0 replays the whole log. Events ≥ fromSeq arrive in `manta/events`, replay then live,
   * each exactly once and in order. Attaching again to the same run restarts from the new fromSeq. */
  fromSeq: number;
}
export const AttachRequest = new RequestType<AttachParams, RunResult, MantaErrorData>(Methods.attach);

export interface DetachResult {
  /** False when this connection was not attached to the run. */
  detached: boolean;
}
export const DetachRequest = new RequestType<RunRef, DetachResult, MantaErrorData>(Methods.detach);

/** What an exported subnet is written as: a stock tfjs layers model (model.json + weights.bin) or ONNX (model.onnx). */
export type ExportFormat = 'tfjs' | 'onnx';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['tfjs', 'onnx'];

export interface ExportSubnetParams {
  runId: string;
  /** An architecture of the run's search space … */
  arch?: Arch;
  /** … or the index of a point of the run's Pareto front (results.json). */
  index?: number;
  /** Where to write the model files; default: a folder under the run directory. */
  outDir?: string;
  /** Default 'tfjs'. 'onnx': model.onnx (opset 17, NCHW inputs, batch norm folded) and a README.md of its inputs and outputs. */
  format?: ExportFormat;
}
export interface ExportSubnetResult {
  arch: Arch;
  /** The folder written: model.json (stock tfjs layers model) and its weights, or model.onnx and README.md. */
  dir: string;
  /** model.json or model.onnx. */
  modelPath: string;
  format?: ExportFormat;
  files: string[];
  /** Measured after batch-norm recalibration. */
  validationAccuracy: number;
  testAccuracy: number;
  macs: number;
  params: number;
  /** The files written, as `manta/readRunFile` names them (`subnets/<subnet>/<file>`), when the export lies in the
   * run's subnets folder (always, without `outDir`): how a client on another host downloads them. */
  runFiles?: string[];
}
export const ExportSubnetRequest = new RequestType<ExportSubnetParams, ExportSubnetResult, MantaErrorData>(Methods.exportSubnet);

export interface MeasureLatencyTableParams {
  /** Whose search space to time: a run's … */
  runId?: string;
  /** … or a config file's on the daemon's host. */
  configPath?: string;
  backend?: BackendName;
  /** Re-time even when a cached table for this device and backend exists. */
  refresh?: boolean;
}
export interface MeasureLatencyTableResult {
  /** The table's JSON file in the daemon's cache. */
  path: string;
  entries: number;
  backend: BackendInfo;
  cached: boolean;
  wallMs: number;
}
export const MeasureLatencyTableRequest = new RequestType<MeasureLatencyTableParams, MeasureLatencyTableResult, MantaErrorData>(
  Methods.measureLatencyTable,
);

export type ShutdownParams = Record<string, never>;
export interface ShutdownResult {
  /** Runs whose workers were stopped; they are listed as interrupted by the next daemon and can be resumed. */
  interruptedRuns: string[];
}
/** Answers, then stops every worker and exits. */
export const ShutdownRequest = new RequestType<ShutdownParams, ShutdownResult, MantaErrorData>(Methods.shutdown);

export interface StartSyntheticRunParams {
  name: string;
  /** Steps of the synthetic job; each emits one `step` event plus `extraEventsPerStep` `log` events. */
  steps: number;
  extraEventsPerStep?: number;
  /** CPU work per step (stands in for training): the arithmetic an idle core does in this many milliseconds. */
  stepWorkMs?: number;
  /** Steps between checkpoints (default 50); the synthetic "weights" are checkpointed like a trainer's. */
  checkpointEvery?: number;
  /** Checkpoints kept, like `training.keepCheckpoints` (default 3). */
  keepCheckpoints?: number;
}
/** A run whose worker emits synthetic telemetry instead of training: served only by a daemon started with
 * --synthetic-runs (benchmarks and tests of the service). */
export const StartSyntheticRunRequest = new RequestType<StartSyntheticRunParams, RunResult, MantaErrorData>(
  Methods.startSyntheticRun,
);

export interface DescribeSpaceParams {
  /** A config object as in a *.manta.json file (validated as manta/startRun validates it; its dataset need not exist). */
  config: MantaConfig;
  /** The folder its relative paths resolve against; needed only to count a folder dataset's classes. */
  configDir?: string;
}
export interface CostRange {
  /** Of the smallest subnet (every choice at its smallest). */
  min: number;
  /** Of the largest subnet. */
  max: number;
}
export interface DescribeSpaceResult {
  /** Distinct subnets of the search space (a float: the default space has ~2·10^19). */
  size: number;
  /** Forward multiply-accumulates per image, counted as OFA counts them; absent when `costsUnavailable` says why. */
  macs?: CostRange;
  /** Trainable parameters; absent with `macs`. */
  params?: CostRange;
  /** The input shape the costs were counted for, from the config's data section. */
  inputChannels?: number;
  classes?: number;
  /** Why macs and params are absent, as a phrase for the user (e.g. a folder dataset's path does not exist). */
  costsUnavailable?: string;
}
/** The size of a config's search space and the MACs and parameters of its smallest and largest subnets: the
 * analytic cost model of daemon/ofa, answered at once without a worker. */
export const DescribeSpaceRequest = new RequestType<DescribeSpaceParams, DescribeSpaceResult, MantaErrorData>(Methods.describeSpace);

// ——— a run's files (protocol 1.2): everything of a run a client reads comes through these, never from disk, so a
// daemon on another host behind one forwarded socket serves a client exactly as a local one does ———

/** The files of a run a client may read by kind; the daemon maps each kind to its file in the run folder. Besides
 * these, `manta/readRunFile` reads the exported subnets' files, named `subnets/<subnet>/<file>` (one folder deep). */
export const RUN_FILE_KINDS = ['results', 'report', 'measurements', 'config'] as const;
export type RunFileKind = (typeof RUN_FILE_KINDS)[number];
/** The prefix of an exported subnet's file name: `subnets/<subnet>/<file>`. */
export const SUBNET_FILES_PREFIX = 'subnets/';

export interface RunResultsResult {
  runId: string;
  /** results.json as the run wrote it: the re-measured Pareto front, the predictor's quality, warnings (format 1). */
  results: ResultsFile;
}
/** The run's results.json, parsed; `PathNotFound` while the run has none (it has not finished its search). */
export const GetRunResultsRequest = new RequestType<RunRef, RunResultsResult, MantaErrorData>(Methods.getRunResults);

export interface RunMeasurementsResult {
  runId: string;
  /** measurements.json: the subnets measured for the accuracy predictor. */
  measurements: Record<string, unknown>;
}
/** The run's measurements.json, parsed; `PathNotFound` while the run has none. */
export const GetRunMeasurementsRequest = new RequestType<RunRef, RunMeasurementsResult, MantaErrorData>(Methods.getRunMeasurements);

export interface RunConfigResult {
  runId: string;
  /** The config as submitted (the run's config.json): what the visualizer draws the supernet from. */
  config: MantaConfig;
  /** The folder on the daemon's host its relative paths resolve against. */
  configDir: string;
}
/** The run's config; `PathNotFound` for a run without one (a synthetic run). */
export const GetRunConfigRequest = new RequestType<RunRef, RunConfigResult, MantaErrorData>(Methods.getRunConfig);

export interface RunFileEntry {
  /** The name `manta/readRunFile` takes: a RunFileKind or `subnets/<subnet>/<file>`. */
  file: string;
  size: number;
  modifiedAt: number;
}
export interface ListRunFilesResult {
  runId: string;
  /** The readable files the run has now: the kinds present, then every exported subnet's files. */
  files: RunFileEntry[];
}
export const ListRunFilesRequest = new RequestType<RunRef, ListRunFilesResult, MantaErrorData>(Methods.listRunFiles);

export interface ReadRunFileParams {
  runId: string;
  /** A RunFileKind or `subnets/<subnet>/<file>`; anything else (other paths, `..`, absolute paths) is refused. */
  file: string;
  /** The first byte wanted (default 0). */
  offset?: number;
  /** Bytes wanted, at most READ_RUN_FILE_MAX_LENGTH (default READ_RUN_FILE_DEFAULT_LENGTH). */
  length?: number;
}
export interface ReadRunFileResult {
  /** The bytes [offset, offset + length) of the file, clipped at its end, base64-encoded. */
  data: string;
  offset: number;
  /** The file's size now; with `modifiedAt`, a reader of several chunks sees when the file changed between them. */
  size: number;
  modifiedAt: number;
  /** True when this chunk reaches the end of the file. */
  eof: boolean;
}
export const READ_RUN_FILE_DEFAULT_LENGTH = 1 << 20;
export const READ_RUN_FILE_MAX_LENGTH = 4 << 20;
/** One chunk of a run file: large files (weights, reports) are read chunk by chunk, each answer a bounded message. */
export const ReadRunFileRequest = new RequestType<ReadRunFileParams, ReadRunFileResult, MantaErrorData>(Methods.readRunFile);

export interface DeleteRunResult {
  /** The run as it was before it was deleted. */
  run: RunSummary;
}
/** Deletes a run that is not active — its folder and its registry entry; `InvalidRunState` for a running or paused
 * run (stop it first). Every connection then gets `manta/runStatus` with `deleted: true`. */
export const DeleteRunRequest = new RequestType<RunRef, DeleteRunResult, MantaErrorData>(Methods.deleteRun);

// ——— fine-tuning a searched subnet ———

export interface FinetuneParams {
  /** The finished run whose subnet is fine-tuned (only read). */
  runId: string;
  /** The index of a point of its front (results.json) … */
  index?: number;
  /** … or an arch of its search space. */
  arch?: Arch;
  /** Values that replace the run config's `finetune` section (defaults: epochs 3, the last phase's learning rate,
   * training's kdRatio and batch size). */
  epochs?: number;
  learningRate?: number;
  kdRatio?: number;
  batchSize?: number;
}
/** Starts a derived run (`derivedFrom: {runId, kind: 'finetune'}`) that trains the subnet further from the run's
 * supernet, in a worker; the answer is the new run, followed like any run (manta/attach: `phase` 'finetune', `step`,
 * `evaluation` of subnet 'subnet'). Its results.json's one front entry is the fine-tuned subnet (exported at
 * subnets/0/, tfjs and ONNX) and its `finetune` holds test accuracy before and after, the teacher and the wall time.
 * Refused as InvalidRunState unless the run is completed; as UserError (`data.reason` 'run.bad-arch',
 * 'run.no-checkpoint', 'finetune.settings') for an index outside its front, a run without its checkpoint, settings
 * out of range. */
export const FinetuneRequest = new RequestType<FinetuneParams, RunResult, MantaErrorData>(Methods.finetune);

// ——— searching a finished run again ———

export interface SearchAgainParams {
  /** The finished run whose trained supernet is searched again (only read). */
  runId: string;
  /** The cost traded against accuracy (default: the run's search.objective). */
  objective?: Objective;
  /** Replaces the run's search.constraints when given (`{}`: none). */
  constraints?: Constraints;
  /** Points of the new predicted front re-measured (default: the run's search.frontSize). */
  frontSize?: number;
}
/** Starts a derived run (`derivedFrom: {runId, kind: 'search'}`) that searches the run's trained supernet again — its
 * measured subnets and (same encoding) its accuracy predictor reused, evolution for the new objective and constraints,
 * the new front re-measured and exported — in a worker, without training; the answer is the new run, followed like
 * any run (manta/attach). Its results.json is a search's, with `derivedFrom`. Refused as InvalidRunState unless the
 * run is completed. */
export const SearchAgainRequest = new RequestType<SearchAgainParams, RunResult, MantaErrorData>(Methods.searchAgain);

// ——— checking a config where it would run (protocol 1.5) ———

/** As manta/startRun takes a config: `{config, configDir}` or `{configPath}` (no `job`). */
export interface CheckConfigParams {
  config?: MantaConfig;
  configDir?: string;
  configPath?: string;
}
export interface CheckConfigResult {
  /** Every problem manta/startRun would refuse the config for on this host (empty: it would start), each as in
   * the `data.problems` of startRun's refusal. */
  problems: ParamProblem[];
  /** Cross-field warnings (a run would log them into its events). */
  warnings: string[];
  /** The daemon's host name: where the data paths were looked for. */
  host: string;
}
/** The checks manta/startRun runs before it starts anything — schema, checks across fields, the runs folder (allowed
 * roots, writable) and the dataset paths on this host — answered as a list, starting nothing. A request that is not
 * shaped as one of the two forms is refused with InvalidParams, as startRun refuses it. */
export const CheckConfigRequest = new RequestType<CheckConfigParams, CheckConfigResult, MantaErrorData>(Methods.checkConfig);

// ——— notifications (daemon → client) ———

export interface EventsParams {
  runId: string;
  /** Consecutive events of the run, in seq order. */
  events: TelemetryEvent[];
}
/** Events of an attached run, in batches. */
export const EventsNotification = new NotificationType<EventsParams>(Methods.events);

export interface RunStatusParams {
  run: RunSummary;
  /** Set when the log was cut back (a resume): events with seq > truncatedToSeq that the client holds are void, and
   * the events after it arrive again from the resumed worker. */
  truncatedToSeq?: number;
  /** Set when the run was deleted (`manta/deleteRun`): forget it and its events. */
  deleted?: boolean;
}
/** Sent to every connection whenever a run starts, changes status, is cut back or is deleted. */
export const RunStatusNotification = new NotificationType<RunStatusParams>(Methods.runStatus);

export interface DaemonLogParams {
  level: 'info' | 'warn' | 'error';
  message: string;
  runId?: string;
}
/** The daemon's own warnings (a skipped corrupt log line, a checkpoint that failed to decode …). */
export const DaemonLogNotification = new NotificationType<DaemonLogParams>(Methods.log);
