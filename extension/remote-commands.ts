// The commands of remote hosts: choosing where Start Search runs (the local daemon or an SSH host), a config started
// on an SSH host (sent as an object with its folder on the host, checked there first, missing data uploaded from the
// workspace), one search over several hosts, fetching a run's files into the workspace, uploading a data folder,
// adding, connecting and disconnecting SSH hosts, and forgetting SSH passphrases. Everything of a run comes through
// the daemon's protocol; only data uploads go over SFTP.
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs, statSync } from 'node:fs';
import { hostname as localHostname, homedir, userInfo } from 'node:os';
import * as path from 'node:path';
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser/lib/esm/main.js';
import {
  CheckConfigRequest,
  ListRunFilesRequest,
  MantaErrorCodes,
  StartRunRequest,
  StopRunRequest,
  type CheckConfigParams,
  type CheckConfigResult,
  type ParamProblem,
  type RunSummary,
  type StartRunParams,
} from '../daemon/protocol';
import type { MantaConfig } from '../schemas';
import { DaemonRequestError } from './hosts/connection';
import type { Host } from './hosts/host';
import { downloadRunFile } from './hosts/run-files';
import { exec, shellQuote } from './hosts/ssh/remote';
import { UploadCancelled, uploadFolder } from './hosts/ssh/upload-folder';
import { LOCAL_HOST_ID, NotConnectedError, type Ctx } from './ctx';
import {
  checkHostName,
  dataUploads,
  expandHome,
  fetchFolder,
  hostWorkDir,
  jobPlacements,
  localRunFileName,
  mergeUploads,
  parseCoordinator,
  parseUserHostPort,
  DEFAULT_JOB_PORT,
} from './ssh-ui/remote-plan';
import { UploadIncrements } from './ssh-ui/watchdog';
import type { RunRef, TreeNode } from './views/tree-model';

const MB = (n: number) => (n / 1048576).toFixed(1);

/** A host id from a command argument: the id itself, or a Hosts view item (its id is the host's). */
export function hostIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (typeof arg === 'object' && arg !== null && typeof (arg as TreeNode).id === 'string' && typeof (arg as TreeNode).label === 'string') return (arg as TreeNode).id;
  return undefined;
}

/** A run reference from a command argument: a RunRef, or a Runs view item (its click command carries the ref). */
export function runRefOf(arg: unknown): RunRef | undefined {
  const isRef = (v: unknown): v is RunRef => typeof v === 'object' && v !== null && typeof (v as RunRef).hostId === 'string' && typeof (v as RunRef).runId === 'string';
  if (isRef(arg)) return { hostId: arg.hostId, runId: arg.runId };
  const clicked = (arg as TreeNode | undefined)?.command?.arguments?.[0];
  return isRef(clicked) ? { hostId: clicked.hostId, runId: clicked.runId } : undefined;
}

function isLive(h: Host): boolean {
  const k = h.snapshot().state.kind;
  return k === 'connected' || k === 'connecting' || k === 'reconnecting';
}

/**
 * Where Start Search runs: `hostId` when given; else the local host, unless an SSH host is connected — then a pick,
 * the local host first, connected SSH hosts next, the others (which connect first) last. Undefined: cancelled.
 */
export async function pickSearchHost(ctx: Ctx, hostId?: string): Promise<Host | undefined> {
  if (hostId) {
    const h = ctx.host(hostId);
    if (!h) void vscode.window.showErrorMessage(`MANTA: there is no host '${hostId}'.`);
    return h;
  }
  const ssh = ctx.ssh.hosts;
  if (!ssh.some(isLive)) return ctx.localHost;
  const ordered = [ctx.localHost, ...ssh.filter(isLive), ...ssh.filter((h) => !isLive(h))];
  const pick = await vscode.window.showQuickPick(
    ordered.map((h) => ({
      label: h.kind === 'ssh' ? `$(remote) ${h.label}` : `$(vm) ${h.label}`,
      description: h.kind === 'ssh' ? addressOf(ctx, h) : undefined,
      detail: isLive(h) ? describeHost(h) : 'not connected: connects first',
      host: h,
    })),
    { placeHolder: 'Where should the search run?' },
  );
  return pick?.host;
}

