// What the Hosts and Runs trees show, as pure functions of host snapshots: labels, descriptions, icons and the
// context values that pick each item's menu. The vscode TreeDataProviders (trees.ts) only map these to TreeItems.
import type { GpuEngineStatus, RunSummary } from '../../daemon/protocol';
import type { HostSnapshot } from '../hosts/host';
import { STATUS_ICON } from './run-progress';

export interface TreeNode {
  /** Stable across refreshes (keeps expansion and selection). */
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  /** A codicon name. */
  icon?: string;
  /** Picks the item's context menu, e.g. 'manta.run.running'. */
  contextValue?: string;
  /** Run on click: a command id and its arguments. */
  command?: { command: string; title: string; arguments: unknown[] };
  children?: TreeNode[];
  /** Expanded on first show. */
  expanded?: boolean;
}

/** A reference to a run as commands receive it from the trees. */
export interface RunRef {
  hostId: string;
  runId: string;
}

/** What the Hosts view shows of an SSH host besides its snapshot (from its spec and the link's probe). */
export interface HostExtras {
  /** `user@host:port`. */
  address?: string;
  /** The jump hosts, 'bastion → inner'. */
  via?: string;
  source?: 'ssh-config' | 'settings';
  /** Why the host cannot be used as configured. */
  problem?: string;
  /** What the probe found before the daemon started. */
  probe?: { os: string; arch: string; node?: string; gpus: string[] };
}

/** The local host's label, saying where "local" is: with Remote-SSH, Dev Containers or WSL the extension (and its
 * local daemon) runs on the remote side (`vscode.env.remoteName`). */
export function localHostLabel(remoteName: string | undefined): string {
  const where: Record<string, string> = {
    'ssh-remote': 'Remote-SSH host',
    'dev-container': 'Dev Container',
    'attached-container': 'container',
    wsl: 'WSL',
    codespaces: 'Codespace',
    tunnel: 'tunnel host',
  };
  if (!remoteName) return 'Local (this machine)';
  return `Local (${where[remoteName] ?? remoteName})`;
}

function stateText(h: HostSnapshot): string {
  switch (h.state.kind) {
    case 'connected':
      return 'connected';
    case 'connecting':
      return 'connecting…';
    case 'reconnecting':
      return `reconnecting (attempt ${h.state.attempt})…`;
    case 'failed':
      return 'not reachable';
    default:
      return 'not connected';
  }
}

/** The GPU engine as a tree item: where it computes, or a warning naming what is missing (advice as tooltip). */
export function gpuEngineNode(hostId: string, g: GpuEngineStatus): TreeNode | undefined {
  const id = `${hostId}/gpu-engine`;
  const n = g.gpus.length;
  const gpus = `${n} GPU${n === 1 ? '' : 's'}`;
  if (g.engine === 'tfjs-node-gpu' && g.onGpu === true) {
    const timing = g.timedMatMulMs !== undefined ? ` · 1024² matMul ${g.timedMatMulMs.toFixed(1)} ms` : '';
    return { id, label: 'GPU engine', description: `tfjs-node-gpu on ${gpus}${timing}`, icon: 'pass', tooltip: [g.device, g.advice].filter(Boolean).join('\n') || undefined };
  }
  if (g.engine === 'tfjs-node-gpu') {
    const missing = g.missingLibraries.length ? `missing ${g.missingLibraries.join(', ')}` : g.onGpu === false ? 'computes on the CPU' : 'check failed';
    return { id, label: 'GPU engine', description: `tfjs-node-gpu: ${missing}`, icon: 'warning', tooltip: g.advice ?? missing };
  }
  if (n === 0) return undefined;
  return { id, label: 'GPU engine', description: `none for ${gpus}`, icon: 'warning', tooltip: g.advice ?? 'No GPU engine is installed on this host: set manta.remote.installGpuEngine, or npm install @tensorflow/tfjs-node-gpu there.' };
}

