// The MANTA: commands, as a table of small named factories. A command that needs a config or a run finds one (the
// argument from a tree or CodeLens, the active editor, or a pick) and says so when there is none, instead of
// failing; one that needs the daemon connects first and reports a failed connection itself.
import * as vscode from 'vscode';
import { basename, dirname, resolve as resolvePath } from 'node:path';
import {
  DeleteRunRequest,
  ExportSubnetRequest,
  FinetuneRequest,
  formatMetric,
  GetRunResultsRequest,
  ListRunFilesRequest,
  MantaErrorCodes,
  PauseRunRequest,
  ResumeRunRequest,
  SearchAgainRequest,
  StartRunRequest,
  StopRunRequest,
  type ExportFormat,
  type FinetuneParams,
  type RunStatus,
  type RunSummary,
  type SearchAgainParams,
} from '../daemon/protocol';
import { DaemonRequestError } from './hosts/connection';
import { downloadRunFile, runFront, type Requester } from './hosts/run-files';
import { CONFIG_GLOB, isConfigDocument } from './language-client';
import { NotConnectedError, type Ctx } from './ctx';
import { newConfigSnippet } from './scaffold';
import type { RunRef } from './views/tree-model';
import { pointAccuracy } from './views/run-progress';
import { MonitorPanel } from './panels/monitor-panel';
import { ReportPanel } from './panels/report-panel';
import { VisualizerPanel } from './panels/visualizer-panel';
import {
  addHost,
  connectHost as connectHostTo,
  disconnectHost,
  fetchRunFiles,
  forgetSshPassphrases,
  pickSearchHost,
  runRefOf,
  startSearchOn,
  startSearchOnHosts as startOnHosts,
  uploadData,
} from './remote-commands';

type Handler = (...args: unknown[]) => unknown;
type CommandFactory = (ctx: Ctx) => Handler;

const isRunRef = (v: unknown): v is RunRef =>
  typeof v === 'object' && v !== null && typeof (v as RunRef).hostId === 'string' && typeof (v as RunRef).runId === 'string';

/** The config a command acts on: an explicit URI, the active *.manta.json, or one picked from the workspace. */
async function resolveConfig(arg: unknown): Promise<vscode.Uri | undefined> {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string' && arg.includes(':')) return vscode.Uri.parse(arg);
  const active = vscode.window.activeTextEditor?.document;
  if (active && isConfigDocument(active)) return active.uri;
  const found = await vscode.workspace.findFiles(CONFIG_GLOB, '**/node_modules/**', 50);
  if (found.length === 0) {
    const pick = await vscode.window.showInformationMessage('MANTA: there is no *.manta.json search config in this workspace.', 'New Search Config');
    if (pick) await vscode.commands.executeCommand('manta.newConfig');
    return undefined;
  }
  if (found.length === 1) return found[0];
  const item = await vscode.window.showQuickPick(
    found.map((uri) => ({ label: basename(uri.fsPath), description: vscode.workspace.asRelativePath(uri), uri })),
    { placeHolder: 'Which search config?' },
  );
  return item?.uri;
}

/** A run in one of `statuses` — from the argument, the only candidate, or a pick; says so when there is none. */
async function resolveRun(ctx: Ctx, arg: unknown, statuses: readonly RunStatus[] | 'any', what: string): Promise<(RunRef & { run: RunSummary }) | undefined> {
  const given = runRefOf(arg);
  if (given) {
    const run = ctx.host(given.hostId)?.run(given.runId);
    if (run) return { ...given, run };
  }
  // Runs live in the daemon: connect the local one (quietly, when possible) so that the list is current; SSH hosts
  // are asked only when the user connects them.
  for (const h of ctx.hosts) if (!h.isConnected && h.kind === 'local') await ctx.connected(h).catch(() => undefined);
  const candidates = ctx.hosts.flatMap((h) =>
    h.snapshot().runs.filter((r) => statuses === 'any' || statuses.includes(r.status)).map((run) => ({ hostId: h.id, runId: run.runId, run, host: h.label })),
  );
  if (candidates.length === 0) {
    const known = ctx.hosts.some((h) => h.isConnected);
    void vscode.window.showInformationMessage(
      known ? `MANTA: there is no run ${what}.` : `MANTA: no daemon is connected, so there is no run ${what}.`,
    );
    return undefined;
  }
  if (candidates.length === 1) return candidates[0];
  const item = await vscode.window.showQuickPick(
    candidates.map((c) => ({
      label: c.run.name,
      description: `${c.run.status} · ${new Date(c.run.createdAt).toLocaleString()}`,
      detail: `${c.host} · ${c.run.runId}`,
      c,
    })),
    { placeHolder: `Which run ${what}?` },
  );
  return item?.c;
}

