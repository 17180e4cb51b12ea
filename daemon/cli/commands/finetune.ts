// `manta finetune <runDir|runId> --arch <index|json> [--epochs n] [--lr x] [--kd-ratio x] [--batch-size n] [--json]`:
// trains one searched subnet of a finished run further, in this process, as a derived run beside it (its own folder,
// events and results; the source run is only read); progress on stderr, then test accuracy before and after, the
// wall time and where the fine-tuned model is (`--json`: the run's FinetuneSummary as one JSON object).
import { relative, resolve } from 'node:path';
import { checkFinetuneSource, type FinetuneOptions } from '../../pipeline/finetune-request';
import { formatMetric } from '../../protocol/results';
import type { FinetuneSummary } from '../../protocol/results';
import { UserError } from '../../protocol/user-error';
import { stateDirFor } from '../../service/paths';
import { runDerivedCommand } from '../derived-run';
import { parseFlags } from '../flags';
import { findRunDir } from './evaluate';
import { parseArchFlag } from './export';

const USAGE =
  'usage: manta finetune <runDir | runId> --arch <index of a front point | arch JSON> [--epochs n] [--lr x] [--kd-ratio x] [--batch-size n] [--json] [--state-dir dir]\n' +
  "  defaults: the run's config `finetune` section (epochs 3, the last phase's learning rate, training's kdRatio and batch size)";

export async function finetuneCommand(argv: string[]): Promise<number> {
  const started = Date.now();
  const flags = parseFlags(
    argv,
    { arch: 'string', epochs: 'string', lr: 'string', 'kd-ratio': 'string', 'batch-size': 'string', json: 'boolean', 'state-dir': 'string', help: 'boolean' },
    'manta finetune',
  );
  if (flags.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const target = flags._[0];
  if (!target || flags._.length !== 1 || typeof flags.arch !== 'string') {
    process.stderr.write(USAGE + '\n');
    return 2;
  }
  const which = parseArchFlag(flags.arch);
  const options: FinetuneOptions = {
    ...(typeof which === 'number' ? { index: which } : { arch: which }),
    ...numberFlag(flags.epochs, '--epochs', 'epochs'),
    ...numberFlag(flags.lr, '--lr', 'learningRate'),
    ...numberFlag(flags['kd-ratio'], '--kd-ratio', 'kdRatio'),
    ...numberFlag(flags['batch-size'], '--batch-size', 'batchSize'),
  };
  const sourceDir = resolve(findRunDir(target, resolve(typeof flags['state-dir'] === 'string' ? flags['state-dir'] : stateDirFor())));
  // Every problem that needs no tfjs is found before the new run's folder is made.
  await checkFinetuneSource(sourceDir, options);
  const { status, runDir, result } = await runDerivedCommand(sourceDir, 'finetune', options);
  const where = relative(process.cwd(), runDir) || runDir;
  if (status === 'stopped') {
    process.stderr.write(`stopped; nothing was exported. The partial run is ${where}; fine-tune again to start over.\n`);
    return 130;
  }
  const summary = result.results?.finetune;
  if (!summary) throw new Error(`the fine-tune run ${where} finished without a summary`);
  process.stdout.write((flags.json ? JSON.stringify({ runDir, ...summary }) : formatSummary(summary, where, Date.now() - started)) + '\n');
  return 0;
}

/** A numeric flag as an option; a value that is not a number is refused naming the flag. */
function numberFlag<K extends keyof FinetuneOptions>(value: string | boolean | undefined, flag: string, key: K): Partial<FinetuneOptions> {
  if (value === undefined) return {};
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  if (!Number.isFinite(n)) throw new UserError(`${flag} must be a number, not ${JSON.stringify(value)}`, 'cli.flags');
  return { [key]: n };
}

/** Before and after, the settings, the time (`totalMs`: the command's, loading the run included) and the model, for people. */
export function formatSummary(s: FinetuneSummary, runDir: string, totalMs: number): string {
  const m = (v: number): string => formatMetric(s.metric, v);
  const metric = s.metric === 'accuracy' ? 'accuracy' : s.metric;
  const which = s.frontIndex === undefined ? 'the arch given' : `front #${s.frontIndex}`;
  const teacher = s.teacher === 'none' ? 'no distillation' : `distilled (ratio ${s.settings.kdRatio}) from ${s.teacher === 'largest-phase' ? "the frozen teacher of the 'largest' phase" : 'the trained largest subnet'}`;
  return [
    `fine-tuned ${which} of run ${s.sourceRunId} → ${runDir}`,
    `  test ${metric}        ${m(s.before.testAccuracy)} → ${m(s.after.testAccuracy)}`,
    `  validation ${metric}  ${m(s.before.validationAccuracy)} → ${m(s.after.validationAccuracy)}`,
    `  ${s.settings.epochs} epoch${s.settings.epochs === 1 ? '' : 's'} (${s.settings.steps} steps of ${s.settings.batchSize}), learning rate ${s.settings.learningRate}, ${teacher}`,
    `  wall time ${seconds(totalMs)} (training ${seconds(s.trainWallMs)}, measuring and exporting ${seconds(s.wallMs - s.trainWallMs)})`,
    `  model ${s.model}${s.onnxModel ? `, ${s.onnxModel}` : ''} (in the run's folder)`,
  ].join('\n');
}

function seconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}
