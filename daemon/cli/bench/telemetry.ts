// `npm run bench -- telemetry`: telemetry through the real daemon (a `manta daemon` process with synthetic runs, real
// worker processes, real Unix-socket clients in this process).
//  - eventsPerSec: events per second a worker's flood reaches each attached client (0 clients: what the worker and
//    the log take), end to end;
//  - trainingSlowdownPct: how much slower a CPU-bound "training" worker (busy steps emitting 10 events each — far
//    more telemetry than a real trainer) finishes with 1 and 3 clients attached than with none;
//  - replayMs: time for a client attaching from seq 0 to receive a 1,000,000-event log;
//  - daemonCpuPct / clientsCpuPct: CPU the daemon and the clients (this process) use during the training runs.
// Options: --steps <n> (training steps, default 400), --step-ms <ms> (default 5), --flood <events> (default 300000),
// --replay-events <n> (default 1000000).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { AttachRequest, DetachRequest, EventsNotification, RunStatusNotification, ShutdownRequest, StartSyntheticRunRequest, type TelemetryEvent } from '../../protocol';
import { connectSocket, type DaemonClient } from '../../service/client';
import { median, type BenchOptions, type BenchRow, type BenchSuite } from './index';

interface Receiver {
  client: DaemonClient;
  /** Runs this connection saw finish (runStatus goes to every connection, attached or not), with their event count. */
  completed: Map<string, number>;
  /** Per run: events received, and when the first and the last arrived. */
  runs: Map<string, { count: number; first: number; last: number; finished?: TelemetryEvent }>;
}

async function receiver(socketPath: string): Promise<Receiver> {
  const runs: Receiver['runs'] = new Map();
  const completed: Receiver['completed'] = new Map();
  const client = await connectSocket(socketPath, {
    client: { name: 'bench-telemetry', version: '1' },
    beforeListen: (c) => {
      c.onNotification(RunStatusNotification, (p) => {
        if (p.run.status === 'completed') completed.set(p.run.runId, p.run.nextSeq);
      });
      c.onNotification(EventsNotification, (p) => {
        const now = performance.now();
        let r = runs.get(p.runId);
        if (!r) runs.set(p.runId, (r = { count: 0, first: now, last: now }));
        r.count += p.events.length;
        r.last = now;
        const end = p.events[p.events.length - 1];
        if (end?.kind === 'run.finished') r.finished = end;
      });
    },
  });
  return { client, runs, completed };
}

function until(check: () => boolean, timeoutMs = 600000): Promise<void> {
  return new Promise((resolve, reject) => {
    const end = Date.now() + timeoutMs;
    const tick = () => (check() ? resolve() : Date.now() > end ? reject(new Error('benchmark run timed out')) : setTimeout(tick, 5));
    tick();
  });
}

/** Starts a synthetic run with `attached` receivers attached from seq 0 (the control connection only watches its
 * status); resolves when every one has its end. */
async function syntheticRun(
  control: Receiver,
  attached: Receiver[],
  params: { steps: number; extraEventsPerStep: number; stepWorkMs: number },
): Promise<{ runId: string; wallMs: number; events: number; perClient: { count: number; first: number; last: number }[] }> {
  const { run } = await control.client.connection.sendRequest(StartSyntheticRunRequest, { name: 'bench', checkpointEvery: 1e8, ...params });
  await Promise.all(attached.map((r) => r.client.connection.sendRequest(AttachRequest, { runId: run.runId, fromSeq: 0 })));
  await until(() => control.completed.has(run.runId) && attached.every((r) => r.runs.get(run.runId)?.finished));
  // The worker's own wall time is in the last event: fetch just that one.
  const events = control.completed.get(run.runId)!;
  await control.client.connection.sendRequest(AttachRequest, { runId: run.runId, fromSeq: events - 1 });
  await until(() => control.runs.get(run.runId)?.finished !== undefined);
  await control.client.connection.sendRequest(DetachRequest, { runId: run.runId });
  const wallMs = (control.runs.get(run.runId)!.finished!.data as { wallMs: number }).wallMs;
  return { runId: run.runId, wallMs, events, perClient: attached.map((r) => r.runs.get(run.runId)!) };
}

function startDaemon(dir: string, log: (line: string) => void): { proc: ChildProcess; socketPath: string } {
  const socketPath = path.join(dir, 'run', 'd.sock');
  // The same entry this process was started from (dist/manta.js, or daemon/cli/main.ts under tsx).
  const proc = spawn(
    process.execPath,
    [...process.execArgv, process.argv[1], 'daemon', '--synthetic-runs', '--socket', socketPath, '--state-dir', path.join(dir, 'state'), '--cache-dir', path.join(dir, 'cache')],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (t: string) => {
    for (const line of t.split('\n')) if (line.includes('warning') || line.includes('error')) log(line);
  });
  return { proc, socketPath };
}

