// Bounded resources (issue 10, finding 5), black-box through the real socket and process: a client flooding requests
// without reading replies, connections holding huge incomplete frames, a connection that never says hello, a config
// file over the size limit, too many connections, too many unanswered requests — each limit, when hit, answers with an
// error naming it (or stops reading that client), the daemon's memory stays bounded (VmRSS from /proc), and another
// client is still served. Plus the FIFO queue of worker-forking requests. Figures are printed (`# rss …`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { CancellationTokenSource, ResponseError, StreamMessageReader, type Message } from 'vscode-jsonrpc/node';
import { HostInfoRequest, ListRunsRequest, MantaErrorCodes, PROTOCOL_VERSION, StartRunRequest, type MantaErrorData } from '../../daemon/protocol';
import { connectSocket } from '../../daemon/service/client';
import { TaskQueue } from '../../daemon/service/task-queue';
import { startDaemon, stopDaemon, tempDir, waitFor, type TestDaemon } from './harness';

const RSS_BOUND_MB = 400;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Samples the daemon's RSS every 50 ms while `during` runs; the peak, in MB. */
async function peakRss(pid: number, during: () => Promise<void>): Promise<number> {
  let peak = rssMb(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 50);
  try {
    await during();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, rssMb(pid));
}

function frame(body: string): Buffer {
  return Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

function request(id: number, method: string, params: object = {}): Buffer {
  return frame(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
}

const hello = request(0, 'manta/hello', { protocolVersion: PROTOCOL_VERSION, client: { name: 'abuser', version: '1' } });

/** A raw socket: what came back (parsed) and whether the daemon closed it. */
async function rawSocket(socketPath: string): Promise<{ socket: net.Socket; replies: Message[]; closed: () => boolean }> {
  const socket = net.connect(socketPath);
  socket.on('error', () => undefined);
  await new Promise((r) => socket.once('connect', r));
  const replies: Message[] = [];
  let closed = false;
  socket.on('close', () => (closed = true));
  new StreamMessageReader(socket).listen((m) => replies.push(m));
  return { socket, replies, closed: () => closed };
}

async function stillServed(d: TestDaemon): Promise<void> {
  const c = await connectSocket(d.socketPath, { client: { name: 'bystander', version: '1' } });
  try {
    const { runs } = await c.connection.sendRequest(ListRunsRequest, {});
    assert.ok(Array.isArray(runs));
  } finally {
    c.close();
  }
}

const errorOf = (m: Message) => (m as unknown as { error?: { code: number; message: string; data?: MantaErrorData } }).error;

/** A fresh daemon per abuse, so each RSS figure is its own (V8 does not hand freed memory back at once). */
async function withDaemon(dir: string, run: (d: TestDaemon, baseline: number) => Promise<void>): Promise<void> {
  const d = await startDaemon({ dir, args: ['--limits', 'helloTimeoutMs=2000'] });
  try {
    await stillServed(d);
    await run(d, rssMb(d.proc.pid!));
  } finally {
    await stopDaemon(d);
  }
}

test('bounded resources: each limit answers with its name, memory stays bounded, others are served', async (t) => {
  const dir = tempDir();
  {
    await t.test('a client sending 200k requests without reading the replies', () => withDaemon(dir, async (d, baseline) => {
      const pid = d.proc.pid!;
      const flood = await rawSocket(d.socketPath);
      const frames: Buffer[] = [hello];
      for (let i = 1; i <= 200_000; i++) frames.push(request(i, 'manta/listRuns'));
      const bytes = Buffer.concat(frames);
      flood.socket.pause(); // never read a reply
      const peak = await peakRss(pid, async () => {
        flood.socket.write(bytes);
        await new Promise((r) => setTimeout(r, 4000));
        await stillServed(d);
      });
      t.diagnostic(`rss 200k unread requests: peak ${peak.toFixed(0)} MB (baseline ${baseline.toFixed(0)} MB, ${(bytes.length / 2 ** 20).toFixed(1)} MiB sent)`);
      assert.ok(peak < RSS_BOUND_MB, `daemon RSS ${peak.toFixed(0)} MB stays under ${RSS_BOUND_MB} MB`);
      flood.socket.destroy();
    }));

    await t.test('20 connections each holding an incomplete 16 MiB frame, 20 more an incomplete 4 MiB one', () => withDaemon(dir, async (d, baseline) => {
      const pid = d.proc.pid!;
      // One that declares a frame over the limit and sends nothing more gets the error naming the limit.
      const declared = await rawSocket(d.socketPath);
      declared.socket.write(Buffer.from(`Content-Length: ${16 * 2 ** 20}\r\n\r\n`));
      await waitFor(() => declared.closed(), 5000, () => 'still open');
      assert.match(errorOf(declared.replies[0])?.message ?? '', /exceeds the limit of 4194304 bytes \(maxFrameBytes\); closing the connection/);
      const socks = await Promise.all(Array.from({ length: 40 }, () => rawSocket(d.socketPath)));
      const peak = await peakRss(pid, async () => {
        socks.forEach((s, i) => {
          const declared = i < 20 ? 16 * 2 ** 20 : 4 * 2 ** 20;
          s.socket.write(Buffer.from(`Content-Length: ${declared}\r\n\r\n`));
          s.socket.write(Buffer.alloc(declared - 1, 0x20));
        });
        // Over the frame limit: closed at once; within it but never finished: closed with the hello deadline.
        await waitFor(() => socks.every((s) => s.closed()), 15000, () => `${socks.filter((s) => !s.closed()).length} connections still open`);
        await stillServed(d);
      });
      t.diagnostic(`rss 20×16 MiB + 20×4 MiB incomplete frames: peak ${peak.toFixed(0)} MB (baseline ${baseline.toFixed(0)} MB)`);
      assert.ok(peak < RSS_BOUND_MB, `daemon RSS ${peak.toFixed(0)} MB stays under ${RSS_BOUND_MB} MB`);
      // (A client still writing its body may lose the error reply to the connection reset; closed they all are.)
      for (const s of socks) if (s.replies[0]) assert.match(errorOf(s.replies[0])?.message ?? '', /maxFrameBytes|helloTimeoutMs/);
      for (const s of socks) s.socket.destroy();
    }));

    await t.test('a connection that never says hello is closed after the deadline', () => withDaemon(dir, async (d) => {
      const s = await rawSocket(d.socketPath);
      const started = Date.now();
      await waitFor(() => s.closed(), 10000, () => 'still open');
      const waited = Date.now() - started;
      assert.ok(waited >= 1800 && waited < 6000, `closed after ${waited} ms`);
      const e = errorOf(s.replies[0]);
      assert.equal(e?.code, MantaErrorCodes.UserError);
      assert.match(e?.message ?? '', /no manta\/hello within 2000 ms .*helloTimeoutMs/);
      assert.equal(e?.data?.reason, 'limit.helloTimeoutMs');
      await stillServed(d);
    }));

    await t.test('a config file over the size limit is refused before it is read', () => withDaemon(dir, async (d, baseline) => {
      const pid = d.proc.pid!;
      const big = path.join(dir, 'huge.manta.json');
      await fs.writeFile(big, '');
      await fs.truncate(big, 400 * 2 ** 20); // 400 MiB, sparse
      const c = await connectSocket(d.socketPath);
      try {
        const peak = await peakRss(pid, async () => {
          await assert.rejects(c.connection.sendRequest(StartRunRequest, { configPath: big }), (e: ResponseError<MantaErrorData>) => {
            assert.equal(e.code, MantaErrorCodes.InvalidParams);
            assert.match(e.message, new RegExp(`${big} is 400 MiB \\(419430400 bytes\\), over the daemon's limit of 1 MiB for a config file \\(maxConfigBytes\\)`));
            return true;
          });
        });
        t.diagnostic(`rss 400 MiB configPath: peak ${peak.toFixed(0)} MB (baseline ${baseline.toFixed(0)} MB)`);
        assert.ok(peak < baseline + 50, 'the file is not read');
      } finally {
        c.close();
      }
      await stillServed(d);
    }));
  }
});

test('too many connections and too many unanswered requests are refused, naming the limit', async () => {
  const dir = tempDir();
  const d = await startDaemon({ dir, args: ['--limits', 'maxConnections=4,maxInFlightRequests=8'] });
  try {
    // Unanswered requests: the first hostInfo runs the backend probe in a worker (slow), the next ones wait on it.
    const c = await connectSocket(d.socketPath);
    const answers = await Promise.allSettled(Array.from({ length: 20 }, () => c.connection.sendRequest(HostInfoRequest, {})));
    const refused = answers.filter((a) => a.status === 'rejected').map((a) => (a as PromiseRejectedResult).reason as ResponseError<MantaErrorData>);
    assert.equal(refused.length, 12, 'requests beyond 8 unanswered ones are refused');
    for (const e of refused) {
      assert.equal(e.data?.reason, 'limit.maxInFlightRequests');
      assert.match(e.message, /already has 8 requests without an answer \(limit maxInFlightRequests = 8\)/);
    }
    await c.connection.sendRequest(HostInfoRequest, {}); // served again once answered

    // Connections: 1 open + 3 more reach the limit of 4; the 5th is refused with a message, and closed.
    const more = await Promise.all([0, 1, 2].map(() => connectSocket(d.socketPath)));
    const extra = await rawSocket(d.socketPath);
    await waitFor(() => extra.closed(), 5000, () => 'the extra connection is still open');
    const e = errorOf(extra.replies[0]);
    assert.match(e?.message ?? '', /too many connections: the daemon serves at most 4 at once \(limit maxConnections\)/);
    assert.equal(e?.data?.reason, 'limit.maxConnections');
    more[0].close();
    await waitFor(async () => {
      try {
        await stillServed(d);
        return true;
      } catch {
        return false;
      }
    }, 5000, () => 'a freed slot is not served');
    for (const m of more) m.close();
    c.close();
  } finally {
    await stopDaemon(d);
  }
});

test('the task queue: FIFO at its concurrency, refuses when full, drops a request cancelled while waiting', async () => {
  const q = new TaskQueue(() => ({ concurrency: 2, maxQueued: 2 }));
  const started: number[] = [];
  const release: (() => void)[] = [];
  const job = (i: number) => () => new Promise<number>((resolve) => (started.push(i), release.push(() => resolve(i))));
  const cancel = new CancellationTokenSource();
  const p = [q.run('t0', job(0)), q.run('t1', job(1)), q.run('t2', job(2), cancel.token), q.run('t3', job(3))];
  await assert.rejects(q.run('t4', job(4)), (e: ResponseError<MantaErrorData>) => e.data?.reason === 'limit.maxQueuedTasks' && /t4 refused: 2 worker tasks are running and 2 are waiting/.test(e.message));
  assert.deepEqual(started, [0, 1]);
  cancel.cancel();
  await assert.rejects(p[2], /cancelled while waiting/);
  release.shift()!();
  await p[0];
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, [0, 1, 3], 't2 never started; t3 took the free slot');
  while (release.length) release.shift()!();
  assert.deepEqual(await Promise.all([p[1], p[3]]), [1, 3]);
});