function explainRequestError(e: unknown, doing: string): void {
  if (e instanceof NotConnectedError) return; // already shown, with Retry and Show Log
  if (e instanceof DaemonRequestError) {
    const problems = e.data?.problems ?? [];
    if (e.code === MantaErrorCodes.InvalidConfig && problems.length > 0) {
      const first = problems[0];
      void vscode.window
        .showErrorMessage(
          `MANTA: the config has ${problems.length} problem${problems.length === 1 ? '' : 's'}, e.g. ${first.path || '(root)'}: ${first.message}`,
          'Show Problems',
        )
        .then((pick) => pick && vscode.commands.executeCommand('workbench.actions.view.problems'));
      return;
    }
    void vscode.window.showErrorMessage(`MANTA: ${doing} failed: ${e.message}`);
    return;
  }
  void vscode.window.showErrorMessage(`MANTA: ${doing} failed: ${(e as Error).message ?? String(e)}`);
}

/** What Start Search may be given besides the config (other extensions, tests): the host to run on. */
interface StartSearchOptions {
  hostId?: string;
}

/** Start Search: on the local daemon, or — when an SSH host is connected — on the host picked (see
 * remote-commands.ts for how a config starts on an SSH host). */
const startSearch: CommandFactory = (ctx) => async (arg, options) => {
  const uri = await resolveConfig(arg);
  if (!uri) return undefined;
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (doc?.isDirty) await doc.save();
  if (uri.scheme !== 'file') {
    void vscode.window.showWarningMessage('MANTA: save the config to a file first; the daemon reads it from disk.');
    return undefined;
  }
  const target = await pickSearchHost(ctx, (options as StartSearchOptions | undefined)?.hostId);
  if (!target) return undefined;
  if (target.kind === 'ssh') {
    try {
      return await startSearchOn(ctx, target, uri);
    } catch (e) {
      explainRequestError(e, `Start Search on ${target.label}`);
      return undefined;
    }
  }
  try {
    const host = await ctx.connected(target);
    const { run } = await host.request(StartRunRequest, { configPath: uri.fsPath });
    host.noteRun(run);
    ctx.log.info(`started run ${run.runId} (${run.runDir})`);
    ctx.openMonitor({ hostId: host.id, runId: run.runId });
    return run.runId;
  } catch (e) {
    if (e instanceof DaemonRequestError && e.code === MantaErrorCodes.PathOutsideRoots) {
      void offerToAllow(ctx, uri, e);
      return undefined;
    }
    explainRequestError(e, 'Start Search');
    return undefined;
  }
};

/** The runs folder a config names, resolved as the daemon resolves it (against the config's folder). */
function runsFolderOf(uri: vscode.Uri): string | undefined {
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  try {
    const config = JSON.parse(doc?.getText() ?? '') as { output?: { runsDir?: unknown } };
    const runsDir = config.output?.runsDir;
    return resolvePath(dirname(uri.fsPath), typeof runsDir === 'string' ? runsDir : 'runs');
  } catch {
    return undefined;
  }
}

/**
 * The daemon refused to write where the config's runs go: say so with the daemon's message (the folder and the fix)
 * and offer the fix — "Allow this folder" adds it to manta.daemon.allowedRoots, restarts the daemon the extension
 * started, and starts the search again; for the user's own daemon, the command line that allows it.
 */
