// extension/server/: the config language server — diagnostics (schema + checks across fields), hovers, completions,
// quick fixes and a CodeLens on the search space, for *.manta.json files. It never imports `vscode`; every check is a
// pure function of the text (diagnose.ts, checks.ts) and this file only wires them to LSP. The one thing it asks of
// the outside is the search space's MACs and parameters: the client forwards that to the daemon (lsp-ext.ts).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CodeActionKind,
  CodeLensRefreshRequest,
  CompletionItemKind,
  DiagnosticSeverity,
  InsertTextFormat,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  createConnection,
  type CodeAction,
  type CodeLens,
  type CompletionItem,
  type Diagnostic,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { findNodeAtLocation, parseTree } from './jsonc';
import type { FileProbe } from './checks';
import { completeConfig } from './completions';
import { diagnoseConfig, type ConfigDiagnostic } from './diagnose';
import { fixEdits } from './fixes';

/** Where this server runs (the workspace's machine: with Remote-SSH, that remote host). */
const CHECKED_ON = `this machine (${hostname()})`;
import type { MantaConfig } from '../../schemas';
import { hoverConfig, hoversSpace } from './hovers';
import { parseConfigText, type Span } from './locate';
import {
  CONNECT_DAEMON_COMMAND,
  DaemonAvailabilityNotification,
  DescribeSpaceViaDaemonRequest,
  SHOW_SUPERNET_COMMAND,
  SupernetViewRequest,
} from './lsp-ext';
import { SpaceCostsCache, spaceCostsKey, type SpaceCosts } from './space-costs';
import { spaceLenses } from './space';
import { supernetView } from './supernet-view';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);

const probe: FileProbe = {
  kind(path) {
    try {
      const s = statSync(path);
      return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : undefined;
    } catch {
      return undefined;
    }
  },
};
const listDir = (path: string) => readdirSync(path, { withFileTypes: true }).map((e) => ({ name: e.name, dir: e.isDirectory() }));

function configDirOf(uri: string): string | undefined {
  return uri.startsWith('file:') ? dirname(fileURLToPath(uri)) : undefined;
}

const range = (doc: TextDocument, span: Span) => ({ start: doc.positionAt(span.start), end: doc.positionAt(span.end) });
const SEVERITY = { error: DiagnosticSeverity.Error, warning: DiagnosticSeverity.Warning, info: DiagnosticSeverity.Information } as const;

// Whether the client re-asks for CodeLenses on request (answers that arrive after a lens was drawn).
let codeLensRefresh = false;
const spaceCosts = new SpaceCostsCache(
  (params) => connection.sendRequest(DescribeSpaceViaDaemonRequest, params),
  () => {
    if (codeLensRefresh) void connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
  },
);
connection.onNotification(DaemonAvailabilityNotification, () => {
  spaceCosts.clear();
  if (codeLensRefresh) void connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
});

/** The search-space costs of a document's config, from the daemon through the client (cached per text). */
function costsOf(doc: TextDocument, text: string, config: unknown): Promise<SpaceCosts> {
  const configDir = configDirOf(doc.uri);
  // The daemon validates the config in full; what the editor parsed is sent as it is.
  return spaceCosts.get(spaceCostsKey(text, configDir), () => ({ config: config as MantaConfig, ...(configDir ? { configDir } : {}) }));
}

connection.onInitialize(({ capabilities }): InitializeResult => {
  codeLensRefresh = capabilities.workspace?.codeLens?.refreshSupport === true;
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      hoverProvider: true,
      completionProvider: { triggerCharacters: ['"', '/', ':'] },
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      codeLensProvider: { resolveProvider: false },
    },
    serverInfo: { name: 'manta-config' },
  };
});

function toDiagnostic(doc: TextDocument, d: ConfigDiagnostic): Diagnostic {
  return {
    range: range(doc, d.span),
    severity: SEVERITY[d.severity],
    source: 'manta',
    code: d.rule,
    message: d.path && !d.message.startsWith(d.path) ? `${d.path}: ${d.message}` : d.message,
  };
}

function validate(doc: TextDocument): void {
  const found = diagnoseConfig(doc.getText(), { configDir: configDirOf(doc.uri), probe, checkedOn: CHECKED_ON });
  void connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics: found.map((d) => toDiagnostic(doc, d)) });
}

// Debounced per document: typing should not re-run ajv on every keystroke.
const pending = new Map<string, NodeJS.Timeout>();
documents.onDidChangeContent(({ document }) => {
  clearTimeout(pending.get(document.uri));
  pending.set(
    document.uri,
    setTimeout(() => {
      pending.delete(document.uri);
      const current = documents.get(document.uri);
      if (current) validate(current);
    }, 150),
  );
});
documents.onDidClose(({ document }) => {
  clearTimeout(pending.get(document.uri));
  pending.delete(document.uri);
  void connection.sendDiagnostics({ uri: document.uri, diagnostics: [] });
});

