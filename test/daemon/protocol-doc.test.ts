// daemon/service/PROTOCOL.md describes daemon/protocol/: it records a hash of the protocol files, so a change to the
// protocol fails here until the page is updated with it (as rust-analyzer guards its LSP extensions doc).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Methods, MantaErrorCodes, paramsSchemas } from '../../daemon/protocol';
import { repoRoot } from './harness';

const PROTOCOL_FILES = ['errors.ts', 'events.ts', 'handshake.ts', 'methods.ts', 'params-schemas.ts', 'results.ts', 'transport.ts', 'values.ts', 'version.ts'];
const doc = path.join(repoRoot, 'daemon/service/PROTOCOL.md');

function protocolHash(): string {
  const h = createHash('sha256');
  for (const name of PROTOCOL_FILES) h.update(`${name}\n${readFileSync(path.join(repoRoot, 'daemon/protocol', name), 'utf8').replace(/\r\n/g, '\n')}\n`);
  return h.digest('hex');
}

test('PROTOCOL.md was updated with the protocol (its recorded hash matches)', () => {
  const text = readFileSync(doc, 'utf8');
  const recorded = /<!-- protocol-hash: sha256:([0-9a-f]+|PENDING) -->/.exec(text)?.[1];
  const actual = protocolHash();
  assert.equal(recorded, actual, `daemon/protocol/ changed: update daemon/service/PROTOCOL.md to match, then set its last line to <!-- protocol-hash: sha256:${actual} -->`);
});

test('PROTOCOL.md names every method, notification and error code', () => {
  const text = readFileSync(doc, 'utf8');
  for (const method of Object.values(Methods)) assert.ok(text.includes(`\`${method}\``), `documents ${method}`);
  for (const method of Object.keys(paramsSchemas)) assert.ok(text.includes(`\`${method}\``), `documents ${method}`);
  for (const [name, code] of Object.entries(MantaErrorCodes)) {
    if (name.startsWith('reserved')) continue;
    assert.match(text, new RegExp(`\\| ${code} \\| ${name} \\|`), `documents ${name} (${code})`);
  }
});
