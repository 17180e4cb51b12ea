// daemon/distributed/ with real processes: every rank is a child process (rank-helper.ts under tsx) on 127.0.0.1,
// joined through the rendezvous on a free port. Results are checked against means computed here; failures
// (wrong token, killed or stopped peer, missing rank, abort, mismatched buffers) must name the right peer, and no
// rank may hang. Short deadlines (2–3 s) keep the file well under a minute; nothing here asserts a duration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import * as path from 'node:path';
import { acceptorHandshake, dialerHandshake, HandshakeFailure } from '../../daemon/distributed/auth';
import { Connection } from '../../daemon/distributed/connection';
import { FrameType } from '../../daemon/distributed/frame';
import { bytesFor, fill } from './data';
import type { ErrorReport, Job, Reply, Step } from './rank-helper';

const HELPER = path.join(__dirname, 'rank-helper.ts');
/** No child may outlive this: a hang fails the test instead of stalling the suite. */
const REPLY_LIMIT_MS = 30_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

class Rank {
  readonly child: ChildProcess;
  private readonly replies: Reply[] = [];
  private readonly waiters: { pred: (r: Reply) => boolean; resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  private exited = false;

  constructor(
    readonly label: string,
    job: Job,
  ) {
    this.child = fork(HELPER, [], { execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: Reply) => {
      this.replies.push(m);
      for (const w of [...this.waiters]) {
        if (w.pred(m)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    this.child.on('exit', () => {
      this.exited = true;
      for (const w of this.waiters.splice(0)) w.reject(new Error(`${this.label} exited without the awaited reply`));
    });
    this.child.send(job);
  }

  next(pred: (r: Reply) => boolean): Promise<Reply> {
    const have = this.replies.find(pred);
    if (have) return Promise.resolve(have);
    if (this.exited) return Promise.reject(new Error(`${this.label} exited without the awaited reply`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.label}: no reply within ${REPLY_LIMIT_MS} ms (hung?)`)), REPLY_LIMIT_MS);
      this.waiters.push({
        pred,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  final(): Promise<Reply> {
    return this.next((r) => r.type === 'done' || r.type === 'failed');
  }

  async done(): Promise<unknown[]> {
    const r = await this.final();
    if (r.type !== 'done') assert.fail(`${this.label} failed: ${JSON.stringify(r)}`);
    return r.results;
  }

  async failed(): Promise<ErrorReport & { stage: string }> {
    const r = await this.final();
    if (r.type !== 'failed') assert.fail(`${this.label} was expected to fail but finished`);
    return { ...r.error, stage: r.stage };
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.exited) this.child.kill(signal);
  }
}

interface GroupSpec {
  n: number;
  nodeOf?: number[];
  timeoutMs: number;
  port: number;
  token: string;
}

const hosts = (n: number) => Array.from({ length: n }, (_, r) => `h${r}`);

function job(g: GroupSpec, rank: number, steps: Step[], extra: Partial<Job> & { token?: string } = {}): Job {
  const { token, ...rest } = extra;
  return {
    opts: {
      rank,
      worldSize: g.n,
      nodeOf: g.nodeOf ?? Array.from({ length: g.n }, (_, r) => r),
      hostOf: hosts(g.n),
      coordinator: { host: '127.0.0.1', port: g.port },
      bindAddress: '127.0.0.1',
      token: token ?? g.token,
      timeoutMs: g.timeoutMs,
    },
    steps,
    ...rest,
  };
}

async function spec(n: number, timeoutMs: number, nodeOf?: number[]): Promise<GroupSpec> {
  return { n, nodeOf, timeoutMs, port: await freePort(), token: randomBytes(32).toString('hex') };
}

/** Starts every rank with the same steps; resolves to each rank's results. */
async function runAll(g: GroupSpec, steps: Step[]): Promise<unknown[][]> {
  const ranks = Array.from({ length: g.n }, (_, r) => new Rank(`rank ${r}`, job(g, r, steps)));
  try {
    return await Promise.all(ranks.map((r) => r.done()));
  } finally {
    for (const r of ranks) r.kill();
  }
}

/** What every rank's input was, for one all-reduce step (call index `call` in that rank's sequence). */
function inputs(n: number, seed: number, call: number, lengths: number[]): Float32Array[][] {
  return Array.from({ length: n }, (_, r) => lengths.map((len, b) => fill(seed, r, call, b, len)));
}

function flatMean(ins: Float32Array[][]): Float64Array[] {
  return ins[0].map((_, b) => {
    const out = new Float64Array(ins[0][b].length);
    for (const rankBufs of ins) for (let i = 0; i < out.length; i++) out[i] += rankBufs[b][i] / ins.length;
    return out;
  });
}

function hierarchicalMean(ins: Float32Array[][], nodeOf: number[]): Float64Array[] {
  const nodes = [...new Set(nodeOf)];
  return ins[0].map((_, b) => {
    const out = new Float64Array(ins[0][b].length);
    for (const node of nodes) {
      const members = nodeOf.map((x, r) => (x === node ? r : -1)).filter((r) => r >= 0);
      for (const r of members) for (let i = 0; i < out.length; i++) out[i] += ins[r][b][i] / members.length / nodes.length;
    }
    return out;
  });
}

function assertClose(actual: Float32Array[], expected: Float64Array[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: buffer count`);
  for (let b = 0; b < expected.length; b++) {
    assert.equal(actual[b].length, expected[b].length, `${what}: length of buffer ${b}`);
    for (let i = 0; i < expected[b].length; i++) {
      if (Math.abs(actual[b][i] - expected[b][i]) > 1e-6) assert.fail(`${what}: buffer ${b}[${i}] = ${actual[b][i]}, expected ${expected[b][i]}`);
    }
  }
}

/** Every rank ends with the same bits (each segment is computed once and passed around). */
function assertIdentical(results: Float32Array[][], what: string): void {
  for (let r = 1; r < results.length; r++) {
    for (let b = 0; b < results[0].length; b++) assert.ok(Buffer.from(results[r][b].buffer, results[r][b].byteOffset, results[r][b].byteLength).equals(Buffer.from(results[0][b].buffer, results[0][b].byteOffset, results[0][b].byteLength)), `${what}: rank ${r} differs from rank 0 in buffer ${b}`);
  }
}

// Lengths: one float (fewer than ranks), empty buffers, odd lengths, several buffers, and ~300 K floats so that
// segments span several chunks and chunks span buffers.
const CALLS: number[][] = [[1], [7, 0, 13], [300_007, 5, 0, 65_537], [2]];

function flatSteps(seed: number): Step[] {
  return CALLS.map((lengths) => ({ op: 'allreduce', lengths, seed }));
}

function checkFlat(all: unknown[][], n: number, seed: number, first = 0): void {
  CALLS.forEach((lengths, c) => {
    const got = all.map((res) => res[first + c] as Float32Array[]);
    const expected = flatMean(inputs(n, seed, c, lengths));
    got.forEach((g, r) => assertClose(g, expected, `${n} ranks, call ${c}, rank ${r}`));
    assertIdentical(got, `${n} ranks, call ${c}`);
  });
}

test('all-reduce mean over 2 ranks, with broadcastBytes, barrier, a burst of unawaited ops and stats', async () => {
  const g = await spec(2, 5000);
  const steps: Step[] = [...flatSteps(11), { op: 'broadcast', root: 1, length: 1_000_003, seed: 5 }, { op: 'broadcast', root: 0, length: 0, seed: 6 }, { op: 'barrier' }, { op: 'burst', lengths: [1001, 3], seed: 12, root: 1 }, { op: 'stats' }];
  const all = await runAll(g, steps);
  checkFlat(all, 2, 11);
  for (const res of all) {
    assert.deepEqual(res[CALLS.length], bytesFor(5, 1_000_003));
    assert.equal((res[CALLS.length + 1] as Uint8Array).length, 0);
    assert.equal(res[CALLS.length + 2], true);
  }
  // The burst: all-reduce (call 4), broadcast, all-reduce (call 5), barrier — in call order on every rank.
  const burst = all.map((res) => res[CALLS.length + 3] as [Float32Array[], Uint8Array, Float32Array[]]);
  burst.forEach(([a, bytes, b], r) => {
    assertClose(a, flatMean(inputs(2, 12, CALLS.length, [1001, 3])), `burst a, rank ${r}`);
    assert.deepEqual(bytes, bytesFor(12, 1000));
    assertClose(b, flatMean(inputs(2, 12, CALLS.length + 1, [1001, 3])), `burst b, rank ${r}`);
  });
  const stats = all[0][CALLS.length + 4] as { collectiveMs: number; calls: number; bytesSent: number; bytesReceived: number };
  assert.equal(stats.calls, CALLS.length + 3 + 4);
  assert.ok(stats.bytesSent > 4 * 300_000 && stats.bytesReceived > 4 * 300_000 && stats.collectiveMs > 0, JSON.stringify(stats));
});

test('all-reduce and hierarchical all-reduce over 3 ranks in nodes [0, 0, 1], broadcast from rank 2', async () => {
  const nodeOf = [0, 0, 1];
  const g = await spec(3, 5000, nodeOf);
  const hier: Step[] = CALLS.map((lengths) => ({ op: 'allreduce', lengths, seed: 22, hierarchical: true }));
  const all = await runAll(g, [...flatSteps(21), ...hier, { op: 'broadcast', root: 2, length: 4099, seed: 7 }, { op: 'barrier' }]);
  checkFlat(all, 3, 21);
  CALLS.forEach((lengths, c) => {
    const expected = hierarchicalMean(inputs(3, 22, CALLS.length + c, lengths), nodeOf);
    all.forEach((res, r) => assertClose(res[CALLS.length + c] as Float32Array[], expected, `hierarchical [0,0,1], call ${c}, rank ${r}`));
  });
  for (const res of all) assert.deepEqual(res[2 * CALLS.length], bytesFor(7, 4099));
});

test('all-reduce and hierarchical all-reduce over 4 ranks, 2 nodes × 2 ranks', async () => {
  const nodeOf = [0, 0, 1, 1];
  const g = await spec(4, 5000, nodeOf);
  const hier: Step[] = CALLS.map((lengths) => ({ op: 'allreduce', lengths, seed: 32, hierarchical: true }));
  const all = await runAll(g, [...flatSteps(31), ...hier, { op: 'barrier' }]);
  checkFlat(all, 4, 31);
  CALLS.forEach((lengths, c) => {
    const got = all.map((res) => res[CALLS.length + c] as Float32Array[]);
    const expected = hierarchicalMean(inputs(4, 32, CALLS.length + c, lengths), nodeOf);
    got.forEach((x, r) => assertClose(x, expected, `hierarchical 2×2, call ${c}, rank ${r}`));
    assertIdentical(got, `hierarchical 2×2, call ${c}`);
  });
});

test('hierarchical all-reduce with non-contiguous nodes [1, 0, 1, 1] (node sizes 3 and 1)', async () => {
  const nodeOf = [1, 0, 1, 1];
  const g = await spec(4, 5000, nodeOf);
  const lengths = [100_003, 2];
  const all = await runAll(g, [{ op: 'allreduce', lengths, seed: 41, hierarchical: true }]);
  const expected = hierarchicalMean(inputs(4, 41, 0, lengths), nodeOf);
  all.forEach((res, r) => assertClose(res[0] as Float32Array[], expected, `hierarchical [1,0,1,1], rank ${r}`));
});

test('a rank with the wrong token is refused (auth) and the right ranks still form the group', async () => {
  const g = await spec(2, 8000);
  const steps: Step[] = [{ op: 'allreduce', lengths: [9], seed: 51 }];
  const rank0 = new Rank('rank 0', job(g, 0, steps));
  const impostor = new Rank('impostor', job(g, 1, steps, { token: randomBytes(32).toString('hex') }));
  try {
    const e = await impostor.failed();
    assert.equal(e.stage, 'join');
    assert.equal(e.kind, 'auth', e.message);
    assert.match(e.message, /different job tokens/);
    assert.doesNotMatch(e.message, new RegExp(g.token));
    const rank1 = new Rank('rank 1', job(g, 1, steps));
    try {
      const [a, b] = await Promise.all([rank0.done(), rank1.done()]);
      const expected = flatMean(inputs(2, 51, 0, [9]));
      assertClose(a[0] as Float32Array[], expected, 'rank 0');
      assertClose(b[0] as Float32Array[], expected, 'rank 1');
    } finally {
      rank1.kill();
    }
  } finally {
    rank0.kill();
    impostor.kill();
  }
});

test('the handshake is mutual: the accepting side refuses a dialer that cannot prove the token (auth)', async () => {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  try {
    // A dialer that skips checking the acceptor and sends a made-up proof.
    const accepted = new Promise<unknown>((resolve) => server.once('connection', (s) => resolve(acceptorHandshake(Connection.accept(s), 'right-token', () => undefined).catch((e: unknown) => e))));
    const fake = await Connection.dial('127.0.0.1', port, 2000);
    fake.sendJson(FrameType.Hello, { v: 1, purpose: 'rendezvous', nonce: randomBytes(32).toString('hex') });
    assert.equal((await fake.nextControl()).type, FrameType.Challenge);
    fake.sendJson(FrameType.Proof, { mac: randomBytes(32).toString('hex'), body: '{"rank":1}' });
    const answer = await fake.nextControl();
    assert.equal(answer.type, FrameType.Refuse);
    const err = await accepted;
    assert.ok(err instanceof HandshakeFailure && err.kind === 'auth', String(err));
    fake.destroy();

    // Two real sides with different tokens: both refuse, each with kind 'auth'.
    const accepted2 = new Promise<unknown>((resolve) => server.once('connection', (s) => resolve(acceptorHandshake(Connection.accept(s), 'token-a', () => undefined).catch((e: unknown) => e))));
    const dialer = await Connection.dial('127.0.0.1', port, 2000);
    const dialed = await dialerHandshake(dialer, 'token-b', 'rendezvous', {}).catch((e: unknown) => e);
    assert.ok(dialed instanceof HandshakeFailure && dialed.kind === 'auth', String(dialed));
    const err2 = await accepted2;
    assert.ok(err2 instanceof HandshakeFailure && err2.kind === 'auth', String(err2));
    dialer.destroy();
  } finally {
    server.close();
  }
});

test('two processes started as the same rank: the second is refused, the group forms with the first', async () => {
  const g = await spec(3, 8000);
  const steps: Step[] = [{ op: 'barrier' }];
  const ranks = [new Rank('rank 0', job(g, 0, steps)), new Rank('rank 1 (a)', job(g, 1, steps)), new Rank('rank 1 (b)', job(g, 1, steps))];
  try {
    // Whichever rank 1 completes its handshake second is refused; then rank 2 completes the group.
    const refused = await Promise.race([ranks[1].failed().then((e) => ({ e, who: 1 })), ranks[2].failed().then((e) => ({ e, who: 2 }))]);
    assert.equal(refused.e.kind, 'rendezvous', refused.e.message);
    assert.match(refused.e.message, /rank 1 on host 'h1' has already joined/);
    ranks.push(new Rank('rank 2', job(g, 2, steps)));
    const survivors = [ranks[0], ranks[refused.who === 1 ? 2 : 1], ranks[3]];
    await Promise.all(survivors.map((r) => r.done()));
  } finally {
    for (const r of ranks) r.kill();
  }
});

/** Starts n looping ranks and waits until every one of them has completed a few all-reduces. */
async function looping(g: GroupSpec, extra: (rank: number) => Partial<Job> = () => ({})): Promise<Rank[]> {
  const steps: Step[] = [{ op: 'loop', lengths: [5000, 3], pauseMs: 5, progressAfter: 10 }];
  const ranks = Array.from({ length: g.n }, (_, r) => new Rank(`rank ${r}`, job(g, r, steps, extra(r))));
  await Promise.all(ranks.map((r) => r.next((m) => m.type === 'progress')));
  return ranks;
}

test('a killed peer (SIGKILL) makes every other rank fail, naming it', async () => {
  const g = await spec(4, 3000);
  const ranks = await looping(g);
  try {
    ranks[2].kill('SIGKILL');
    for (const r of [0, 1, 3]) {
      const e = await ranks[r].failed();
      assert.equal(e.peerRank, 2, `rank ${r}: ${e.message}`);
      assert.equal(e.peerHost, 'h2');
      assert.equal(e.kind, 'peer-lost', e.message);
      assert.match(e.message, /rank 2 on host 'h2'/);
    }
  } finally {
    for (const r of ranks) r.kill();
  }
});

test('a stopped peer (SIGSTOP) makes the others time out, naming it', async () => {
  const g = await spec(3, 2000);
  const ranks = await looping(g);
  try {
    ranks[1].kill('SIGSTOP');
    for (const r of [0, 2]) {
      const e = await ranks[r].failed();
      assert.equal(e.kind, 'timeout', `rank ${r}: ${e.message}`);
      assert.equal(e.peerRank, 1, `rank ${r}: ${e.message}`);
      assert.match(e.message, /rank 1 on host 'h1'/);
    }
  } finally {
    for (const r of ranks) r.kill('SIGKILL');
  }
});

test('aborting one rank\'s signal fails its op (aborted) and the others name it', async () => {
  const g = await spec(3, 3000);
  const ranks = await looping(g, (r) => (r === 1 ? { abortAfterMs: 300 } : {}));
  try {
    const e1 = await ranks[1].failed();
    assert.equal(e1.kind, 'aborted', e1.message);
    for (const r of [0, 2]) {
      const e = await ranks[r].failed();
      assert.equal(e.kind, 'aborted', `rank ${r}: ${e.message}`);
      assert.equal(e.peerRank, 1, `rank ${r}: ${e.message}`);
    }
  } finally {
    for (const r of ranks) r.kill();
  }
});

test('buffers of different lengths on two ranks: a protocol error, not a hang or a wrong result', async () => {
  const g = await spec(2, 3000);
  const ranks = [new Rank('rank 0', job(g, 0, [{ op: 'allreduce', lengths: [10], seed: 1 }])), new Rank('rank 1', job(g, 1, [{ op: 'allreduce', lengths: [12], seed: 1 }]))];
  try {
    for (const [r, other] of [
      [0, 1],
      [1, 0],
    ]) {
      const e = await ranks[r].failed();
      assert.equal(e.kind, 'protocol', e.message);
      assert.equal(e.peerRank, other, e.message);
      assert.match(e.message, /differ in length/);
    }
  } finally {
    for (const r of ranks) r.kill();
  }
});

test('rendezvous deadlines name what is missing: the rank that never came, the coordinator that never answered', async () => {
  const g = await spec(3, 2000);
  const ranks = [new Rank('rank 0', job(g, 0, [])), new Rank('rank 1', job(g, 1, []))];
  const alone = await spec(2, 1000);
  const lonely = new Rank('lonely rank 1', job(alone, 1, []));
  try {
    const e0 = await ranks[0].failed();
    assert.equal(e0.kind, 'timeout', e0.message);
    assert.equal(e0.peerRank, 2);
    assert.match(e0.message, /rank 2 \(host 'h2'\) did not join within 2 s/);
    const e1 = await ranks[1].failed();
    assert.equal(e1.kind, 'timeout', e1.message);
    assert.equal(e1.peerRank, 2, e1.message);
    assert.match(e1.message, /rank 2 \(host 'h2'\) did not join/);
    const e = await lonely.failed();
    assert.equal(e.kind, 'timeout', e.message);
    assert.equal(e.peerRank, 0);
    assert.match(e.message, new RegExp(`the coordinator at 127\\.0\\.0\\.1:${alone.port} \\(host 'h0'\\) did not answer within 1 s`));
  } finally {
    for (const r of [...ranks, lonely]) r.kill();
  }
});
