// The `manta search` and `manta export` commands as a user meets them: every config problem as `file: /path:
// message`, one-line errors without stack traces, and the arch flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArchFlag } from '../../daemon/cli/commands/export';

const main = join(__dirname, '../../daemon/cli/main.ts');

function manta(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd: join(__dirname, '../..'), encoding: 'utf8', env: { ...process.env, MANTA_DEBUG: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('manta search prints every config problem with the file and JSON path, and exits 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'manta-cli-'));
  try {
    const file = join(dir, 'bad.manta.json');
    writeFileSync(file, JSON.stringify({ name: 'bad name!', task: 'classification', data: { kind: 'synthetic', classes: 1 }, supernet: { units: [] }, training: { phases: [] }, extra: 1 }));
    const r = manta(['search', file]);
    assert.equal(r.status, 2);
    const lines = r.stderr.trim().split('\n');
    assert.ok(lines.length >= 4, r.stderr);
    for (const line of lines) assert.ok(line.startsWith(`${file}: /`), line);
    assert.ok(lines.some((l) => l.includes(': /name:')));
    assert.ok(lines.some((l) => l.includes(': /supernet/units:')));
    assert.ok(lines.some((l) => l.includes(': /extra:') && l.includes("unknown property 'extra'")));

    writeFileSync(file, '{ "name": ');
    const broken = manta(['search', file]);
    assert.equal(broken.status, 2);
    assert.match(broken.stderr, /bad\.manta\.json: not valid JSON/);

    const missing = manta(['search', join(dir, 'nope.json')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^manta: cannot read .*nope\.json: no such file\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('manta export: a folder that is not a run is a one-line error; a bad --arch is named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'manta-cli-'));
  try {
    const r = manta(['export', dir, '--arch', '{"ks":[3]}']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^manta: .* is not a MANTA run directory \(no config\.json\)\n$/);
    const usage = manta(['export', dir]);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /usage: manta export/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(parseArchFlag(' 3 '), 3);
  assert.deepEqual(parseArchFlag('{"ks":[3],"e":[4],"d":[1],"r":32,"w":1}'), { ks: [3], e: [4], d: [1], r: 32, w: 1 });
  assert.throws(() => parseArchFlag('{ks:3}'), /--arch must be a front index or an arch as JSON/);
  assert.throws(() => parseArchFlag('[1,2]'), /must be an object/);
});
