// The one path from a config (a file's text, or an object) to a resolved config: JSON syntax, the schema (with its
// defaults) and the checks across fields (./checks.ts), every problem at once with its JSON pointer. `manta search`,
// the daemon (start, resume, describe, latency), and the config language server all go through here, so they
// accept and refuse the same configs with the same messages. What is left to each caller is its own policy: the
// daemon's allowed roots, for instance, are checked after resolving, and before `checkDataFiles`.
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser/lib/esm/main.js';
import { checkConfig, checkConfigFiles } from './checks';
import type { ResolvedConfig } from './config.generated';
import { validateConfig } from './index';

/** Where a problem was found: the text's syntax, the schema, the checks across fields, or the dataset files. */
export type ConfigStage = 'syntax' | 'schema' | 'checks' | 'files';

/** One problem of a config: a JSON pointer ('' for the whole config), the rule broken, and a sentence for a person. */
export interface ConfigIssue {
  path: string;
  rule: string;
  message: string;
  severity: 'error' | 'warning';
  stage: ConfigStage;
  /** Syntax errors only: where in the text (0-based offset and length; 1-based line and column). */
  at?: { offset: number; length: number; line: number; column: number };
}

/** A config as text (a file's content; `source` names it in messages) or as a parsed value. */
export type ConfigInput = { text: string; source: string } | { value: unknown; source?: string };

export interface ConfigInspection {
  source: string;
  /** The parsed value (undefined when the text is not JSON). */
  value: unknown;
  /** The config with every default filled in, when the schema accepts it. */
  config?: ResolvedConfig;
  /** Every problem found, errors and warnings, in stage order. */
  problems: ConfigIssue[];
}

/**
 * A config refused: every error (never the text of the file itself), each with its JSON pointer and rule.
 * `reason` tells a refused config ('config.invalid') from one whose dataset files are missing
 * ('config.missing-files'); the daemon answers them with InvalidConfig and PathNotFound. It is a user error: its
 * message is complete, shown without a stack trace; each entry point turns it into its own refusal (the CLI's
 * exit code 2 and one line per problem, the daemon's JSON-RPC error with `data.problems`).
 */
export class ConfigError extends Error {
  readonly reason: 'config.invalid' | 'config.missing-files';
  /** The first words of `message`, before the list of problems. */
  readonly lead: string;
  constructor(
    readonly source: string,
    readonly problems: ConfigIssue[],
    reason: ConfigError['reason'] = 'config.invalid',
  ) {
    const lead = reason === 'config.missing-files' ? `dataset paths of ${source} not found` : `invalid config ${source}`;
    super(`${lead}: ${problems.map((p) => `${p.message} [${p.rule}]`).join('; ')}`);
    this.name = 'ConfigError';
    this.reason = reason;
    this.lead = lead;
  }

  /** One line per problem, `<source>: <pointer>: <message>` (syntax errors: `<source>: <message>`). */
  lines(): string[] {
    return this.problems.map((p) => formatConfigIssue(this.source, p));
  }
}

export function formatConfigIssue(source: string, p: ConfigIssue): string {
  return p.stage === 'syntax' ? `${source}: ${p.message}` : `${source}: ${p.path || '/'}: ${p.message}`;
}

export function isConfigError(e: unknown): e is ConfigError {
  return e instanceof ConfigError;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** 'CloseBraceExpected' → 'close brace expected': the parser's words, never the offending text. */
function describeSyntax(error: ParseError): string {
  return printParseErrorCode(error.error)
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
}

function syntaxIssue(text: string, offset: number, length: number, what: string): ConfigIssue {
  const { line, column } = lineAndColumn(text, offset);
  return {
    path: '',
    rule: 'syntax',
    severity: 'error',
    stage: 'syntax',
    message: `not valid JSON at line ${line}, column ${column}: ${what}`,
    at: { offset, length: Math.max(length, 1), line, column },
  };
}

/** Parses strict JSON (no comments, no trailing commas); syntax problems carry their place, not the text. */
function parseText(text: string): { value: unknown; problems: ConfigIssue[] } {
  const errors: ParseError[] = [];
  parse(text, errors, { allowTrailingComma: false, disallowComments: true, allowEmptyContent: false });
  if (errors.length > 0) return { value: undefined, problems: errors.map((e) => syntaxIssue(text, e.offset, e.length, describeSyntax(e))) };
  try {
    return { value: JSON.parse(text) as unknown, problems: [] };
  } catch {
    return { value: undefined, problems: [syntaxIssue(text, 0, text.length, 'the text is not JSON')] };
  }
}

/**
 * Every problem of a config, refusing nothing: for editors (which show them all) and for `resolveConfig`. Stages
 * stop at the first that fails to give a value: no schema problems for text that is not JSON, no checks across
 * fields for a config the schema refuses. `baseDir` (absolute: where relative dataset paths resolve) adds the checks
 * that the dataset files exist.
 */
export function inspectConfig(input: ConfigInput, opts: { baseDir?: string } = {}): ConfigInspection {
  const source = input.source ?? 'the config';
  let value: unknown;
  if ('text' in input) {
    const parsed = parseText(input.text);
    if (parsed.problems.length > 0) return { source, value: undefined, problems: parsed.problems };
    value = parsed.value;
  } else {
    value = input.value;
  }
  const checked = validateConfig(value);
  if (!checked.ok) {
    return { source, value, problems: checked.problems.map((p) => ({ ...p, severity: 'error' as const, stage: 'schema' as const })) };
  }
  const problems: ConfigIssue[] = checkConfig(checked.config).map((p) => ({ ...p, stage: 'checks' as const }));
  if (opts.baseDir !== undefined) problems.push(...dataFileIssues(checked.config, opts.baseDir));
  return { source, value, config: checked.config, problems };
}

function dataFileIssues(config: Pick<ResolvedConfig, 'data'>, baseDir: string): ConfigIssue[] {
  return checkConfigFiles(config, baseDir).map((p) => ({ ...p, stage: 'files' as const, message: `${p.path} ${p.message}` }));
}

/**
 * The config, resolved (defaults filled in), and the warnings of the checks across fields; throws one
 * ConfigError listing every error. The input is never modified.
 */
export function resolveConfig(input: ConfigInput): { config: ResolvedConfig; value: unknown; warnings: ConfigIssue[] } {
  const inspected = inspectConfig(input);
  const errors = inspected.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0 || !inspected.config) throw new ConfigError(inspected.source, errors);
  return { config: inspected.config, value: inspected.value, warnings: inspected.problems.filter((p) => p.severity === 'warning') };
}

/** Refuses a resolved config whose dataset files or folders do not exist (relative to `baseDir`). */
export function checkDataFiles(config: Pick<ResolvedConfig, 'data'>, baseDir: string, source: string): void {
  const missing = dataFileIssues(config, baseDir);
  if (missing.length > 0) throw new ConfigError(source, missing, 'config.missing-files');
}
