// The daemon never dies from a client: malformed frames, bad JSON, invalid requests, unknown methods, params of the
// wrong type or range, bad configs, missing dataset paths and paths outside the allowed roots each get the right
// JSON-RPC error naming the field and the rule — and the daemon keeps serving. Plus: socket and folder modes, the
// protocol version check in both directions, stale and live sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs, statSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { createMessageConnection, ResponseError, StreamMessageReader, StreamMessageWriter, type Message } from 'vscode-jsonrpc/node';
import { Rng } from '../../daemon/engine/rng';
import {
  AttachRequest,
  HelloRequest,
  HostInfoRequest,
  ListRunsRequest,
  MantaErrorCodes,
  PROTOCOL_VERSION,
  StartRunRequest,
  handshake,
  IncompatibleDaemonError,
  type MantaErrorData,
} from '../../daemon/protocol';
import { connectSocket, connectStreams, type DaemonClient } from '../../daemon/service/client';
import { canConnect, repoRoot, startDaemon, stopDaemon, tempDir, tinyConfig, waitFor, type TestDaemon } from './harness';

/** A response as it comes back from the raw exchanges below. */
type Reply = { id: number | string | null; error: { code: number; message: string } };

/** Sends raw bytes on a fresh socket; returns the responses that came back and whether the daemon closed it. */
async function rawExchange(socketPath: string, bytes: Buffer, wantResponses: number): Promise<{ responses: Reply[]; closed: boolean }> {
  const socket = net.connect(socketPath);
  await new Promise((r) => socket.once('connect', r));
  const responses: Reply[] = [];
  let closed = false;
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  new StreamMessageReader(socket).listen((m: Message) => responses.push(m as unknown as Reply));
  socket.write(bytes);
  await waitFor(() => responses.length >= wantResponses || closed, 10000, () => `no answer to ${bytes.subarray(0, 60).toString('latin1')}`);
  await new Promise((r) => setTimeout(r, 100));
  socket.destroy();
  return { responses, closed };
}

