// The same mocha suite (test/vscode/suite) under @vscode/test-electron, for machines that can download VS Code:
// `npx tsx test/vscode/run-electron.ts` after `npm run build`. (Where VS Code cannot be downloaded, vscode.test.ts
// runs the suite in the offline VS Code server instead.) The version is pinned to the engines.vscode floor.
import { cpSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<void> {
  const root = resolve(__dirname, '../..');
  const work = mkdtempSync(join(tmpdir(), 'manta-electron-'));
  const workspace = join(work, 'workspace');
  mkdirSync(workspace);
  cpSync(join(root, 'test/fixtures/extension/tiny.manta.json'), join(workspace, 'tiny.manta.json'));
  cpSync(join(root, 'test/fixtures/extension/workspace/broken.manta.json'), join(workspace, 'broken.manta.json'));
  const suite = join(root, 'out/vscode-suite/index.js');
  await esbuild.build({ entryPoints: [join(root, 'test/vscode/suite/index.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: suite, external: ['vscode', 'mocha'] });
  const results = join(work, 'results.json');
  process.env.MANTA_VSCODE_RESULTS = results;
  await runTests({
    version: '1.100.3',
    extensionDevelopmentPath: root,
    extensionTestsPath: suite,
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
    extensionTestsEnv: { MANTA_VSCODE_RESULTS: results },
  });
  process.stdout.write(readFileSync(results, 'utf8') + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`${String((e as Error)?.message ?? e)}\n`);
  process.exit(1);
});
