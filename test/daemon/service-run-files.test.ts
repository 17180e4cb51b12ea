// A run's files through the protocol (protocol 1.2): results, measurements and config as JSON, the report and the
// exported subnets read in chunks that reassemble byte for byte, names outside the fixed set (`..`, absolute paths,
// other files, links out of the run folder) refused with a message that says what is allowed, and manta/deleteRun —
// refused for a running or paused run, removing folder and registry entry of a finished one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { RequestType } from 'vscode-jsonrpc/node';
import {
  DeleteRunRequest,
  ExportSubnetRequest,
  GetRunConfigRequest,
  GetRunMeasurementsRequest,
  GetRunResultsRequest,
  ListRunFilesRequest,
  ListRunsRequest,
  MantaErrorCodes,
  PauseRunRequest,
  ReadRunFileRequest,
  RunStatusNotification,
  StopRunRequest,
  type MantaErrorData,
  type RunStatusParams,
} from '../../daemon/protocol';
import { connectSocket } from '../../daemon/service/client';
import { downloadRunFile, type Requester } from '../../extension/hosts/run-files';
import { refusedWith, startDaemon, startTinyRun, stopDaemon, tempDir, waitFor } from './harness';
import { connect, reachStep, startAttached, waitStatus } from './resume-helpers';

