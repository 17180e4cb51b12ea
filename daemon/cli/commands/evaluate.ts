// `manta evaluate <runDir|runId> --arch <index|json> --data <file.json> [--split test|validation] [--json]`: a
// searched network of a finished run measured on the user's own data (a config's `data` block in a file), every
// metric of the run's task printed; progress on stderr, `--json` one JSON object on stdout.
import { ProgressLine } from '../progress-line';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { isConfigError } from '../../../schemas/load-config';
import { evaluateRun, type DataBlock, type EvaluationSplit, type RunEvaluation } from '../../pipeline/evaluate-run';
import { RUN_ID_PATTERN } from '../../protocol/params-schemas';
import { UserError } from '../../protocol/user-error';
import { stateDirFor } from '../../service/paths';
import { runPointerFile } from '../../service/run-files';
import { parseFlags } from '../flags';
import { parseArchFlag } from './export';

const USAGE =
  'usage: manta evaluate <runDir | runId> --arch <index of a front point | arch JSON> --data <data.json> [--split test|validation] [--json] [--state-dir dir]\n' +
  "  data.json holds a config's data block, e.g. {\"kind\": \"idx\", …}; its relative paths resolve against its folder";

const SPLITS: readonly EvaluationSplit[] = ['test', 'validation'];

export async function evaluateCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, { arch: 'string', data: 'string', split: 'string', json: 'boolean', 'state-dir': 'string', help: 'boolean' }, 'manta evaluate');
  if (flags.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const target = flags._[0];
  if (!target || flags._.length !== 1 || typeof flags.arch !== 'string' || typeof flags.data !== 'string') {
    process.stderr.write(USAGE + '\n');
    return 2;
  }
  const split = flags.split ?? 'test';
  if (typeof split !== 'string' || !(SPLITS as readonly string[]).includes(split)) {
    throw new UserError(`--split must be ${SPLITS.join(' or ')}, not ${JSON.stringify(split)}`, 'cli.flags');
  }
  const arch = parseArchFlag(flags.arch);
  const runDir = findRunDir(target, resolve(typeof flags['state-dir'] === 'string' ? flags['state-dir'] : stateDirFor()));
  const data = readDataFile(flags.data);

  const progress = new ProgressLine(process.stderr);
  let evaluation: RunEvaluation;
  try {
    evaluation = await evaluateRun(runDir, { arch, data, split: split as EvaluationSplit, warn: (m) => progress.note(`warning: ${m}`), onProgress: (p) => progress.update({ stage: p.stage, done: 0, total: 0, detail: [p.stage === 'measure' ? `${p.done} measured` : '', p.detail ?? ''].filter(Boolean).join(' · ') }) });
  } catch (e) {
    progress.done();
    if (!isConfigError(e)) throw e;
    for (const line of e.lines()) process.stderr.write(line + '\n');
    return 2;
  }
  progress.done();
  if (flags.json) {
    process.stdout.write(JSON.stringify(evaluation) + '\n');
    return 0;
  }
  const which = evaluation.frontIndex === undefined ? 'the arch given' : `front #${evaluation.frontIndex}`;
  const width = Math.max(...Object.keys(evaluation.metrics).map((k) => k.length));
  process.stdout.write(
    `run ${evaluation.runId}, ${which}, on the ${evaluation.split} split (${evaluation.count} examples) of ${evaluation.data}\n` +
      Object.entries(evaluation.metrics)
        .map(([name, value]) => `  ${name.padEnd(width)}  ${value.toPrecision(6)}\n`)
        .join('') +
      `  arch ${JSON.stringify(evaluation.arch)}\n`,
  );
  return 0;
}

/** A run folder, or a run id of the daemon's (its registry pointer) or under ./runs (`manta search`'s default). */
export function findRunDir(target: string, stateDir: string): string {
  if (existsSync(target)) return target;
  if (new RegExp(RUN_ID_PATTERN).test(target) && !target.includes(sep)) {
    try {
      const pointer = JSON.parse(readFileSync(runPointerFile(stateDir, target), 'utf8')) as { runDir?: unknown };
      if (typeof pointer.runDir === 'string') return pointer.runDir;
    } catch {
      // not a daemon's run: try ./runs
    }
    const local = join('runs', target);
    if (existsSync(local)) return local;
  }
  throw new UserError(`unknown run '${target}': no such run folder, nor a run of that id in ${join(stateDir, 'runs')} or ./runs`, 'run.not-found');
}

function readDataFile(file: string): DataBlock {
  let text: string;
  try {
    if (statSync(file).isDirectory()) throw new UserError(`--data ${file} is a folder; give a JSON file holding a config's data block`, 'cli.data');
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, 'cli.data');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file} is not valid JSON: ${(e as Error).message}`, 'cli.data');
  }
  return { value, source: file, baseDir: dirname(resolve(file)) };
}
