// extension/server/: the config language server — diagnostics (schema + checks across fields), hovers, completions,
// quick fixes and a CodeLens on the search space, for *.manta.json files. It never imports `vscode`; every check is a
// pure function of the text (diagnose.ts, checks.ts) and this file only wires them to LSP.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CodeActionKind,
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
import { hoverConfig, spaceSummary } from './hovers';
import { parseConfigText, type Span } from './locate';
import { SHOW_SUPERNET_COMMAND, SupernetViewRequest } from './lsp-ext';
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

connection.onInitialize((): InitializeResult => {
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
  const found = diagnoseConfig(doc.getText(), { configDir: configDirOf(doc.uri), probe });
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

connection.onHover(({ textDocument, position }) => {
  const doc = documents.get(textDocument.uri);
  if (!doc) return null;
  const text = doc.getText();
  const offset = doc.offsetAt(position);
  const hover = hoverConfig(text, offset, { configDir: configDirOf(doc.uri), probe });
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
  for (const d of diagnoseConfig(text, { configDir: configDirOf(doc.uri), probe })) {
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

connection.onCodeLens(({ textDocument }) => {
  const doc = documents.get(textDocument.uri);
  if (!doc) return [];
  const text = doc.getText();
  const root = parseTree(text);
  const supernet = root ? findNodeAtLocation(root, ['supernet']) : undefined;
  const value = parseConfigText(text).value as { supernet?: unknown } | undefined;
  if (!supernet || !value) return [];
  // The MACs range needs the supernet's cost model, which lives in the daemon and has no protocol method yet.
  const title = spaceSummary(value.supernet);
  if (!title) return [];
  const key = supernet.parent?.children?.[0] ?? supernet;
  const lens: CodeLens = {
    range: range(doc, { start: key.offset, end: key.offset + key.length }),
    command: { title, command: SHOW_SUPERNET_COMMAND, arguments: [doc.uri] },
  };
  return [lens];
});

connection.onRequest(SupernetViewRequest, ({ uri }) => {
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