async function offerToAllow(ctx: Ctx, uri: vscode.Uri, e: DaemonRequestError): Promise<void> {
  const problem = e.data?.problems?.find((p) => p.path === '/output/runsDir');
  const folder = problem ? runsFolderOf(uri) : undefined;
  const actions = folder ? (ctx.localDaemonIsUsers ? ['Copy Command'] : ['Allow this folder']) : [];
  const pick = await vscode.window.showErrorMessage(`MANTA: Start Search: ${e.message}`, ...actions);
  if (!folder) return;
  if (pick === 'Copy Command') {
    await vscode.env.clipboard.writeText(`manta daemon --allow-roots ${folder}`);
    void vscode.window.showInformationMessage(`MANTA: copied 'manta daemon --allow-roots ${folder}': restart your daemon with it, then start the search again.`);
  } else if (pick === 'Allow this folder' && (await ctx.allowFolder(folder))) {
    await vscode.commands.executeCommand('manta.startSearch', uri);
  }
}

function runAction(
  statuses: readonly RunStatus[] | 'any',
  what: string,
  doing: string,
  act: (ctx: Ctx, ref: RunRef & { run: RunSummary }, ...rest: unknown[]) => Promise<unknown>,
): CommandFactory {
  return (ctx) => async (arg, ...rest) => {
    const ref = await resolveRun(ctx, arg, statuses, what);
    if (!ref) return undefined;
    try {
      return await act(ctx, ref, ...rest);
    } catch (e) {
      explainRequestError(e, doing);
      return undefined;
    }
  };
}

const stopSearch = runAction(['running', 'paused', 'interrupted'], 'to stop', 'Stop Search', async (ctx, ref) => {
  const host = await ctx.connected(ctx.host(ref.hostId));
  host.noteRun((await host.request(StopRunRequest, { runId: ref.runId })).run);
});

const pauseSearch = runAction(['running'], 'to pause', 'Pause', async (ctx, ref) => {
  const host = await ctx.connected(ctx.host(ref.hostId));
  host.noteRun((await host.request(PauseRunRequest, { runId: ref.runId })).run);
});

const resumeSearch = runAction(['paused', 'interrupted'], 'to resume', 'Resume', async (ctx, ref) => {
  const host = await ctx.connected(ctx.host(ref.hostId));
  host.noteRun((await host.request(ResumeRunRequest, { runId: ref.runId })).run);
});

/** Pause when running, resume when paused: one key for both. */
const pauseOrResume: CommandFactory = (ctx) => async (arg) => {
  const ref = await resolveRun(ctx, arg, ['running', 'paused', 'interrupted'], 'to pause or resume');
  if (!ref) return undefined;
  return vscode.commands.executeCommand(ref.run.status === 'running' ? 'manta.pauseSearch' : 'manta.resumeSearch', { hostId: ref.hostId, runId: ref.runId });
};

const openMonitor = runAction('any', 'to monitor', 'Open Training Monitor', async (ctx, ref) => {
  ctx.openMonitor(ref);
});

const compareRun = runAction('any', 'to compare', 'Compare Runs', async (ctx, ref) => {
  ctx.openMonitor(ref, true);
});

const showSupernet: CommandFactory = (ctx) => async (arg) => {
  if (isRunRef(arg)) {
    const run = ctx.host(arg.hostId)?.run(arg.runId);
    if (run) {
      VisualizerPanel.show(ctx, { kind: 'run', ref: { hostId: arg.hostId, runId: arg.runId }, name: run.name });
      return undefined;
    }
  }
  const active = vscode.window.activeTextEditor?.document;
  if (typeof arg === 'string' || arg instanceof vscode.Uri || (active && isConfigDocument(active))) {
    const uri = await resolveConfig(arg);
    if (uri) VisualizerPanel.show(ctx, { kind: 'config', uri: uri.toString() });
    return undefined;
  }
  // No config at hand: a run's supernet, else any config of the workspace.
  const monitored = MonitorPanel.open?.runRefs[0];
  if (monitored) return vscode.commands.executeCommand('manta.showSupernet', monitored);
  const uri = await resolveConfig(undefined);
  if (uri) VisualizerPanel.show(ctx, { kind: 'config', uri: uri.toString() });
  return undefined;
};

const newConfig: CommandFactory = () => async () => {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  let name = 'my-search';
  const exists = (uri: vscode.Uri) => vscode.workspace.fs.stat(uri).then(() => true, () => false);
  for (let i = 2; folder && (await exists(vscode.Uri.joinPath(folder, `${name}.manta.json`))); i++) name = `my-search-${i}`;
  const target = folder ? vscode.Uri.joinPath(folder, `${name}.manta.json`) : vscode.Uri.parse(`untitled:${name}.manta.json`);
  if (folder) await vscode.workspace.fs.writeFile(target, new Uint8Array());
  const doc = await vscode.workspace.openTextDocument(target);
  const editor = await vscode.window.showTextDocument(doc);
  await editor.insertSnippet(new vscode.SnippetString(newConfigSnippet(name)), new vscode.Position(0, 0));
  return target;
};