test('a finished run\'s results, report, measurements, config and exported subnets come through the protocol, byte for byte', async () => {
  const dir = tempDir();
  const daemon = await startDaemon({ dir });
  try {
    const { client, seen } = await connect(daemon);
    const c = client.connection;
    const { run, config, configDir } = await startTinyRun(c, dir, 'files');
    await waitStatus(seen, client, run.runId, 'completed', daemon, 180_000);
    // (sendRequest's overloads do not resolve for a generic P: pin them.)
    const request: Requester = (type, params) => c.sendRequest(type as RequestType<unknown, never, MantaErrorData>, params);
    const onDisk = (name: string) => readFileSync(path.join(run.runDir, name));

    // JSON methods
    const { results } = await c.sendRequest(GetRunResultsRequest, { runId: run.runId });
    assert.deepEqual(results, JSON.parse(onDisk('results.json').toString('utf8')));
    assert.ok(Array.isArray(results.front) && results.front.length > 0, 'the results hold a front');
    const { measurements } = await c.sendRequest(GetRunMeasurementsRequest, { runId: run.runId });
    assert.deepEqual(measurements, JSON.parse(onDisk('measurements.json').toString('utf8')));
    const got = await c.sendRequest(GetRunConfigRequest, { runId: run.runId });
    assert.deepEqual(got.config, config);
    assert.equal(got.configDir, configDir);

    // The listing names each file as readRunFile takes it, with its size.
    const { files } = await c.sendRequest(ListRunFilesRequest, { runId: run.runId });
    const names = files.map((f) => f.file);
    for (const kind of ['results', 'report', 'measurements', 'config']) assert.ok(names.includes(kind), `${kind} listed in ${names.join(', ')}`);
    assert.ok(names.includes('subnets/0/model.json') && names.includes('subnets/0/weights.bin'), `the exported front listed: ${names.join(', ')}`);
    for (const f of files) {
      const local = f.file.startsWith('subnets/') ? f.file : { results: 'results.json', report: 'report.html', measurements: 'measurements.json', config: 'config.json' }[f.file]!;
      assert.equal(f.size, onDisk(local).length, `${f.file}'s size`);
    }

    // Chunked reads reassemble the files exactly, whatever the chunk size.
    const report = onDisk('report.html');
    assert.ok(report.length > 3000, `report.html is ${report.length} bytes`);
    for (const chunk of [1000, 4096, 1 << 20]) assert.ok((await downloadRunFile(request, run.runId, 'report', chunk)).equals(report), `report in chunks of ${chunk}`);
    const weights = onDisk('subnets/0/weights.bin');
    assert.ok((await downloadRunFile(request, run.runId, 'subnets/0/weights.bin', 777)).equals(weights));
    const first = await c.sendRequest(ReadRunFileRequest, { runId: run.runId, file: 'report', offset: 0, length: 100 });
    assert.deepEqual([Buffer.from(first.data, 'base64').length, first.size, first.eof], [100, report.length, false]);
    const last = await c.sendRequest(ReadRunFileRequest, { runId: run.runId, file: 'report', offset: report.length - 10, length: 100 });
    assert.deepEqual([Buffer.from(last.data, 'base64').toString(), last.eof], [report.subarray(report.length - 10).toString(), true]);
    const past = await c.sendRequest(ReadRunFileRequest, { runId: run.runId, file: 'report', offset: report.length + 5 });
    assert.deepEqual([past.data, past.eof], ['', true]);

    // manta/exportSubnet names what it wrote as run files, which download as written.
    const exported = await c.sendRequest(ExportSubnetRequest, { runId: run.runId, index: 0 });
    assert.deepEqual(exported.runFiles, ['subnets/0/model.json', 'subnets/0/weights.bin']);
    const model = JSON.parse((await downloadRunFile(request, run.runId, 'subnets/0/model.json')).toString('utf8')) as { weightsManifest: { paths: string[] }[] };
    assert.deepEqual(model.weightsManifest[0].paths, ['weights.bin']);
    // … as ONNX too (format 'onnx'): model.onnx and its README, beside the tfjs files, named alone.
    const onnx = await c.sendRequest(ExportSubnetRequest, { runId: run.runId, index: 0, format: 'onnx' });
    assert.deepEqual(onnx.runFiles, ['subnets/0/README.md', 'subnets/0/model.onnx']);
    assert.equal(onnx.format, 'onnx');
    assert.deepEqual(await downloadRunFile(request, run.runId, 'subnets/0/model.onnx'), onDisk('subnets/0/model.onnx'));

    // Names outside the fixed set are refused, saying what is allowed.
    const bad: [string, RegExp][] = [
      ['../run.json', /'\.\.' is never accepted/],
      ['subnets/../../run.json', /'\.\.' is never accepted/],
      ['subnets/0/../../config.json', /'\.\.' is never accepted/],
      ['/etc/passwd', /absolute paths are never accepted/],
      ['run.json', /neither a run-file kind nor an exported subnet file/],
      ['events.jsonl', /neither a run-file kind nor an exported subnet file/],
      ['config.json', /neither a run-file kind/],
      ['checkpoints/step-000000001.ckpt', /neither a run-file kind/],
      ['subnets/0', /is named 'subnets\/<subnet>\/<file>'/],
      ['subnets/0/x/weights.bin', /is named 'subnets\/<subnet>\/<file>'/],
      ['subnets/.hidden/model.json', /is named 'subnets\/<subnet>\/<file>'/],
    ];
    for (const [file, why] of bad) {
      await assert.rejects(c.sendRequest(ReadRunFileRequest, { runId: run.runId, file }), refusedWith(MantaErrorCodes.InvalidParams, why), file);
      await assert.rejects(c.sendRequest(ReadRunFileRequest, { runId: run.runId, file }), refusedWith(MantaErrorCodes.InvalidParams, /a run file is one of results, report, measurements, config or 'subnets\/<subnet>\/<file>'/));
    }
    // A link inside subnets/ that leads out of the run folder is refused too.
    await fs.mkdir(path.join(run.runDir, 'subnets', 'evil'));
    await fs.symlink(path.join(daemon.stateDir, 'runs', `${run.runId}.json`), path.join(run.runDir, 'subnets', 'evil', 'model.json'));
    await assert.rejects(c.sendRequest(ReadRunFileRequest, { runId: run.runId, file: 'subnets/evil/model.json' }), refusedWith(MantaErrorCodes.InvalidParams, /leads out of the run folder/));
    assert.ok(!(await c.sendRequest(ListRunFilesRequest, { runId: run.runId })).files.some((f) => f.file.startsWith('subnets/evil')), 'links are not listed');
    await assert.rejects(c.sendRequest(ReadRunFileRequest, { runId: run.runId, file: 'subnets/7/model.json' }), refusedWith(MantaErrorCodes.PathNotFound, /has no subnets\/7\/model\.json: it does not exist/));
    await assert.rejects(c.sendRequest(ReadRunFileRequest, { runId: run.runId, file: 'report', length: 64 << 20 }), refusedWith(MantaErrorCodes.InvalidParams, /params\.length must be <= 4194304/));
    await assert.rejects(c.sendRequest(ReadRunFileRequest, { runId: 'no-such-run', file: 'report' }), refusedWith(MantaErrorCodes.UnknownRun, /no run 'no-such-run'/));
    client.close();
  } finally {
    await stopDaemon(daemon);
  }
});

