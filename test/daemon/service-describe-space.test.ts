// manta/describeSpace on a real daemon over its socket and stdio: the size of a config's search space and the MACs
// and parameters of its smallest and largest subnets (OFA's own figures for OFA-MobileNetV3), the input shape taken
// from each data kind, and bad params or configs answered with errors naming every problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ResponseError } from 'vscode-jsonrpc/node';
import { DescribeSpaceRequest, MantaErrorCodes, type MantaConfig, type MantaErrorData } from '../../daemon/protocol';
import { OFA_MBV3_UNITS } from '../../daemon/ofa/presets';
import { connectSocket, type DaemonClient } from '../../daemon/service/client';
import { searchSpaceSize } from '../../extension/server/space';
import { startDaemon, stopDaemon, tempDir, type TestDaemon } from './harness';

function mbv3(data: MantaConfig['data'] = { kind: 'synthetic', classes: 10, channels: 3 }): MantaConfig {
  return {
    name: 'ofa-mbv3',
    task: 'classification',
    data,
    supernet: { units: OFA_MBV3_UNITS, resolutionChoices: [32] },
    training: { phases: [{ phase: 'largest', epochs: 1 }] },
  };
}

async function rejects(p: Promise<unknown>, code: number, ...mentions: RegExp[]): Promise<MantaErrorData | undefined> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ResponseError, `a JSON-RPC error, got ${String(e)}`);
    assert.equal(e.code, code, `code ${e.code} (${e.message})`);
    for (const m of mentions) assert.match(e.message, m);
    return e.data as MantaErrorData | undefined;
  }
  assert.fail('expected an error');
}