/** What Export Subnet may be given besides the run (other extensions, tests): the front point, the format and the
 * folder to save into; each one missing is asked for. */
interface ExportSubnetOptions {
  index?: number;
  format?: ExportFormat;
  destination?: string | vscode.Uri;
}

/**
 * Which entry of the run's Pareto front to `verb` (export, fine-tune), picked by the user from its metric, costs and
 * shape; undefined when the user cancels, or when the front is empty (said so: it has none `purpose`).
 */
async function pickFrontIndex(request: Requester, ref: RunRef & { run: RunSummary }, verb: string, purpose: string): Promise<number | undefined> {
  const { front, task } = await runFront(request, ref.runId);
  if (front.length === 0) {
    void vscode.window.showInformationMessage(`MANTA: run ${ref.run.name} has no Pareto front ${purpose}.`);
    return undefined;
  }
  const metric = task?.metric ?? 'accuracy';
  const pick = await vscode.window.showQuickPick(
    front.map((p, i) => ({
      label: `#${i + 1}: ${metric} ${formatMetric(metric, pointAccuracy(p))}`,
      description: `${(p.macs / 1e6).toFixed(2)} MMACs · ${(p.params / 1e6).toFixed(2)} M params${p.latencyMs !== undefined ? ` · ${p.latencyMs.toFixed(2)} ms` : ''}`,
      detail: `r ${p.arch.r} · w ${p.arch.w} · d [${p.arch.d.join(', ')}]`,
      index: i,
    })),
    { placeHolder: `Which subnet to ${verb}?` },
  );
  return pick?.index;
}

/** Asks the run's daemon to export a subnet of its front, then downloads the exported files through the protocol
 * into a folder the user picks (`<folder>/<run name>-subnet-<n>/`). */
const exportSubnet = runAction(['completed'], 'with a Pareto front to export from', 'Export Subnet', async (ctx, ref, options) => {
  const opts = (typeof options === 'object' && options !== null ? options : {}) as ExportSubnetOptions;
  const host = await ctx.connected(ctx.host(ref.hostId));
  const request = host.request.bind(host);
  const index = opts.index ?? (await pickFrontIndex(request, ref, 'export', 'to export'));
  if (index === undefined) return undefined;
  let format = opts.format;
  if (format === undefined) {
    const formats: { label: string; description: string; format: ExportFormat }[] = [
      { label: 'tfjs', description: 'model.json + weights.bin: a stock TensorFlow.js layers model (tf.loadLayersModel)', format: 'tfjs' },
      { label: 'ONNX', description: 'model.onnx (opset 17, NCHW inputs, batch norm folded) + README.md: ONNX Runtime and other ONNX tools', format: 'onnx' },
    ];
    const picked = await vscode.window.showQuickPick(formats, { placeHolder: 'Export as?' });
    if (!picked) return undefined;
    format = picked.format;
  }
  let destination = typeof opts.destination === 'string' ? vscode.Uri.file(opts.destination) : opts.destination;
  if (!destination) {
    const picked = await vscode.window.showOpenDialog({
      canSelectFiles: false,
      canSelectFolders: true,
      canSelectMany: false,
      openLabel: 'Save Here',
      title: `MANTA: where to save subnet #${index + 1} of ${ref.run.name}`,
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    });
    destination = picked?.[0];
    if (!destination) return undefined;
  }
  const which = index;
  const exportFormat = format;
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `MANTA: exporting subnet #${which + 1} of ${ref.run.name}${exportFormat === 'onnx' ? ' as ONNX' : ''}` },
    () => host.request(ExportSubnetRequest, { runId: ref.runId, index: which, format: exportFormat }),
  );
  if (!result.runFiles || result.runFiles.length === 0) throw new Error(`the daemon wrote the subnet to ${result.dir}, outside the run's subnets folder, so it cannot be downloaded`);
  const target = vscode.Uri.joinPath(destination, `${ref.run.name}-subnet-${which}`);
  await vscode.workspace.fs.createDirectory(target);
  const files: string[] = [];
  for (const file of result.runFiles) {
    const bytes = await downloadRunFile(request, ref.runId, file);
    const local = vscode.Uri.joinPath(target, file.slice(file.lastIndexOf('/') + 1));
    await vscode.workspace.fs.writeFile(local, bytes);
    files.push(local.fsPath);
  }
  void vscode.window.showInformationMessage(`MANTA: saved subnet #${which + 1} of ${ref.run.name} to ${target.fsPath}`, 'Reveal').then((pick) => pick && revealLocal(target));
  return { dir: target.fsPath, files, format: exportFormat, arch: result.arch, validationAccuracy: result.validationAccuracy, testAccuracy: result.testAccuracy, macs: result.macs, params: result.params };
});

