// The import graph matches ../shared/notes/architecture.md: every import between folders (layers) follows the table
// — the two leaves schemas/ and daemon/protocol/ under everything, nothing upward — the layers form no loop, no file
// of daemon/ imports itself back through others, and packages stay where they belong (`vscode` only in extension/,
// daemon/protocol/ only vscode-jsonrpc). Imports are read with the TypeScript parser: static `import … from` and
// `import '…'`, `export … from`, `import x = require('…')`, dynamic `import('…')`, `require('…')` and type-level
// `import('…').T`. Type-only imports count: a type is a dependency as much as a value is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import ts from 'typescript';

const root = join(__dirname, '..', '..');
const SCANNED = ['daemon', 'extension', 'webviews', 'schemas'];

type Layer =
  | 'schemas'
  | 'daemon/protocol'
  | 'daemon/engine'
  | 'daemon/ofa'
  | 'daemon/data'
  | 'daemon/tasks'
  | 'daemon/train'
  | 'daemon/distributed'
  | 'daemon/search'
  | 'daemon/pipeline'
  | 'daemon/service'
  | 'daemon/cli'
  | 'extension/server'
  | 'extension'
  | 'webviews';

/** Longest prefix first: extension/server/ before extension/. */
const LAYERS: readonly Layer[] = [
  'schemas',
  'daemon/protocol',
  'daemon/engine',
  'daemon/ofa',
  'daemon/data',
  'daemon/tasks',
  'daemon/train',
  'daemon/distributed',
  'daemon/search',
  'daemon/pipeline',
  'daemon/service',
  'daemon/cli',
  'extension/server',
  'extension',
  'webviews',
];

/** The two leaves: any layer may import them (schemas/ itself imports no other layer, the protocol only schemas/). */
const LEAVES: readonly Layer[] = ['schemas', 'daemon/protocol'];
const DAEMON_BELOW_PIPELINE: readonly Layer[] = ['daemon/engine', 'daemon/ofa', 'daemon/data', 'daemon/tasks', 'daemon/train', 'daemon/distributed', 'daemon/search'];

/** The table of architecture.md: what each layer may import besides itself and the two leaves. */
const MAY_IMPORT: Record<Layer, readonly Layer[]> = {
  schemas: [],
  'daemon/protocol': [],
  'daemon/engine': [],
  'daemon/ofa': ['daemon/engine'],
  'daemon/data': ['daemon/engine'],
  'daemon/tasks': ['daemon/engine', 'daemon/ofa', 'daemon/data'],
  'daemon/train': ['daemon/engine', 'daemon/ofa', 'daemon/data'],
  'daemon/distributed': ['daemon/engine'],
  'daemon/search': ['daemon/engine', 'daemon/ofa'],
  'daemon/pipeline': DAEMON_BELOW_PIPELINE,
  'daemon/service': [...DAEMON_BELOW_PIPELINE, 'daemon/pipeline'],
  // `manta search`, `daemon`, `export` … over the pipeline and the service, and the bench suites over what they measure.
  'daemon/cli': [...DAEMON_BELOW_PIPELINE, 'daemon/pipeline', 'daemon/service'],
  'extension/server': [],
  // The language client speaks the server's custom requests (extension/server/lsp-ext.ts).
  extension: ['extension/server'],
  webviews: [],
};

function mayImport(from: Layer, to: Layer): boolean {
  if (from === to) return true;
  if (from === 'schemas') return false;
  if (from === 'daemon/protocol') return to === 'schemas';
  return LEAVES.includes(to) || MAY_IMPORT[from].includes(to);
}

