// Finds the part of the config schema that describes a given place in a config (following $ref and picking the
// data branch by its 'kind'), for hovers, completions and "did you mean" fixes.
import { configSchema } from '../../schemas';

export interface SchemaNode {
  $ref?: string;
  type?: string | string[];
  description?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  oneOf?: SchemaNode[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  required?: string[];
}

const root = configSchema as SchemaNode & { definitions: Record<string, SchemaNode> };

function deref(node: SchemaNode): SchemaNode {
  let n = node;
  for (let i = 0; i < 16 && n.$ref; i++) {
    const name = n.$ref.replace('#/definitions/', '');
    const target = root.definitions[name];
    if (!target) break;
    // A default beside a $ref belongs to the referring place; keep it, and the referring description if any.
    n = { ...target, default: n.default ?? target.default, description: n.description ?? target.description };
  }
  return n;
}

/** The branch of a oneOf whose `kind` const matches the value's kind (the data sets). */
function pickBranch(node: SchemaNode, value: unknown): SchemaNode {
  if (!node.oneOf) return node;
  const kind = typeof value === 'object' && value !== null ? (value as { kind?: unknown }).kind : undefined;
  for (const b of node.oneOf) {
    const d = deref(b);
    if (d.properties?.kind?.const === kind) return { ...d, description: d.description ?? node.description };
  }
  return node;
}

/** The schema of the value at `segments` in `config` (undefined where the schema says nothing). */
export function schemaAt(config: unknown, segments: readonly (string | number)[]): SchemaNode | undefined {
  let node: SchemaNode = root;
  let value: unknown = config;
  for (const seg of segments) {
    node = pickBranch(deref(node), value);
    const next: SchemaNode | undefined = typeof seg === 'number' ? node.items : node.properties?.[seg];
    if (!next) return undefined;
    node = next;
    value = typeof value === 'object' && value !== null ? (value as Record<string | number, unknown>)[seg] : undefined;
  }
  return pickBranch(deref(node), value);
}

/** The data set kinds the schema allows, each with its description and required fields. */
export function dataKinds(): { kind: string; description: string; required: string[] }[] {
  const data = deref(root.properties!.data);
  return (data.oneOf ?? []).map((b) => {
    const d = deref(b);
    return { kind: String(d.properties?.kind?.const), description: d.description ?? '', required: d.required ?? [] };
  });
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}

/** The known property closest to `name` (at most a third of its letters off), for renaming a misspelt key. */
export function closestProperty(node: SchemaNode | undefined, name: string, taken: readonly string[]): string | undefined {
  const candidates = Object.keys(node?.properties ?? {}).filter((k) => !taken.includes(k));
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(name, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(name.length / 3)) ? best : undefined;
}

/** A Markdown description of a schema node: its text, type, bounds and default. */
export function describeSchema(node: SchemaNode, name: string): string {
  const lines: string[] = [`**${name}**`];
  if (node.description) lines.push('', node.description);
  const facts: string[] = [];
  if (node.enum) facts.push(`one of ${node.enum.map((v) => '`' + JSON.stringify(v) + '`').join(', ')}`);
  else if (node.type) facts.push(`type \`${Array.isArray(node.type) ? node.type.join(' | ') : node.type}\``);
  const lo = node.minimum !== undefined ? `≥ ${node.minimum}` : node.exclusiveMinimum !== undefined ? `> ${node.exclusiveMinimum}` : '';
  const hi = node.maximum !== undefined ? `≤ ${node.maximum}` : node.exclusiveMaximum !== undefined ? `< ${node.exclusiveMaximum}` : '';
  if (lo || hi) facts.push([lo, hi].filter(Boolean).join(', '));
  if (node.default !== undefined) facts.push(`default \`${JSON.stringify(node.default)}\``);
  if (facts.length) lines.push('', facts.join(' · '));
  return lines.join('\n');
}