/** What Fine-tune Subnet may be given besides the run (other extensions, tests): the front point and the settings
 * that replace the run config's `finetune` section; a missing index is picked, missing epochs asked for. */
type FinetuneSubnetOptions = Omit<FinetuneParams, 'runId' | 'arch'>;

/**
 * Fine-tune Subnet…: a front entry of a completed run trained further by its daemon, as a new run made from it (the
 * run itself is left as it is), followed in the training monitor; its results say test accuracy before and after.
 */
const finetuneSubnet = runAction(['completed'], 'with a Pareto front to fine-tune from', 'Fine-tune Subnet', async (ctx, ref, options) => {
  const opts = (typeof options === 'object' && options !== null ? options : {}) as FinetuneSubnetOptions;
  const host = await ctx.connected(ctx.host(ref.hostId));
  const index = opts.index ?? (await pickFrontIndex(host.request.bind(host), ref, 'fine-tune', 'to fine-tune from'));
  if (index === undefined) return undefined;
  let epochs = opts.epochs;
  if (epochs === undefined && Object.keys(opts).length === 0) {
    const typed = await vscode.window.showInputBox({
      title: `MANTA: fine-tune subnet #${index + 1} of ${ref.run.name}`,
      prompt: "Epochs of fine-tuning (empty: the run config's finetune.epochs, 3 unless it says otherwise)",
      validateInput: (v) => (v.trim() === '' || (Number(v) > 0 && Number(v) <= 1000) ? undefined : 'a number of epochs above 0 (at most 1000), or empty'),
    });
    if (typed === undefined) return undefined;
    if (typed.trim() !== '') epochs = Number(typed);
  }
  const { run } = await host.request(FinetuneRequest, { ...opts, runId: ref.runId, index, ...(epochs === undefined ? {} : { epochs }) });
  host.noteRun(run);
  ctx.log.info(`fine-tuning subnet #${index + 1} of run ${ref.runId} as run ${run.runId} (${run.runDir})`);
  ctx.openMonitor({ hostId: host.id, runId: run.runId });
  return run.runId;
});

/** What Search Again may be given besides the run (other extensions, tests): the objective, constraints and front
 * size; with none given, the objective and a bound on it are asked for. */
type SearchAgainOptions = Omit<SearchAgainParams, 'runId'>;

/** The objectives as Search Again offers them, with the unit its bound is typed in. */
const SEARCH_OBJECTIVES = [
  { objective: 'macs', label: 'MACs', unit: 'MMACs', scale: 1e6, constraint: 'maxMacs' },
  { objective: 'params', label: 'Parameters', unit: 'M parameters', scale: 1e6, constraint: 'maxParams' },
  { objective: 'latency', label: 'Latency', unit: 'ms', scale: 1, constraint: 'maxLatencyMs' },
] as const;

/**
 * Search Again…: a completed run's trained supernet searched for another objective or bound by its daemon, without
 * retraining, as a new run made from it (the run itself is left as it is), followed in the training monitor.
 */