function frame(body: string): Buffer {
  const b = Buffer.from(body, 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${b.length}\r\n\r\n`, 'ascii'), b]);
}

async function rejects(p: Promise<unknown>, code: number, ...mentions: RegExp[]): Promise<ResponseError<MantaErrorData>> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ResponseError, `a JSON-RPC error, got ${String(e)}`);
    assert.equal(e.code, code, `code ${e.code} (${e.message})`);
    for (const m of mentions) assert.match(e.message, m);
    return e as ResponseError<MantaErrorData>;
  }
  assert.fail('expected an error');
}

test('malformed input corpus: each gets the right error, and the daemon keeps serving', async (t) => {
  const dir = tempDir();
  const inside = path.join(dir, 'project');
  await fs.mkdir(inside);
  const daemon: TestDaemon = await startDaemon({ dir, args: ['--allow-roots', inside] });
  let client: DaemonClient | undefined;
  try {
    await t.test('socket 0600 in a 0700 folder', () => {
      assert.equal(statSync(daemon.socketPath).mode & 0o777, 0o600);
      assert.equal(statSync(path.dirname(daemon.socketPath)).mode & 0o777, 0o700);
    });

    await t.test('requests before hello are refused', async () => {
      const socket = net.connect(daemon.socketPath);
      await new Promise((r) => socket.once('connect', r));
      const c = createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
      c.listen();
      await rejects(c.sendRequest(ListRunsRequest, {}), MantaErrorCodes.HandshakeRequired, /manta\/hello/);
      c.dispose();
      socket.destroy();
    });

    await t.test('an incompatible client is refused with a message saying what to update', async () => {
      await assert.rejects(connectSocket(daemon.socketPath, { protocolVersion: '2.0' }), (e: Error) => {
        assert.ok(e instanceof IncompatibleDaemonError);
        assert.ok(e.message.includes(`client speaks 2.0, this daemon speaks ${PROTOCOL_VERSION}; update the daemon`), e.message);
        return true;
      });
      await assert.rejects(connectSocket(daemon.socketPath, { protocolVersion: 'one' }), /malformed/);
    });

    client = await connectSocket(daemon.socketPath);
    const c = client.connection;

    await t.test('framing and JSON-RPC envelope errors', async () => {
      const bad = await rawExchange(daemon.socketPath, frame('{"jsonrpc":"2.0","id":1,"method":'), 1);
      assert.equal(bad.responses[0].error.code, MantaErrorCodes.ParseError);
      const batch = await rawExchange(daemon.socketPath, frame('[{"jsonrpc":"2.0","id":1,"method":"manta/listRuns"}]'), 1);
      assert.match(batch.responses[0].error.message, /batch/);
      const v1 = await rawExchange(daemon.socketPath, frame('{"jsonrpc":"1.0","id":7,"method":"manta/listRuns"}'), 1);
      assert.deepEqual(
        [v1.responses[0].id, v1.responses[0].error.code],
        [7, MantaErrorCodes.InvalidRequest],
      );
      const noMethod = await rawExchange(daemon.socketPath, frame('{"jsonrpc":"2.0","id":8}'), 1);
      assert.equal(noMethod.responses[0].error.code, MantaErrorCodes.InvalidRequest);
      const strParams = await rawExchange(daemon.socketPath, frame('{"jsonrpc":"2.0","id":9,"method":"manta/hello","params":"x"}'), 1);
      assert.equal(strParams.responses[0].error.code, MantaErrorCodes.InvalidRequest);
      // A frame that cannot be resynchronized closes the connection (after saying why).
      const noLength = await rawExchange(daemon.socketPath, Buffer.from('Content-Type: application/json\r\n\r\n{}'), 1);
      assert.ok(noLength.closed);
      assert.match(noLength.responses[0].error.message, /Content-Length/);
      const huge = await rawExchange(daemon.socketPath, Buffer.from('Content-Length: 99999999999\r\n\r\n'), 1);
      assert.ok(huge.closed);
      assert.match(huge.responses[0].error.message, /exceeds the limit/);
    });

    await t.test('random bytes close that connection only', async () => {
      const rng = new Rng(20251125);
      for (let i = 0; i < 5; i++) {
        const bytes = Buffer.alloc(1000 + rng.int(20000));
        for (let j = 0; j < bytes.length; j++) bytes[j] = rng.int(256);
        const r = await rawExchange(daemon.socketPath, bytes, 1);
        assert.ok(r.closed || r.responses.length > 0);
      }
      // Half a header, then the peer vanishes.
      const s = net.connect(daemon.socketPath);
      await new Promise((r) => s.once('connect', r));
      s.end('Content-Len');
    });

    await t.test('unknown methods', async () => {
      await rejects(c.sendRequest('manta/trainFaster', {}), MantaErrorCodes.MethodNotFound, /unknown method 'manta\/trainFaster'/);
      await rejects(c.sendRequest('toString', {}), MantaErrorCodes.MethodNotFound);
    });

    await t.test('params: wrong types, unknown fields, huge numbers, missing fields', async () => {
      const e = await rejects(c.sendRequest(AttachRequest, { runId: 5, fromSeq: 'x' } as never), MantaErrorCodes.InvalidParams, /params\.runId must be string \[type\]/, /params\.fromSeq must be integer \[type\]/);
      assert.deepEqual(e.data?.problems?.map((p) => p.path).sort(), ['/fromSeq', '/runId']);
      await rejects(c.sendRequest(ListRunsRequest, { all: true } as never), MantaErrorCodes.InvalidParams, /unknown property 'all' \[additionalProperties\]/);
      await rejects(c.sendRequest(AttachRequest, { runId: 'r', fromSeq: 1e300 }), MantaErrorCodes.InvalidParams, /params\.fromSeq must be <= 9007199254740991 \[maximum\]/);
      await rejects(c.sendRequest(AttachRequest, { runId: 'r', fromSeq: -1 }), MantaErrorCodes.InvalidParams, /\[minimum\]/);
      await rejects(c.sendRequest(AttachRequest, { fromSeq: 0 } as never), MantaErrorCodes.InvalidParams, /missing required property 'runId' \[required\]/);
      await rejects(c.sendRequest(AttachRequest, { runId: '../../etc', fromSeq: 0 }), MantaErrorCodes.InvalidParams, /params\.runId must match pattern/);
      await rejects(c.sendRequest(AttachRequest, { runId: 'nope', fromSeq: 0 }), MantaErrorCodes.UnknownRun, /no run 'nope'/);
      await rejects(c.sendRequest('manta/listRuns', [1, 2]), MantaErrorCodes.InvalidParams, /params must be object/);
      await rejects(c.sendRequest(StartRunRequest, {}), MantaErrorCodes.InvalidParams, /params\.config with params\.configDir, or params\.configPath/);
      await rejects(c.sendRequest(StartRunRequest, { configPath: 'relative.json' }), MantaErrorCodes.InvalidParams, /must be an absolute path/);
    });

    const good = tinyConfig('bad-input') as Record<string, unknown>;
    const start = (config: unknown, configDir = inside) => c.sendRequest(StartRunRequest, { config: config as never, configDir });

    await t.test('configs: every problem at once, each naming its field and rule', async () => {
      const config = structuredClone(good) as Record<string, Record<string, unknown>>;
      config.training.batchSize = 1e12;
      config.supernet.kernelChoices = [3, 4];
      config.backend = 'tpu' as never;
      config.surprise = {} as never;
      (config.data as Record<string, unknown>).classes = 'ten';
      const e = await rejects(
        start(config),
        MantaErrorCodes.InvalidConfig,
        /\/training\/batchSize must be <= 4096/,
        /\/supernet\/kernelChoices\/1 must be one of \[1,3,5,7,9\]/,
        /\/backend must be one of/,
        /unknown property 'surprise'/,
        /\/data\/classes must be integer/,
      );
      assert.ok((e.data?.problems?.length ?? 0) >= 5);
      await rejects(start({ ...good, supernet: { ...(good.supernet as object), widthChoices: [0.5] } }), MantaErrorCodes.InvalidConfig, /widthChoices must include 1/);
      const notJson = path.join(inside, 'broken.manta.json');
      await fs.writeFile(notJson, '{ "name": ');
      await rejects(c.sendRequest(StartRunRequest, { configPath: notJson }), MantaErrorCodes.InvalidConfig, /not valid JSON/);
      await rejects(c.sendRequest(StartRunRequest, { configPath: path.join(inside, 'missing.manta.json') }), MantaErrorCodes.PathNotFound, /does not exist/);
    });

    await t.test('dataset paths must exist; reading is not confined, writing (the runs folder) is', async () => {
      const idx = { kind: 'idx', trainImages: 'a.gz', trainLabels: 'b.gz', testImages: 'c.gz', testLabels: 'd.gz' };
      const e = await rejects(start({ ...good, data: idx }), MantaErrorCodes.PathNotFound, /\/data\/trainImages a\.gz does not exist/, /\/data\/testLabels/);
      assert.equal(e.data?.problems?.length, 4);
      // Data outside the config's folder and the roots is read (the client is the daemon's own user): only existence
      // is checked; so is a config folder outside the roots.
      const outside = await rejects(start({ ...good, data: { ...idx, trainImages: '../../../etc/passwd', testImages: '/etc/hosts' } }), MantaErrorCodes.PathNotFound);
      assert.deepEqual(outside.data?.problems?.map((p) => p.path), ['/data/trainLabels', '/data/testLabels']);
      await rejects(start({ ...good, data: idx }, dir), MantaErrorCodes.PathNotFound, /\/data\/trainImages a\.gz does not exist/);
      // The runs folder outside the config's folder and the roots is refused, naming the folder and the fix.
      const refused = await rejects(
        start({ ...good, output: { runsDir: '/tmp' } }),
        MantaErrorCodes.PathOutsideRoots,
        /\/output\/runsDir\) \/tmp is outside the folders this daemon may write to/,
        new RegExp(`the config's folder ${inside}, the allowed roots ${inside}`),
        /--allow-roots \/tmp/,
      );
      assert.doesNotMatch(refused.message, /\[\w+\]/, 'no rule names in the message');
      assert.deepEqual(refused.data?.problems?.map((p) => p.path), ['/output/runsDir']);
      // A link inside the root that leads outside is outside.
      await fs.symlink('/etc', path.join(inside, 'etc-link'));
      await rejects(start({ ...good, output: { runsDir: 'etc-link/runs' } }), MantaErrorCodes.PathOutsideRoots, /etc-link\/runs \(through a link: \/etc\/runs\) is outside/);
    });

    await t.test('a valid request still works after all that', async () => {
      assert.equal((await c.sendRequest(ListRunsRequest, {})).runs.length, 0);
      const info = await c.sendRequest(HostInfoRequest, {});
      assert.equal(info.versions.protocol, PROTOCOL_VERSION);
      assert.deepEqual(info.allowedRoots, [inside]);
      assert.ok(info.backends.some((b) => b.name === 'wasm' && b.available), JSON.stringify(info.backends));
      assert.ok(info.backends.some((b) => b.name === 'tensorflow' && !b.available && /npm install/.test(b.detail)));
      assert.equal(daemon.proc.exitCode, null);
    });
  } finally {
    client?.close();
    await stopDaemon(daemon);
  }
});