function addressOf(ctx: Ctx, h: Host): string | undefined {
  const s = ctx.ssh.spec(h.id);
  return s ? `${s.user}@${s.hostName}:${s.port}` : undefined;
}

function describeHost(h: Host): string {
  const i = h.snapshot().info;
  if (!i) return h.snapshot().state.kind;
  const gpus = i.gpuEngine?.gpus.length ?? 0;
  return [`${i.hostname}`, i.defaultBackend ? `${i.defaultBackend.backend} · ${i.defaultBackend.device}` : '', gpus ? `${gpus} GPU${gpus === 1 ? '' : 's'}` : '', `${i.activeRuns} active run${i.activeRuns === 1 ? '' : 's'}`]
    .filter(Boolean)
    .join(' · ');
}

/** The config's text as the editor has it (saved or not), else as the file has it. */
async function configText(uri: vscode.Uri): Promise<string> {
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  return doc ? doc.getText() : fs.readFile(uri.fsPath, 'utf8');
}

function parseConfig(text: string, uri: vscode.Uri): MantaConfig | undefined {
  const errors: ParseError[] = [];
  const value = parseJsonc(text, errors, { allowTrailingComma: true }) as unknown;
  if (errors.length > 0 || typeof value !== 'object' || value === null || Array.isArray(value)) {
    const first = errors[0];
    void vscode.window.showErrorMessage(`MANTA: ${path.basename(uri.fsPath)} is not a JSON object${first ? ` (${printParseErrorCode(first.error)} at offset ${first.offset})` : ''}; fix it first.`);
    return undefined;
  }
  return value as MantaConfig;
}

/** The workspace folder a config belongs to (else its own folder). */
function workspaceOf(uri: vscode.Uri): { name: string; dir: string } {
  const ws = vscode.workspace.getWorkspaceFolder(uri) ?? vscode.workspace.workspaceFolders?.[0];
  return ws ? { name: ws.name, dir: ws.uri.fsPath } : { name: path.basename(path.dirname(uri.fsPath)), dir: path.dirname(uri.fsPath) };
}

/** The SSH connection and home of a connected SSH host. */
function sshOf(ctx: Ctx, host: Host): { client: NonNullable<ReturnType<typeof sshClientOf>>; home: string } {
  const link = ctx.ssh.link(host.id);
  const client = sshClientOf(ctx, host);
  const home = link?.probe?.home;
  if (!client || !home) throw new Error(`${host.label}: the SSH connection is not open; connect the host again`);
  return { client, home };
}

function sshClientOf(ctx: Ctx, host: Host) {
  return ctx.ssh.link(host.id)?.sshClient;
}

/** Where this workspace's configs run on an SSH host (its workDir, default ~/manta/<workspace folder>), absolute. */
export function remoteConfigDir(ctx: Ctx, host: Host, uri: vscode.Uri): string {
  const { home } = sshOf(ctx, host);
  return hostWorkDir(ctx.ssh.spec(host.id)?.workDir, workspaceOf(uri).name, home);
}

/** manta/checkConfig on a host; undefined when its daemon predates it (protocol < 1.5: startRun checks then). */
async function checkOn(host: Host, params: CheckConfigParams): Promise<CheckConfigResult | undefined> {
  try {
    return await host.request(CheckConfigRequest, params);
  } catch (e) {
    if (e instanceof DaemonRequestError && e.code === MantaErrorCodes.MethodNotFound) return undefined;
    throw e;
  }
}

function problemLines(problems: readonly ParamProblem[]): string {
  return problems.map((p) => `${p.path || '(config)'}: ${p.message}`).join('\n');
}