/** The npm package of a bare specifier: '@scope/name' or 'name' ('node:fs' → 'node:fs'). */
function packageOf(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Why `layer` may not import package `pkg`, or undefined when it may. */
function packageRule(layer: Layer, pkg: string): string | undefined {
  if (pkg === 'vscode' && layer !== 'extension') return `only extension/ may import 'vscode' (${layer} runs outside VS Code's extension host)`;
  if (layer === 'daemon/protocol' && pkg !== 'vscode-jsonrpc') return `daemon/protocol may import only the 'vscode-jsonrpc' package`;
  if (pkg.startsWith('@tensorflow/') && !layer.startsWith('daemon/')) return `${layer} may not import tfjs: training stays in the daemon`;
  return undefined;
}

interface ImportRef {
  /** The importing file, relative to the root, with '/' separators. */
  file: string;
  line: number;
  specifier: string;
  /** `import type`, `export type`, every name imported as a type, or `import('…').T`: gone at run time. */
  typeOnly: boolean;
  /** The imported file (relative, '/' separators) for a relative specifier; undefined for a package. */
  target?: string;
}

/** Every import of one source text, from the TypeScript parser (comments and strings never match). */
function importsOf(file: string, text: string): { line: number; specifier: string; typeOnly: boolean }[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const out: { line: number; specifier: string; typeOnly: boolean }[] = [];
  const add = (node: ts.Node, lit: ts.Node | undefined, typeOnly = false) => {
    if (lit && (ts.isStringLiteral(lit) || ts.isNoSubstitutionTemplateLiteral(lit))) {
      out.push({ line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, specifier: lit.text, typeOnly });
    }
  };
  const allTypes = (elements: ts.NodeArray<ts.ImportSpecifier | ts.ExportSpecifier>) => elements.length > 0 && elements.every((e) => e.isTypeOnly);
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      add(node, node.moduleSpecifier, !!clause && (clause.isTypeOnly || (!clause.name && !!bindings && ts.isNamedImports(bindings) && allTypes(bindings.elements))));
    } else if (ts.isExportDeclaration(node)) {
      add(node, node.moduleSpecifier, node.isTypeOnly || (!!node.exportClause && ts.isNamedExports(node.exportClause) && allTypes(node.exportClause.elements)));
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node, node.moduleReference.expression, node.isTypeOnly);
    else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) add(node, node.arguments[0]);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node, node.argument.literal, true);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const EXTENSIONS = ['', '.ts', '.tsx', '.d.ts', '/index.ts', '/index.tsx'];

/** The file a relative specifier names, given which files exist; the bare joined path when none does. */
function resolveRelative(file: string, spec: string, exists: (p: string) => boolean): string {
  const base = posix.normalize(posix.join(posix.dirname(file), spec));
  for (const c of [base.replace(/\.(m|c)?js$/, ''), base]) for (const ext of EXTENSIONS) if (exists(c + ext)) return c + ext;
  return base;
}

function layerOf(file: string): Layer | undefined {
  return LAYERS.find((l) => file === l || file.startsWith(l + '/'));
}

interface Report {
  /** Imports the table forbids, and files under a scanned folder that belong to no layer. */
  violations: string[];
  /** Loops in the folder (layer) graph. */
  layerCycles: string[];
  /** Loops among daemon/ files. */
  fileCycles: string[];
}