test('manta/describeSpace answers the search space size and its MACs and parameter range', async (t) => {
  const dir = tempDir();
  const project = path.join(dir, 'project');
  await fs.mkdir(project);
  const daemon: TestDaemon = await startDaemon({ dir, stdio: true, args: ['--allow-roots', project] });
  let client: DaemonClient | undefined;
  try {
    client = await connectSocket(daemon.socketPath);
    const socket = client.connection;

    await t.test('OFA-MobileNetV3 at resolution 32 with 10 classes: OFA’s figures, over the socket and stdio', async () => {
      const expected = {
        // per unit 9^2 + 9^3 + 9^4 = 7371; five units; one width, one resolution — as the editor counts it
        size: searchSpaceSize(mbv3().supernet)!.subnets,
        macs: { min: 3935184, max: 15198240 },
        params: { min: 2142602, max: 6396570 },
        inputChannels: 3,
        classes: 10,
      };
      assert.equal(expected.size, 7371 ** 5);
      assert.deepEqual(await socket.sendRequest(DescribeSpaceRequest, { config: mbv3() }), expected);
      assert.deepEqual(await daemon.stdio!.connection.sendRequest(DescribeSpaceRequest, { config: mbv3() }), expected);
    });

    await t.test('the input shape follows the data kind', async () => {
      const idx = await socket.sendRequest(DescribeSpaceRequest, {
        config: mbv3({ kind: 'idx', trainImages: 'a', trainLabels: 'b', testImages: 'c', testLabels: 'd', classes: 10 }),
      });
      assert.deepEqual([idx.inputChannels, idx.classes], [1, 10]);
      // One input channel instead of three: only the stem's weights and MACs shrink (3·3·16 fewer of each per pixel).
      assert.equal(idx.params!.max, 6396570 - 2 * 3 * 3 * 16);
      assert.equal(idx.macs!.max, 15198240 - 2 * 3 * 3 * 16 * 16 * 16);
      const cifar = await socket.sendRequest(DescribeSpaceRequest, { config: mbv3({ kind: 'cifar10', dir: 'cifar' }) });
      assert.deepEqual([cifar.inputChannels, cifar.classes, cifar.macs!.max], [3, 10, 15198240]);
    });

    await t.test('a folder dataset has as many classes as class sub-folders; without the folder, no costs and why', async () => {
      for (const name of ['cat', 'dog', 'owl', '.cache']) await fs.mkdir(path.join(project, 'images', name), { recursive: true });
      await fs.writeFile(path.join(project, 'images', 'README.txt'), 'not a class');
      const folder = await socket.sendRequest(DescribeSpaceRequest, { config: mbv3({ kind: 'folder', train: 'images' }), configDir: project });
      assert.deepEqual([folder.inputChannels, folder.classes], [3, 3]);
      assert.ok(folder.macs!.min < folder.macs!.max && folder.params!.min < folder.params!.max);
      assert.equal(folder.costsUnavailable, undefined);

      const missing = await socket.sendRequest(DescribeSpaceRequest, { config: mbv3({ kind: 'folder', train: 'nowhere' }), configDir: project });
      assert.equal(missing.size, 7371 ** 5);
      assert.equal(missing.macs, undefined);
      assert.equal(missing.params, undefined);
      assert.match(missing.costsUnavailable ?? '', /nowhere does not exist/);

      const unsaved = await socket.sendRequest(DescribeSpaceRequest, { config: mbv3({ kind: 'folder', train: 'images' }) });
      assert.match(unsaved.costsUnavailable ?? '', /save the config/);
      // A folder outside the config's folder and the allowed roots is read as well: reading is not confined.
      for (const name of ['a', 'b']) await fs.mkdir(path.join(dir, 'elsewhere', name), { recursive: true });
      const elsewhere = await socket.sendRequest(DescribeSpaceRequest, { config: mbv3({ kind: 'folder', train: '../elsewhere' }), configDir: project });
      assert.deepEqual([elsewhere.classes, elsewhere.costsUnavailable], [2, undefined]);
    });

    await t.test('bad params and bad configs get errors naming every problem, and the daemon keeps serving', async () => {
      const noConfig = await rejects(socket.sendRequest(DescribeSpaceRequest, {} as never), MantaErrorCodes.InvalidParams, /params is missing required property 'config'/);
      assert.deepEqual(noConfig?.problems?.map((p) => p.rule), ['required']);
      await rejects(
        socket.sendRequest(DescribeSpaceRequest, { config: 'x', configDir: 7, all: true } as never),
        MantaErrorCodes.InvalidParams,
        /params\.config must be object/,
        /params\.configDir must be string/,
        /unknown property 'all'/,
      );
      await rejects(socket.sendRequest(DescribeSpaceRequest, { config: mbv3(), configDir: 'relative/dir' }), MantaErrorCodes.InvalidParams, /params\.configDir must be an absolute path/);
      // A config folder outside the allowed roots is read as any other (reading is not confined).
      assert.equal((await socket.sendRequest(DescribeSpaceRequest, { config: mbv3(), configDir: dir })).size, searchSpaceSize(mbv3().supernet)!.subnets);

      const bad = mbv3();
      bad.supernet.kernelChoices = [7, 3];
      (bad as { seed?: number }).seed = -1;
      const problems = await rejects(socket.sendRequest(DescribeSpaceRequest, { config: bad }), MantaErrorCodes.InvalidConfig, /\/seed/);
      const unsorted = mbv3();
      unsorted.supernet.kernelChoices = [7, 3];
      const crossField = await rejects(socket.sendRequest(DescribeSpaceRequest, { config: unsorted }), MantaErrorCodes.InvalidConfig, /kernelChoices must be in ascending order/);
      assert.ok(problems?.problems?.some((p) => p.path === '/seed'));
      assert.deepEqual(crossField?.problems?.map((p) => p.path), ['/supernet/kernelChoices']);

      const again = await socket.sendRequest(DescribeSpaceRequest, { config: mbv3() });
      assert.equal(again.macs!.max, 15198240);
    });
  } finally {
    client?.close();
    daemon.stdio?.close();
    await stopDaemon(daemon);
  }
});
