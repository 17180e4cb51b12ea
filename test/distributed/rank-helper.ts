// One rank of a test group, as a real child process (forked by collectives.test.ts with tsx): it receives its
// options and a list of steps over IPC, runs them, and reports results — or the CollectiveError, field by field.
import { CollectiveError, joinGroup, type GroupOptions, type ProcessGroup } from '../../daemon/distributed';
import { bytesFor, fill } from './data';

export type Step =
  | { op: 'allreduce'; lengths: number[]; seed: number; hierarchical?: boolean }
  | { op: 'broadcast'; root: number; length: number; seed: number }
  | { op: 'barrier' }
  /** All-reduces of `lengths` until one fails; says 'progress' after `progressAfter` of them. */
  | { op: 'loop'; lengths: number[]; pauseMs: number; progressAfter: number }
  | { op: 'stats' }
  /** Several collectives issued without waiting in between (they must run in call order). */
  | { op: 'burst'; lengths: number[]; seed: number; root: number };

export interface Job {
  opts: Omit<GroupOptions, 'signal'>;
  steps: Step[];
  /** Abort the group's signal this many ms after joining. */
  abortAfterMs?: number;
}

export interface ErrorReport {
  name: string;
  message: string;
  kind?: string;
  peerRank?: number;
  peerHost?: string;
}

export type Reply =
  | { type: 'joined' }
  | { type: 'progress' }
  | { type: 'done'; results: unknown[]; closeMs: number }
  | { type: 'failed'; stage: 'join' | 'step'; step?: number; error: ErrorReport; closeMs?: number };

function report(e: unknown): ErrorReport {
  if (e instanceof CollectiveError) return { name: e.name, message: e.message, kind: e.kind, peerRank: e.peerRank, peerHost: e.peerHost };
  return e instanceof Error ? { name: e.name, message: e.message } : { name: 'Error', message: String(e) };
}

/** Resolves once the message is handed over: the process may exit right after. */
const send = (r: Reply): Promise<void> =>
  new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(r, undefined, {}, () => resolve());
  });

async function closeTimed(g: ProcessGroup): Promise<number> {
  const t = performance.now();
  await g.close();
  await g.close(); // idempotent
  return performance.now() - t;
}

process.once('message', (job: Job) => {
  void (async () => {
    const ac = new AbortController();
    let g: ProcessGroup;
    try {
      g = await joinGroup({ ...job.opts, signal: ac.signal });
    } catch (e) {
      await send({ type: 'failed', stage: 'join', error: report(e) });
      return;
    }
    await send({ type: 'joined' });
    if (job.abortAfterMs !== undefined) setTimeout(() => ac.abort(), job.abortAfterMs);
    const results: unknown[] = [];
    let call = 0;
    for (let i = 0; i < job.steps.length; i++) {
      const s = job.steps[i];
      try {
        if (s.op === 'allreduce') {
          const bufs = s.lengths.map((len, b) => fill(s.seed, g.rank, call, b, len));
          call++;
          await (s.hierarchical ? g.hierarchicalAllReduceMean(bufs) : g.allReduceMean(bufs));
          results.push(bufs);
        } else if (s.op === 'broadcast') {
          const out = await g.broadcastBytes(g.rank === s.root ? bytesFor(s.seed, s.length) : undefined, s.root);
          results.push(out);
        } else if (s.op === 'barrier') {
          await g.barrier();
          results.push(true);
        } else if (s.op === 'stats') {
          results.push(g.stats());
        } else if (s.op === 'burst') {
          const a = s.lengths.map((len, b) => fill(s.seed, g.rank, call, b, len));
          const b = s.lengths.map((len, k) => fill(s.seed, g.rank, call + 1, k, len));
          call += 2;
          const [, bytes] = await Promise.all([g.allReduceMean(a), g.broadcastBytes(g.rank === s.root ? bytesFor(s.seed, 1000) : undefined, s.root), g.allReduceMean(b), g.barrier()]);
          results.push([a, bytes, b]);
        } else {
          for (let k = 0; ; k++) {
            const bufs = s.lengths.map((len, b) => fill(1, g.rank, k, b, len));
            await g.allReduceMean(bufs);
            if (k + 1 === s.progressAfter) await send({ type: 'progress' });
            await new Promise((r) => setTimeout(r, s.pauseMs));
          }
        }
      } catch (e) {
        await send({ type: 'failed', stage: 'step', step: i, error: report(e), closeMs: await closeTimed(g) });
        return;
      }
    }
    await send({ type: 'done', results, closeMs: await closeTimed(g) });
  })().finally(() => process.disconnect?.());
});