/**
 * A config made ready to start on a host: for the local host its file; for an SSH host the config as an object with
 * its folder on the host (created), checked there by manta/checkConfig — dataset paths missing there that the
 * workspace has are offered for upload, every other problem is shown (its paths are the host's). Undefined: the user
 * was told why it cannot start, or cancelled.
 */
export async function prepareRunOn(ctx: Ctx, host: Host, uri: vscode.Uri): Promise<StartRunParams | undefined> {
  await ctx.connected(host);
  if (!ctx.ssh.isSsh(host)) {
    const check = await checkOn(host, { configPath: uri.fsPath });
    if (check && check.problems.length > 0) return reportProblems(host, check.problems, check.host);
    return { configPath: uri.fsPath };
  }
  const config = parseConfig(await configText(uri), uri);
  if (!config) return undefined;
  const configDir = remoteConfigDir(ctx, host, uri);
  const { client } = sshOf(ctx, host);
  const made = await exec(client, `mkdir -p ${shellQuote(configDir)}`, { timeoutMs: 30000 });
  if (made.code !== 0) throw new Error(`cannot create ${configDir} on ${host.label}: ${made.stderr.trim() || `exit code ${made.code}`}`);
  const ws = workspaceOf(uri);
  const localKind = (p: string): 'file' | 'dir' | undefined => {
    try {
      const st = statSync(p);
      return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : undefined;
    } catch {
      return undefined;
    }
  };
  for (let round = 0; ; round++) {
    const check = await checkOn(host, { config, configDir });
    if (!check) return { config, configDir };
    for (const w of check.warnings) ctx.log.warn(`${host.label}: ${w}`);
    if (check.problems.length === 0) return { config, configDir };
    const uploads = round === 0 ? dataUploads(check.problems, config, { configDir: path.dirname(uri.fsPath), workspaceDir: ws.dir, kind: localKind }, configDir) : [];
    const covered = new Set(uploads.map((u) => u.pointer));
    const rest = check.problems.filter((p) => !covered.has(p.path));
    if (uploads.length === 0 || rest.length > 0) return reportProblems(host, check.problems, check.host);
    const groups = mergeUploads(uploads);
    const folders = groups.map((g) => path.relative(ws.dir, g.localDir) || path.basename(g.localDir));
    const action = `Upload ${folders.join(', ')} to ${host.label}`;
    const pick = await vscode.window.showWarningMessage(
      `MANTA: ${host.label} has no ${uploads.map((u) => u.value).join(', ')} (relative to ${configDir}); the workspace has.`,
      { modal: true, detail: `Upload it to ${groups.map((g) => g.remoteDir).join(', ')} on ${host.label}, then start the search? Files already there with the same size and time are skipped.` },
      action,
    );
    if (pick !== action) return undefined;
    for (const g of groups) {
      const done = await uploadWithProgress(ctx, host, g.localDir, g.remoteDir, g.files);
      if (!done) return undefined;
    }
  }
}

function reportProblems(host: Host, problems: readonly ParamProblem[], where: string): undefined {
  void vscode.window.showErrorMessage(
    `MANTA: the config cannot start on ${host.label}: ${problems.length} problem${problems.length === 1 ? '' : 's'}, e.g. ${problems[0].path || '(config)'}: ${problems[0].message}`,
    { modal: true, detail: `Paths are paths on ${host.label} (${where}).\n\n${problemLines(problems)}` },
  );
  return undefined;
}

