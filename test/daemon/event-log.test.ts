// The event log on real files: numbering, batched writes, reads across the memory/disk boundary, repair of what a
// killed writer leaves, cutting back for a resume, skipping a corrupt line in the middle, and the typed reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { EventLog, encodeEventBody, readEvents, type ReadHint, type StoredEvent } from '../../daemon/service/event-log';
import { tempDir } from './harness';

const limits = { maxLines: 1000, maxBytes: 1 << 20 };

async function readAll(log: EventLog, from = 0): Promise<number[]> {
  const seqs: number[] = [];
  let hint: ReadHint | undefined;
  let next = from;
  for (;;) {
    const batch = await log.read(next, limits, hint);
    if (!batch) return seqs;
    for (const line of batch.lines) seqs.push((JSON.parse(line) as { seq: number }).seq);
    next = batch.nextSeq;
    hint = batch.hint;
  }
}

function stepBody(step: number): string {
  return encodeEventBody('step', 1000 + step, { phaseIndex: 0, epoch: 0, step, totalSteps: 0, loss: 1, learningRate: 0.1, imagesPerSec: 1, worker: 0 });
}

test('appends are numbered, written in batches and read back in order from memory and disk', async () => {
  const file = path.join(tempDir(), 'events.jsonl');
  const warnings: string[] = [];
  const log = await EventLog.open(file, (m) => warnings.push(m));
  assert.equal(log.append('log', { level: 'info', message: 'first' }), 0);
  assert.equal(await fs.readFile(file, 'utf8'), '', 'nothing written on the caller’s path');
  for (let b = 0; b < 50; b++) log.appendBodies(Array.from({ length: 1000 }, (_, i) => stepBody(b * 1000 + i)));
  assert.equal(log.nextSeq, 50001);
  // Served only once written to the file (a client never sees an event a crash could lose), then from memory.
  assert.equal(await log.read(50000, limits), undefined);
  await log.flush();
  assert.deepEqual((await log.read(50000, limits))?.lines.map((l) => JSON.parse(l).seq), [50000]);
  const onDisk = (await fs.readFile(file, 'utf8')).split('\n').filter(Boolean);
  assert.equal(onDisk.length, 50001);
  assert.deepEqual(JSON.parse(onDisk[0]), { seq: 0, kind: 'log', time: JSON.parse(onDisk[0]).time, data: { level: 'info', message: 'first' } });
  const all = await readAll(log);
  assert.deepEqual(all, Array.from({ length: 50001 }, (_, i) => i));
  assert.deepEqual((await readAll(log, 33333)).slice(0, 3), [33333, 33334, 33335]);
  await log.close();

  const again = await EventLog.open(file, (m) => warnings.push(m));
  assert.equal(again.nextSeq, 50001);
  assert.deepEqual((await readAll(again, 49990)).length, 11);
  assert.deepEqual(warnings, []);
  await again.close();
});

test('only a torn last line is cut off, with a warning; a corrupt complete line stays and is skipped when read', async () => {
  const file = path.join(tempDir(), 'events.jsonl');
  const log = await EventLog.open(file, () => undefined);
  log.appendBodies(Array.from({ length: 10 }, (_, i) => stepBody(i)));
  await log.close();
  const corrupt = '{"seq":10,"kind":"step","time":1,"data":{"oops"}\n';
  const good = Buffer.concat([await fs.readFile(file), Buffer.from(corrupt)]);
  // A complete but corrupt line (kept), then half a line (cut).
  await fs.appendFile(file, corrupt + '{"seq":11,"kind":"st');
  const warnings: string[] = [];
  const repaired = await EventLog.open(file, (m) => warnings.push(m));
  assert.equal(repaired.nextSeq, 11, 'numbering continues after the damaged line');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /cut off 20 bytes of a truncated last line .* now ends at seq 10/);
  assert.deepEqual(await fs.readFile(file), good);
  assert.deepEqual(await readAll(repaired), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.match(warnings[1], /skipping 1 corrupt line .* at byte \d+/);
  repaired.append('log', { level: 'info', message: 'after repair' });
  await repaired.close();

  // Damage in the middle (not something a crash does, but a disk can): reads skip it and say so.
  const text = (await fs.readFile(file, 'utf8')).split('\n');
  text[4] = '{"seq":4,"kind":"step","ti#garbage';
  await fs.writeFile(file, text.join('\n'));
  const damaged: string[] = [];
  const reread = await EventLog.open(file, (m) => damaged.push(m));
  assert.deepEqual(await readAll(reread), [0, 1, 2, 3, 5, 6, 7, 8, 9, 11]);
  assert.match(damaged.join('\n'), /skipping 2 corrupt lines/);
  await reread.close();
});

