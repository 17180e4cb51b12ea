// `manta search <config>`: checks the config (schemas/load-config.ts: the path the daemon takes too), creates
// <runsDir>/<run id>/ (daemon/pipeline/run-folder.ts's scheme), runs the whole job in this process with a one-line
// progress display on stderr, then prints the Pareto front and where the report is.
// Ctrl-C stops after the current step with a checkpoint; `--resume <runDir>` continues such a run.
import { ProgressLine } from '../progress-line';
import { recordRunEnd, stopOnCtrlC } from '../run-here';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { ResolvedConfig } from '../../../schemas';
import { checkDataFiles, isConfigError, resolveConfig, type ConfigIssue } from '../../../schemas/load-config';
import type { Emit } from '../../protocol/events';
import { formatMetric, metricLabel, taskMetric } from '../../protocol/results';
import { UserError } from '../../protocol/user-error';
import type { JobPlacement } from '../../protocol/values';
import { runJob } from '../../pipeline';
import { CONFIG_FILE, createRunFolder, EVENTS_FILE, RUN_META_FILE } from '../../pipeline/run-folder';
import type { ResultsFile } from '../../search/results';
import { EventLog } from '../../service/event-log';
import { readHistory } from '../../service/jobs/config-job';
import { readRunMeta, writeRunMeta, type RunMeta } from '../../service/run-files';
import type { SearchAgainOptions } from '../../pipeline/derived';
import { stateDirFor } from '../../service/paths';
import { runDerivedCommand } from '../derived-run';
import { parseFlags, type Flags } from '../flags';
import { findRunDir } from './evaluate';

const USAGE = `usage: manta search <config.manta.json> [--backend auto|tensorflow|webgpu|wasm|cpu] [--runs-dir dir] [job flags]
       manta search --resume <runDir> [job flags]
       manta search --from <runDir|runId> [--objective macs|params|latency] [--max-macs n] [--max-params n] [--max-latency-ms x]
                    [--no-constraints] [--front-size n] [--state-dir dir]
         search a finished run again without retraining (a new run beside it; the constraint flags replace the
         run's search.constraints, the others keep the run's values)
job flags (training across hosts; run the same command on every host, the token in MANTA_JOB_TOKEN on each):
  --hosts a,b,…  --host-index i  --coordinator host:port  --bind address  [--workers-per-host n]`;

export async function searchCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(
    argv,
    {
      backend: 'string',
      'runs-dir': 'string',
      resume: 'string',
      help: 'boolean',
      hosts: 'string',
      'host-index': 'string',
      coordinator: 'string',
      bind: 'string',
      'workers-per-host': 'string',
      from: 'string',
      objective: 'string',
      'max-macs': 'string',
      'max-params': 'string',
      'max-latency-ms': 'string',
      'no-constraints': 'boolean',
      'front-size': 'string',
      'state-dir': 'string',
    },
    'manta search',
  );
  if (flags.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (typeof flags.from === 'string') return searchAgainCommand(flags);
  for (const f of SEARCH_AGAIN_FLAGS) {
    if (flags[f] !== undefined) throw new UserError(`--${f} belongs to a search again: give --from <run> too (a config's search is set in its search section)`, 'cli.flags');
  }
  const resumeDir = typeof flags.resume === 'string' ? resolve(flags.resume) : undefined;
  const configPath = resumeDir ? join(resumeDir, CONFIG_FILE) : flags._[0];
  if (!configPath || flags._.length > (resumeDir ? 0 : 1)) {
    process.stderr.write(USAGE + '\n');
    return 2;
  }
  const loaded = loadConfig(configPath);
  if (!loaded.ok) {
    for (const line of loaded.problems) process.stderr.write(line + '\n');
    return 2;
  }
  const { config, warnings } = loaded;
  if (typeof flags.backend === 'string') config.backend = flags.backend as ResolvedConfig['backend'];
  const placement = jobPlacement(flags, config);

  let runDir: string;
  let configDir: string;
  if (resumeDir) {
    runDir = resumeDir;
    configDir = await readConfigDir(runDir);
  } else {
    configDir = dirname(resolve(configPath));
    try {
      checkDataFiles(config, configDir, configPath);
    } catch (e) {
      if (!isConfigError(e)) throw e;
      for (const line of e.lines()) process.stderr.write(line + '\n');
      return 2;
    }
    const runsDir = resolve(configDir, typeof flags['runs-dir'] === 'string' ? flags['runs-dir'] : config.output.runsDir);
    runDir = (await createRunFolder(runsDir, config.name)).runDir;
  }
  const runId = basename(runDir);
  const earlier = resumeDir ? await readRunMeta(runDir).catch(() => undefined) : undefined;
  const meta: RunMeta = {
    format: 1,
    runId,
    name: config.name,
    createdAt: earlier?.createdAt ?? Date.now(),
    updatedAt: Date.now(),
    configDir,
    ...(earlier?.configPath ? { configPath: earlier.configPath } : resumeDir ? {} : { configPath: resolve(configPath) }),
    status: 'running',
    // This process runs the job: `manta delete` refuses the folder while it lives.
    workerPid: process.pid,
  };
  await writeRunMeta(runDir, meta);

  const display = new ProgressLine(process.stderr);
  const eventsFile = join(runDir, EVENTS_FILE);
  const log = await EventLog.open(eventsFile, (m) => display.note(`warning: ${m}`));
  // The earlier attempts' curves, read with the event log's reader (the job keeps those up to its checkpoint).
  const history = resumeDir ? await readHistory(eventsFile) : undefined;
  // What `evaluation` events' `accuracy` holds: the config names the task before any event does.
  const { metric } = taskMetric(config.task);
  const emit: Emit = (kind, data) => {
    log.append(kind, data);
    display.noteWarning(kind, data);
    if (kind === 'evaluation') {
      const d = data as { subnet: string; accuracy: number; split: string };
      display.note(`evaluation: ${d.subnet} subnet ${formatMetric(metric, d.accuracy)} (${d.split})`);
    }
  };

  const ctrlC = stopOnCtrlC(display, 'stopping after the current step (Ctrl-C again to quit at once)…');
  display.note(`run ${runId}: ${relative(process.cwd(), runDir) || '.'}`);
  if (!resumeDir) {
    // The config's warnings, as the daemon logs them into a run's events.
    for (const w of warnings) {
      display.note(`warning: ${w.path || '/'}: ${w.message}`);
      log.append('log', { level: 'warn', message: w.message });
    }
  }
  const result = await recordRunEnd({ runDir, meta, display, log, ctrlC }, () =>
    runJob(config, {
      runDir,
      configDir,
      emit,
      onProgress: (p) => display.update(p),
      resume: Boolean(resumeDir),
      signal: ctrlC.signal,
      ...(history ? { history } : {}),
      ...(placement ? { placement } : {}),
    }),
  );
  if (result.status === 'stopped') {
    process.stderr.write(`stopped. Continue with: manta search --resume ${relative(process.cwd(), runDir) || runDir}\n`);
    return 130;
  }
  process.stdout.write(formatFront(result.results!) + '\n');
  process.stdout.write(`report:  ${result.reportPath}\nresults: ${result.resultsPath}\n`);
  return 0;
}