/** Uploads a local folder (or some of its files) to a folder on an SSH host, in a cancellable notification. */
export async function uploadWithProgress(ctx: Ctx, host: Host, localDir: string, remoteDir: string, files?: string[]): Promise<boolean> {
  const { client } = sshOf(ctx, host);
  const only = files ? new Set(files) : undefined;
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `MANTA · ${host.label}: uploading ${path.basename(localDir)}`, cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        const increments = new UploadIncrements();
        let skipped = 0;
        return uploadFolder(client, localDir, remoteDir, {
          ...(only ? { include: (rel: string) => only.has(rel) } : {}),
          signal: abort.signal,
          onPlan: (plan) => {
            skipped = plan.skip.length;
            ctx.log.info(`${host.label}: uploading ${plan.send.length} file(s), ${MB(plan.bytes)} MB, from ${localDir} to ${remoteDir} (${plan.skip.length} already there)`);
          },
          onProgress: (p) => {
            const inc = increments.next({ done: p.done, total: Math.max(1, p.total) });
            const message = `${p.filesDone} of ${p.filesTotal} files · ${MB(p.done)} of ${MB(p.total)} MB${skipped ? ` · ${skipped} already there` : ''}`;
            progress.report(inc > 0 ? { message, increment: inc } : { message });
          },
        });
      },
    );
    ctx.log.info(`${host.label}: uploaded ${result.sent} file(s) to ${result.remoteDir}, ${result.skipped} already there`);
    return true;
  } catch (e) {
    if (e instanceof UploadCancelled) {
      void vscode.window.showInformationMessage(`MANTA: ${e.message}.`);
      return false;
    }
    throw e;
  }
}

/** Start Search on an SSH host: the config checked there, then started; the monitor opens on the run. */
export async function startSearchOn(ctx: Ctx, host: Host, uri: vscode.Uri): Promise<string | undefined> {
  const params = await prepareRunOn(ctx, host, uri);
  if (!params) return undefined;
  const { run } = await host.request(StartRunRequest, params);
  host.noteRun(run);
  ctx.log.info(`started run ${run.runId} on ${host.label} (${run.runDir})`);
  ctx.openMonitor({ hostId: host.id, runId: run.runId });
  return run.runId;
}

// ——— several hosts ———

/** Picks ≥ 2 connected hosts one after the other (the first coordinates). Undefined: cancelled. */
async function pickHostsInOrder(ctx: Ctx): Promise<Host[] | undefined> {
  const connected = ctx.hosts.filter((h) => h.isConnected);
  if (connected.length < 2) {
    const pick = await vscode.window.showInformationMessage(
      `MANTA: a search on several hosts needs at least two connected hosts (${connected.length} ${connected.length === 1 ? 'is' : 'are'} connected). Connect them in the Hosts view first.`,
      'Connect a Host',
    );
    if (pick) await vscode.commands.executeCommand('manta.connectHost');
    return undefined;
  }
  const picked: Host[] = [];
  const START = { label: '', host: undefined as Host | undefined };
  for (;;) {
    const left = connected.filter((h) => !picked.includes(h));
    if (left.length === 0) return picked;
    const items: { label: string; description?: string; detail?: string; host: Host | undefined }[] = [
      ...(picked.length >= 2 ? [{ ...START, label: `$(check) Start on ${picked.length} hosts: ${picked.map((h) => h.label).join(' → ')}` }] : []),
      ...left.map((h) => ({ label: h.label, description: ctx.ssh.spec(h.id) ? addressOf(ctx, h) : 'this machine', detail: describeHost(h), host: h })),
    ];
    const pick = await vscode.window.showQuickPick(items, {
      title: `MANTA: Start Search on Several Hosts${picked.length ? ` — ${picked.map((h) => h.label).join(' → ')}` : ''}`,
      placeHolder: picked.length === 0 ? 'Host 0: the coordinator (it measures and searches after training)' : `Host ${picked.length} of the job${picked.length >= 2 ? ', or start' : ''}`,
      ignoreFocusOut: true,
    });
    if (!pick) return undefined;
    if (!pick.host) return picked;
    picked.push(pick.host);
  }
}

/** The address the other hosts reach host 0 at, as the user knows it: its HostName, else its host name. */
function defaultCoordinator(ctx: Ctx, host: Host): string {
  const spec = ctx.ssh.spec(host.id);
  if (spec) return spec.hostName;
  return host.snapshot().info?.hostname ?? localHostname();
}

