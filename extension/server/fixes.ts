// Turns a fix (plain data from the checks) into text edits of the config document.
import { findNodeAtLocation, parseTree } from './jsonc';
import type { ConfigFix } from './checks';
import { pointerSegments, type Span } from './locate';

export interface TextReplacement {
  span: Span;
  newText: string;
}

/** JSON for a replaced value: lists of numbers on one line, as people write choice lists. */
export function inlineJson(value: unknown): string {
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) return `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
  return JSON.stringify(value);
}

/** The edits that apply `fix` to `text`, or [] when the place it names is gone (the document changed since). */
export function fixEdits(text: string, fix: ConfigFix): TextReplacement[] {
  const root = parseTree(text);
  if (!root) return [];
  const node = findNodeAtLocation(root, pointerSegments(fix.path));
  if (!node) return [];
  if (fix.kind === 'replace') return [{ span: { start: node.offset, end: node.offset + node.length }, newText: inlineJson(fix.value) }];
  const key = node.parent?.type === 'property' ? node.parent.children?.[0] : undefined;
  if (!key) return [];
  return [{ span: { start: key.offset, end: key.offset + key.length }, newText: JSON.stringify(fix.to) }];
}

export function applyEdits(text: string, edits: readonly TextReplacement[]): string {
  const sorted = [...edits].sort((a, b) => b.span.start - a.span.start);
  let out = text;
  for (const e of sorted) out = out.slice(0, e.span.start) + e.newText + out.slice(e.span.end);
  return out;
}
