// A tiny flag parser for the CLI commands: `--name value`, `--flag`, and positionals; unknown flags are an error
// naming the flag, so a typo never silently changes a run.
import { UserError } from '../protocol/user-error';

export type FlagSpec = Record<string, 'string' | 'boolean'>;
/** Parsed flags by name (string values, or true for booleans), and the positionals under `_`. */
export type Flags = { _: string[] } & { [name: string]: string | boolean | undefined };

export function parseFlags(argv: string[], spec: FlagSpec, command = 'manta'): Flags {
  const positionals: string[] = [];
  const out = { _: positionals } as Flags;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const [name, inline] = a.slice(2).split('=', 2);
    const kind = spec[name];
    if (!kind) throw new UserError(`${command}: unknown option --${name} (known: ${Object.keys(spec).map((k) => '--' + k).join(', ') || 'none'})`);
    if (kind === 'boolean') out[name] = true;
    else {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UserError(`${command}: option --${name} needs a value`);
      out[name] = value;
    }
  }
  return out;
}