/** Job host labels: the hosts' names, distinct. */
function jobLabels(hosts: readonly Host[]): string[] {
  const labels = hosts.map((h) => (h.id === LOCAL_HOST_ID ? (h.snapshot().info?.hostname ?? 'local') : h.label));
  return labels.map((l, i) => (labels.indexOf(l) === i ? l : `${l}-${i}`));
}

/**
 * One search over several connected hosts: the hosts in order (host 0 coordinates), the coordinator's address as
 * the others reach it, workers per host, a fresh random token (kept nowhere but in the requests), then manta/startRun
 * with every host's placement; if one host refuses, the runs started on the others are stopped.
 */
export async function startSearchOnHosts(ctx: Ctx, uri: vscode.Uri): Promise<string[] | undefined> {
  const hosts = await pickHostsInOrder(ctx);
  if (!hosts) return undefined;
  const first = defaultCoordinator(ctx, hosts[0]);
  const address = await vscode.window.showInputBox({
    title: 'MANTA: the coordinator (host 0) as the other hosts reach it',
    prompt: `Address and port of ${hosts[0].label} that ${hosts.slice(1).map((h) => h.label).join(', ')} can connect to (the rendezvous; workers listen on all interfaces and admit only peers holding the job's token)`,
    value: `${first}:${DEFAULT_JOB_PORT}`,
    ignoreFocusOut: true,
    validateInput: (v) => {
      const r = parseCoordinator(v);
      return 'error' in r ? r.error : undefined;
    },
  });
  if (address === undefined) return undefined;
  const coordinator = parseCoordinator(address);
  if ('error' in coordinator) return undefined;
  const config = parseConfig(await configText(uri), uri);
  if (!config) return undefined;
  const configured = (config as { distributed?: { workersPerHost?: unknown } }).distributed?.workersPerHost;
  let workersPerHost = typeof configured === 'number' ? configured : undefined;
  if (workersPerHost === undefined) {
    const fewest = Math.min(...hosts.map((h) => Math.max(1, h.snapshot().info?.gpuEngine?.gpus.length ?? 1)));
    const answer = await vscode.window.showInputBox({
      title: 'MANTA: training workers on each host',
      prompt: 'The same on every host (the config says "auto"); one per GPU is usual. The batch must split evenly over all workers.',
      value: String(fewest),
      ignoreFocusOut: true,
      validateInput: (v) => (/^[1-9]\d*$/.test(v.trim()) ? undefined : 'a whole number ≥ 1'),
    });
    if (answer === undefined) return undefined;
    workersPerHost = Number(answer.trim());
  }
  const params: StartRunParams[] = [];
  for (const h of hosts) {
    const p = await prepareRunOn(ctx, h, uri);
    if (!p) return undefined;
    params.push(p);
  }
  const placements = jobPlacements({ hosts: jobLabels(hosts), coordinator: coordinator.host, port: coordinator.port, workersPerHost, token: randomBytes(32).toString('hex') });
  const started = await Promise.allSettled(hosts.map((h, i) => h.request(StartRunRequest, { ...params[i], job: placements[i] })));
  const failed = started.map((r, i) => ({ r, host: hosts[i] })).filter((x) => x.r.status === 'rejected');
  if (failed.length > 0) {
    await Promise.all(
      started.map((r, i) => (r.status === 'fulfilled' ? hosts[i].request(StopRunRequest, { runId: r.value.run.runId }).then((s) => hosts[i].noteRun(s.run), () => undefined) : undefined)),
    );
    const why = failed.map((f) => `${f.host.label}: ${((f.r as PromiseRejectedResult).reason as Error).message}`).join('\n');
    void vscode.window.showErrorMessage(`MANTA: the search did not start on ${failed.map((f) => f.host.label).join(', ')}; the runs started on the other hosts were stopped.`, { modal: true, detail: why });
    return undefined;
  }
  const runs = started.map((r) => (r as PromiseFulfilledResult<{ run: RunSummary }>).value.run);
  runs.forEach((run, i) => hosts[i].noteRun(run));
  ctx.log.info(`started a job on ${hosts.map((h) => h.label).join(', ')} (coordinator ${coordinator.host}:${coordinator.port}, ${workersPerHost} worker(s) per host): ${runs.map((r) => r.runId).join(', ')}`);
  ctx.openMonitor({ hostId: hosts[0].id, runId: runs[0].runId });
  return runs.map((r) => r.runId);
}

