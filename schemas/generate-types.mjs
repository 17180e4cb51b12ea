// Generates schemas/config.generated.ts from the JSON Schema, the single source of the config's shape:
// `MantaConfig` is what a user writes; `ResolvedConfig` is the same after defaults are filled in (every property
// that has a default becomes required), which is what the daemon works with.
// `node schemas/generate-types.mjs` writes it; `--check` exits 1 when the file has drifted (the unit suite runs that).
import { compile } from 'json-schema-to-typescript';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const schema = JSON.parse(readFileSync(join(here, 'manta-config.schema.json'), 'utf8'));
const out = join(here, 'config.generated.ts');
const options = {
  bannerComment: '',
  additionalProperties: false,
  ignoreMinAndMaxItems: true,
  unreachableDefinitions: true,
  style: { singleQuote: true, printWidth: 120 },
};

/** The schema with every defaulted property required, and definitions renamed Resolved*. */
function resolvedSchema(node) {
  const copy = JSON.parse(JSON.stringify(node).replace(/"#\/definitions\/(\w+)"/g, '"#/definitions/Resolved$1"'));
  const defs = {};
  for (const [name, def] of Object.entries(copy.definitions)) defs[`Resolved${name}`] = def;
  copy.definitions = defs;
  copy.title = 'ResolvedConfig';
  const visit = (n) => {
    if (n === null || typeof n !== 'object') return;
    if (n.properties) {
      const withDefault = Object.entries(n.properties).filter(([, p]) => p.default !== undefined).map(([k]) => k);
      n.required = [...new Set([...(n.required ?? []), ...withDefault])];
    }
    for (const v of Object.values(n)) visit(v);
  };
  visit(copy);
  return copy;
}

/** Drops `default` beside `$ref` (it only decides required-ness), so that each definition gives one type. */
function withoutRefDefaults(node) {
  if (node === null || typeof node !== 'object') return node;
  if (Array.isArray(node)) return node.map(withoutRefDefaults);
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'default' && node.$ref !== undefined) continue;
    out[k] = withoutRefDefaults(v);
  }
  return out;
}

const input = await compile(withoutRefDefaults(schema), 'MantaConfig', options);
const resolved = await compile(withoutRefDefaults(resolvedSchema(schema)), 'ResolvedConfig', options);
const ts = '/* Generated from manta-config.schema.json by schemas/generate-types.mjs: do not edit by hand. */\n\n' + input + '\n' + resolved;
if (process.argv.includes('--check')) {
  if (readFileSync(out, 'utf8') !== ts) {
    console.error('schemas/config.generated.ts is out of date with the schema: run `node schemas/generate-types.mjs`.');
    process.exit(1);
  }
} else {
  writeFileSync(out, ts);
}