/** Checks a set of files (path relative to the root → source text) against the architecture. */
function checkArchitecture(files: ReadonlyMap<string, string>): Report {
  const exists = (p: string) => files.has(p);
  const imports: ImportRef[] = [];
  for (const [file, text] of files) {
    for (const { line, specifier, typeOnly } of importsOf(file, text)) {
      imports.push({ file, line, specifier, typeOnly, target: specifier.startsWith('.') ? resolveRelative(file, specifier, exists) : undefined });
    }
  }
  const where = (i: ImportRef) => `${i.file}:${i.line} imports ${i.typeOnly ? 'types from ' : ''}'${i.specifier}'`;

  const violations: string[] = [];
  for (const file of files.keys()) {
    if (!layerOf(file) && (file.startsWith('daemon/') || file.startsWith('extension/'))) {
      violations.push(`${file} lies in no layer of the architecture table (daemon/<folder>/ or extension/…): move it or add its folder to the table`);
    }
  }
  const layerEdges = new Map<string, ImportRef>();
  for (const i of imports) {
    const from = layerOf(i.file);
    if (!from) continue;
    if (i.target === undefined) {
      const why = packageRule(from, packageOf(i.specifier));
      if (why) violations.push(`${where(i)}: ${why}`);
      continue;
    }
    const to = layerOf(i.target);
    if (!to) {
      if (i.target.startsWith('daemon/') || i.target.startsWith('extension/')) violations.push(`${where(i)}: ${i.target} lies in no layer of the architecture table`);
      continue;
    }
    if (!mayImport(from, to)) {
      const allowed = from === 'daemon/protocol' ? 'schemas' : from === 'schemas' ? 'nothing outside schemas/' : [...LEAVES, ...MAY_IMPORT[from]].join(', ');
      violations.push(`${where(i)} (${to}): ${from} may import only ${allowed}`);
    }
    if (from !== to && !layerEdges.has(`${from}→${to}`)) layerEdges.set(`${from}→${to}`, i);
  }

  // Folder loops: strongly connected components of the layer graph.
  const layerGraph = new Map<string, string[]>();
  for (const key of layerEdges.keys()) {
    const [a, b] = key.split('→');
    layerGraph.set(a, [...(layerGraph.get(a) ?? []), b]);
  }
  const layerCycles = cycles(layerGraph).map(
    (cycle) =>
      `folders import each other in a loop: ${cycle.join(' → ')}; ` +
      cycle
        .slice(0, -1)
        .map((a, k) => where(layerEdges.get(`${a}→${cycle[k + 1]}`)!))
        .join('; '),
  );

  // File loops inside daemon/.
  const fileEdges = new Map<string, ImportRef>();
  const fileGraph = new Map<string, string[]>();
  for (const i of imports) {
    if (!i.file.startsWith('daemon/') || !i.target?.startsWith('daemon/') || !files.has(i.target)) continue;
    if (fileEdges.has(`${i.file}→${i.target}`)) continue;
    fileEdges.set(`${i.file}→${i.target}`, i);
    fileGraph.set(i.file, [...(fileGraph.get(i.file) ?? []), i.target]);
  }
  const fileCycles = cycles(fileGraph).map(
    (cycle) =>
      `files import each other in a loop: ${cycle.join(' → ')} (` +
      cycle
        .slice(0, -1)
        .map((a, k) => where(fileEdges.get(`${a}→${cycle[k + 1]}`)!))
        .join('; ') +
      ')',
  );
  return { violations, layerCycles, fileCycles };
}

/** One concrete loop per strongly connected component (Tarjan), as a node list that ends where it starts. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let next = 0;
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(component);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) connect(v);
  // Within a component, the shortest path from its first node (sorted) back to itself.
  return components.map((component) => {
    const members = new Set(component);
    const start = [...component].sort()[0];
    const previous = new Map<string, string>();
    const queue = [start];
    while (queue.length > 0) {
      const v = queue.shift()!;
      for (const w of [...(graph.get(v) ?? [])].sort()) {
        if (!members.has(w)) continue;
        if (w === start) {
          const path = [start];
          for (let u = v; u !== start; u = previous.get(u)!) path.unshift(u);
          return [start, ...path];
        }
        if (!previous.has(w)) {
          previous.set(w, v);
          queue.push(w);
        }
      }
    }
    return [start, start];
  });
}

function sourceFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(join(root, dir))) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const path = posix.join(dir, name);
      if (statSync(join(root, path)).isDirectory()) walk(path);
      else if (/\.tsx?$/.test(name)) files.set(path, readFileSync(join(root, path), 'utf8'));
      // Other files (JSON, assets) are import targets only: record that they exist.
      else files.set(path, '');
    }
  };
  for (const dir of SCANNED) if (existsSync(join(root, dir))) walk(dir);
  return files;
}

let checked: Report | undefined;
/** The working tree's report, read and parsed once for the three tests below. */
const tree = (): Report => (checked ??= checkArchitecture(sourceFiles()));

test('every import between folders follows the table of architecture.md', () => {
  const { violations } = tree();
  assert.deepEqual(violations, [], `${violations.length} import(s) break the architecture:\n${violations.join('\n')}`);
});

test('the folders import each other in no loop', () => {
  const { layerCycles } = tree();
  assert.deepEqual(layerCycles, [], layerCycles.join('\n'));
});