const searchAgain = runAction(['completed'], 'to search again', 'Search Again', async (ctx, ref, options) => {
  let opts = (typeof options === 'object' && options !== null ? options : {}) as SearchAgainOptions;
  const host = await ctx.connected(ctx.host(ref.hostId));
  if (Object.keys(opts).length === 0) {
    const pick = await vscode.window.showQuickPick(
      SEARCH_OBJECTIVES.map((o) => ({ label: o.label, description: `trade accuracy against ${o.unit}`, o })),
      { title: `MANTA: search ${ref.run.name} again`, placeHolder: 'Objective of the new search' },
    );
    if (!pick) return undefined;
    const o = pick.o;
    const typed = await vscode.window.showInputBox({
      title: `MANTA: search ${ref.run.name} again for ${o.label.toLowerCase()}`,
      prompt: `Upper bound in ${o.unit} (empty: the run's own constraints)`,
      validateInput: (v) => (v.trim() === '' || Number(v) > 0 ? undefined : `a number of ${o.unit} above 0, or empty`),
    });
    if (typed === undefined) return undefined;
    opts = { objective: o.objective, ...(typed.trim() === '' ? {} : { constraints: { [o.constraint]: Number(typed) * o.scale } }) };
  }
  const { run } = await host.request(SearchAgainRequest, { ...opts, runId: ref.runId });
  host.noteRun(run);
  ctx.log.info(`searching run ${ref.runId} again as run ${run.runId} (${run.runDir})`);
  ctx.openMonitor({ hostId: host.id, runId: run.runId });
  return run.runId;
});

/** The run's report.html, fetched through the protocol, in a webview panel with a strict policy; a run without a
 * report but with results gets its results.json as an untitled JSON document. */
const openRunReport = runAction(['completed', 'stopped', 'failed'], 'with a report', 'Open Run Report', async (ctx, ref) => {
  const host = await ctx.connected(ctx.host(ref.hostId));
  const { files } = await host.request(ListRunFilesRequest, { runId: ref.runId });
  const has = (kind: string) => files.some((f) => f.file === kind);
  if (has('report')) {
    const html = (await downloadRunFile(host.request.bind(host), ref.runId, 'report')).toString('utf8');
    ReportPanel.show({ hostId: ref.hostId, runId: ref.runId }, ref.run.name, html);
    return { runId: ref.runId, shown: 'report', bytes: Buffer.byteLength(html) };
  }
  if (has('results')) {
    const { results } = await host.request(GetRunResultsRequest, { runId: ref.runId });
    const doc = await vscode.workspace.openTextDocument({ language: 'json', content: JSON.stringify(results, null, 2) + '\n' });
    await vscode.window.showTextDocument(doc);
    return { runId: ref.runId, shown: 'results', bytes: Buffer.byteLength(doc.getText()) };
  }
  void vscode.window.showInformationMessage(`MANTA: run ${ref.run.name} has no report yet (it is ${ref.run.status}).`);
  return undefined;
});

/** The monitor on a run's Pareto front (the button of the run-ended notification, the Runs view's menu). */
const showParetoFront = runAction(['completed', 'stopped', 'failed', 'running'], 'whose Pareto front to show', 'Show Pareto Front', async (ctx, ref) => {
  ctx.openMonitor({ hostId: ref.hostId, runId: ref.runId }, false, 'pareto');
  return ref.runId;
});

/** Shows a folder of this machine (the extension's own downloads) in the Explorer or the OS. */
async function revealLocal(uri: vscode.Uri): Promise<void> {
  if (vscode.workspace.getWorkspaceFolder(uri)) await vscode.commands.executeCommand('revealInExplorer', uri);
  else await vscode.commands.executeCommand('revealFileInOS', uri);
}

/** The run folder is on the daemon's host, which may be another machine: say where, and offer to copy the path. */
const revealRunFolder = runAction('any', 'whose folder to show', 'Copy Run Folder Path', async (ctx, ref) => {
  const where = ctx.host(ref.hostId)?.label ?? ref.hostId;
  const pick = await vscode.window.showInformationMessage(`MANTA: run ${ref.run.name} is in ${ref.run.runDir} on the daemon's host (${where}).`, 'Copy Path');
  if (pick) await vscode.env.clipboard.writeText(ref.run.runDir);
  return ref.run.runDir;
});

const FINISHED: readonly RunStatus[] = ['completed', 'stopped', 'failed', 'interrupted'];

/** Deletes a run that is not active, on its daemon, after a modal confirmation (`{confirmed: true}` as the second
 * argument skips it, for other extensions and tests). */
