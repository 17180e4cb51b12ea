// One small named handler per request method. Params arrive validated against the method's schema; each handler
// returns the result or throws a ResponseError (or a UserError, which the dispatcher turns into one).
import * as os from 'node:os';
import * as path from 'node:path';
import { ResponseError, type CancellationToken, type NotificationType } from 'vscode-jsonrpc/node';
import { MantaErrorCodes, type MantaErrorData } from '../protocol/errors';
import type { ResultsFile } from '../protocol/results';
import {
  Methods,
  RunStatusNotification,
  type AttachParams,
  type CheckConfigParams,
  type CheckConfigResult,
  type GpuEngineStatus,
  type DescribeSpaceParams,
  type DescribeSpaceResult,
  type DeleteRunResult,
  type ListRunFilesResult,
  type ReadRunFileParams,
  type ReadRunFileResult,
  type RunConfigResult,
  type RunMeasurementsResult,
  type RunResultsResult,
  type DetachResult,
  type ExportSubnetParams,
  type ExportSubnetResult,
  type FinetuneParams,
  type HelloParams,
  type HelloResult,
  type HostInfo,
  type ListRunsResult,
  type MeasureLatencyTableParams,
  type MeasureLatencyTableResult,
  type RequestMethod,
  type ResumeRunParams,
  type RunRef,
  type RunResult,
  type SearchAgainParams,
  type ShutdownResult,
  type StartRunParams,
  type StartSyntheticRunParams,
} from '../protocol/methods';
import { checkProtocolCompatibility, PROTOCOL_VERSION } from '../protocol/version';
import { checkFinetuneSource } from '../pipeline/finetune-request';
import type { HostProbe } from './jobs/tasks';
import type { RunManager } from './runs';
import type { WorkerTask } from './worker-ipc';
import { describeSearchSpace } from './describe-space';
import { exportedRunFiles, listRunFiles as listFilesOfRun, readRunFileChunk, readRunJson } from './run-files-rpc';
import { checkedConfig, checkWritePath, inspectRun, prepareRun } from './prepare-run';
import type { Session } from './session';

/**
 * What the handlers use of the daemon (the Daemon class implements it). Declared here, not imported from daemon.ts,
 * because daemon.ts imports this table: the RPC surface depends on this interface, the daemon on the surface.
 */
export interface DaemonServices {
  readonly version: string;
  readonly startedAt: number;
  readonly socketPath: string | undefined;
  readonly allowedRoots: string[];
  readonly cacheDir: string;
  readonly syntheticRuns: boolean;
  readonly runs: RunManager;
  probeHost(): Promise<HostProbe>;
  /** What the GPU engine really runs on (checked once; daemon/engine/gpu-check.ts). */
  gpuEngine(): Promise<GpuEngineStatus>;
  runTask(task: WorkerTask, token?: CancellationToken): Promise<unknown>;
  shutdown(): Promise<void>;
  broadcast<P>(type: NotificationType<P>, params: P): void;
}

export interface HandlerContext {
  daemon: DaemonServices;
  session: Session;
  token: CancellationToken;
}

// Each handler's params type is the one its schema guarantees; the table below pairs them by method.
type Handler = (ctx: HandlerContext, params: never) => Promise<unknown>;

async function hello({ daemon, session }: HandlerContext, p: HelloParams): Promise<HelloResult> {
  const compat = checkProtocolCompatibility(PROTOCOL_VERSION, p.protocolVersion, 'client');
  if (!compat.ok) {
    throw new ResponseError<MantaErrorData>(MantaErrorCodes.IncompatibleVersion, compat.message, {
      protocolVersion: { daemon: PROTOCOL_VERSION, client: p.protocolVersion },
    });
  }
  session.handshaken = true;
  session.client = p.client;
  return { protocolVersion: PROTOCOL_VERSION, daemon: { name: 'manta', version: daemon.version, pid: process.pid, startedAt: daemon.startedAt } };
}

async function hostInfo({ daemon }: HandlerContext): Promise<HostInfo> {
  const [probe, gpuEngine] = await Promise.all([daemon.probeHost(), daemon.gpuEngine()]);
  const cpus = os.cpus();
  const devices = [`CPU: ${cpus[0]?.model.trim() ?? os.arch()} (${cpus.length} cores)`];
  for (const b of probe.backends) if (b.available && b.detail.startsWith('GPU') && !devices.includes(b.detail)) devices.push(b.detail);
  return {
    hostname: os.hostname(),
    platform: os.platform(),
    arch: os.arch(),
    daemonPid: process.pid,
    cpu: { model: cpus[0]?.model.trim() ?? 'unknown', cores: cpus.length, loadAverage: os.loadavg() },
    memory: {
      totalMB: Math.round(os.totalmem() / 2 ** 20),
      freeMB: Math.round(os.freemem() / 2 ** 20),
      daemonRssMB: Math.round(process.memoryUsage.rss() / 2 ** 20),
    },
    versions: { manta: daemon.version, protocol: PROTOCOL_VERSION, node: process.versions.node, ...(probe.tfjs ? { tfjs: probe.tfjs } : {}) },
    backends: probe.backends,
    ...(probe.defaultBackend ? { defaultBackend: probe.defaultBackend } : {}),
    devices,
    ...(probe.probeError ? { probeError: probe.probeError } : {}),
    allowedRoots: daemon.allowedRoots,
    ...(daemon.socketPath ? { socketPath: daemon.socketPath } : {}),
    activeRuns: daemon.runs.activeCount,
    gpuEngine,
  };
}