test('cutting back for a resume drops the later events and continues the numbering', async () => {
  const file = path.join(tempDir(), 'events.jsonl');
  const log = await EventLog.open(file, () => undefined);
  log.appendBodies(Array.from({ length: 3000 }, (_, i) => stepBody(i)));
  log.append('checkpoint', { step: 1500, file: 'checkpoints/step-000001500.ckpt' });
  log.appendBodies(Array.from({ length: 700 }, (_, i) => stepBody(3000 + i)));
  await log.flush();
  const found = [];
  for await (const e of log.events({ kinds: ['checkpoint'] })) found.push(e);
  assert.deepEqual(found.map((e) => [e.seq, e.kind, e.data.step]), [[3000, 'checkpoint', 1500]]);
  await log.truncateAfter(3000);
  assert.equal(log.nextSeq, 3001);
  assert.equal(log.append('log', { level: 'info', message: 'resumed' }), 3001);
  await log.flush();
  assert.deepEqual(await readAll(log, 2998), [2998, 2999, 3000, 3001]);
  const tail = await log.tail(4096);
  assert.deepEqual(tail.slice(-2).map((e) => e.kind), ['checkpoint', 'log']);
  await log.close();
  const lines = (await fs.readFile(file, 'utf8')).split('\n').filter(Boolean);
  assert.equal(lines.length, 3002);
  assert.ok(lines.every((l, i) => JSON.parse(l).seq === i));
});

test('the typed reader: seq range, kinds, steps, a torn last line, read-only while a writer appends', async () => {
  const file = path.join(tempDir(), 'events.jsonl');
  const log = await EventLog.open(file, () => undefined);
  log.append('phase', { index: 0, phase: 'largest', epochs: 1, stepsPerEpoch: 10, learningRate: 0.1, sample: {} as never });
  log.appendBodies(Array.from({ length: 10 }, (_, i) => stepBody(i)));
  log.append('checkpoint', { step: 5, file: 'checkpoints/step-5.ckpt' });
  log.append('log', { level: 'info', message: 'a "kind":"step" inside a message is not a step' });
  await log.flush();
  const collect = async (it: AsyncIterable<StoredEvent>) => {
    const out: StoredEvent[] = [];
    for await (const e of it) out.push(e);
    return out;
  };
  assert.deepEqual((await collect(readEvents(file))).map((e) => e.seq), Array.from({ length: 13 }, (_, i) => i));
  const steps = await collect(readEvents(file, { kinds: ['step', 'phase'], upToStep: 4 }));
  assert.deepEqual(steps.map((e) => [e.kind, e.seq]), [['phase', 0], ['step', 1], ['step', 2], ['step', 3], ['step', 4], ['step', 5]]);
  assert.deepEqual((await collect(readEvents(file, { fromSeq: 3, toSeq: 5 }))).map((e) => e.seq), [3, 4, 5]);
  assert.deepEqual((await collect(log.events({ kinds: ['log'] }))).map((e) => e.seq), [12]);
  // A torn line at the end (a writer killed mid-line) is skipped by the reader, which never repairs.
  await fs.appendFile(file, '{"seq":13,"kind":"step","ti');
  assert.equal((await collect(readEvents(file))).length, 13);
  assert.ok((await fs.readFile(file, 'utf8')).endsWith('"ti'));
  assert.deepEqual(await collect(readEvents(path.join(path.dirname(file), 'none.jsonl'))), []);
  await log.close();
});
