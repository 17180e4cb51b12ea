// The client's half of the search-space CodeLens against a real daemon (from sources, over its socket): the local
// host forwards the language server's question only on an open connection — never starting a daemon — and turns
// the daemon's refusals into phrases the lens shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OFA_MBV3_UNITS } from '../../daemon/ofa/presets';
import type { DescribeSpaceParams } from '../../daemon/protocol';
import { describeSpaceOn, NO_DAEMON_REASON } from '../../extension/hosts/describe-space';
import { Host } from '../../extension/hosts/host';
import { socketTransport } from '../../extension/hosts/local-transport';
import { startDaemon, stopDaemon, tempDir } from '../daemon/harness';

const params: DescribeSpaceParams = {
  config: { name: 'mbv3', task: 'classification', data: { kind: 'synthetic', classes: 10 }, supernet: { units: OFA_MBV3_UNITS }, training: { phases: [{ phase: 'largest', epochs: 1 }] } },
};

test('the local host answers the language server from the daemon it is connected to, and only then', async () => {
  const daemon = await startDaemon({ dir: tempDir() });
  let opened = 0;
  const host = new Host('local', 'Local', 'local', () => (opened++, socketTransport(daemon.socketPath)), { name: 'manta-test', version: '0' });
  try {
    assert.deepEqual(await describeSpaceOn(host, params), { kind: 'unavailable', reason: NO_DAEMON_REASON, noDaemon: true });
    assert.equal(opened, 0, 'asking did not connect');

    await host.connect();
    const answer = await describeSpaceOn(host, params);
    assert.equal(answer.kind, 'described');
    assert.deepEqual(answer.kind === 'described' && answer.description.macs, { min: 3935184, max: 15198240 });

    const broken = { ...params, config: { ...params.config, seed: -1 } };
    assert.deepEqual(await describeSpaceOn(host, broken), { kind: 'unavailable', reason: "fix the config's problems first" });

    host.disconnect();
    assert.equal((await describeSpaceOn(host, params)).kind, 'unavailable');
    assert.equal(opened, 1);
  } finally {
    host.dispose();
    await stopDaemon(daemon);
  }
});
