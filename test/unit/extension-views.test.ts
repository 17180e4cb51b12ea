// The extension's pure models: the Hosts and Runs tree nodes (local and SSH hosts: address, reconnecting, system,
// GPUs and the GPU engine; where "local" is) and the status-bar choice made from host snapshots, the
// per-run event store that replays, de-duplicates and cuts back a run's events, and the supernet a config gives the
// visualizer (classification and stereo).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostInfo, RunSummary, TelemetryEvent } from '../../daemon/protocol';
import type { HostSnapshot } from '../../extension/hosts/host';
import { RunEvents } from '../../extension/hosts/run-events';
import { activeRun, gpuEngineNode, hostNodes, localHostLabel, runNodes, runProgressText, type HostExtras } from '../../extension/views/tree-model';
import { supernetView } from '../../extension/server/supernet-view';

const log: TelemetryEvent[] = readFileSync(join(__dirname, '../fixtures/extension/tiny-run.events.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as TelemetryEvent);

function run(runId: string, status: RunSummary['status'], updatedAt: number, progress: RunSummary['progress'] = {}): RunSummary {
  return { runId, name: runId.split('-')[0], status, runDir: `/runs/${runId}`, createdAt: updatedAt, updatedAt, nextSeq: 10, progress, resumable: status === 'paused' };
}

const info: HostInfo = {
  hostname: 'box',
  platform: 'linux',
  arch: 'x64',
  daemonPid: 42,
  cpu: { model: 'EPYC', cores: 2, loadAverage: [0.1] },
  memory: { totalMB: 8192, freeMB: 4096, daemonRssMB: 100 },
  versions: { manta: '0.1.0', protocol: '1.0', node: '20.20.2', tfjs: '4.22.0' },
  backends: [
    { name: 'wasm', available: true, detail: 'wasm SIMD, 2 threads' },
    { name: 'tensorflow', available: false, detail: 'install @tensorflow/tfjs-node' },
  ],
  defaultBackend: { backend: 'wasm', version: '4.22.0', device: 'CPU: EPYC' },
  devices: ['CPU: EPYC'],
  allowedRoots: [],
  activeRuns: 1,
};

test('a connected host shows its daemon, backend (each available or not), devices and machine', () => {
  const snap: HostSnapshot = { id: 'local', label: 'Local', kind: 'local', state: { kind: 'connected', via: 'stdio of pid 42', daemonVersion: '0.1.0' }, info, runs: [] };
  const [node] = hostNodes([snap]);
  assert.equal(node.description, 'connected · wasm');
  assert.equal(node.contextValue, 'manta.host.connected');
  assert.equal(node.command, undefined);
  const labels = node.children!.map((c) => c.label);
  assert.deepEqual(labels, ['Daemon', 'Backend', 'Devices', 'Machine']);
  const backend = node.children!.find((c) => c.label === 'Backend')!;
  assert.equal(backend.description, 'wasm · CPU: EPYC');
  assert.deepEqual(backend.children!.map((b) => [b.label, b.icon]), [
    ['wasm', 'pass'],
    ['tensorflow', 'circle-slash'],
  ]);
  assert.match(node.children!.find((c) => c.label === 'Machine')!.description!, /2 cores · 4 of 8 GB free · 1 active run$/);
});

test('an unreachable host says why and connects on click', () => {
  const snap: HostSnapshot = { id: 'local', label: 'Local', kind: 'local', state: { kind: 'failed', message: 'connect ENOENT /tmp/manta-0/daemon.sock' }, runs: [] };
  const [node] = hostNodes([snap]);
  assert.equal(node.description, 'not reachable');
  assert.equal(node.contextValue, 'manta.host.disconnected');
  assert.deepEqual(node.command, { command: 'manta.connectHost', title: 'Connect', arguments: ['local'] });
  assert.equal(node.children![0].label, 'connect ENOENT /tmp/manta-0/daemon.sock');
});

test('an SSH host shows user@host:port, reconnects with its attempt, and connects on click only when idle', () => {
  const extras = new Map<string, HostExtras>([['ssh:gpu', { address: 'me@gpu.lan:22', via: 'bastion', source: 'ssh-config' }]]);
  const idle: HostSnapshot = { id: 'ssh:gpu', label: 'gpu', kind: 'ssh', state: { kind: 'disconnected' }, runs: [] };
  const [n0] = hostNodes([idle], extras);
  assert.equal(n0.description, 'me@gpu.lan:22 · not connected');
  assert.equal(n0.contextValue, 'manta.host.disconnected.ssh');
  assert.deepEqual(n0.command, { command: 'manta.connectHost', title: 'Connect', arguments: ['ssh:gpu'] });
  assert.match(n0.tooltip!, /me@gpu\.lan:22 via bastion/);
  assert.match(n0.tooltip!, /from ~\/\.ssh\/config/);
  const lost: HostSnapshot = { ...idle, state: { kind: 'reconnecting', attempt: 2, delayMs: 5000, message: 'the connection to the daemon closed (ssh gpu:/tmp/manta-1000/daemon.sock)' } };
  const [n1] = hostNodes([lost], extras);
  assert.equal(n1.description, 'me@gpu.lan:22 · reconnecting (attempt 2)…');
  assert.equal(n1.contextValue, 'manta.host.reconnecting.ssh', 'it can be disconnected while it retries');
  assert.equal(n1.command, undefined, 'a click does not start a second attempt');
  assert.equal(n1.icon, 'sync');
  assert.equal(n1.children![0].label, 'connection lost; attempt 2 in 5 s');
  assert.match(n1.children![0].tooltip!, /daemon closed/);
  // a setting entry that cannot be used says why
  const [n2] = hostNodes([{ ...idle, id: 'ssh:bad', label: 'bad' }], new Map([['ssh:bad', { problem: 'manta.remoteHosts entry "bad": port must be a whole number' }]]));
  assert.equal(n2.children![0].icon, 'error');
});

test('a connected SSH host shows its system, GPUs and the GPU engine it really computes on', () => {
  const gpuInfo: HostInfo = {
    ...info,
    hostname: 'gpu-box',
    versions: { ...info.versions, node: '22.3.0' },
    gpuEngine: {
      gpus: ['GPU 0: NVIDIA H200 (UUID: GPU-1)', 'GPU 1: NVIDIA H200 (UUID: GPU-2)'],
      engine: 'tfjs-node-gpu',
      onGpu: true,
      missingLibraries: [],
      device: 'GPU:0 NVIDIA H200',
      timedMatMulMs: 0.42,
    },
  };
  const snap: HostSnapshot = { id: 'ssh:gpu', label: 'gpu', kind: 'ssh', state: { kind: 'connected', via: 'ssh gpu:/tmp/manta-1000/daemon.sock', daemonVersion: '0.1.0' }, info: gpuInfo, runs: [] };
  const extras = new Map<string, HostExtras>([['ssh:gpu', { address: 'me@gpu.lan:2222', probe: { os: 'Linux', arch: 'x86_64', node: 'v22.3.0', gpus: [] } }]]);
  const [node] = hostNodes([snap], extras);
  assert.equal(node.description, 'me@gpu.lan:2222 · connected · wasm');
  assert.equal(node.contextValue, 'manta.host.connected.ssh');
  const byLabel = Object.fromEntries(node.children!.map((c) => [c.label, c]));
  assert.deepEqual(node.children!.map((c) => c.label), ['Daemon', 'System', 'Backend', 'Devices', 'Machine', 'GPUs', 'GPU engine']);
  assert.equal(byLabel.System.description, 'linux x64 · Node 22.3.0');
  assert.equal(byLabel.GPUs.description, '2 × NVIDIA H200');
  assert.equal(byLabel['GPU engine'].description, 'tfjs-node-gpu on 2 GPUs · 1024² matMul 0.4 ms');
  assert.equal(byLabel['GPU engine'].icon, 'pass');
  // before the daemon answers, the probe says what the host is
  const [probed] = hostNodes([{ ...snap, state: { kind: 'connecting' }, info: undefined }], extras);
  assert.equal(probed.children!.find((c) => c.label === 'System')!.description, 'Linux x86_64 · Node 22.3.0');
});

test('a GPU engine that falls back to the CPU names the missing libraries, with the advice as tooltip', () => {
  const missing = gpuEngineNode('ssh:gpu', {
    gpus: ['GPU 0: NVIDIA A100'],
    engine: 'tfjs-node-gpu',
    onGpu: false,
    missingLibraries: ['libcudart.so.11.0', 'libcudnn.so.8'],
    advice: 'Install CUDA 11 and cuDNN 8, or point manta.remote.cudaLibraryPath at them.',
    device: 'CPU',
  })!;
  assert.equal(missing.label, 'GPU engine');
  assert.equal(missing.description, 'tfjs-node-gpu: missing libcudart.so.11.0, libcudnn.so.8');
  assert.equal(missing.icon, 'warning');
  assert.match(missing.tooltip!, /cudaLibraryPath/);
  const none = gpuEngineNode('h', { gpus: ['GPU 0: X'], engine: 'none', onGpu: undefined, missingLibraries: [] })!;
  assert.equal(none.description, 'none for 1 GPU');
  assert.match(none.tooltip!, /installGpuEngine/);
  assert.equal(gpuEngineNode('h', { gpus: [], engine: 'none', onGpu: undefined, missingLibraries: [] }), undefined, 'no GPUs, nothing to say');
});

test('the local host says where "local" is', () => {
  assert.equal(localHostLabel(undefined), 'Local (this machine)');
  assert.equal(localHostLabel('ssh-remote'), 'Local (Remote-SSH host)');
  assert.equal(localHostLabel('dev-container'), 'Local (Dev Container)');
  assert.equal(localHostLabel('wsl'), 'Local (WSL)');
  assert.equal(localHostLabel('something-new'), 'Local (something-new)');
});

test('runs of an SSH host carry .ssh in their context value (Fetch Run Files); idle SSH hosts without runs are not listed', () => {
  const local: HostSnapshot = { id: 'local', label: 'Local', kind: 'local', state: { kind: 'connected', via: 'x', daemonVersion: '1' }, runs: [run('a-1', 'running', 5)] };
  const gpu: HostSnapshot = { id: 'ssh:gpu', label: 'gpu', kind: 'ssh', state: { kind: 'connected', via: 'y', daemonVersion: '1' }, runs: [run('b-2', 'completed', 3), run('c-3', 'paused', 2)] };
  const idle: HostSnapshot = { id: 'ssh:idle', label: 'idle', kind: 'ssh', state: { kind: 'disconnected' }, runs: [] };
  const nodes = runNodes([local, gpu, idle]);
  assert.deepEqual(nodes.map((n) => n.label), ['Local', 'gpu']);
  assert.equal(nodes[1].icon, 'remote');
  assert.deepEqual(nodes[1].children!.map((c) => c.contextValue), ['manta.run.completed.ssh', 'manta.run.paused.ssh.resumable']);
  assert.deepEqual(nodes[0].children!.map((c) => c.contextValue), ['manta.run.running']);
  // with only the local host (and idle SSH hosts) the runs are at the top
  assert.deepEqual(runNodes([local, idle]).map((n) => n.label), ['a']);
});

test('runs show status and progress, with the context value that picks their menu', () => {
  const r = run('tiny-1', 'running', 5, { phase: 'depth', phaseIndex: 2, step: 30, totalSteps: 120, loss: 1.23456, accuracy: 0.4, imagesPerSec: 812.4 });
  assert.equal(runProgressText(r), 'depth (phase 3) · step 30/120 (25%)');
  const snap: HostSnapshot = { id: 'local', label: 'Local', kind: 'local', state: { kind: 'connected', via: 'x', daemonVersion: '0.1.0' }, runs: [r, run('old-2', 'paused', 1)] };
  const nodes = runNodes([snap]);
  assert.deepEqual(nodes.map((n) => [n.label, n.contextValue]), [
    ['tiny', 'manta.run.running'],
    ['old', 'manta.run.paused.resumable'],
  ]);
  assert.equal(nodes[0].description, 'running · depth (phase 3) · step 30/120 (25%)');
  assert.deepEqual(nodes[0].command?.arguments, [{ hostId: 'local', runId: 'tiny-1' }]);
  const details = Object.fromEntries(nodes[0].children!.map((c) => [c.label, c.description]));
  assert.equal(details.Latest, 'loss 1.2346 · accuracy 40.0%');
  assert.equal(details.Speed, '812 images/s');
  assert.equal(details.Folder, '/runs/tiny-1');
  // with several hosts, runs are grouped per host
  const grouped = runNodes([snap, { ...snap, id: 'gpu-box', label: 'gpu-box', runs: [] }]);
  assert.deepEqual(grouped.map((g) => [g.label, g.description]), [
    ['Local', '2 runs'],
    ['gpu-box', '0 runs'],
  ]);
});

test('the status bar follows the most recently updated running run', () => {
  const a: HostSnapshot = { id: 'local', label: 'Local', kind: 'local', state: { kind: 'connected', via: 'x', daemonVersion: '1' }, runs: [run('a-1', 'running', 5), run('b-2', 'completed', 9)] };
  const b: HostSnapshot = { ...a, id: 'other', runs: [run('c-3', 'running', 7)] };
  assert.deepEqual(activeRun([a, b]) && [activeRun([a, b])!.hostId, activeRun([a, b])!.runId], ['other', 'c-3']);
  assert.equal(activeRun([{ ...a, runs: [run('b-2', 'completed', 9)] }]), undefined);
});

test('the run event store keeps each event once, in order, and cuts back on a resume', () => {
  const store = new RunEvents();
  assert.equal(store.nextSeq, 0);
  assert.equal(store.append(log.slice(0, 20)).length, 20);
  // a re-attach replays from an earlier seq: the overlap is dropped
  const fresh = store.append(log.slice(15, 30));
  assert.deepEqual(fresh.map((e) => e.seq), log.slice(20, 30).map((e) => e.seq));
  assert.equal(store.nextSeq, 30);
  assert.deepEqual(store.all.map((e) => e.seq), [...Array(30).keys()]);
  store.truncate(11);
  assert.equal(store.nextSeq, 12);
  assert.equal(store.append(log.slice(12)).length, log.length - 12);
  assert.deepEqual(store.all.map((e) => e.seq), log.map((e) => e.seq));
});

test('the visualizer gets a classification config\'s units and fixed parts, with the schema\'s defaults filled in', () => {
  const config = JSON.parse(readFileSync(join(__dirname, '../fixtures/extension/tiny.manta.json'), 'utf8')) as { supernet: Record<string, unknown> };
  const view = supernetView(config)!;
  assert.equal(view.task, 'classification');
  assert.equal(view.stereo, undefined);
  assert.deepEqual(view.units.map((u) => [u.width, u.stride, u.activation, u.squeezeExcite]), [
    [8, 2, 'relu', false],
    [16, 2, 'relu', false],
    [16, 1, 'relu', false],
    [24, 1, 'relu', false],
    [24, 1, 'relu', false],
  ]);
  assert.deepEqual([view.kernel, view.expand, view.depth, view.width, view.resolution], [[3, 5], [2, 3], [1, 2], [1], [16]]);
  assert.deepEqual([view.stemWidth, view.firstBlockWidth], [8, 8]);
  assert.equal(supernetView({ supernet: { units: 'none' } }), null);
});

test('a stereo config gives six units and the correlation, redirect and decoder, defaults from the schema', () => {
  const units = [16, 24, 32, 48, 64, 96].map((width, i) => ({ width, stride: i === 0 ? 1 : 2 }));
  const view = supernetView({ name: 's', task: 'stereo', supernet: { stem: { width: 12, stride: 1 }, units, depthChoices: [1, 2] } })!;
  assert.equal(view.task, 'stereo');
  assert.deepEqual(view.units.map((u) => [u.width, u.stride]), units.map((u) => [u.width, 2]), 'every stereo unit halves the resolution');
  assert.equal(view.stemWidth, 12);
  assert.equal(view.firstBlockWidth, undefined, 'the stereo supernet has no first block');
  assert.deepEqual(view.stereo, { correlationUnit: 3, maxDisplacement: 4, correlationStride: 1, redirectWidth: 32, decoderWidths: [64, 48, 32, 24, 16, 16] });
  const stereo = { correlationUnit: 2, maxDisplacement: 8, correlationStride: 2, redirectWidth: 24, decoderWidths: [32, 32, 16, 16, 8, 8] };
  assert.deepEqual(supernetView({ task: 'stereo', supernet: { units, stereo } })!.stereo, stereo);
  // A half-typed section keeps what is valid and takes defaults for the rest.
  assert.deepEqual(supernetView({ task: 'stereo', supernet: { units, stereo: { maxDisplacement: 6, decoderWidths: [1, 'x'] } } })!.stereo, {
    correlationUnit: 3,
    maxDisplacement: 6,
    correlationStride: 1,
    redirectWidth: 32,
    decoderWidths: [64, 48, 32, 24, 16, 16],
  });
});
