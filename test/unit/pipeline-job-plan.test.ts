// The job plan: how many workers 'auto' gives, which node and host every rank is on, and the placement checks.
import assert from 'node:assert/strict';
import test from 'node:test';
import { planJob, resolveWorkers } from '../../daemon/pipeline/distributed/plan';
import { isUserError } from '../../daemon/protocol/user-error';
import { TINY } from './job-fixtures';
import { validateConfig, type ResolvedConfig } from '../../schemas';

function cfg(distributed: object, batchSize = 32): ResolvedConfig {
  const r = validateConfig({ ...TINY, training: { ...TINY.training, batchSize }, distributed });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.config;
}

test("'auto' is one worker per GPU, else per core, lowered to divide the batch and the nodes", () => {
  assert.equal(resolveWorkers('auto', 1, 32, { cores: 2, gpus: 0 }), 2);
  assert.equal(resolveWorkers('auto', 1, 32, { cores: 3, gpus: 0 }), 2);
  assert.equal(resolveWorkers('auto', 1, 30, { cores: 16, gpus: 0 }), 15);
  assert.equal(resolveWorkers('auto', 1, 32, { cores: 64, gpus: 4 }), 4);
  assert.equal(resolveWorkers('auto', 2, 24, { cores: 5, gpus: 0 }), 4);
  assert.equal(resolveWorkers(3, 1, 32, { cores: 1, gpus: 0 }), 3, 'a number is taken as it is (the checks reject it when it does not fit)');
});

test('one worker on one host trains in the run\'s own process (no job)', () => {
  assert.equal(planJob(cfg({ workersPerHost: 1 }), undefined, { cores: 2, gpus: 0 }), undefined);
  assert.equal(planJob(cfg({}), undefined, { cores: 1, gpus: 0 }), undefined);
});

test('subnet parallel on one host: logical nodes split the workers in order', () => {
  const plan = planJob(cfg({ algorithm: 'subnet-parallel', workersPerHost: 4, nodesPerHost: 2 }), undefined, { cores: 2, gpus: 0 }, 4321);
  assert.ok(plan);
  assert.deepEqual(plan.nodeOf, [0, 0, 1, 1]);
  assert.deepEqual(plan.localRanks, [0, 1, 2, 3]);
  assert.deepEqual(plan.coordinator, { host: '127.0.0.1', port: 4321 });
  assert.equal(plan.bindAddress, '127.0.0.1');
  assert.match(plan.token, /^[0-9a-f]{64}$/);
});

test('across hosts: ranks by host, nodes numbered across hosts, the placement checked', () => {
  const placement = { hosts: ['a', 'b'], hostIndex: 1, workersPerHost: 2, coordinator: { host: '10.0.0.1', port: 29400 }, bindAddress: '10.0.0.2', token: 'ab'.repeat(16) };
  const plan = planJob(cfg({ algorithm: 'subnet-parallel' }), placement, { cores: 8, gpus: 0 });
  assert.ok(plan);
  assert.equal(plan.worldSize, 4);
  assert.deepEqual(plan.localRanks, [2, 3]);
  assert.deepEqual(plan.nodeOf, [0, 0, 1, 1]);
  assert.deepEqual(plan.hostOf, ['a', 'a', 'b', 'b']);
  assert.equal(plan.coordinatorHost, false);
  const refused = (p: object, batch = 32): string => {
    try {
      planJob(cfg({}, batch), { ...placement, ...p }, { cores: 8, gpus: 0 });
    } catch (e) {
      assert.ok(isUserError(e), 'a clear user error, not a crash');
      return (e as Error).message;
    }
    return 'accepted';
  };
  assert.match(refused({ hosts: ['a', 'a'] }), /distinct/);
  assert.match(refused({ hostIndex: 2 }), /host index 2/);
  assert.match(refused({ token: 'secret' }), /hex secret/);
  assert.match(refused({ workersPerHost: 3 }), /cannot be split evenly across the job's 6 workers \(2 hosts × 3\)/);
});
