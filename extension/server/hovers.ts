// Hovers: the schema's documentation of the field under the cursor, plus what only the whole config tells — the
// search space's size on the supernet, what a training phase actually samples, where a dataset path points.
import { findNodeAtOffset, getNodePath, parse, parseTree } from './jsonc';
import { choiceLists, DIMENSIONS, type FileProbe } from './checks';
import type { Span } from './locate';
import { describeSchema, schemaAt } from './schema-walk';
import type { SpaceCosts } from './space-costs';
import { spaceSummary } from './space';
import { PATH_FIELDS } from './completions';

export interface ConfigHover {
  span: Span;
  markdown: string;
}

export interface HoverContext {
  configDir?: string;
  probe?: FileProbe;
  /** The search space's costs as far as the daemon told them (undefined: not asked). */
  costs?: SpaceCosts;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One line per elastic dimension saying what a phase samples, following inheritance from the phases before it. */
export function phaseSamples(config: unknown, phaseIndex: number): Record<string, number[]> | undefined {
  if (!isObject(config) || !isObject(config.training) || !Array.isArray(config.training.phases)) return undefined;
  const choices = choiceLists(config.supernet);
  const current: Record<string, number[]> = {};
  for (const dim of DIMENSIONS) {
    const list = choices[dim.choices];
    // The first phase samples only the largest network unless it lists choices itself.
    if (list) current[dim.phase] = dim.phase === 'resolution' ? [...list] : [Math.max(...list)];
  }
  const phases = config.training.phases as unknown[];
  for (let i = 0; i <= phaseIndex && i < phases.length; i++) {
    const p = phases[i];
    if (!isObject(p)) continue;
    for (const dim of DIMENSIONS) {
      const v = p[dim.phase];
      if (Array.isArray(v) && v.every((x) => typeof x === 'number')) current[dim.phase] = v as number[];
    }
  }
  return current;
}

/** The node a hover at `offset` describes (on a property's name: its value) and its JSON path. */
function hovered(text: string, offset: number) {
  const root = parseTree(text);
  if (!root) return undefined;
  let node = findNodeAtOffset(root, offset, true);
  if (!node) return undefined;
  if (node.parent?.type === 'property' && node.parent.children?.[0] === node && node.parent.children[1]) node = node.parent.children[1];
  return { node, path: getNodePath(node) };
}

const showsSpace = (path: (string | number)[]) => path[0] === 'supernet' && (path.length === 1 || String(path[1]).endsWith('Choices'));

/** Whether the hover at `offset` shows the search space, so that the caller first finds its costs. */
export function hoversSpace(text: string, offset: number): boolean {
  const h = hovered(text, offset);
  return h !== undefined && showsSpace(h.path);
}

export function hoverConfig(text: string, offset: number, ctx: HoverContext = {}): ConfigHover | undefined {
  const h = hovered(text, offset);
  if (!h) return undefined;
  const { node, path } = h;
  const value: unknown = parse(text);
  const schema = schemaAt(value, path);
  const name = path.length ? String(path[path.length - 1]) : 'config';
  const parts: string[] = [];
  if (schema) parts.push(describeSchema(schema, typeof path[path.length - 1] === 'number' ? `${String(path[path.length - 2])}[${name}]` : name));
  if (showsSpace(path)) {
    const s = spaceSummary(isObject(value) ? value.supernet : undefined, ctx.costs);
    if (s) parts.push(s);
  }
  if (path[0] === 'training' && path[1] === 'phases' && typeof path[2] === 'number') {
    const samples = phaseSamples(value, path[2]);
    if (samples) {
      parts.push(
        `This phase samples: ${Object.entries(samples)
          .map(([k, v]) => `${k} [${v.join(', ')}]`)
          .join(' · ')}`,
      );
    }
  }
  if (path[0] === 'data' && path.length === 2 && typeof node.value === 'string' && ctx.configDir) {
    const kind = isObject(value) && isObject(value.data) ? String(value.data.kind) : '';
    if (PATH_FIELDS[kind]?.[String(path[1])]) {
      const abs = node.value.startsWith('/') ? node.value : `${ctx.configDir.replace(/\/$/, '')}/${node.value}`;
      const found = ctx.probe?.kind(abs);
      parts.push(`\`${abs}\` — ${found === undefined ? 'does not exist' : found === 'dir' ? 'a folder' : 'a file'}`);
    }
  }
  if (parts.length === 0) return undefined;
  return { span: { start: node.offset, end: node.offset + node.length }, markdown: parts.join('\n\n---\n\n') };
}