export function hostNodes(hosts: readonly HostSnapshot[], extras: ReadonlyMap<string, HostExtras> = new Map()): TreeNode[] {
  return hosts.map((h) => {
    const backend = h.info?.defaultBackend;
    const x = extras.get(h.id) ?? {};
    const ssh = h.kind === 'ssh';
    const children: TreeNode[] = [];
    if (x.problem) children.push({ id: `${h.id}/problem`, label: x.problem, icon: 'error', tooltip: x.problem });
    if (h.state.kind === 'failed') {
      children.push({ id: `${h.id}/error`, label: h.state.message, icon: 'error', tooltip: h.state.message });
    }
    if (h.state.kind === 'reconnecting') {
      const s = h.state;
      children.push({
        id: `${h.id}/reconnecting`,
        label: `connection lost; attempt ${s.attempt} in ${Math.round(s.delayMs / 1000)} s`,
        icon: 'sync',
        tooltip: `${s.message}\nRuns on the host go on; the monitor picks up where it stopped.`,
      });
    }
    if (h.state.kind === 'connected') {
      children.push({ id: `${h.id}/daemon`, label: 'Daemon', description: `manta ${h.state.daemonVersion} · ${h.state.via}`, icon: 'server-process' });
    }
    if (ssh && (h.info || x.probe)) {
      const os = h.info ? `${h.info.platform} ${h.info.arch}` : `${x.probe!.os} ${x.probe!.arch}`;
      const node = h.info?.versions.node ?? x.probe?.node;
      children.push({ id: `${h.id}/system`, label: 'System', description: [os, node ? `Node ${node.replace(/^v/, '')}` : ''].filter(Boolean).join(' · '), icon: 'terminal-linux' });
    }
    if (h.info) {
      const i = h.info;
      children.push({
        id: `${h.id}/backend`,
        label: 'Backend',
        description: backend ? `${backend.backend} · ${backend.device}` : (i.probeError ?? 'unknown'),
        icon: 'chip',
        tooltip: i.backends.map((b) => `${b.name}: ${b.available ? 'available' : 'not available'} — ${b.detail}`).join('\n'),
        children: i.backends.map((b) => ({
          id: `${h.id}/backend/${b.name}`,
          label: b.name,
          description: b.detail,
          icon: b.available ? 'pass' : 'circle-slash',
        })),
      });
      children.push({
        id: `${h.id}/devices`,
        label: 'Devices',
        description: i.devices.length === 1 ? i.devices[0] : `${i.devices.length}`,
        icon: 'circuit-board',
        children: i.devices.length > 1 ? i.devices.map((d, k) => ({ id: `${h.id}/devices/${k}`, label: d, icon: 'circuit-board' })) : undefined,
      });
      children.push({
        id: `${h.id}/machine`,
        label: 'Machine',
        description: `${i.cpu.cores} cores · ${Math.round(i.memory.freeMB / 1024)} of ${Math.round(i.memory.totalMB / 1024)} GB free · ${i.activeRuns} active run${i.activeRuns === 1 ? '' : 's'}`,
        icon: 'vm',
        tooltip: `${i.hostname} (${i.platform} ${i.arch})\n${i.cpu.model}\nNode ${i.versions.node}, tfjs ${i.versions.tfjs ?? '?'}`,
      });
    }
    const gpuList = h.info?.gpuEngine?.gpus ?? (ssh ? x.probe?.gpus : undefined) ?? [];
    if (gpuList.length > 0) {
      children.push({
        id: `${h.id}/gpus`,
        label: 'GPUs',
        description: gpuList.length === 1 ? shortGpu(gpuList[0]) : `${gpuList.length} × ${shortGpu(gpuList[0])}`,
        icon: 'circuit-board',
        tooltip: gpuList.join('\n'),
      });
    }
    const engine = h.info?.gpuEngine ? gpuEngineNode(h.id, h.info.gpuEngine) : undefined;
    if (engine) children.push(engine);
    const connected = h.state.kind === 'connected';
    const state = h.state.kind === 'failed' ? 'disconnected' : h.state.kind;
    const where = [x.address, x.via ? `via ${x.via}` : ''].filter(Boolean).join(' ');
    return {
      id: h.id,
      label: h.label,
      description: [ssh ? x.address : undefined, stateText(h), backend?.backend].filter(Boolean).join(' · '),
      tooltip: [h.info ? `${h.info.hostname} — ${stateText(h)}` : stateText(h), where, x.source === 'ssh-config' ? 'from ~/.ssh/config' : x.source === 'settings' ? 'from manta.remoteHosts' : '']
        .filter(Boolean)
        .join('\n'),
      icon: connected ? 'vm-active' : h.state.kind === 'failed' ? 'vm-outline' : h.state.kind === 'reconnecting' ? 'sync' : ssh ? 'remote' : 'vm',
      contextValue: `manta.host.${state}${ssh ? '.ssh' : ''}`,
      command: connected || h.state.kind === 'connecting' || h.state.kind === 'reconnecting' ? undefined : { command: 'manta.connectHost', title: 'Connect', arguments: [h.id] },
      children,
      expanded: !ssh || connected || h.state.kind === 'failed' || h.state.kind === 'reconnecting',
    };
  });
}

/** 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-…)' → 'NVIDIA H100 80GB HBM3'. */
function shortGpu(line: string): string {
  return line.replace(/^GPU \d+:\s*/, '').replace(/\s*\(UUID:[^)]*\)\s*$/, '');
}