const SEARCH_AGAIN_FLAGS = ['objective', 'max-macs', 'max-params', 'max-latency-ms', 'no-constraints', 'front-size', 'state-dir'] as const;

/** `manta search --from <run>`: a derived run searching the run's trained supernet for other goals. */
async function searchAgainCommand(flags: Flags): Promise<number> {
  if (flags._.length > 0 || flags.resume !== undefined) throw new UserError('manta search --from <run> takes no config file and no --resume: the run has its config', 'cli.flags');
  for (const f of ['backend', 'runs-dir', 'hosts', 'host-index', 'coordinator', 'bind', 'workers-per-host']) {
    if (flags[f] !== undefined) throw new UserError(`--${f} does not apply to a search again (it runs on this host with the run's config)`, 'cli.flags');
  }
  const options = searchAgainOptions(flags);
  const sourceDir = resolve(findRunDir(flags.from as string, resolve(typeof flags['state-dir'] === 'string' ? flags['state-dir'] : stateDirFor())));
  const { status, runDir, result } = await runDerivedCommand(sourceDir, 'search', options);
  if (status === 'stopped') {
    process.stderr.write(`stopped; the partial run is ${relative(process.cwd(), runDir) || runDir}; search again to start over.\n`);
    return 130;
  }
  process.stdout.write(formatFront(result.results!) + '\n');
  process.stdout.write(`report:  ${result.reportPath}\nresults: ${result.resultsPath}\n`);
  return 0;
}

/** The search-again flags as options; a bad value is refused naming its flag. */
export function searchAgainOptions(flags: Flags): SearchAgainOptions {
  const options: SearchAgainOptions = {};
  if (flags.objective !== undefined) {
    if (flags.objective !== 'macs' && flags.objective !== 'params' && flags.objective !== 'latency') {
      throw new UserError(`--objective must be macs, params or latency (got ${JSON.stringify(flags.objective)})`, 'cli.flags');
    }
    options.objective = flags.objective;
  }
  const positive = (flag: string, integer: boolean): number | undefined => {
    const v = flags[flag];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (typeof v !== 'string' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
      throw new UserError(`--${flag} must be a positive ${integer ? 'whole ' : ''}number (got ${JSON.stringify(v)})`, 'cli.flags');
    }
    return n;
  };
  const constraints = {
    ...(positive('max-macs', false) !== undefined ? { maxMacs: positive('max-macs', false) } : {}),
    ...(positive('max-params', false) !== undefined ? { maxParams: positive('max-params', false) } : {}),
    ...(positive('max-latency-ms', false) !== undefined ? { maxLatencyMs: positive('max-latency-ms', false) } : {}),
  };
  if (flags['no-constraints'] && Object.keys(constraints).length > 0) throw new UserError('--no-constraints cannot go with --max-… flags', 'cli.flags');
  if (flags['no-constraints'] || Object.keys(constraints).length > 0) options.constraints = constraints;
  const frontSize = positive('front-size', true);
  if (frontSize !== undefined) {
    if (frontSize > 100) throw new UserError('--front-size must be at most 100 (the config schema\'s search.frontSize)', 'cli.flags');
    options.frontSize = frontSize;
  }
  return options;
}