async function startRun({ daemon }: HandlerContext, p: StartRunParams): Promise<RunResult> {
  const prepared = await prepareRun(p, daemon.allowedRoots);
  return { run: await daemon.runs.start(prepared, p.job) };
}

async function checkConfig({ daemon }: HandlerContext, p: CheckConfigParams): Promise<CheckConfigResult> {
  const { refusals, warnings } = await inspectRun(p, daemon.allowedRoots, Methods.checkConfig);
  const problems = refusals.flatMap((r) => r.data?.problems ?? [{ path: '', rule: 'refused', message: r.message }]);
  return { problems, warnings, host: os.hostname() };
}

async function stopRun({ daemon }: HandlerContext, p: RunRef): Promise<RunResult> {
  return { run: await daemon.runs.stop(p.runId) };
}

async function pauseRun({ daemon }: HandlerContext, p: RunRef): Promise<RunResult> {
  return { run: await daemon.runs.pause(p.runId) };
}

async function resumeRun({ daemon }: HandlerContext, p: ResumeRunParams): Promise<RunResult> {
  return { run: await daemon.runs.resume(p.runId, p.job) };
}

async function listRuns({ daemon }: HandlerContext): Promise<ListRunsResult> {
  return { runs: daemon.runs.list() };
}

async function attach({ daemon, session }: HandlerContext, p: AttachParams): Promise<RunResult> {
  return { run: await daemon.runs.attach(session, p.runId, p.fromSeq) };
}

async function detach({ daemon, session }: HandlerContext, p: RunRef): Promise<DetachResult> {
  return { detached: daemon.runs.detach(session, p.runId) };
}

async function exportSubnet({ daemon, token }: HandlerContext, p: ExportSubnetParams): Promise<ExportSubnetResult> {
  if ((p.arch === undefined) === (p.index === undefined)) {
    throw new ResponseError<MantaErrorData>(MantaErrorCodes.InvalidParams, 'invalid params for manta/exportSubnet: give exactly one of params.arch and params.index', {
      problems: [{ path: '/arch', rule: 'oneOf', message: 'give exactly one of params.arch and params.index' }],
    });
  }
  const { runDir, configDir } = await daemon.runs.configOf(p.runId);
  let outDir: string | undefined;
  if (p.outDir !== undefined) {
    if (!path.isAbsolute(p.outDir)) {
      throw new ResponseError<MantaErrorData>(MantaErrorCodes.InvalidParams, `invalid params for manta/exportSubnet: params.outDir must be an absolute path (got ${JSON.stringify(p.outDir)})`);
    }
    outDir = path.normalize(p.outDir);
    checkWritePath(outDir, '/outDir', 'the export folder (params.outDir)', [{ label: "the run's folder", dir: runDir }, { label: "the config's folder", dir: configDir }], daemon.allowedRoots);
  }
  const task = {
    name: 'exportSubnet' as const,
    runDir,
    ...(p.arch ? { arch: p.arch } : {}),
    ...(p.index !== undefined ? { index: p.index } : {}),
    ...(outDir ? { outDir } : {}),
    ...(p.format ? { format: p.format } : {}),
  };
  const result = (await daemon.runTask(task, token)) as ExportSubnetResult;
  const runFiles = exportedRunFiles(runDir, result.files);
  return runFiles ? { ...result, runFiles } : result;
}

async function measureLatencyTable({ daemon, token }: HandlerContext, p: MeasureLatencyTableParams): Promise<MeasureLatencyTableResult> {
  if ((p.runId === undefined) === (p.configPath === undefined)) {
    throw new ResponseError<MantaErrorData>(MantaErrorCodes.InvalidParams, 'invalid params for manta/measureLatencyTable: give exactly one of params.runId and params.configPath', {
      problems: [{ path: '/runId', rule: 'oneOf', message: 'give exactly one of params.runId and params.configPath' }],
    });
  }
  let submitted: unknown;
  let configDir: string;
  if (p.runId !== undefined) {
    const found = await daemon.runs.configOf(p.runId);
    submitted = found.config;
    configDir = found.configDir;
  } else {
    const prepared = await prepareRun({ configPath: p.configPath }, daemon.allowedRoots);
    submitted = prepared.submitted;
    configDir = prepared.configDir;
  }
  const { config } = checkedConfig({ value: submitted, source: p.runId !== undefined ? `the config of run ${p.runId}` : p.configPath });
  const task = {
    name: 'latencyTable' as const,
    config,
    configDir,
    ...(p.backend ? { backend: p.backend } : {}),
    refresh: p.refresh ?? false,
    cacheDir: daemon.cacheDir,
  };
  return (await daemon.runTask(task, token)) as MeasureLatencyTableResult;
}

