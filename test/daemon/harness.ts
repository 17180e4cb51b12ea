// Shared parts of the daemon tests: a real `manta daemon` process (from sources, under tsx) in a temp folder, real
// clients over stdio and the Unix socket, and helpers to collect a run's events and wait for its status.
import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, promises as fs, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { ResponseError, type MessageConnection } from 'vscode-jsonrpc/node';
import { AttachRequest, EventsNotification, RunStatusNotification, StartRunRequest, type MantaErrorData, type RunStatus, type RunSummary, type TelemetryEvent } from '../../daemon/protocol';
import { connectStreams, type DaemonClient } from '../../daemon/service/client';

export const repoRoot = path.resolve(__dirname, '..', '..');

const made: string[] = [];
process.on('exit', () => {
  if (!process.env.MANTA_KEEP_TEST_DIRS) for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A short temp folder (Unix socket paths must stay under 108 bytes), removed at exit unless MANTA_KEEP_TEST_DIRS. */
export function tempDir(): string {
  const dir = mkdtempSync('/tmp/mtd-');
  made.push(dir);
  return dir;
}

export interface TestDaemon {
  proc: ChildProcess;
  socketPath: string;
  stateDir: string;
  stderr: () => string;
  /** Exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
  /** The stdio client, when started with stdio. */
  stdio?: DaemonClient;
}

export interface DaemonSetup {
  dir: string;
  stdio?: boolean;
  args?: string[];
  /** Extra environment of the daemon (and its workers), e.g. a test-only MANTA_TEST_PAUSE_AT. */
  env?: NodeJS.ProcessEnv;
}

export async function startDaemon(setup: DaemonSetup): Promise<TestDaemon> {
  const socketPath = path.join(setup.dir, 'run', 'd.sock');
  const stateDir = path.join(setup.dir, 'state');
  const args = [
    '--import',
    'tsx',
    path.join(repoRoot, 'daemon/cli/main.ts'),
    'daemon',
    '--socket',
    socketPath,
    '--state-dir',
    stateDir,
    '--cache-dir',
    path.join(setup.dir, 'cache'),
    ...(setup.stdio ? ['--stdio'] : []),
    ...(setup.args ?? []),
  ];
  const proc = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, MANTA_BACKEND: '', ...setup.env } });
  let err = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (t: string) => (err += t));
  const exited = new Promise<number | string>((resolve) =>
    proc.on('exit', (code, signal) => {
      resolve(code ?? signal ?? -1);
      // A grandchild that inherited the daemon's stdout or stderr (tsx's esbuild service, say) can hold the pipes open
      // after a kill -9; our ends would then keep this test file's process alive until the runner's timeout. The
      // daemon has exited: read what it wrote last, then close our ends.
      setTimeout(() => (proc.stdout?.destroy(), proc.stderr?.destroy()), 500).unref();
    }),
  );
  const daemon: TestDaemon = { proc, socketPath, stateDir, stderr: () => err, exited };
  if (setup.stdio) {
    daemon.stdio = await connectStreams(proc.stdout!, proc.stdin!, { client: { name: 'test-stdio', version: '1' } });
  } else {
    await waitFor(async () => (await canConnect(socketPath)) || (proc.exitCode !== null ? 'exited' : false), 30000, () => `daemon did not listen: ${err}`);
  }
  return daemon;
}

export function canConnect(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** Polls `check` until it returns something truthy. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs: number, what: () => string): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Events and statuses a connection receives, per run. */
export class Collector {
  readonly events = new Map<string, TelemetryEvent[]>();
  readonly statuses = new Map<string, RunSummary>();
  readonly truncations: { runId: string; toSeq: number }[] = [];

  register(connection: MessageConnection): void {
    connection.onNotification(EventsNotification, (p) => {
      const list = this.events.get(p.runId) ?? [];
      list.push(...p.events);
      this.events.set(p.runId, list);
    });
    connection.onNotification(RunStatusNotification, (p) => {
      this.statuses.set(p.run.runId, p.run);
      if (p.truncatedToSeq !== undefined) {
        this.truncations.push({ runId: p.run.runId, toSeq: p.truncatedToSeq });
        const list = this.events.get(p.run.runId);
        if (list) this.events.set(p.run.runId, list.filter((e) => e.seq <= p.truncatedToSeq!));
      }
    });
  }