connection.onHover(async ({ textDocument, position }) => {
  const doc = documents.get(textDocument.uri);
  if (!doc) return null;
  const text = doc.getText();
  const offset = doc.offsetAt(position);
  const version = doc.version;
  const value = hoversSpace(text, offset) ? parseConfigText(text).value : undefined;
  const costs = value !== undefined ? await costsOf(doc, text, value) : undefined;
  // Typing while the daemon answered: the spans below no longer match the document.
  if (doc.version !== version) return null;
  const hover = hoverConfig(text, offset, { configDir: configDirOf(doc.uri), probe, costs });
  return hover ? { contents: { kind: 'markdown', value: hover.markdown }, range: range(doc, hover.span) } : null;
});

connection.onCompletion(({ textDocument, position }) => {
  const doc = documents.get(textDocument.uri);
  if (!doc) return [];
  const items = completeConfig(doc.getText(), doc.offsetAt(position), { configDir: configDirOf(doc.uri), listDir });
  return items.map(
    (c, i): CompletionItem => ({
      label: c.label,
      kind: c.kind === 'folder' ? CompletionItemKind.Folder : c.kind === 'file' ? CompletionItemKind.File : c.kind === 'snippet' ? CompletionItemKind.Snippet : CompletionItemKind.Value,
      detail: c.detail,
      documentation: c.documentation,
      sortText: String(i).padStart(4, '0'),
      insertTextFormat: c.snippet ? InsertTextFormat.Snippet : InsertTextFormat.PlainText,
      textEdit: { range: range(doc, c.span), newText: c.insertText },
      command: c.retrigger ? { title: 'more', command: 'editor.action.triggerSuggest' } : undefined,
    }),
  );
});

connection.onCodeAction(({ textDocument, range: wanted }) => {
  const doc = documents.get(textDocument.uri);
  if (!doc) return [];
  // Fixes are recomputed from the text rather than read from the diagnostic's data: VS Code hands diagnostics back
  // without `data` on some paths (vscode.executeCodeActionProvider), and the text is the truth anyway.
  const text = doc.getText();
  const from = doc.offsetAt(wanted.start);
  const to = doc.offsetAt(wanted.end);
  const actions: CodeAction[] = [];
  for (const d of diagnoseConfig(text, { configDir: configDirOf(doc.uri), probe, checkedOn: CHECKED_ON })) {
    if (d.span.end < from || d.span.start > to) continue;
    for (const fix of d.fixes) {
      const edits = fixEdits(text, fix);
      if (edits.length === 0) continue;
      actions.push({
        title: fix.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [toDiagnostic(doc, d)],
        isPreferred: d.fixes.length === 1,
        edit: { changes: { [doc.uri]: edits.map((e) => ({ range: range(doc, e.span), newText: e.newText })) } },
      });
    }
  }
  return actions;
});

const LENS_COMMAND = { showSupernet: SHOW_SUPERNET_COMMAND, connectDaemon: CONNECT_DAEMON_COMMAND, none: '' } as const;

connection.onCodeLens(async ({ textDocument }) => {
  const doc = documents.get(textDocument.uri);
  if (!doc) return [];
  const text = doc.getText();
  const root = parseTree(text);
  const supernet = root ? findNodeAtLocation(root, ['supernet']) : undefined;
  const value = parseConfigText(text).value as { supernet?: unknown } | undefined;
  if (!supernet || !value || spaceLenses(value.supernet, { kind: 'computing' }).length === 0) return [];
  const key = supernet.parent?.children?.[0] ?? supernet;
  // Positions of the text as requested, before waiting (the document may change meanwhile).
  const at = range(doc, { start: key.offset, end: key.offset + key.length });
  // The MACs and parameters come from the daemon's cost model (manta/describeSpace), through the client.
  const lenses = spaceLenses(value.supernet, await costsOf(doc, text, value));
  return lenses.map(
    (l): CodeLens => ({
      range: at,
      // An empty command id draws the lens as a label.
      command: { title: l.title, command: LENS_COMMAND[l.action], arguments: l.action === 'showSupernet' ? [doc.uri] : [] },
    }),
  );
});

connection.onRequest(SupernetViewRequest, ({ uri, config }) => {
  if (uri === undefined) return supernetView(config);
  let text = documents.get(uri)?.getText();
  if (text === undefined && uri.startsWith('file:')) {
    try {
      text = readFileSync(fileURLToPath(uri), 'utf8');
    } catch {
      return null;
    }
  }
  const value = text === undefined ? undefined : parseConfigText(text).value;
  return supernetView(value);
});

documents.listen(connection);
connection.listen();