async function shutdown({ daemon }: HandlerContext): Promise<ShutdownResult> {
  const interruptedRuns = daemon.runs.list().filter((r) => r.status === 'running').map((r) => r.runId);
  // After the answer is written: stop the workers, close every connection, exit.
  setImmediate(() => void daemon.shutdown());
  return { interruptedRuns };
}

async function startSyntheticRun({ daemon }: HandlerContext, p: StartSyntheticRunParams): Promise<RunResult> {
  if (!daemon.syntheticRuns) {
    throw new ResponseError<MantaErrorData>(MantaErrorCodes.MethodNotFound, 'manta/startSyntheticRun is served only by a daemon started with --synthetic-runs');
  }
  return { run: await daemon.runs.startSynthetic(p) };
}

async function describeSpace(_ctx: HandlerContext, p: DescribeSpaceParams): Promise<DescribeSpaceResult> {
  return describeSearchSpace(p);
}

// ——— a run's files (run-files-rpc.ts) ———

async function getRunResults({ daemon }: HandlerContext, p: RunRef): Promise<RunResultsResult> {
  const { runDir, status } = daemon.runs.locate(p.runId);
  const results = await readRunJson(p.runId, runDir, 'results', `it writes it when its search finishes (it is ${status})`);
  // The same check as daemon/search's readResults: a results file of this format, whatever else it holds.
  if (results.format !== 1 || !Array.isArray(results.front)) {
    throw new ResponseError<MantaErrorData>(MantaErrorCodes.TaskFailed, `run ${p.runId}'s results.json is not a MANTA results file (format 1); re-run its search`);
  }
  return { runId: p.runId, results: results as unknown as ResultsFile };
}

async function getRunMeasurements({ daemon }: HandlerContext, p: RunRef): Promise<RunMeasurementsResult> {
  const { runDir, status } = daemon.runs.locate(p.runId);
  return { runId: p.runId, measurements: await readRunJson(p.runId, runDir, 'measurements', `it writes it once training is done (it is ${status})`) };
}

async function getRunConfig({ daemon }: HandlerContext, p: RunRef): Promise<RunConfigResult> {
  const { runDir, configDir, synthetic } = daemon.runs.locate(p.runId);
  const config = await readRunJson(p.runId, runDir, 'config', synthetic ? 'it is a synthetic run' : 'its folder lost it');
  return { runId: p.runId, config: config as unknown as RunConfigResult['config'], configDir };
}

async function listRunFiles({ daemon }: HandlerContext, p: RunRef): Promise<ListRunFilesResult> {
  return { runId: p.runId, files: await listFilesOfRun(daemon.runs.locate(p.runId).runDir) };
}

async function readRunFile({ daemon }: HandlerContext, p: ReadRunFileParams): Promise<ReadRunFileResult> {
  return readRunFileChunk(p.runId, daemon.runs.locate(p.runId).runDir, p);
}

/** A fine-tuning run made from a completed run; what needs no worker (results, subnet, checkpoint, settings) first. */
async function finetune({ daemon }: HandlerContext, p: FinetuneParams): Promise<RunResult> {
  const { runId, ...options } = p;
  const { runDir, status } = daemon.runs.locate(runId);
  // A run that is not completed is refused by startDerived (InvalidRunState), before these checks would say less.
  if (status === 'completed') await checkFinetuneSource(runDir, options);
  return { run: await daemon.runs.startDerived(runId, 'finetune', options) };
}

/** A search again: a derived run searching a completed run's trained supernet for another objective or constraints. */
async function searchAgain({ daemon }: HandlerContext, p: SearchAgainParams): Promise<RunResult> {
  const { runId, ...options } = p;
  return { run: await daemon.runs.startDerived(runId, 'search', options) };
}

async function deleteRun({ daemon }: HandlerContext, p: RunRef): Promise<DeleteRunResult> {
  const run = await daemon.runs.delete(p.runId);
  daemon.broadcast(RunStatusNotification, { run, deleted: true });
  return { run };
}

export const handlers: Record<RequestMethod, Handler> = {
  [Methods.hello]: hello,
  [Methods.hostInfo]: hostInfo,
  [Methods.startRun]: startRun,
  [Methods.stopRun]: stopRun,
  [Methods.pauseRun]: pauseRun,
  [Methods.resumeRun]: resumeRun,
  [Methods.listRuns]: listRuns,
  [Methods.attach]: attach,
  [Methods.detach]: detach,
  [Methods.exportSubnet]: exportSubnet,
  [Methods.measureLatencyTable]: measureLatencyTable,
  [Methods.shutdown]: shutdown,
  [Methods.startSyntheticRun]: startSyntheticRun,
  [Methods.describeSpace]: describeSpace,
  [Methods.getRunResults]: getRunResults,
  [Methods.getRunMeasurements]: getRunMeasurements,
  [Methods.getRunConfig]: getRunConfig,
  [Methods.listRunFiles]: listRunFiles,
  [Methods.readRunFile]: readRunFile,
  [Methods.deleteRun]: deleteRun,
  [Methods.checkConfig]: checkConfig,
  [Methods.finetune]: finetune,
  [Methods.searchAgain]: searchAgain,
};
