// Builds every bundle in one command: `node esbuild.mjs [--watch] [--production] [--outdir DIR]` (default dist/;
// extension/package-vsix.mjs builds the production bundles into a staging folder of its own, so that packaging never replaces
// the development bundles that the tests run).
// Node bundles (cjs): the manta CLI + daemon, the run worker, the batch worker, the extension (vscode external) and
// the config language server. Browser bundles (iife): one per webview. tfjs-node(-gpu), webgpu and onnxruntime-node
// stay external: they are native engines (onnxruntime-node: 247 MB), loaded at run time on hosts that have them.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
const outdirArg = process.argv.indexOf('--outdir');
const out = outdirArg > 0 && process.argv[outdirArg + 1] ? resolve(process.argv[outdirArg + 1]) : join(root, 'dist');

const optionalEngines = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'webgpu', 'onnxruntime-node'];

/** @type {esbuild.BuildOptions} */
const nodeCommon = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  define: { MANTA_VERSION: JSON.stringify(version) },
  // ssh2's optional native helpers and cpu-features are not needed: ssh2 falls back to pure JS.
  external: [...optionalEngines, 'cpu-features', './crypto/build/Release/sshcrypto.node'],
};

/** @type {esbuild.BuildOptions} */
const browserCommon = {
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
};

const builds = [
  { ...nodeCommon, entryPoints: { manta: 'daemon/cli/main.ts' }, banner: { js: '#!/usr/bin/env node' } },
  { ...nodeCommon, entryPoints: { 'run-worker': 'daemon/service/run-worker.ts' } },
  { ...nodeCommon, entryPoints: { 'batch-worker': 'daemon/data/batch-worker.ts' } },
  { ...nodeCommon, entryPoints: { 'allreduce-worker': 'daemon/distributed/bench-worker.ts' } },
  { ...nodeCommon, entryPoints: { 'train-worker': 'daemon/pipeline/distributed/train-worker.ts' } },
  { ...nodeCommon, entryPoints: { 'measure-worker': 'daemon/pipeline/measure-worker.ts' } },
  { ...nodeCommon, entryPoints: { extension: 'extension/extension.ts' }, external: [...nodeCommon.external, 'vscode'] },
  { ...nodeCommon, entryPoints: { 'config-server': 'extension/server/server.ts' } },
  { ...browserCommon, entryPoints: { 'webviews/monitor': 'webviews/monitor/main.ts' } },
  { ...browserCommon, entryPoints: { 'webviews/visualizer': 'webviews/visualizer/main.ts' } },
];

/** Binary assets that bundles load at run time: tfjs's wasm binaries and MANTA's own wasm kernels. */
function copyAssets() {
  mkdirSync(out, { recursive: true });
  const wasmDist = join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
  for (const f of readdirSync(wasmDist)) if (f.endsWith('.wasm')) copyFileSync(join(wasmDist, f), join(out, f));
  for (const dir of ['daemon/engine/kernels/native', 'daemon/search/native']) {
    const d = join(root, dir);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) if (f.endsWith('.wasm')) copyFileSync(join(d, f), join(out, f));
  }
}

function entryExists(b) {
  return Object.values(b.entryPoints).every((p) => existsSync(join(root, p)));
}

const active = builds.filter(entryExists);
for (const b of builds) if (!entryExists(b)) console.warn(`esbuild: skipping ${Object.values(b.entryPoints)} (not written yet)`);
copyAssets();
if (watch) {
  const contexts = await Promise.all(active.map((b) => esbuild.context({ ...b, outdir: out })));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('esbuild: watching');
} else {
  await Promise.all(active.map((b) => esbuild.build({ ...b, outdir: out })));
}