// ——— run files, data, hosts ———

/** Every readable file of a run, through the protocol, into `<workspace>/manta-runs/<host>/<run name>/`. */
export async function fetchRunFiles(ctx: Ctx, ref: RunRef & { run: RunSummary }, destination?: vscode.Uri): Promise<{ dir: string; files: string[] } | undefined> {
  const host = await ctx.connected(ctx.host(ref.hostId));
  let root = destination ?? vscode.workspace.workspaceFolders?.[0]?.uri;
  if (!root) {
    const picked = await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, canSelectMany: false, openLabel: 'Fetch Here', title: `MANTA: where to put the files of ${ref.run.name}` });
    root = picked?.[0];
    if (!root) return undefined;
  }
  const { files } = await host.request(ListRunFilesRequest, { runId: ref.runId });
  if (files.length === 0) {
    void vscode.window.showInformationMessage(`MANTA: run ${ref.run.name} has no files to fetch yet.`);
    return undefined;
  }
  const target = vscode.Uri.joinPath(root, ...fetchFolder(host.kind === 'ssh' ? host.label : 'local', ref.run.name));
  const total = files.reduce((s, f) => s + f.size, 0);
  const written: string[] = [];
  const request = host.request.bind(host);
  const done = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `MANTA: fetching ${ref.run.name} from ${host.label}`, cancellable: true },
    async (progress, token) => {
      let bytes = 0;
      for (const f of files) {
        if (token.isCancellationRequested) return false;
        progress.report({ message: `${f.file} (${MB(bytes)} of ${MB(total)} MB)` });
        const data = await downloadRunFile(request, ref.runId, f.file);
        const local = vscode.Uri.joinPath(target, ...localRunFileName(f.file).split('/'));
        await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(local, '..'));
        await vscode.workspace.fs.writeFile(local, data);
        written.push(local.fsPath);
        bytes += f.size;
        progress.report({ increment: total > 0 ? (100 * f.size) / total : 100 / files.length });
      }
      return true;
    },
  );
  const summary = `${written.length} of ${files.length} file${files.length === 1 ? '' : 's'} of ${ref.run.name} into ${target.fsPath}`;
  ctx.log.info(`fetched ${summary}`);
  void vscode.window.showInformationMessage(`MANTA: ${done ? 'fetched' : 'cancelled after'} ${summary}.`, 'Reveal').then(async (pick) => {
    if (!pick) return;
    if (vscode.workspace.getWorkspaceFolder(target)) await vscode.commands.executeCommand('revealInExplorer', target);
    else await vscode.commands.executeCommand('revealFileInOS', target);
  });
  return { dir: target.fsPath, files: written };
}

/** An SSH host from the argument, else a pick (connected ones first); connected. Undefined: none or cancelled. */
export async function pickSshHost(ctx: Ctx, arg: unknown, purpose: string, onlyConnected = false): Promise<Host | undefined> {
  const id = hostIdOf(arg);
  let host = id ? ctx.host(id) : undefined;
  if (!host || host.kind !== 'ssh') {
    const candidates = ctx.ssh.hosts.filter((h) => !onlyConnected || isLive(h));
    if (candidates.length === 0) {
      const pick = await vscode.window.showInformationMessage(
        onlyConnected ? 'MANTA: no SSH host is connected.' : 'MANTA: there is no SSH host: add one to ~/.ssh/config or with MANTA: Add SSH Host….',
        ...(onlyConnected ? [] : ['Add SSH Host…']),
      );
      if (pick) await vscode.commands.executeCommand('manta.addHost');
      return undefined;
    }
    const sorted = [...candidates.filter(isLive), ...candidates.filter((h) => !isLive(h))];
    const pick = sorted.length === 1 ? { host: sorted[0] } : await vscode.window.showQuickPick(
      sorted.map((h) => ({ label: h.label, description: addressOf(ctx, h), detail: isLive(h) ? describeHost(h) : 'not connected', host: h })),
      { placeHolder: purpose },
    );
    host = pick?.host;
  }
  return host;
}

