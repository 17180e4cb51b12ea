// The installable extension: manta.vsix as `npm run package` builds it (test/run-all.sh packages it before any suite
// runs) carries what runs and nothing else, every relative link of its README resolves inside it (vsce keeps them
// relative: no repository host, no network), and its manifest keeps the settings that start programs out of a
// workspace's reach (machine scope, restricted in untrusted workspaces).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { inflateRawSync } from 'node:zlib';

const ROOT = join(__dirname, '../..');
const VSIX = join(ROOT, 'manta.vsix');
const PROGRAM_SETTINGS = ['manta.daemon.nodePath', 'manta.daemon.script', 'manta.daemon.socketPath'];

interface Manifest {
  version: string;
  capabilities?: {
    untrustedWorkspaces?: { supported: boolean | 'limited'; restrictedConfigurations?: string[]; description?: string };
    virtualWorkspaces?: boolean | { supported: boolean | 'limited'; description?: string };
  };
  contributes: { configuration: { properties: Record<string, { scope?: string; type?: string }> } };
}

/** The entries of a zip file (central directory), with a reader for each (stored or deflated). */
function readZip(file: string): Map<string, () => Buffer> {
  const zip = readFileSync(file);
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  assert.ok(eocd >= 0, `${file} is a zip file`);
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  const entries = new Map<string, () => Buffer>();
  for (let n = 0; n < count; n++) {
    assert.equal(zip.readUInt32LE(p), 0x02014b50, 'a central directory entry');
    const method = zip.readUInt16LE(p + 10);
    const compressed = zip.readUInt32LE(p + 20);
    const nameLength = zip.readUInt16LE(p + 28);
    const extraLength = zip.readUInt16LE(p + 30);
    const commentLength = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    const name = zip.toString('utf8', p + 46, p + 46 + nameLength);
    entries.set(name, () => {
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(start, start + compressed);
      return method === 0 ? Buffer.from(data) : inflateRawSync(data);
    });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Relative link targets of a markdown text (inline links and images, reference definitions), anchors cut. */
function relativeLinks(markdown: string): string[] {
  const out = new Set<string>();
  for (const re of [/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?[^)]*\)/g, /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/gm]) {
    for (const m of markdown.matchAll(re)) {
      const target = m[1].split('#')[0];
      if (target && !/^[a-z][a-z0-9+.-]*:/i.test(target)) out.add(decodeURI(target));
    }
  }
  return [...out];
}

test('the settings that start programs are machine settings, restricted in untrusted workspaces', () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;
  const properties = manifest.contributes.configuration.properties;
  for (const key of PROGRAM_SETTINGS) {
    assert.ok(properties[key], `${key} is contributed`);
    assert.equal(properties[key].scope, 'machine', `${key}: a workspace cannot set it`);
  }
  const untrusted = manifest.capabilities?.untrustedWorkspaces;
  assert.ok(untrusted, 'capabilities.untrustedWorkspaces is declared');
  assert.equal(untrusted.supported, 'limited');
  assert.ok(untrusted.description, 'the limitation is described');
  const restricted = untrusted.restrictedConfigurations ?? [];
  for (const key of PROGRAM_SETTINGS) assert.ok(restricted.includes(key), `${key} is restricted in untrusted workspaces`);
  for (const key of restricted) assert.equal(properties[key]?.scope, 'machine', `the restricted ${key} is a machine setting`);
  const virtual = manifest.capabilities?.virtualWorkspaces;
  assert.ok(virtual !== undefined, 'capabilities.virtualWorkspaces is declared');
  // Nothing else names a program or a script to run without being machine-scoped.
  for (const [key, p] of Object.entries(properties)) {
    if (/path|script|command|executable|binary/i.test(key)) assert.equal(p.scope, 'machine', `${key} looks like it starts something`);
  }
});

test('manta.vsix carries the production bundles, the schema, the icon and the documents its README links to', () => {
  assert.ok(existsSync(VSIX), `${VSIX} exists (npm run package; npm test builds it first)`);
  const entries = readZip(VSIX);
  const names = [...entries.keys()];
  const inPackage = (p: string) => entries.has(`extension/${p}`);
  for (const f of ['package.json', 'readme.md', 'dist/extension.js', 'dist/manta.js', 'dist/run-worker.js', 'dist/batch-worker.js', 'dist/train-worker.js', 'dist/config-server.js', 'dist/webviews/monitor.js', 'dist/webviews/monitor.css', 'dist/webviews/visualizer.js', 'dist/tfjs-backend-wasm.wasm', 'schemas/manta-config.schema.json', 'extension/media/manta.svg']) {
    assert.ok(inPackage(f), `${f} is in the package (${names.length} entries)`);
  }
  for (const n of names) {
    assert.doesNotMatch(n, /\.map$|\.ts$|(^|\/)node_modules\/|(^|\/)test\/|\.vsix$/, `${n} does not belong in the package`);
  }
  // Production bundles: minified, no source map reference.
  const extension = entries.get('extension/dist/extension.js')!().toString('utf8');
  assert.doesNotMatch(extension, /sourceMappingURL/);
  // The manifest shipped carries the untrusted-workspace declaration and the machine scopes.
  const shipped = JSON.parse(entries.get('extension/package.json')!().toString('utf8')) as Manifest;
  assert.equal(shipped.capabilities?.untrustedWorkspaces?.supported, 'limited');
  for (const key of PROGRAM_SETTINGS) assert.equal(shipped.contributes.configuration.properties[key]?.scope, 'machine', `${key} in the shipped manifest`);
  const size = statSync(VSIX).size;
  assert.ok(size < 4 * 1024 * 1024, `the package stays small: ${(size / 1024 / 1024).toFixed(2)} MB`);
});

test("every relative link of the packaged README resolves inside the package, and none was rewritten to a host", () => {
  const entries = readZip(VSIX);
  const readme = entries.get('extension/readme.md')!().toString('utf8');
  assert.equal(readme, readFileSync(join(ROOT, 'README.md'), 'utf8'), 'the README is shipped as written (links not rewritten)');
  const links = relativeLinks(readme);
  assert.ok(links.includes('daemon/service/PROTOCOL.md'), `the README links to PROTOCOL.md: ${links.join(', ')}`);
  for (const link of links) {
    const target = posix.normalize(posix.join('extension', link));
    assert.ok(target.startsWith('extension/'), `${link} stays inside the package`);
    assert.ok(entries.has(target), `README link ${link} resolves to ${target} in the package`);
  }
  assert.doesNotMatch(readme, /\]\(https?:\/\/(github|gitlab)\.com/, 'no link points to a repository host');
});