/** "depth 2/4 · step 120/400 (30%)" — the one-line progress of a run. */
export function runProgressText(run: RunSummary): string {
  const p = run.progress;
  const parts: string[] = [];
  if (p.stage && p.stage !== 'training') parts.push(p.stage);
  else if (p.phase) parts.push(p.phaseIndex !== undefined ? `${p.phase} (phase ${p.phaseIndex + 1})` : p.phase);
  if (p.step !== undefined && p.totalSteps) parts.push(`step ${p.step}/${p.totalSteps} (${Math.floor((100 * p.step) / p.totalSteps)}%)`);
  return parts.join(' · ');
}

export function runNode(hostId: string, run: RunSummary, ssh = false): TreeNode {
  const ref: RunRef = { hostId, runId: run.runId };
  const p = run.progress;
  const children: TreeNode[] = [];
  const progress = runProgressText(run);
  if (progress) children.push({ id: `${hostId}/${run.runId}/progress`, label: 'Progress', description: progress, icon: 'graph-line' });
  if (p.loss !== undefined || p.accuracy !== undefined) {
    const metrics = [p.loss !== undefined ? `loss ${p.loss.toFixed(4)}` : '', p.accuracy !== undefined ? `accuracy ${(100 * p.accuracy).toFixed(1)}%` : '']
      .filter(Boolean)
      .join(' · ');
    children.push({ id: `${hostId}/${run.runId}/metrics`, label: 'Latest', description: metrics, icon: 'pulse' });
  }
  if (p.imagesPerSec !== undefined) {
    children.push({ id: `${hostId}/${run.runId}/speed`, label: 'Speed', description: `${Math.round(p.imagesPerSec)} images/s`, icon: 'dashboard' });
  }
  if (run.message) children.push({ id: `${hostId}/${run.runId}/message`, label: run.message, icon: run.status === 'failed' ? 'error' : 'info', tooltip: run.message });
  if (run.derivedFrom) {
    const what = run.derivedFrom.kind === 'search' ? 'searched again from' : 'fine-tuned from';
    children.push({ id: `${hostId}/${run.runId}/derived`, label: 'Made from', description: `${what} ${run.derivedFrom.runId}`, icon: 'git-branch', tooltip: `${what} run ${run.derivedFrom.runId}, without retraining its supernet` });
  }
  children.push({ id: `${hostId}/${run.runId}/dir`, label: 'Folder', description: run.runDir, icon: 'folder', tooltip: run.runDir });
  return {
    id: `${hostId}/${run.runId}`,
    label: run.name,
    description: [run.status, progress].filter(Boolean).join(' · '),
    tooltip: `${run.runId} — ${run.status}${run.message ? `\n${run.message}` : ''}\n${run.runDir}`,
    icon: STATUS_ICON[run.status],
    contextValue: `manta.run.${run.status}${ssh ? '.ssh' : ''}${run.resumable ? '.resumable' : ''}`,
    command: { command: 'manta.openMonitor', title: 'Open Training Monitor', arguments: [ref] },
    children,
  };
}

/** Runs grouped by host; with one host, its runs directly at the top. An SSH host shows only while it is connected
 * (or trying to be) or holds runs: the Hosts view lists every configured one. */
export function runNodes(all: readonly HostSnapshot[]): TreeNode[] {
  const hosts = all.filter((h) => h.kind !== 'ssh' || h.runs.length > 0 || (h.state.kind !== 'disconnected' && h.state.kind !== 'failed'));
  if (hosts.length === 0) return [];
  if (hosts.length === 1) return hosts[0].runs.map((r) => runNode(hosts[0].id, r, hosts[0].kind === 'ssh'));
  return hosts.map((h) => ({
    id: `runs/${h.id}`,
    label: h.label,
    description: `${h.runs.length} run${h.runs.length === 1 ? '' : 's'}`,
    icon: h.kind === 'ssh' ? 'remote' : 'vm',
    children: h.runs.map((r) => runNode(h.id, r, h.kind === 'ssh')),
    expanded: true,
  }));
}

/** The run a status bar should follow: the most recently updated running one. */
export function activeRun(hosts: readonly HostSnapshot[]): (RunRef & { run: RunSummary }) | undefined {
  let best: (RunRef & { run: RunSummary }) | undefined;
  for (const h of hosts) {
    for (const r of h.runs) {
      if (r.status !== 'running') continue;
      if (!best || r.updatedAt > best.run.updatedAt) best = { hostId: h.id, runId: r.runId, run: r };
    }
  }
  return best;
}
