// The extension under test is the installed .vsix, as a user gets it: it runs from the extensions folder the driver
// installed manta.vsix into (not from the repository), its README's links resolve inside it, and a workspace cannot
// choose the program it starts (manta.daemon.nodePath is a machine setting). Runs after extensionSuite, so that the
// local daemon has been started once by then (Start Search).
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import * as vscode from 'vscode';

const EXTENSION_ID = 'manta.manta';

function inside(child: string, parent: string): boolean {
  const r = relative(realpathSync(parent), realpathSync(child));
  return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !r.startsWith(sep));
}

export function installedSuite(): void {
  suite('MANTA as installed from the .vsix', () => {
    test('the extension under test is the installed one, not the development folder', function () {
      const installed = process.env.MANTA_VSCODE_INSTALLED;
      const repository = process.env.MANTA_VSCODE_REPOSITORY;
      if (!installed || !repository) {
        console.log('skipped: the driver did not install a .vsix ($MANTA_VSCODE_INSTALLED)');
        return this.skip();
      }
      const ext = vscode.extensions.getExtension(EXTENSION_ID);
      assert.ok(ext, `${EXTENSION_ID} is installed`);
      assert.ok(ext.isActive, 'and active (the extension suite ran before)');
      assert.ok(inside(ext.extensionPath, installed), `extensionPath ${ext.extensionPath} is inside the install folder ${installed}`);
      assert.ok(!inside(ext.extensionPath, repository), `extensionPath ${ext.extensionPath} is not inside the repository ${repository}`);
      assert.equal(ext.extensionKind, vscode.ExtensionKind.Workspace);
      // Only what the .vsix carries: production bundles without source maps, no sources.
      assert.ok(existsSync(join(ext.extensionPath, 'dist/extension.js')));
      assert.ok(!existsSync(join(ext.extensionPath, 'dist/extension.js.map')), 'no source maps in the package');
      assert.ok(!existsSync(join(ext.extensionPath, 'extension/extension.ts')), 'no sources in the package');
      // One extension with this id: no development copy beside it.
      assert.equal(vscode.extensions.all.filter((e) => e.id === EXTENSION_ID).length, 1);
    });

    test("the README's relative links resolve inside the installed extension", function () {
      const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
      if (!process.env.MANTA_VSCODE_INSTALLED) return this.skip();
      // vsce stores README.md as readme.md; VS Code shows it with the extension's folder as the base of its links.
      const readme = ['readme.md', 'README.md'].map((f) => join(ext.extensionPath, f)).find((f) => existsSync(f));
      assert.ok(readme, 'the README is in the package');
      const text = readFileSync(readme, 'utf8');
      const links = [...text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?[^)]*\)/g)].map((m) => m[1].split('#')[0]).filter((l) => l && !/^[a-z][a-z0-9+.-]*:/i.test(l));
      assert.ok(links.length >= 1, 'the README links to at least one document (PROTOCOL.md)');
      for (const link of links) {
        const target = join(ext.extensionPath, decodeURI(link));
        assert.ok(inside(target, ext.extensionPath) && existsSync(target), `README link ${link} resolves to ${target}`);
      }
      assert.doesNotMatch(text, /\]\(https?:\/\/[^)]*PROTOCOL\.md/, 'links stay relative (not rewritten to a repository host)');
    });

    test('a workspace setting cannot choose the program the extension starts (manta.daemon.nodePath is machine-scoped)', function () {
      const hostileEnv = process.env.MANTA_VSCODE_HOSTILE_NODE;
      if (!hostileEnv) return this.skip();
      const hostile = JSON.parse(hostileEnv) as { nodePath: string; marker: string };
      const folder = vscode.workspace.workspaceFolders![0].uri;
      // The workspace's settings file names the program, and VS Code reads that file (a window setting from it applies).
      const file = JSON.parse(readFileSync(join(folder.fsPath, '.vscode/settings.json'), 'utf8')) as Record<string, string>;
      assert.equal(file['manta.daemon.nodePath'], hostile.nodePath);
      const daemon = vscode.workspace.getConfiguration('manta.daemon');
      assert.equal(vscode.workspace.getConfiguration('editor').inspect<number>('tabSize')?.workspaceValue, 3, 'the workspace settings file is read');
      // The machine setting is dropped from the workspace: not in its value, not in effect.
      const nodePath = daemon.inspect<string>('nodePath');
      assert.notEqual(nodePath?.workspaceValue, hostile.nodePath, `workspaceValue: ${nodePath?.workspaceValue}`);
      assert.notEqual(daemon.get<string>('nodePath'), hostile.nodePath);
      assert.equal(daemon.get<string>('nodePath'), '');
      // And the extension did start its daemon (Start Search ran a search) without ever running that program.
      assert.equal(existsSync(hostile.marker), false, `the workspace's nodePath ${hostile.nodePath} was never run`);
    });
  });
}
