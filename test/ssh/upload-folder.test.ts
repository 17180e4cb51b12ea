// Uploading a data folder to a host over SFTP, against a real sshd: every file arrives byte for byte with its mtime,
// nothing named `.manta-part` stays behind, a second upload sends nothing, an upload stopped half way leaves only
// whole files (and perhaps one part file) and the next one sends just the rest, and a changed file is sent again.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from 'ssh2';
import { connectSsh } from '../../extension/hosts/ssh/connect';
import { PART_SUFFIX, UploadCancelled, uploadFolder } from '../../extension/hosts/ssh/upload-folder';
import { tempDir } from '../daemon/harness';
import { MapSecrets, ScriptedPrompts, specFor } from './link-harness';
import { sshdUnavailable, startSshd, type TestSshd } from './sshd';

function listTree(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? listTree(full, base) : [path.relative(base, full)];
  });
}

const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('uploading a data folder over SFTP (real sshd)', { skip: sshdUnavailable() }, () => {
  let sshd: TestSshd;
  let client: Client;
  const local = path.join(tempDir(), 'data');

  before(async () => {
    sshd = await startSshd({});
    client = await connectSsh(specFor(sshd), {
      prompts: new ScriptedPrompts(),
      secrets: new MapSecrets(),
      progress: () => undefined,
      log: () => undefined,
      local: { home: sshd.home },
    });
    // 40 files in nested folders, one of them large enough to be cut in the middle.
    for (let i = 0; i < 40; i++) {
      const dir = path.join(local, `class-${i % 4}`, i % 3 === 0 ? 'nested' : '');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, `img-${i}.bin`), Buffer.alloc(i === 7 ? 3 << 20 : 2000 + i * 37, i));
      utimesSync(path.join(dir, `img-${i}.bin`), 1_700_000_000 + i, 1_700_000_000 + i);
    }
  });

  after(async () => {
    client?.end();
    await sshd?.stop();
  });

  test('sends every file once, resumes after a stop, and sends a changed file again', async () => {
    const remote = path.join(sshd.home, 'manta', 'ws', 'data');
    const files = listTree(local).sort();

    // Stopped part way: after the first megabyte.
    const abort = new AbortController();
    await assert.rejects(
      uploadFolder(client, local, remote, { signal: abort.signal, onProgress: (p) => p.done > 1 << 20 && abort.abort() }),
      (e: unknown) => e instanceof UploadCancelled,
    );
    const partial = existsSync(remote) ? listTree(remote) : [];
    const whole = partial.filter((f) => !f.endsWith(PART_SUFFIX));
    assert.ok(whole.length < files.length, 'the stop left the upload unfinished');
    for (const f of whole) assert.equal(digest(path.join(remote, f)), digest(path.join(local, f)), `${f} is whole on the host`);
    assert.ok(partial.filter((f) => f.endsWith(PART_SUFFIX)).length <= 1, `at most the file in flight is a part file: ${partial}`);

    // The next upload sends only what is missing.
    const resumed = await uploadFolder(client, local, remote);
    assert.equal(resumed.skipped, whole.length, 'files already whole on the host are skipped');
    assert.equal(resumed.sent, files.length - whole.length);
    assert.deepEqual(listTree(remote).sort(), files, 'the host has every file and no part file');
    for (const f of files) {
      assert.equal(digest(path.join(remote, f)), digest(path.join(local, f)), f);
      assert.equal(Math.floor(statSync(path.join(remote, f)).mtimeMs / 1000), Math.floor(statSync(path.join(local, f)).mtimeMs / 1000), `${f} keeps its mtime`);
    }

    // Nothing to do the third time; one changed file is sent again.
    const again = await uploadFolder(client, local, remote);
    assert.deepEqual([again.sent, again.skipped], [0, files.length]);
    writeFileSync(path.join(local, files[3]), 'changed');
    const changed = await uploadFolder(client, local, remote);
    assert.deepEqual([changed.sent, changed.skipped], [1, files.length - 1]);
    assert.equal(readFileSync(path.join(remote, files[3]), 'utf8'), 'changed');
  });
});
