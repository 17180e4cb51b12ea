// What the Hosts and Runs trees show, as pure functions of host snapshots: labels, descriptions, icons and the
// context values that pick each item's menu. The vscode TreeDataProviders (trees.ts) only map these to TreeItems.
import type { RunSummary } from '../../daemon/protocol';
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

function stateText(h: HostSnapshot): string {
  switch (h.state.kind) {
    case 'connected':
      return 'connected';
    case 'connecting':
      return 'connecting…';
    case 'failed':
      return 'not reachable';
    default:
      return 'not connected';
  }
}

export function hostNodes(hosts: readonly HostSnapshot[]): TreeNode[] {
  return hosts.map((h) => {
    const backend = h.info?.defaultBackend;
    const children: TreeNode[] = [];
    if (h.state.kind === 'failed') {
      children.push({ id: `${h.id}/error`, label: h.state.message, icon: 'error', tooltip: h.state.message });
    }
    if (h.state.kind === 'connected') {
      children.push({ id: `${h.id}/daemon`, label: 'Daemon', description: `manta ${h.state.daemonVersion} · ${h.state.via}`, icon: 'server-process' });
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
    const connected = h.state.kind === 'connected';
    return {
      id: h.id,
      label: h.label,
      description: [stateText(h), backend?.backend].filter(Boolean).join(' · '),
      tooltip: h.info ? `${h.info.hostname} — ${stateText(h)}` : stateText(h),
      icon: connected ? 'vm-active' : h.state.kind === 'failed' ? 'vm-outline' : 'vm',
      contextValue: connected ? 'manta.host.connected' : 'manta.host.disconnected',
      command: connected ? undefined : { command: 'manta.connectHost', title: 'Connect', arguments: [h.id] },
      children,
      expanded: true,
    };
  });
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

export function runNode(hostId: string, run: RunSummary): TreeNode {
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
  children.push({ id: `${hostId}/${run.runId}/dir`, label: 'Folder', description: run.runDir, icon: 'folder', tooltip: run.runDir });
  return {
    id: `${hostId}/${run.runId}`,
    label: run.name,
    description: [run.status, progress].filter(Boolean).join(' · '),
    tooltip: `${run.runId} — ${run.status}${run.message ? `\n${run.message}` : ''}\n${run.runDir}`,
    icon: STATUS_ICON[run.status],
    contextValue: `manta.run.${run.status}${run.resumable ? '.resumable' : ''}`,
    command: { command: 'manta.openMonitor', title: 'Open Training Monitor', arguments: [ref] },
    children,
  };
}

/** Runs grouped by host; with one host, its runs directly at the top. */
export function runNodes(hosts: readonly HostSnapshot[]): TreeNode[] {
  if (hosts.length === 1) return hosts[0].runs.map((r) => runNode(hosts[0].id, r));
  return hosts.map((h) => ({
    id: `runs/${h.id}`,
    label: h.label,
    description: `${h.runs.length} run${h.runs.length === 1 ? '' : 's'}`,
    icon: 'vm',
    children: h.runs.map((r) => runNode(h.id, r)),
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
