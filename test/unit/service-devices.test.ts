// The daemon's GPU ledger: a run gets GPUs of its own, one per training worker; a run that finds too few free waits;
// CPU backends and GPU-less hosts take none. (nvidia-smi is not on this machine: the ledger is given its GPUs.)
import assert from 'node:assert/strict';
import test from 'node:test';
import { GpuLedger, gpusWanted } from '../../daemon/service/devices';
import { runGpus } from '../../daemon/pipeline/distributed/plan';
import { validateConfig, type ResolvedConfig } from '../../schemas';
import { TINY } from './job-fixtures';

function cfg(backend: string, workersPerHost: number | 'auto'): ResolvedConfig {
  const r = validateConfig({ ...TINY, backend, distributed: { workersPerHost } });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.config;
}

test('runs never share a GPU: the second waits until the first gives its GPUs back', () => {
  const ledger = new GpuLedger([0, 1, 2]);
  assert.deepEqual(ledger.take('a', 2), [0, 1]);
  assert.equal(ledger.take('b', 2), undefined, 'only one is free');
  assert.match(ledger.describe(), /GPU 0, 1 \(run a\)/);
  assert.deepEqual(ledger.take('c', 1), [2]);
  ledger.release('a');
  assert.deepEqual(ledger.take('b', 2), [0, 1]);
  assert.throws(() => ledger.take('d', 4), /4 GPUs asked for; this host has 3/);
});

test("a run wants one GPU per worker ('auto' = every GPU that divides the batch), none on CPU backends or hosts", () => {
  assert.equal(gpusWanted(cfg('auto', 'auto'), 4), 4);
  assert.equal(gpusWanted(cfg('tensorflow', 2), 4), 2);
  assert.equal(gpusWanted(cfg('wasm', 'auto'), 4), 0);
  assert.equal(gpusWanted(cfg('auto', 'auto'), 0), 0);
  assert.equal(gpusWanted(cfg('auto', 'auto'), 3), 2, 'three GPUs, batch 32: two workers');
  assert.deepEqual(runGpus({ MANTA_RUN_GPUS: '3,5' }), [3, 5]);
  assert.deepEqual(runGpus({}), []);
});