/** Upload Data Folder to Host: a local folder to a folder on an SSH host (default: the same place under its workDir). */
export async function uploadData(ctx: Ctx, arg: unknown): Promise<string | undefined> {
  const host = await pickSshHost(ctx, arg, 'Upload to which host?');
  if (!host) return undefined;
  await ctx.connected(host);
  const ws = vscode.workspace.workspaceFolders?.[0];
  const local = arg instanceof vscode.Uri ? [arg] : await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, canSelectMany: false, openLabel: 'Upload', title: `MANTA: which folder to upload to ${host.label}`, defaultUri: ws?.uri });
  const folder = local?.[0];
  if (!folder) return undefined;
  const { home } = sshOf(ctx, host);
  const workDir = hostWorkDir(ctx.ssh.spec(host.id)?.workDir, ws?.name ?? path.basename(folder.fsPath), home);
  const inside = ws ? path.relative(ws.uri.fsPath, folder.fsPath) : '..';
  const suggested = path.posix.join(workDir, inside && !inside.startsWith('..') && !path.isAbsolute(inside) ? inside.split(path.sep).join('/') : path.basename(folder.fsPath));
  const answer = await vscode.window.showInputBox({
    title: `MANTA: upload ${path.basename(folder.fsPath)} to ${host.label}`,
    prompt: `The folder on ${host.label} (a config's relative data paths resolve against ${workDir})`,
    value: suggested,
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim().startsWith('/') || v.trim().startsWith('~') ? undefined : 'an absolute path on the host, or one starting with ~/'),
  });
  if (answer === undefined) return undefined;
  const remote = path.posix.normalize(expandHome(answer.trim(), home));
  const ok = await uploadWithProgress(ctx, host, folder.fsPath, remote);
  if (ok) void vscode.window.showInformationMessage(`MANTA: ${path.basename(folder.fsPath)} is on ${host.label} at ${remote}.`);
  return ok ? remote : undefined;
}