async function connectWhenUp(socketPath: string, proc: ChildProcess): Promise<Receiver> {
  for (let i = 0; ; i++) {
    try {
      return await receiver(socketPath);
    } catch (e) {
      if (proc.exitCode !== null || i > 300) throw new Error(`the daemon did not start: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** CPU seconds a process has used (Linux /proc; undefined elsewhere). Clock ticks are 1/100 s on Linux. */
function cpuSeconds(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

function num(opts: BenchOptions, name: string, fallback: number): number {
  const v = Number(opts.extra[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

export const suite: BenchSuite = {
  name: 'telemetry',
  describe: 'events/s from a worker through the daemon to attached clients; training slowdown with 1 and 3 clients; 1M-event replay',
  async run(opts, log) {
    const steps = num(opts, 'steps', 400);
    const stepMs = num(opts, 'step-ms', 5);
    const flood = num(opts, 'flood', 300000);
    const replayEvents = num(opts, 'replay-events', 1000000);
    if (opts.backend) log(`telemetry: --backend ${opts.backend} is ignored (the workload is synthetic; no tfjs)`);
    const dir = mkdtempSync('/tmp/manta-bench-');
    const daemon = startDaemon(dir, log);
    const receivers: Receiver[] = [];
    try {
      const control = await connectWhenUp(daemon.socketPath, daemon.proc);
      for (let i = 0; i < 3; i++) receivers.push(await receiver(daemon.socketPath));
      const training = { steps, extraEventsPerStep: 9, stepWorkMs: stepMs };
      const floodRun = { steps: Math.ceil(flood / 10), extraEventsPerStep: 9, stepWorkMs: 0 };

      log(`telemetry: warm-up`);
      await syntheticRun(control, receivers.slice(0, 1), { ...training, steps: Math.min(steps, 50) });

      const rows: BenchRow[] = [];
      for (const clients of [0, 1, 3]) {
        const walls: number[] = [];
        const ratios: number[] = [];
        const rates: number[] = [];
        const daemonCpu: number[] = [];
        const clientCpu: number[] = [];
        for (let r = 0; r < opts.repeat; r++) {
          // Each measurement is paired with a baseline run (no client) just before it, and the slowdown is the median
          // of the pairs' ratios, so drift in the machine's load hits both sides of each ratio alike.
          const base = clients > 0 ? (await syntheticRun(control, [], training)).wallMs : undefined;
          const d0 = cpuSeconds(daemon.proc.pid);
          const c0 = process.cpuUsage();
          const w0 = performance.now();
          const t = await syntheticRun(control, receivers.slice(0, clients), training);
          const wall = performance.now() - w0;
          const d1 = cpuSeconds(daemon.proc.pid);
          if (d0 !== undefined && d1 !== undefined) daemonCpu.push(((d1 - d0) * 1000 * 100) / wall);
          const c = process.cpuUsage(c0);
          clientCpu.push(((c.user + c.system) / 1000 / wall) * 100);
          walls.push(t.wallMs);
          if (base !== undefined) ratios.push(t.wallMs / base);
          const f = await syntheticRun(control, receivers.slice(0, clients), floodRun);
          rates.push(
            clients === 0
              ? f.events / (f.wallMs / 1000)
              : Math.min(...f.perClient.map((x) => (x.count - 1) / Math.max(1e-3, (x.last - x.first) / 1000))),
          );
          log(`telemetry: clients ${clients} rep ${r + 1}: training ${t.wallMs} ms${base !== undefined ? ` (baseline ${base} ms)` : ''} for ${steps} steps, flood ${Math.round(rates[rates.length - 1])} events/s`);
        }
        rows.push({
          suite: 'telemetry',
          clients,
          eventsPerSec: Math.round(median(rates)),
          trainingSlowdownPct: clients === 0 ? 0 : Number(((median(ratios) - 1) * 100).toFixed(2)),
          trainingStepsPerSec: Number((steps / (median(walls) / 1000)).toFixed(1)),
          trainingEventsPerSec: Math.round((steps * 10) / (median(walls) / 1000)),
          // What the telemetry costs in CPU while training runs (percent of one core), robust to machine noise:
          // on a machine with a core to spare this, not trainingSlowdownPct, is the price.
          ...(daemonCpu.length ? { daemonCpuPct: Number(median(daemonCpu).toFixed(1)) } : {}),
          clientsCpuPct: Number(median(clientCpu).toFixed(1)),
        });
      }

      // Replay: a log of `replayEvents` events, then a fresh client attaching from seq 0.
      log(`telemetry: writing a ${replayEvents}-event log`);
      const big = await syntheticRun(control, [], { steps: Math.ceil((replayEvents - 2) / 10), extraEventsPerStep: 9, stepWorkMs: 0 });
      const replays: number[] = [];
      for (let r = 0; r < Math.min(opts.repeat, 3); r++) {
        const fresh = await receiver(daemon.socketPath);
        const t0 = performance.now();
        await fresh.client.connection.sendRequest(AttachRequest, { runId: big.runId, fromSeq: 0 });
        await until(() => fresh.runs.get(big.runId)?.finished !== undefined);
        replays.push(performance.now() - t0);
        const got = fresh.runs.get(big.runId)!.count;
        if (got !== big.events) throw new Error(`replay delivered ${got} of ${big.events} events`);
        log(`telemetry: replay of ${big.events} events: ${Math.round(replays[replays.length - 1])} ms`);
        fresh.client.close();
      }
      const one = rows.find((r) => r.clients === 1)!;
      one.replayEvents = big.events;
      one.replayMs = Math.round(median(replays));
      await control.client.connection.sendRequest(ShutdownRequest, {}).catch(() => undefined);
      return rows;
    } finally {
      for (const r of receivers) r.client.close();
      if (daemon.proc.exitCode === null) {
        daemon.proc.kill('SIGTERM');
        await new Promise((r) => daemon.proc.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
