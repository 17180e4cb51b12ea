import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { crc32, crc32Portable, decodeCheckpoint, encodeCheckpoint } from '../../daemon/train/checkpoint-codec';
import {
  checkpointFileName,
  listCheckpointFiles,
  readLatestCheckpoint,
  removeStaleTempFiles,
  writeCheckpointFile,
} from '../../daemon/train/checkpoint-files';
import { CheckpointError } from '../../daemon/train/errors';
import type { TrainerState } from '../../daemon/train/state';

function sampleState(step: number): TrainerState {
  const ramp = (n: number, k: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * k + step));
  return {
    format: 1,
    seed: 7,
    configKey: 'abc',
    step,
    totalSteps: 100,
    preparedPhase: 1,
    evaluatedPhases: 1,
    rngs: { spare: [1, 2, 3, 4] },
    results: [{ index: 0, phase: 'largest', largest: { accuracy: 0.5, loss: 1.25 }, smallest: { accuracy: 0.5, loss: 1.25 } }],
    tensors: {
      weights: { 'stem/conv': { shape: [3, 3, 3, 8], data: ramp(216, 0.1) }, 'head/bias': { shape: [10], data: ramp(10, 1.7) } },
      slots: { 'stem/conv': { shape: [3, 3, 3, 8], data: ramp(216, -0.3) } },
    },
  };
}

test('crc32 matches the standard check value', () => {
  assert.equal(crc32(Buffer.from('123456789', 'ascii')), 0xcbf43926);
  assert.equal(crc32Portable(Buffer.from('123456789', 'ascii')), 0xcbf43926);
  const random = Buffer.from(Array.from({ length: 4099 }, (_, i) => (i * 2654435761) >>> 24));
  assert.equal(crc32Portable(random), crc32(random));
});

test('a checkpoint round-trips bit-exactly, including odd-length headers and NaN/-0 values', () => {
  const state = sampleState(3);
  state.tensors.weights['head/bias'].data[0] = Number.NaN;
  state.tensors.weights['head/bias'].data[1] = -0;
  for (const name of ['x', 'xy', 'xyz', 'xyzw']) {
    state.configKey = name; // moves the payload's alignment padding
    const back = decodeCheckpoint(encodeCheckpoint(state));
    assert.equal(back.configKey, name);
    assert.deepEqual({ ...back, tensors: undefined }, { ...state, tensors: undefined });
    for (const group of ['weights', 'slots'] as const) {
      assert.deepEqual(Object.keys(back.tensors[group]), Object.keys(state.tensors[group]));
      for (const [k, t] of Object.entries(state.tensors[group])) {
        assert.deepEqual(back.tensors[group][k].shape, t.shape);
        assert.deepEqual(Buffer.from(back.tensors[group][k].data.buffer), Buffer.from(t.data.buffer), `${group}/${k}`);
      }
    }
  }
});

test('truncated, extended, bit-flipped and foreign checkpoints are detected with a clear error', () => {
  const bytes = encodeCheckpoint(sampleState(5));
  const rejects = (buf: Buffer, pattern: RegExp): void =>
    assert.throws(() => decodeCheckpoint(buf, 'ckpt.bin'), (e: unknown) => e instanceof CheckpointError && pattern.test(e.message));
  for (const cut of [0, 10, 31, 32, 100, bytes.length - 1]) rejects(bytes.subarray(0, cut), /ckpt\.bin (is not a MANTA checkpoint|is truncated)/);
  rejects(Buffer.concat([bytes, Buffer.alloc(4)]), /ckpt\.bin is too long/);
  for (const at of [40, bytes.length - 3]) {
    const flipped = Buffer.from(bytes);
    flipped[at] ^= 0x10;
    rejects(flipped, /ckpt\.bin is corrupt \(checksum mismatch\)/);
  }
  const header = Buffer.from(bytes);
  header[13] ^= 1; // the header's length field
  rejects(header, /corrupt header/);
  rejects(Buffer.from('{"not":"a checkpoint"}'.padEnd(64)), /is not a MANTA checkpoint/);
});

test('checkpoint files: atomic write, keep the last K, newest readable one wins, half-written ones are skipped', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'manta-ckpt-'));
  try {
    for (const step of [10, 20, 30, 40]) await writeCheckpointFile(dir, step, encodeCheckpoint(sampleState(step)), 3);
    assert.deepEqual((await listCheckpointFiles(dir)).map((f) => f.step), [20, 30, 40]);
    assert.equal(path.basename((await listCheckpointFiles(dir))[2].path), checkpointFileName(40));

    // A crash mid-write leaves a temp file (ignored) or, without atomic rename, a truncated newest file (skipped).
    await fs.writeFile(path.join(dir, '.tmp-123-step-000000050.ckpt'), Buffer.alloc(10));
    const full = encodeCheckpoint(sampleState(50));
    await fs.writeFile(path.join(dir, checkpointFileName(50)), full.subarray(0, full.length >> 1));
    const warnings: string[] = [];
    const latest = await readLatestCheckpoint(dir, decodeCheckpoint, (m) => warnings.push(m));
    assert.equal(latest?.file.step, 40);
    assert.equal(latest?.value.step, 40);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /step-000000050\.ckpt.*truncated/);

    await removeStaleTempFiles(dir);
    assert.ok(!(await fs.readdir(dir)).some((n) => n.startsWith('.tmp-')));
    assert.equal(await readLatestCheckpoint(path.join(dir, 'missing'), decodeCheckpoint, () => undefined), undefined);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
