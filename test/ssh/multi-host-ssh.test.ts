// Two "hosts" as Linux network namespaces, each with its own sshd (on its own address, port 22), its own HOME and
// TMPDIR — namespaces share the file system, so each host's folders are its own. The test process is the editor: it
// reaches both over SSH only (through the switch's editor port), deploys the daemon to each, and starts one
// data-parallel search across them, as the extension's "Start Search on Several Hosts" does: the same placement,
// the coordinator's address as the other host sees it, one token. Host 0 trains with host 1 and then searches.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetRunResultsRequest, StartRunRequest, type JobPlacement, type TelemetryEvent } from '../../daemon/protocol';
import { Host } from '../../extension/hosts/host';
import { readDaemonBundle, remoteBundleDir, type DaemonBundle } from '../../extension/hosts/ssh/deploy';
import { repoRoot, tinyConfig, waitFor } from '../daemon/harness';
import { Network, netnsUnavailable } from '../distributed/netns';
import { CLIENT, makeLink, specFor, VERSION, type LinkHarness } from './link-harness';
import { sshdUnavailable, startSshd, type TestSshd } from './sshd';

const skip =
  sshdUnavailable() ?? netnsUnavailable() ?? (existsSync(path.join(repoRoot, 'dist', 'manta.js')) ? undefined : 'dist/ is not built: run `node esbuild.mjs`');

describe('a search across two SSH hosts (network namespaces)', { skip }, () => {
  let network: Network;
  let bundle: DaemonBundle;
  const servers: TestSshd[] = [];
  const links: LinkHarness[] = [];
  const hosts: Host[] = [];

  before(async () => {
    bundle = await readDaemonBundle(path.join(repoRoot, 'dist'), VERSION);
    network = Network.create(2, '10.78.0', { editorPort: true });
    for (const h of network.hosts) {
      const tmp = path.join(h.dir, 'tmp');
      mkdirSync(tmp, { recursive: true, mode: 0o700 });
      servers.push(await startSshd({ netns: h.ns, address: h.address, port: 22, home: h.home, runtimeDir: h.runtime, env: { TMPDIR: tmp } }));
    }
  });

  after(async () => {
    for (const host of hosts) host.dispose();
    for (const l of links) l.link.dispose();
    for (const s of servers) await s.stop();
    network?.destroy();
  });

  test('deploys to both hosts and trains one supernet over them', async () => {
    for (const [i, sshd] of servers.entries()) {
      const l = makeLink(specFor(sshd, { alias: `host-${i}` }), bundle, { idleExitSeconds: 120 });
      links.push(l);
      const host = new Host(`ssh:host-${i}`, `host-${i}`, 'ssh', () => l.link.open(), CLIENT, { delaysMs: [500, 1000] });
      hosts.push(host);
    }
    await Promise.all(hosts.map((h) => h.connect()));
    for (const [i, l] of links.entries()) {
      assert.ok(l.progress.some((p) => p.step === 'uploading'), `the bundle was uploaded to host ${i}`);
      assert.ok(existsSync(path.join(remoteBundleDir(network.hosts[i].home, bundle), '.complete')), `host ${i} has its own copy`);
      assert.equal(hosts[i].snapshot().info?.activeRuns, 0);
    }
    assert.notEqual(links[0].link.remoteDaemon?.pid, links[1].link.remoteDaemon?.pid, 'one daemon per host');

    const token = randomBytes(32).toString('hex');
    const labels = network.hosts.map((h) => h.label);
    const placement = (i: number): JobPlacement => ({
      hosts: labels,
      hostIndex: i,
      workersPerHost: 1,
      coordinator: { host: network.hosts[0].address, port: 29470 },
      bindAddress: network.hosts[i].address,
      token,
    });
    const config = { ...(tinyConfig('two-ssh-hosts', { trainSize: 128, epochs: 2 }) as Record<string, unknown>), distributed: { algorithm: 'data-parallel', workersPerHost: 1, timeoutSeconds: 30 } };
    const runs = await Promise.all(
      hosts.map(async (host, i) => {
        const configDir = path.join(network.hosts[i].home, 'work');
        mkdirSync(configDir, { recursive: true });
        const { run } = await host.request(StartRunRequest, { config: config as never, configDir, job: placement(i) });
        host.noteRun(run);
        return run;
      }),
    );
    const seen: TelemetryEvent[] = [];
    await hosts[0].watch(runs[0].runId, { onEvents: (e) => seen.push(...e) });
    for (const [i, host] of hosts.entries()) {
      const r = await waitFor(
        () => {
          const s = host.run(runs[i].runId);
          return s && s.status !== 'running' ? s : undefined;
        },
        300000,
        () => `the run on host ${i} did not end: ${JSON.stringify(host.run(runs[i].runId))}`,
      );
      assert.equal(r.status, 'completed', `host ${i}: ${r.status} ${r.message ?? ''}`);
    }
    const workers = seen.filter((e) => e.kind === 'workers').map((e) => e.data as { workers: { rank: number; host: string }[] });
    assert.ok(workers.length > 0, 'host 0 reported its workers');
    assert.deepEqual(workers.at(-1)!.workers.map((w) => [w.rank, w.host]), [[0, 'host-0'], [1, 'host-1']], 'one worker on each host');
    const { results } = await hosts[0].request(GetRunResultsRequest, { runId: runs[0].runId });
    assert.ok(results.front.length > 0, 'host 0 searched the supernet both hosts trained');
  });
});