/** The job across hosts that the job flags describe (none without --hosts); the token comes from MANTA_JOB_TOKEN. */
function jobPlacement(flags: Record<string, unknown>, config: ResolvedConfig): JobPlacement | undefined {
  if (typeof flags.hosts !== 'string') {
    for (const f of ['host-index', 'coordinator', 'bind', 'workers-per-host']) {
      if (flags[f] !== undefined) throw new UserError(`--${f} belongs to a job across hosts: give --hosts too`, 'cli.flags');
    }
    return undefined;
  }
  const hosts = flags.hosts.split(',').map((h) => h.trim()).filter(Boolean);
  const index = Number(flags['host-index']);
  const coordinator = /^(.+):(\d{1,5})$/.exec(typeof flags.coordinator === 'string' ? flags.coordinator : '');
  const token = process.env.MANTA_JOB_TOKEN ?? '';
  if (!Number.isInteger(index)) throw new UserError('--host-index must say which of --hosts this is (0 for the first)', 'cli.flags');
  if (!coordinator) throw new UserError("--coordinator must be the first host's address and port as the others reach it, e.g. 10.0.0.1:29400", 'cli.flags');
  if (typeof flags.bind !== 'string') throw new UserError("--bind must be this host's address that the other hosts reach", 'cli.flags');
  if (!/^[0-9a-fA-F]{32,128}$/.test(token)) {
    throw new UserError('MANTA_JOB_TOKEN must hold the job\'s secret (32–128 hex digits, the same on every host), e.g. from `openssl rand -hex 32`', 'cli.flags');
  }
  const workers = flags['workers-per-host'] === undefined ? config.distributed.workersPerHost : Number(flags['workers-per-host']);
  if (workers === 'auto' || !Number.isInteger(workers) || workers < 1) {
    throw new UserError('a job across hosts needs the same worker count on every host: give --workers-per-host n, or a number in /distributed/workersPerHost', 'cli.flags');
  }
  return { hosts, hostIndex: index, workersPerHost: workers, coordinator: { host: coordinator[1], port: Number(coordinator[2]) }, bindAddress: flags.bind, token };
}

/**
 * Reads a config file and resolves it through schemas/load-config.ts (syntax, schema with defaults, checks across
 * fields: what the daemon's manta/startRun runs too); every problem as `file: /path: message`.
 */
export function loadConfig(file: string): { ok: true; config: ResolvedConfig; warnings: ConfigIssue[] } | { ok: false; problems: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, 'config.unreadable');
  }
  try {
    const { config, warnings } = resolveConfig({ text, source: file });
    return { ok: true, config, warnings };
  } catch (e) {
    if (!isConfigError(e)) throw e;
    return { ok: false, problems: e.lines() };
  }
}

async function readConfigDir(runDir: string): Promise<string> {
  try {
    return (await readRunMeta(runDir)).configDir;
  } catch {
    throw new UserError(`${runDir} is not a MANTA run directory (no readable ${RUN_META_FILE})`, 'run.open');
  }
}

function count(v: number): string {
  return v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : v >= 1e3 ? `${(v / 1e3).toFixed(1)}k` : String(v);
}

/** The front as a text table; the predicted/val/test columns in the task's headline metric (results' `task`). */
export function formatFront(r: ResultsFile): string {
  const metric = r.task?.metric ?? 'accuracy';
  const value = (v?: number): string => formatMetric(metric, v);
  const head = ['#', 'MACs', 'params', 'latency', 'predicted', 'val', 'test', 'from', 'arch (k/e per block, d per unit)'];
  const rows = r.front.map((p) => [
    String(p.index) + (p.dominated ? '*' : ''),
    count(p.macs),
    count(p.params),
    p.latencyMs === undefined ? '–' : `${p.latencyMs.toFixed(2)}ms`,
    value(p.predictedAccuracy),
    value(p.validationAccuracy),
    value(p.testAccuracy),
    p.source ?? '–',
    `d=${p.arch.d.join('')} r=${p.arch.r} w=${p.arch.w}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padStart(widths[i]))).join('  ');
  // Only a lower-is-better metric needs saying: a percentage column reads as accuracy already.
  const direction = r.task && !r.task.higherIsBetter ? `; ${metricLabel(metric)}, lower is better` : '';
  const derived = r.derivedFrom ? `, searched again from ${r.derivedFrom.runId}` : '';
  const lines = [`Pareto front of ${r.name} (${r.objective}${direction}${derived}; the best of every subnet measured):`, line(head), ...rows.map(line)];
  const p = r.predictor;
  if (p && Number.isFinite(p.kendallTau)) {
    const ci = p.kendallTauCI && Number.isFinite(p.kendallTauCI.low) ? ` (95% CI ${p.kendallTauCI.low.toFixed(2)}–${p.kendallTauCI.high.toFixed(2)})` : '';
    lines.push(`predictor: Kendall's tau ${p.kendallTau.toFixed(3)}${ci} on ${p.heldOutSize} held-out subnets`);
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}
