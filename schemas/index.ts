// schemas/: the JSON Schema of the search config is the one source of the config's shape. This module validates a
// config against it (every problem at once, each with its JSON path and rule) and fills in the defaults.
import Ajv, { type ErrorObject } from 'ajv';
import schemaJson from './manta-config.schema.json';
import type { MantaConfig, ResolvedConfig } from './config.generated';

export type * from './config.generated';
export const configSchema: object = schemaJson;

/** One problem in a config: where (a JSON pointer, '' for the root), which rule, and a sentence for a person. */
export interface ConfigProblem {
  path: string;
  rule: string;
  message: string;
}

export type ConfigResult =
  | { ok: true; config: ResolvedConfig; problems: [] }
  | { ok: false; problems: ConfigProblem[] };

let compiled: ReturnType<Ajv['compile']> | undefined;
function validator(): ReturnType<Ajv['compile']> {
  if (!compiled) {
    // discriminator: 'kind' picks the data branch, which also lets defaults apply inside oneOf.
    const ajv = new Ajv({ allErrors: true, useDefaults: true, discriminator: true, strict: false });
    compiled = ajv.compile(schemaJson);
  }
  return compiled;
}

function describe(e: ErrorObject): ConfigProblem {
  const path = e.instancePath;
  const where = path === '' ? 'the config' : path;
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { path, rule: 'required', message: `${where} is missing required property '${String(p.missingProperty)}'` };
    case 'additionalProperties':
      return {
        path: `${path}/${String(p.additionalProperty)}`,
        rule: 'additionalProperties',
        message: `${where} has unknown property '${String(p.additionalProperty)}'`,
      };
    case 'enum':
      return { path, rule: 'enum', message: `${where} must be one of ${JSON.stringify(p.allowedValues)}` };
    case 'const':
      return { path, rule: 'const', message: `${where} must be ${JSON.stringify(p.allowedValue)}` };
    default:
      return { path, rule: e.keyword, message: `${where} ${e.message ?? 'is invalid'}` };
  }
}

/**
 * Validates a parsed config. On success the returned config is a deep copy with every default filled in; the input
 * is never modified. On failure every problem is returned, not only the first.
 */
export function validateConfig(value: unknown): ConfigResult {
  const copy: unknown = value === undefined ? undefined : JSON.parse(JSON.stringify(value));
  const validate = validator();
  if (validate(copy)) return { ok: true, config: copy as ResolvedConfig, problems: [] };
  const seen = new Set<string>();
  const problems: ConfigProblem[] = [];
  for (const e of validate.errors ?? []) {
    const problem = describe(e);
    const key = `${problem.path}|${problem.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(problem);
    }
  }
  return { ok: false, problems };
}

export type { MantaConfig, ResolvedConfig };