  of(runId: string): TelemetryEvent[] {
    return this.events.get(runId) ?? [];
  }

  status(runId: string): RunStatus | undefined {
    return this.statuses.get(runId)?.status;
  }
}

export async function readLogSeqs(runDir: string): Promise<{ seq: number; kind: string; data: unknown }[]> {
  const text = await fs.readFile(path.join(runDir, 'events.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { seq: number; kind: string; data: unknown });
}

/** A small classification config that trains, searches and exports in seconds on wasm. */
export function tinyConfig(name: string, overrides: { trainSize?: number; epochs?: number; checkpointEverySteps?: number } = {}): object {
  return {
    name,
    task: 'classification',
    seed: 7,
    backend: 'wasm',
    data: { kind: 'synthetic', classes: 4, imageSize: 8, channels: 3, trainSize: overrides.trainSize ?? 128, validationSize: 32, testSize: 32 },
    supernet: {
      stem: { width: 4, stride: 1 },
      firstBlock: { width: 4 },
      units: [
        { width: 4, stride: 1 },
        { width: 4, stride: 2 },
        { width: 8, stride: 1 },
        { width: 8, stride: 2 },
        { width: 8, stride: 1 },
      ],
      finalExpandWidth: 16,
      featureMixWidth: 16,
      kernelChoices: [3, 5],
      expandChoices: [2, 3],
      depthChoices: [1, 2],
      resolutionChoices: [8],
    },
    training: {
      batchSize: 16,
      subnetsPerStep: 2,
      checkpointEverySteps: overrides.checkpointEverySteps ?? 4,
      keepCheckpoints: 2,
      bnCalibrationSize: 16,
      evaluationSize: 16,
      phases: [
        { phase: 'largest', epochs: overrides.epochs ?? 3 },
        { phase: 'kernel', epochs: overrides.epochs ?? 3, kernel: [3, 5] },
      ],
    },
    // One worker: these tests check the service; test/distributed/ runs jobs of several workers.
    distributed: { workersPerHost: 1 },
    search: { measuredSubnets: 8, frontSize: 2, predictor: { layers: 1, hiddenUnits: 8, epochs: 5 }, evolution: { population: 4, generations: 3 } },
  };
}

/**
 * Starts a run of tinyConfig(name, one epoch a phase) with its config folder under `dir`, and attaches `connection`
 * to it from its first event.
 */
export async function startTinyRun(connection: MessageConnection, dir: string, name: string): Promise<{ run: RunSummary; config: object; configDir: string }> {
  const configDir = path.join(dir, 'cfg');
  await fs.mkdir(configDir);
  const config = tinyConfig(name, { epochs: 1 });
  const { run } = await connection.sendRequest(StartRunRequest, { config: config as never, configDir });
  await connection.sendRequest(AttachRequest, { runId: run.runId, fromSeq: 0 });
  return { run, config, configDir };
}

/** An assert.rejects check: a JSON-RPC error of `code` whose message matches `pattern` (and with `reason` in its data, when given). */
export function refusedWith(code: number, pattern: RegExp, reason?: string): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof ResponseError, `a JSON-RPC error, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    if (reason) assert.equal((e.data as MantaErrorData | undefined)?.reason, reason);
    return true;
  };
}

/** Every file under `root` (recursively) with the SHA-256 of its bytes: what "left byte for byte as it was" is checked against. */
export function fileHashes(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(path.relative(root, p), createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(root);
  return out;
}

/** SIGTERM, and a SIGKILL if the daemon has not stopped within `graceMs` (a failed test's daemon may be wedged). */
export async function stopDaemon(d: TestDaemon, graceMs = 30000): Promise<void> {
  if (d.proc.exitCode === null && d.proc.signalCode === null) d.proc.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = await Promise.race([d.exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs)))]);
  clearTimeout(timer);
  if (late) {
    d.proc.kill('SIGKILL');
    await d.exited;
    throw new Error(`the daemon did not stop within ${graceMs} ms of SIGTERM; its log: ${d.stderr().slice(-2000)}`);
  }
}
