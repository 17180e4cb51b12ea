// Maps JSON pointers (as schemas/ and the cross-field checks report them) to text ranges of a config document.
import { findNodeAtLocation, parseTree, type Node, type ParseError, printParseErrorCode } from './jsonc';

/** A half-open character range [start, end) in the document text. */
export interface Span {
  start: number;
  end: number;
}

/** A parsed config: the syntax tree for locating, the plain value for checking, and the syntax errors. */
export interface ParsedConfig {
  root: Node | undefined;
  value: unknown;
  syntaxErrors: { span: Span; message: string }[];
}

export function parseConfigText(text: string): ParsedConfig {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: false, disallowComments: true });
  let value: unknown = undefined;
  if (errors.length === 0) {
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
  }
  return {
    root,
    value,
    syntaxErrors: errors.map((e) => ({
      span: { start: e.offset, end: e.offset + Math.max(e.length, 1) },
      message: `JSON syntax: ${printParseErrorCode(e.error)}`,
    })),
  };
}

/** Splits a JSON pointer ('' is the root) into path segments; array indices become numbers. */
export function pointerSegments(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9]\d*)$/.test(s) ? Number(s) : s));
}

export function segmentsPointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/**
 * The node a pointer names, or its nearest existing ancestor when the pointer names something missing (a required
 * property that is absent), and whether it was found exactly.
 */
export function nodeAtPointer(root: Node | undefined, pointer: string): { node: Node | undefined; exact: boolean } {
  if (!root) return { node: undefined, exact: false };
  const segments = pointerSegments(pointer);
  for (let n = segments.length; n >= 0; n--) {
    const node = findNodeAtLocation(root, segments.slice(0, n));
    if (node) return { node, exact: n === segments.length };
  }
  return { node: root, exact: false };
}

/**
 * Where to show a problem at `pointer`: a value's own text; for an object that lacks something, only its opening
 * brace (a whole-object squiggle hides everything inside); with `key`, the property's name instead of its value
 * (unknown properties).
 */
export function spanOfPointer(root: Node | undefined, pointer: string, opts: { key?: boolean } = {}): Span {
  const { node, exact } = nodeAtPointer(root, pointer);
  if (!node) return { start: 0, end: 1 };
  if (opts.key && exact && node.parent?.type === 'property' && node.parent.children?.[0]) {
    const k = node.parent.children[0];
    return { start: k.offset, end: k.offset + k.length };
  }
  if (!exact || node.type === 'object' || node.type === 'array') {
    // The name of the property holding it is the most readable anchor; fall back to the opening bracket.
    const keyNode = node.parent?.type === 'property' ? node.parent.children?.[0] : undefined;
    if (keyNode) return { start: keyNode.offset, end: keyNode.offset + keyNode.length };
    if (!exact || node.type === 'object') return { start: node.offset, end: node.offset + 1 };
  }
  return { start: node.offset, end: node.offset + node.length };
}
