// Completions a schema cannot give: data set kinds with their required fields filled in, and dataset paths taken
// from the folder of the config file.
import { getLocation, parse, type Node } from './jsonc';
import { dataKinds } from './schema-walk';
import type { Span } from './locate';

export interface ConfigCompletion {
  label: string;
  kind: 'value' | 'file' | 'folder' | 'snippet';
  detail?: string;
  documentation?: string;
  /** The text that replaces `span`; `snippet` when it holds ${n:…} placeholders. */
  insertText: string;
  snippet?: boolean;
  span: Span;
  /** Ask for completions again after inserting (a folder was completed). */
  retrigger?: boolean;
}

export interface DirEntry {
  name: string;
  dir: boolean;
}

export interface CompletionContext {
  /** Absolute folder of the config file. */
  configDir?: string;
  listDir?: (absolutePath: string) => DirEntry[];
}

/** Fields of each data kind that hold a path, and whether a file or a folder. */
export const PATH_FIELDS: Record<string, Record<string, 'file' | 'dir'>> = {
  idx: { trainImages: 'file', trainLabels: 'file', testImages: 'file', testLabels: 'file' },
  cifar10: { dir: 'dir' },
  folder: { train: 'dir', test: 'dir' },
};

const PLACEHOLDER: Record<string, string> = {
  trainImages: 'train-images-idx3-ubyte.gz',
  trainLabels: 'train-labels-idx1-ubyte.gz',
  testImages: 't10k-images-idx3-ubyte.gz',
  testLabels: 't10k-labels-idx1-ubyte.gz',
  dir: 'cifar-10-batches-bin',
  train: 'images/train',
};

function dataSnippet(kind: string, required: string[]): string {
  const fields = required.filter((r) => r !== 'kind');
  const lines = [`\t"kind": "${kind}"`, ...fields.map((f, i) => `\t"${f}": "\${${i + 1}:${PLACEHOLDER[f] ?? f}}"`)];
  if (kind === 'synthetic') lines.push('\t"classes": ${1:10}', '\t"imageSize": ${2:32}');
  return `{\n${lines.join(',\n')}\n}`;
}

/** The data kind of a possibly half-written config (the tolerant parser reads past errors). */
function dataKindOf(text: string): string | undefined {
  const value: unknown = parse(text);
  const data = typeof value === 'object' && value !== null ? (value as { data?: unknown }).data : undefined;
  const kind = typeof data === 'object' && data !== null ? (data as { kind?: unknown }).kind : undefined;
  return typeof kind === 'string' ? kind : undefined;
}

function stringSpan(node: Node | undefined, offset: number): { inner: Span; outer: Span; typed: string } | undefined {
  if (!node || node.type !== 'string') return undefined;
  const outer = { start: node.offset, end: node.offset + node.length };
  if (offset <= outer.start || offset > outer.end) return undefined;
  const inner = { start: outer.start + 1, end: Math.max(outer.start + 1, outer.end - 1) };
  const typed = String(node.value).slice(0, Math.max(0, offset - inner.start));
  return { inner, outer, typed };
}

export function completeConfig(text: string, offset: number, ctx: CompletionContext = {}): ConfigCompletion[] {
  const loc = getLocation(text, offset);
  const path = loc.path;
  const node = loc.previousNode;
  // The value of "data": the whole object, one snippet per kind.
  if (!loc.isAtPropertyKey && path.length === 1 && path[0] === 'data' && (!node || node.type !== 'string')) {
    return dataKinds().map(({ kind, description, required }) => ({
      label: `data: ${kind}`,
      kind: 'snippet',
      detail: `${kind} data set`,
      documentation: description,
      insertText: dataSnippet(kind, required),
      snippet: true,
      span: { start: offset, end: offset },
    }));
  }
  if (loc.isAtPropertyKey || path[0] !== 'data' || path.length !== 2) return [];
  const field = String(path[1]);
  const str = stringSpan(node, offset);
  if (field === 'kind') {
    const span = str?.outer ?? { start: offset, end: offset };
    return dataKinds().map(({ kind, description }) => ({
      label: kind,
      kind: 'value',
      detail: 'data set kind',
      documentation: description,
      insertText: JSON.stringify(kind),
      span,
    }));
  }
  const dataKind = dataKindOf(text);
  const want = dataKind ? PATH_FIELDS[dataKind]?.[field] : undefined;
  if (!want || !str || !ctx.configDir || !ctx.listDir) return [];
  const slash = str.typed.lastIndexOf('/');
  const folderPart = slash >= 0 ? str.typed.slice(0, slash + 1) : '';
  const base = str.typed.startsWith('/') ? folderPart : `${ctx.configDir.replace(/\/$/, '')}/${folderPart}`;
  let entries: DirEntry[];
  try {
    entries = ctx.listDir(base);
  } catch {
    return [];
  }
  const span = { start: str.inner.start + folderPart.length, end: str.inner.end };
  return entries
    .filter((e) => !e.name.startsWith('.') && (e.dir || want === 'file'))
    .sort((a, b) => Number(b.dir) - Number(a.dir) || a.name.localeCompare(b.name))
    .map((e) => ({
      label: e.dir ? `${e.name}/` : e.name,
      kind: e.dir ? ('folder' as const) : ('file' as const),
      insertText: e.dir && want === 'file' ? `${e.name}/` : e.name,
      span,
      retrigger: e.dir && want === 'file',
    }));
}