test('a client refuses a daemon of another protocol major', async () => {
  // A stand-in daemon over in-memory streams that answers hello with protocol 9.0.
  const up = new PassThrough();
  const down = new PassThrough();
  const fake = createMessageConnection(new StreamMessageReader(up), new StreamMessageWriter(down));
  fake.onRequest(HelloRequest, () => ({ protocolVersion: '9.0', daemon: { name: 'manta' as const, version: '9.0.0', pid: 1, startedAt: 0 } }));
  fake.listen();
  const client = createMessageConnection(new StreamMessageReader(down), new StreamMessageWriter(up));
  client.listen();
  await assert.rejects(handshake(client, { name: 't', version: '1' }), (e: Error) => e instanceof IncompatibleDaemonError && /daemon speaks 9\.0.*update the client/.test(e.message));
  client.dispose();
  fake.dispose();
});

test('a stale socket is replaced; a live daemon is reported and the second one exits', async () => {
  const dir = tempDir();
  const socketPath = path.join(dir, 'run', 'd.sock');
  await fs.mkdir(path.dirname(socketPath), { mode: 0o700 });
  // A process that listens and dies by SIGKILL leaves its socket file behind.
  const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => console.log('up'))`]);
  await new Promise((r) => holder.stdout.once('data', r));
  holder.kill('SIGKILL');
  await new Promise((r) => holder.once('exit', r));
  assert.ok(statSync(socketPath).isSocket());
  assert.equal(await canConnect(socketPath), false);
  const first = await startDaemon({ dir });
  try {
    const second = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'daemon/cli/main.ts'), 'daemon', '--socket', socketPath, '--state-dir', path.join(dir, 'state2')], { cwd: repoRoot });
    let err = '';
    second.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise((r) => second.once('exit', r));
    assert.equal(code, 2);
    assert.match(err, new RegExp(`already listening on ${socketPath} \\(pid ${first.proc.pid}`));
    const c = await connectSocket(socketPath);
    assert.equal(c.hello.daemon.pid, first.proc.pid);
    c.close();
  } finally {
    await stopDaemon(first);
  }
  assert.equal(await canConnect(socketPath), false, 'the socket is removed on shutdown');
});

test('stdio: a daemon without a socket ends with its client', async () => {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'daemon/cli/main.ts'), 'daemon', '--stdio', '--no-socket', '--state-dir', path.join(tempDir(), 'state')], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'] });
  const client = await connectStreams(proc.stdout!, proc.stdin!);
  assert.equal(client.hello.protocolVersion, PROTOCOL_VERSION);
  proc.stdin!.end();
  assert.equal(await new Promise((r) => proc.once('exit', r)), 0);
  client.close();
});