test('no file of daemon/ imports itself back through others', () => {
  const { fileCycles } = tree();
  assert.deepEqual(fileCycles, [], `${fileCycles.length} loop(s):\n${fileCycles.join('\n')}`);
});

test('the checker itself sees every kind of import and reports each kind of break', () => {
  const files = new Map<string, string>([
    ['schemas/config.generated.ts', 'export type X = 1;'],
    ['daemon/protocol/values.ts', "import type { X } from '../../schemas/config.generated';\nimport { a } from '../ofa/arch';\n"],
    ['daemon/ofa/arch.ts', "export type { Y } from '../protocol/values';\nexport const a = 1;\n"],
    ['daemon/engine/ops.ts', "// import '../ofa/arch' in a comment is no import\nconst s = \"require('../ofa/arch')\";\nconst m = await import('../ofa/arch');\n"],
    ['daemon/search/measure.ts', "import x = require('../train/evaluate');\nexport type T = import('../pipeline/job').J;\n"],
    ['daemon/train/evaluate.ts', "import 'vscode';\nexport {} from '../search/measure';\n"],
    ['daemon/pipeline/job.ts', "const t = require('../tasks');\n"],
    ['daemon/tasks/index.ts', "export * from './classification';\n"],
    ['daemon/tasks/classification/index.ts', "export * from '..';\n"],
    ['daemon/stray.ts', ''],
    ['extension/commands.ts', "import * as vscode from 'vscode';\nimport { y } from '../daemon/service/runs';\n"],
    ['webviews/monitor/main.ts', "import type { Arch } from '../../daemon/protocol/values';\nimport * as tf from '@tensorflow/tfjs';\n"],
  ]);
  const { violations, layerCycles, fileCycles } = checkArchitecture(files);
  const has = (list: string[], ...parts: string[]) => assert.ok(list.some((v) => parts.every((p) => v.includes(p))), `expected one of\n${list.join('\n')}\nto name ${parts.join(', ')}`);
  has(violations, "daemon/protocol/values.ts:2 imports '../ofa/arch'", 'may import only schemas');
  has(violations, "daemon/engine/ops.ts:3 imports '../ofa/arch'");
  assert.ok(!violations.some((v) => v.startsWith('daemon/engine/ops.ts:1') || v.startsWith('daemon/engine/ops.ts:2')), 'comments and strings are no imports');
  has(violations, "daemon/search/measure.ts:1 imports '../train/evaluate'");
  has(violations, "daemon/search/measure.ts:2 imports types from '../pipeline/job'");
  has(violations, "daemon/train/evaluate.ts:1 imports 'vscode'");
  has(violations, "daemon/train/evaluate.ts:2 imports '../search/measure'");
  has(violations, 'daemon/stray.ts lies in no layer');
  has(violations, "extension/commands.ts:2 imports '../daemon/service/runs'");
  has(violations, "webviews/monitor/main.ts:2 imports '@tensorflow/tfjs'");
  assert.ok(!violations.some((v) => v.startsWith('extension/commands.ts:1')), 'extension/ may import vscode');
  assert.ok(!violations.some((v) => v.startsWith('webviews/monitor/main.ts:1')), 'webviews may import the protocol');
  assert.ok(!violations.some((v) => v.startsWith('daemon/pipeline/job.ts')), 'the pipeline may import tasks (require counts and resolves to index.ts)');
  has(layerCycles, 'daemon/ofa → daemon/protocol → daemon/ofa', 'daemon/protocol/values.ts:2');
  has(layerCycles, 'daemon/search', 'daemon/train');
  has(fileCycles, 'daemon/ofa/arch.ts → daemon/protocol/values.ts → daemon/ofa/arch.ts', "daemon/ofa/arch.ts:1 imports types from '../protocol/values'", "daemon/protocol/values.ts:2 imports '../ofa/arch'");
  has(fileCycles, 'daemon/search/measure.ts → daemon/train/evaluate.ts → daemon/search/measure.ts');
  has(fileCycles, 'daemon/tasks/classification/index.ts → daemon/tasks/index.ts → daemon/tasks/classification/index.ts');
});