const deleteRun: CommandFactory = (ctx) => async (arg, options) => {
  const ref = await resolveRun(ctx, arg, FINISHED, 'to delete');
  if (!ref) return false;
  const host = ctx.host(ref.hostId);
  const confirmed =
    (options as { confirmed?: unknown } | undefined)?.confirmed === true ||
    (await vscode.window.showWarningMessage(
      `Delete the run ${ref.run.name}?`,
      { modal: true, detail: `Its folder on the daemon's host (${host?.label ?? ref.hostId}) goes for good: checkpoints, results, report and exported subnets.\n${ref.run.runDir}` },
      'Delete',
    )) === 'Delete';
  if (!confirmed) return false;
  try {
    const connected = await ctx.connected(host);
    await connected.request(DeleteRunRequest, { runId: ref.runId });
    connected.forgetRun(ref.runId);
    return true;
  } catch (e) {
    explainRequestError(e, 'Delete Run');
    return false;
  }
};

const connectHost: CommandFactory = (ctx) => (arg) => connectHostTo(ctx, arg);

/** Start Search on Several Hosts: one job over connected hosts (remote-commands.ts). */
const startSearchOnHosts: CommandFactory = (ctx) => async (arg) => {
  const uri = await resolveConfig(arg);
  if (!uri) return undefined;
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (doc?.isDirty) await doc.save();
  try {
    return await startOnHosts(ctx, uri);
  } catch (e) {
    explainRequestError(e, 'Start Search on Several Hosts');
    return undefined;
  }
};

/** Fetch Run Files to Workspace: every file of a run, through the protocol (a second argument: the folder to put
 * `manta-runs/` in, for other extensions and tests). */
const fetchRun = runAction('any', 'whose files to fetch', 'Fetch Run Files', async (ctx, ref, destination) =>
  fetchRunFiles(ctx, ref, typeof destination === 'string' ? vscode.Uri.file(destination) : destination instanceof vscode.Uri ? destination : undefined),
);

const uploadDataFolder: CommandFactory = (ctx) => async (arg) => {
  try {
    return await uploadData(ctx, arg);
  } catch (e) {
    explainRequestError(e, 'Upload Data Folder');
    return undefined;
  }
};

const addSshHost: CommandFactory = (ctx) => () => addHost(ctx);
const disconnect: CommandFactory = (ctx) => (arg) => disconnectHost(ctx, arg);
const forgetPassphrases: CommandFactory = (ctx) => () => forgetSshPassphrases(ctx);

const refresh: CommandFactory = (ctx) => async () => {
  await ctx.ssh.rebuild(); // ~/.ssh/config may have changed
  for (const h of ctx.hosts) if (h.isConnected) await h.refresh().catch((e: unknown) => ctx.log.warn(`refresh ${h.label}: ${(e as Error).message}`));
};

const showLog: CommandFactory = (ctx) => () => ctx.log.show();

export const COMMANDS: Record<string, CommandFactory> = {
  'manta.startSearch': startSearch,
  'manta.stopSearch': stopSearch,
  'manta.pauseSearch': pauseSearch,
  'manta.resumeSearch': resumeSearch,
  'manta.pauseOrResume': pauseOrResume,
  'manta.openMonitor': openMonitor,
  'manta.compareRun': compareRun,
  'manta.showSupernet': showSupernet,
  'manta.newConfig': newConfig,
  'manta.exportSubnet': exportSubnet,
  'manta.finetuneSubnet': finetuneSubnet,
  'manta.searchAgain': searchAgain,
  'manta.openRunReport': openRunReport,
  'manta.showParetoFront': showParetoFront,
  'manta.revealRunFolder': revealRunFolder,
  'manta.deleteRun': deleteRun,
  'manta.connectHost': connectHost,
  'manta.disconnectHost': disconnect,
  'manta.addHost': addSshHost,
  'manta.startSearchOnHosts': startSearchOnHosts,
  'manta.fetchRun': fetchRun,
  'manta.uploadData': uploadDataFolder,
  'manta.forgetSshPassphrases': forgetPassphrases,
  'manta.refresh': refresh,
  'manta.showLog': showLog,
};

export function registerCommands(ctx: Ctx): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([id, factory]) => vscode.commands.registerCommand(id, factory(ctx)));
}

