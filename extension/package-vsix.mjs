// Packages the extension as manta.vsix (`npm run package`), offline, without touching dist/:
//  1. a staging folder (under out/, one per call, so that concurrent calls do not collide) gets the production
//     bundles (`esbuild.mjs --production --outdir <stage>/dist`), package.json, .vscodeignore, README.md, the config
//     schema, the activity-bar icon, and every file README.md links to relatively (so that each README link resolves
//     inside the package: VS Code renders an installed extension's README against its own folder);
//  2. vsce packages the staging folder with --no-rewrite-relative-links (links stay relative: nothing points to a
//     repository host, nothing needs the network) into a temporary file, renamed over the output at the end.
// A README link to a missing file, an absolute file link or a link that leaves the package fails the packaging.
// Usage: node extension/package-vsix.mjs [--out FILE]   (default: manta.vsix in the repository root)
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The relative link targets of a markdown text (inline links and images, reference definitions), anchors cut. */
export function relativeLinks(markdown) {
  const targets = new Set();
  const inline = /!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
  const reference = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/gm;
  for (const re of [inline, reference]) {
    for (const m of markdown.matchAll(re)) {
      const target = m[1].split('#')[0];
      if (!target || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // anchors, http:, mailto:, command: …
      targets.add(decodeURI(target));
    }
  }
  return [...targets];
}

function fail(message) {
  console.error(`package-vsix: ${message}`);
  process.exit(1);
}

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit' });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${[cmd, ...args].join(' ')} exited with ${r.status ?? r.signal}`);
}

function main() {
  const outArg = process.argv.indexOf('--out');
  const output = outArg > 0 && process.argv[outArg + 1] ? resolve(process.argv[outArg + 1]) : join(root, 'manta.vsix');
  const t0 = Date.now();
  mkdirSync(join(root, 'out'), { recursive: true });
  const stage = mkdtempSync(join(root, 'out', 'vsix-'));
  try {
    run(process.execPath, [join(root, 'esbuild.mjs'), '--production', '--outdir', join(stage, 'dist')], root);
    const files = ['package.json', '.vscodeignore', 'README.md', 'schemas/manta-config.schema.json'];
    for (const f of readdirSync(join(root, 'extension/media')))
      if (f.endsWith('.svg')) files.push(`extension/media/${f}`);
    for (const link of relativeLinks(readFileSync(join(root, 'README.md'), 'utf8'))) {
      const target = normalize(link);
      if (isAbsolute(target) || target === '..' || target.startsWith(`..${sep}`))
        fail(`README.md links to ${link}, outside the package`);
      if (!existsSync(join(root, target))) fail(`README.md links to ${link}, which does not exist`);
      files.push(target.split(sep).join('/'));
    }
    for (const f of files) cpSync(join(root, f), join(stage, f), { recursive: true });
    // The README's link targets are shipped even when .vscodeignore does not name them yet.
    const linked = files.filter((f) => !['package.json', '.vscodeignore', 'README.md'].includes(f));
    writeFileSync(join(stage, '.vscodeignore'), readFileSync(join(root, '.vscodeignore'), 'utf8') + linked.map((f) => `\n!${f}`).join('') + '\n');
    const temp = `${output}.${process.pid}.tmp`;
    const vsce = join(root, 'node_modules/@vscode/vsce/vsce');
    run(
      process.execPath,
      [
        vsce,
        'package',
        '--no-dependencies',
        '--skip-license',
        '--allow-missing-repository',
        '--no-rewrite-relative-links',
        '--out',
        temp,
      ],
      stage,
    );
    renameSync(temp, output);
    console.log(
      `package-vsix: ${relative(process.cwd(), output) || output} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