test('manta/deleteRun refuses a running or paused run and deletes a finished one: folder, registry entry, listing', async () => {
  const dir = tempDir();
  let daemon = await startDaemon({ dir, args: ['--synthetic-runs'] });
  try {
    const { client, seen } = await connect(daemon);
    const c = client.connection;
    // Another connection hears of the deletion (one handler per method and connection: the collector has `c`'s).
    const deletions: RunStatusParams[] = [];
    const other = await connectSocket(daemon.socketPath, {
      beforeListen: (o) =>
        o.onNotification(RunStatusNotification, (p) => {
          if (p.deleted) deletions.push(p);
        }),
    });
    const run = await startAttached(client, { name: 'doomed', steps: 100000, checkpointEvery: 50, stepWorkMs: 1 });
    await reachStep(seen, run.runId, 20);
    await assert.rejects(c.sendRequest(DeleteRunRequest, { runId: run.runId }), refusedWith(MantaErrorCodes.InvalidRunState, /is running; only a run that is not active can be deleted \(stop it first/));
    await c.sendRequest(PauseRunRequest, { runId: run.runId });
    await assert.rejects(c.sendRequest(DeleteRunRequest, { runId: run.runId }), refusedWith(MantaErrorCodes.InvalidRunState, /is paused; only a run that is not active/));
    assert.ok(existsSync(run.runDir));
    await c.sendRequest(StopRunRequest, { runId: run.runId });
    const pointer = path.join(daemon.stateDir, 'runs', `${run.runId}.json`);
    assert.ok(existsSync(pointer));

    const deleted = await c.sendRequest(DeleteRunRequest, { runId: run.runId });
    assert.deepEqual([deleted.run.runId, deleted.run.status], [run.runId, 'stopped']);
    assert.ok(!existsSync(run.runDir), 'the run folder is gone');
    assert.ok(!existsSync(pointer), 'the registry entry is gone');
    assert.ok(!(await c.sendRequest(ListRunsRequest, {})).runs.some((r) => r.runId === run.runId));
    await waitFor(() => deletions.length > 0, 5000, () => 'a runStatus notification with deleted');
    assert.deepEqual([deletions[0].run.runId, deletions[0].deleted], [run.runId, true]);
    await assert.rejects(c.sendRequest(DeleteRunRequest, { runId: run.runId }), refusedWith(MantaErrorCodes.UnknownRun, /no run/));
    await assert.rejects(c.sendRequest(ListRunFilesRequest, { runId: run.runId }), refusedWith(MantaErrorCodes.UnknownRun, /no run/));

    other.close();
    // The next daemon does not find the deleted run, and deletes a completed one.
    const kept = await startAttached(client, { name: 'kept', steps: 20, checkpointEvery: 10 });
    await waitStatus(seen, client, kept.runId, 'completed', daemon);
    client.close();
    await stopDaemon(daemon);
    daemon = await startDaemon({ dir, args: ['--synthetic-runs'] });
    const again = await connect(daemon);
    const runs = (await again.client.connection.sendRequest(ListRunsRequest, {})).runs.map((r) => r.runId);
    assert.deepEqual(runs, [kept.runId]);
    const finished = await again.client.connection.sendRequest(DeleteRunRequest, { runId: kept.runId });
    assert.equal(finished.run.status, 'completed');
    assert.ok(!existsSync(kept.runDir));
    again.client.close();
  } finally {
    await stopDaemon(daemon);
  }
});
