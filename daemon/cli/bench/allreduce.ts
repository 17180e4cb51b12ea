// Bench `allreduce`: the group's ring all-reduce (mean, in place) of one float32 buffer between 2…4 local processes
// over loopback TCP — what data-parallel training pays per gradient bucket. Each configuration runs in fresh child
// processes (dist/allreduce-worker.js); rank 0 times back-to-back all-reduces after warm-up, and the row reports the
// median over --repeat samples. `--peer [path]` also runs PyTorch's Gloo all-reduce (shared peers/run allreduce) for
// each process count, in the same run, and reports the ratio.
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import { resolve } from 'node:path';
import { benchWorker, type BenchWorkerJob, type BenchWorkerReply, type BenchWorkerResult } from '../../distributed';
import { BenchUnavailable, median, type BenchOptions, type BenchRow, type BenchSuite } from './index';

function list(v: string | undefined, fallback: number[], what: string): number[] {
  if (v === undefined) return fallback;
  const xs = v.split(',').map((s) => Number(s.trim()));
  if (xs.length === 0 || !xs.every((x) => Number.isInteger(x) && x > 0)) throw new BenchUnavailable(`--${what} takes a comma-separated list of positive integers, not '${v}'`);
  return xs;
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = net.createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => ok(port));
    });
  });
}

/** Runs one group of `procs` processes through every size; resolves to rank 0's figures. */
async function runGroup(procs: number, floats: number[], repeat: number): Promise<BenchWorkerResult[]> {
  const { file, execArgv } = benchWorker();
  if (!existsSync(file)) throw new BenchUnavailable(`the worker bundle ${file} is missing (run \`node esbuild.mjs\` first)`);
  const port = await freePort();
  const token = randomBytes(32).toString('hex');
  const children: ChildProcess[] = [];
  try {
    return await new Promise<BenchWorkerResult[]>((ok, fail) => {
      const results: BenchWorkerResult[] = [];
      let done = 0;
      // Generous: 3 warm-ups and the samples of every size, even on a slow shared machine.
      const limit = setTimeout(() => fail(new Error(`the all-reduce group of ${procs} processes did not finish within 10 min`)), 600_000);
      for (let rank = 0; rank < procs; rank++) {
        const child = fork(file, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        children.push(child);
        child.on('message', (m: BenchWorkerReply) => {
          if (m.type === 'result') results.push(m.result);
          else if (m.type === 'error') {
            clearTimeout(limit);
            fail(new Error(`rank ${rank}: ${m.message}`));
          } else if (++done === procs) {
            clearTimeout(limit);
            ok(results);
          }
        });
        child.on('exit', (code, signal) => {
          if (code !== 0 && done < procs) {
            clearTimeout(limit);
            fail(new Error(`rank ${rank} exited (${signal ?? code})`));
          }
        });
        const job: BenchWorkerJob = {
          opts: {
            rank,
            worldSize: procs,
            nodeOf: Array.from({ length: procs }, (_, r) => r),
            hostOf: Array.from({ length: procs }, () => 'localhost'),
            coordinator: { host: '127.0.0.1', port },
            bindAddress: '127.0.0.1',
            token,
            timeoutMs: 60_000,
          },
          floats,
          warmup: 3,
          repeat,
        };
        child.send(job);
      }
    });
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill();
  }
}

/** PyTorch's Gloo all-reduce for `procs` processes: ms per size, as the peer prints them. */
function runPeer(peer: string, procs: number, log: (l: string) => void): Map<number, number> {
  const out = spawnSync(peer, ['allreduce', String(procs)], { encoding: 'utf8', timeout: 600_000 });
  const figures = new Map<number, number>();
  if (out.status !== 0) {
    log(`peer failed (${out.status}): ${(out.stderr ?? '').trim().split('\n').slice(-2).join(' ')}`);
    return figures;
  }
  for (const m of out.stdout.matchAll(/n=(\d+) floats: ([\d.]+) ms/g)) figures.set(Number(m[1]), Number(m[2]));
  return figures;
}

export const suite: BenchSuite = {
  name: 'allreduce',
  describe: 'ring all-reduce (mean) of float32 buffers between local processes over loopback TCP',
  async run(opts: BenchOptions, log): Promise<BenchRow[]> {
    const procsList = list(opts.extra.procs, [2, 3, 4], 'procs');
    const floats = list(opts.extra.floats, [65_536, 1_048_576, 8_388_608], 'floats');
    if (procsList.some((p) => p < 2)) throw new BenchUnavailable('--procs: an all-reduce needs at least 2 processes');
    if (opts.backend) log(`(--backend ${opts.backend} is ignored: the all-reduce runs on the CPU, without tfjs)`);
    const cores = os.availableParallelism();
    const peerPath = opts.extra.peer === undefined ? undefined : opts.extra.peer === 'true' ? resolve(process.cwd(), '../shared/peers/run') : resolve(opts.extra.peer);
    if (peerPath && !existsSync(peerPath)) throw new BenchUnavailable(`the peer ${peerPath} does not exist (it lives in the shared folder beside the repository)`);
    const rows: BenchRow[] = [];
    for (const procs of procsList) {
      if (procs > cores) log(`note: ${procs} processes on ${cores} cores — they share cores, as Gloo's would`);
      log(`${procs} processes: ${floats.join(', ')} floats…`);
      const results = await runGroup(procs, floats, opts.repeat);
      const peer = peerPath ? (log(`running the Gloo peer with ${procs} processes…`), runPeer(peerPath, procs, log)) : undefined;
      for (const r of results.sort((a, b) => floats.indexOf(a.floats) - floats.indexOf(b.floats))) {
        const ms = median(r.samplesMs);
        log(`  ${r.floats} floats: ${r.samplesMs.map((t) => t.toFixed(2)).join(' ')} ms (each the mean of ${r.batch})`);
        const row: BenchRow = { suite: 'allreduce', procs, floats: r.floats, ms, algGBps: (4 * r.floats) / ms / 1e6 };
        const peerMs = peer?.get(r.floats);
        if (peerMs !== undefined) {
          row.peer = { name: 'PyTorch Gloo all-reduce (sum), loopback', ms: peerMs };
          row.ratioToPeer = ms / peerMs;
        }
        rows.push(row);
      }
    }
    return rows;
  },
};