/** Add SSH Host…: a name and `user@host[:port]`, optionally a key file, into manta.remoteHosts (user settings). */
export async function addHost(ctx: Ctx): Promise<string | undefined> {
  const taken = ctx.hosts.map((h) => h.label);
  const name = await vscode.window.showInputBox({
    title: 'MANTA: Add SSH Host (1/3)',
    prompt: 'A name for the host, as the Hosts view shows it',
    placeHolder: 'gpu-box',
    ignoreFocusOut: true,
    validateInput: (v) => checkHostName(v, taken),
  });
  if (name === undefined) return undefined;
  let localUser = 'user';
  try {
    localUser = userInfo().username;
  } catch {
    // keep the placeholder
  }
  const where = await vscode.window.showInputBox({
    title: `MANTA: Add SSH Host (2/3) — ${name.trim()}`,
    prompt: `user@host[:port] (the user defaults to ${localUser}, the port to 22)`,
    placeHolder: `${localUser}@gpu-box.example.org`,
    ignoreFocusOut: true,
    validateInput: (v) => {
      const r = parseUserHostPort(v, localUser);
      return 'error' in r ? r.error : undefined;
    },
  });
  if (where === undefined) return undefined;
  const parsed = parseUserHostPort(where, localUser);
  if ('error' in parsed) return undefined;
  const AGENT = 'ssh-agent and the default keys (~/.ssh/id_ed25519, id_ecdsa, id_rsa)';
  const keyPick = await vscode.window.showQuickPick([{ label: AGENT }, { label: 'Choose a key file…' }], { title: `MANTA: Add SSH Host (3/3) — ${name.trim()}`, placeHolder: 'How to log in (a password or other prompts are asked when the host offers them)', ignoreFocusOut: true });
  if (!keyPick) return undefined;
  let identityFile: string | undefined;
  if (keyPick.label !== AGENT) {
    const sshDir = vscode.Uri.file(path.join(homedir(), '.ssh'));
    const files = await vscode.window.showOpenDialog({ canSelectFiles: true, canSelectFolders: false, canSelectMany: false, openLabel: 'Use This Key', title: 'MANTA: the private key file', defaultUri: existsSync(sshDir.fsPath) ? sshDir : undefined });
    if (!files?.[0]) return undefined;
    identityFile = files[0].fsPath;
  }
  const entry: Record<string, unknown> = { name: name.trim(), hostName: parsed.hostName, user: parsed.user, port: parsed.port, ...(identityFile ? { identityFile } : {}) };
  const c = vscode.workspace.getConfiguration('manta');
  const current = c.inspect<unknown[]>('remoteHosts')?.globalValue ?? [];
  const others = Array.isArray(current) ? current.filter((h) => (h as { name?: unknown } | null)?.name !== entry.name) : [];
  await c.update('remoteHosts', [...others, entry], vscode.ConfigurationTarget.Global);
  await ctx.ssh.rebuild();
  const id = `ssh:${entry.name as string}`;
  ctx.log.info(`added SSH host ${entry.name as string} (${parsed.user}@${parsed.hostName}:${parsed.port}) to manta.remoteHosts`);
  const pick = await vscode.window.showInformationMessage(`MANTA: added ${entry.name as string} (${parsed.user}@${parsed.hostName}:${parsed.port}).`, 'Connect');
  if (pick === 'Connect') await vscode.commands.executeCommand('manta.connectHost', id);
  return id;
}

/** Connect: the host given, else the local one, or a pick when there are SSH hosts. */
export async function connectHost(ctx: Ctx, arg: unknown): Promise<boolean> {
  const id = hostIdOf(arg);
  let host = id ? ctx.host(id) : undefined;
  if (!host && id === undefined && ctx.ssh.hosts.length > 0) {
    const candidates = ctx.hosts.filter((h) => !h.isConnected);
    if (candidates.length === 0) return true;
    const pick = await vscode.window.showQuickPick(
      candidates.map((h) => ({ label: h.label, description: h.kind === 'ssh' ? addressOf(ctx, h) : 'the daemon on this machine', host: h })),
      { placeHolder: 'Connect to which host?' },
    );
    if (!pick) return false;
    host = pick.host;
  }
  host ??= ctx.localHost;
  await ctx.connected(host).catch((e: unknown) => {
    if (!(e instanceof NotConnectedError)) throw e;
  });
  return host.isConnected;
}

/** Disconnect: the SSH connection ends (runs on the host go on), and the host is not connected at the next start. */
export async function disconnectHost(ctx: Ctx, arg: unknown): Promise<boolean> {
  const host = await pickSshHost(ctx, arg, 'Disconnect which host?', true);
  if (!host) return false;
  await ctx.ssh.disconnect(host);
  ctx.log.info(`${host.label}: disconnected (its runs go on on the host)`);
  return true;
}

export async function forgetSshPassphrases(ctx: Ctx): Promise<number> {
  const n = await ctx.ssh.secrets.forgetAll();
  void vscode.window.showInformationMessage(n === 0 ? 'MANTA: no SSH passphrase was remembered.' : `MANTA: forgot ${n} remembered SSH passphrase${n === 1 ? '' : 's'}.`);
  return n;
}
