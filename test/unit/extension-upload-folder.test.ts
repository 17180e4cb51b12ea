// The pure parts of uploading a data folder to an SSH host (extension/hosts/ssh/upload-folder.ts): which files an
// upload sends given the local and the remote listings (identical size and mtime: skipped, so an interrupted upload
// continues with what is missing), the folders it creates, and the local listing it starts from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listLocalFolder, planUpload, type ListedFile } from '../../extension/hosts/ssh/upload-folder';

const f = (rel: string, size: number, mtime = 1000): ListedFile => ({ rel, size, mtime });

test('an upload sends what is missing or differs, skips identical files, and creates the folders it needs', () => {
  const local = [f('train/cat/1.png', 10), f('train/cat/2.png', 20), f('train/dog/1.png', 30), f('test/a.png', 5), f('labels.txt', 7)];
  const remote = [
    f('train/cat/1.png', 10), // identical: skipped
    f('train/cat/2.png', 19), // another size: sent
    f('train/dog/1.png', 30, 999), // another mtime: sent
    f('train/dog/1.png.manta-part', 12), // a leftover part file is no twin of anything
    f('other.bin', 1), // only on the host: left alone
  ];
  const plan = planUpload(local, remote);
  assert.deepEqual(plan.send.map((x) => x.rel), ['labels.txt', 'test/a.png', 'train/cat/2.png', 'train/dog/1.png']);
  assert.deepEqual(plan.skip.map((x) => x.rel), ['train/cat/1.png']);
  assert.equal(plan.bytes, 7 + 5 + 20 + 30);
  assert.deepEqual(plan.dirs, ['', 'test', 'train', 'train/cat', 'train/dog'], 'parents before children');
});

test('an interrupted upload continues with the files not there yet', () => {
  const local = Array.from({ length: 6 }, (_, i) => f(`d/${i}.bin`, 100 + i, 2000 + i));
  // the first three arrived before the connection dropped; the fourth only as a part file
  const remote = [...local.slice(0, 3), { ...local[3], rel: 'd/3.bin.manta-part', size: 40 }];
  const plan = planUpload(local, remote);
  assert.deepEqual(plan.send.map((x) => x.rel), ['d/3.bin', 'd/4.bin', 'd/5.bin']);
  assert.equal(plan.skip.length, 3);
  // everything there: nothing to send and no folder to create
  const done = planUpload(local, local);
  assert.deepEqual([done.send.length, done.skip.length, done.bytes], [0, 6, 0]);
  assert.deepEqual(planUpload([], []), { send: [], skip: [], dirs: [''], bytes: 0 });
});

test('the local listing walks sub-folders, follows links to files (not dangling ones), keeps whole-second mtimes, and filters', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'manta-upload-'));
  try {
    mkdirSync(join(dir, 'a', 'b'), { recursive: true });
    writeFileSync(join(dir, 'a', 'b', 'x.bin'), Buffer.alloc(12));
    writeFileSync(join(dir, 'top.txt'), 'hello');
    utimesSync(join(dir, 'top.txt'), 1_700_000_000.75, 1_700_000_000.75);
    symlinkSync(join(dir, 'top.txt'), join(dir, 'link.txt'));
    symlinkSync(join(dir, 'missing'), join(dir, 'dangling'));
    const listed = (await listLocalFolder(dir)).sort((p, q) => (p.rel < q.rel ? -1 : 1));
    assert.deepEqual(
      listed.map((x) => [x.rel, x.size]),
      [
        ['a/b/x.bin', 12],
        ['link.txt', 5],
        ['top.txt', 5],
      ],
    );
    assert.equal(listed.find((x) => x.rel === 'top.txt')!.mtime, 1_700_000_000, 'whole seconds, as SFTP carries them');
    const only = await listLocalFolder(dir, (rel) => rel === 'top.txt');
    assert.deepEqual(only.map((x) => x.rel), ['top.txt']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
