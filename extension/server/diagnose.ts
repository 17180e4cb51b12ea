// Every problem of a config text at once: JSON syntax, the schema and the daemon's checks across fields (the same
// function the daemon and `manta search` run before they accept a config: schemas/load-config.ts's inspectConfig),
// and the editor's own warnings, each with its range, JSON path and rule, and the fixes it offers. Text in, data
// out; dataset files are looked at only with a folder.
import { findNodeAtLocation, type Node } from './jsonc';
import { inspectConfig } from '../../schemas/load-config';
import { editorChecks, fixesFor, type ConfigFix, type FileProbe, type Severity } from './checks';
import { parseConfigText, pointerSegments, spanOfPointer, type Span } from './locate';
import { closestProperty, schemaAt } from './schema-walk';

export interface ConfigDiagnostic {
  span: Span;
  severity: Severity;
  /** JSON pointer of the field ('' for the whole config). */
  path: string;
  /** The rule broken: a JSON Schema keyword ('minimum', 'required', …), 'syntax', or a MANTA check name. */
  rule: string;
  /** 'schema' and 'daemon' are what the daemon rejects or warns about; 'editor' is the editor's own advice. */
  source: 'syntax' | 'schema' | 'daemon' | 'editor';
  message: string;
  fixes: ConfigFix[];
}

export interface DiagnoseOptions {
  /** Absolute folder of the config file, for dataset paths. */
  configDir?: string;
  probe?: FileProbe;
  /** The machine file paths are checked on, named in those problems (a search on an SSH host checks its own). */
  checkedOn?: string;
}

const PATH_RULES = new Set(['exists', 'is-file', 'is-directory']);

/** Data paths are paths on the host that trains: say which host this check looked on. */
function withHost(message: string, rule: string, checkedOn: string | undefined): string {
  if (!PATH_RULES.has(rule) || !checkedOn) return message;
  return `${message} — checked on ${checkedOn}; a search started on an SSH host checks the paths there`;
}

function propertyNames(root: Node | undefined, parentPointer: string): string[] {
  const node = root ? findNodeAtLocation(root, pointerSegments(parentPointer)) : undefined;
  return (node?.children ?? []).filter((c) => c.type === 'property').map((c) => String(c.children?.[0]?.value));
}

export function diagnoseConfig(text: string, options: DiagnoseOptions = {}): ConfigDiagnostic[] {
  // The text is parsed once, here (the tree places each problem); only text that is not JSON goes to inspectConfig as
  // text, for its syntax problems.
  const parsed = parseConfigText(text);
  const input = parsed.syntaxErrors.length === 0 && parsed.value !== undefined ? { value: parsed.value, source: 'the config' } : { text, source: 'the config' };
  const inspected = inspectConfig(input, options.configDir !== undefined ? { baseDir: options.configDir } : {});
  const syntax = inspected.problems.filter((p) => p.stage === 'syntax');
  if (syntax.length > 0) {
    return syntax.map((e) => ({
      span: { start: e.at?.offset ?? 0, end: (e.at?.offset ?? 0) + (e.at?.length ?? 1) },
      severity: 'error',
      path: '',
      rule: 'syntax',
      source: 'syntax',
      message: e.message,
      fixes: [],
    }));
  }
  const out: ConfigDiagnostic[] = [];
  for (const p of inspected.problems.filter((x) => x.stage === 'schema')) {
    const fixes: ConfigFix[] = [];
    const isUnknown = p.rule === 'additionalProperties';
    if (isUnknown) {
      const segments = pointerSegments(p.path);
      const name = String(segments[segments.length - 1]);
      const parentPointer = p.path.slice(0, p.path.lastIndexOf('/'));
      const parentSchema = schemaAt(parsed.value, segments.slice(0, -1));
      const to = closestProperty(parentSchema, name, propertyNames(parsed.root, parentPointer));
      if (to) fixes.push({ kind: 'renameKey', title: `Rename '${name}' to '${to}'`, path: p.path, to });
    }
    out.push({
      span: spanOfPointer(parsed.root, p.path, { key: isUnknown }),
      severity: 'error',
      path: p.path,
      rule: p.rule,
      source: 'schema',
      message: p.message,
      fixes,
    });
  }
  if (inspected.config) {
    const daemonRules = inspected.problems.filter((x) => x.stage === 'checks' || x.stage === 'files');
    for (const c of daemonRules) {
      out.push({
        span: spanOfPointer(parsed.root, c.path),
        severity: c.severity,
        path: c.path,
        rule: c.rule,
        source: 'daemon',
        message: withHost(c.message.startsWith('/') ? c.message : `${c.path}: ${c.message}`, c.rule, options.checkedOn),
        fixes: fixesFor(c, parsed.value),
      });
    }
  }
  for (const c of editorChecks(parsed.value, options.configDir, options.probe)) {
    out.push({
      span: spanOfPointer(parsed.root, c.path, { key: c.atKey }),
      severity: c.severity,
      path: c.path,
      rule: c.rule,
      source: 'editor',
      message: withHost(c.message, c.rule, options.checkedOn),
      fixes: c.fixes ?? [],
    });
  }
  return out;
}
