// The benchmark harness behind `npm run bench -- <suite> [--backend b] [--repeat n] [--json]`
// (interface: shared notes/benchmarks.md). A suite measures and returns rows; the harness prints them as a table,
// or as one JSON object per line with --json. Progress and logs go to stderr.

export interface BenchOptions {
  backend?: string;
  repeat: number;
  json: boolean;
  /** Suite-specific flags, e.g. --batch 32 → { batch: '32' }. */
  extra: Record<string, string>;
}

/** One measured configuration: a flat-ish JSON object whose first field is `suite`. */
export type BenchRow = { suite: string } & Record<string, unknown>;

export interface BenchSuite {
  name: string;
  describe: string;
  run(opts: BenchOptions, log: (line: string) => void): Promise<BenchRow[]>;
}

/** Thrown by a suite that cannot run on this machine; the harness prints the message and exits non-zero. */
export class BenchUnavailable extends Error {}

/** Median of a non-empty list. */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function parseBenchArgs(argv: string[]): { suite?: string; opts: BenchOptions } {
  const opts: BenchOptions = { repeat: 5, json: false, extra: {} };
  let suite: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') opts.json = true;
    else if (a === '--backend') opts.backend = argv[++i];
    else if (a === '--repeat') opts.repeat = Math.max(1, Number(argv[++i]) || 1);
    else if (a.startsWith('--')) {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) opts.extra[a.slice(2)] = argv[++i];
      else opts.extra[a.slice(2)] = 'true';
    } else if (!suite) suite = a;
  }
  return { suite, opts };
}

function cell(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 3 : 1);
  if (v !== null && typeof v === 'object') {
    return Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}=${cell(x)}`).join(' ');
  }
  return String(v);
}

export function formatTable(rows: BenchRow[]): string {
  const lines: string[] = [];
  for (const row of rows) {
    lines.push(`— ${row.suite}`);
    for (const [k, v] of Object.entries(row)) if (k !== 'suite') lines.push(`  ${k.padEnd(22)} ${cell(v)}`);
  }
  return lines.join('\n');
}
