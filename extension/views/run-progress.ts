// What the status bar says of the run it follows, as pure functions: the run's telemetry folded into its live
// progress (training phase and step, then measuring, then searching, then done), and that progress as one line of
// text. No `vscode` here, so it is unit-tested on plain events.
import { formatMetric, taskMetric, type FinetuneSummary, type ParetoPoint, type RunPhaseName, type RunProgress, type RunStatus, type TelemetryEvent } from '../../daemon/protocol';

export type LiveStage = 'starting' | 'training' | 'measuring' | 'searching' | 'done';

export interface LiveProgress {
  stage: LiveStage;
  phase?: RunPhaseName;
  phaseIndex?: number;
  step?: number;
  totalSteps?: number;
  imagesPerSec?: number;
  /** Subnets measured so far, of how many. */
  measured?: { done: number; total: number };
  /** Evolution's generation, of how many. */
  generation?: { generation: number; generations: number };
  /** How the run ended (its run.finished event). */
  finished?: { status: 'completed' | 'stopped' | 'failed'; message?: string };
  /** The latest Pareto front (the measured one once there is one). */
  front?: ParetoPoint[];
  frontMeasured?: boolean;
  /** The headline metric the front's accuracy fields hold, from run.started's task (accuracy until one arrives). */
  metric?: { metric: string; higherIsBetter: boolean };
}

/** The progress a run summary already carries (from manta/listRuns), before any event arrives. */
export function progressFromSummary(p: RunProgress): LiveProgress {
  const stage: LiveStage = p.stage === 'measuring' ? 'measuring' : p.stage === 'searching' ? 'searching' : p.step !== undefined || p.phase ? 'training' : 'starting';
  return { stage, phase: p.phase, phaseIndex: p.phaseIndex, step: p.step, totalSteps: p.totalSteps, imagesPerSec: p.imagesPerSec };
}

/** Folds events into the progress (in place; returns it). */
export function foldEvents(p: LiveProgress, events: readonly TelemetryEvent[]): LiveProgress {
  for (const e of events) {
    switch (e.kind) {
      case 'phase':
        p.stage = 'training';
        p.phase = e.data.phase;
        p.phaseIndex = e.data.index;
        break;
      case 'step':
        p.stage = 'training';
        // The event's step counts from 0: the monitor shows step + 1 of totalSteps.
        p.step = e.data.step + 1;
        p.totalSteps = e.data.totalSteps;
        p.phaseIndex = e.data.phaseIndex;
        p.imagesPerSec = e.data.imagesPerSec;
        break;
      case 'measure.progress':
        p.stage = 'measuring';
        p.measured = { done: e.data.done, total: e.data.total };
        break;
      case 'predictor':
        p.stage = 'searching';
        break;
      case 'search.generation':
        p.stage = 'searching';
        p.generation = { generation: e.data.generation, generations: e.data.generations };
        break;
      case 'pareto':
        if (!p.frontMeasured || e.data.measured) {
          p.front = e.data.points;
          p.frontMeasured = e.data.measured;
        }
        if (p.stage !== 'done') p.stage = 'searching';
        break;
      case 'run.finished':
        p.stage = 'done';
        p.finished = { status: e.data.status, ...(e.data.message ? { message: e.data.message } : {}) };
        break;
      case 'run.started':
        // A resumed run starts over from its checkpoint: the earlier ending no longer holds.
        if (p.stage === 'done') p.stage = 'starting';
        p.finished = undefined;
        p.metric = taskMetric(e.data.task);
        break;
      default:
        break;
    }
  }
  return p;
}

/** A point's headline metric (accuracy, or the task's) as the front reports it: test, else validation, else predicted. */
export function pointAccuracy(p: ParetoPoint): number {
  return p.testAccuracy ?? p.validationAccuracy ?? p.predictedAccuracy;
}

/** The front entry a user asks for first: the best on the metric — the most accurate, the lowest error — (fewer MACs
 * on a tie). */
export function bestFrontEntry(front: readonly ParetoPoint[], higherIsBetter = true): ParetoPoint | undefined {
  const score = (p: ParetoPoint) => (higherIsBetter ? pointAccuracy(p) : -pointAccuracy(p));
  let best: ParetoPoint | undefined;
  for (const p of front) {
    if (!best || score(p) > score(best) || (score(p) === score(best) && p.macs < best.macs)) best = p;
  }
  return best;
}

/** "91.2% at 4.10 MMACs", "1.234 px at 4.10 MMACs": `metric` is what the point's accuracy fields hold. */
export function describePoint(p: ParetoPoint, metric = 'accuracy'): string {
  const macs = p.macs >= 1e9 ? `${(p.macs / 1e9).toFixed(2)} GMACs` : p.macs >= 1e6 ? `${(p.macs / 1e6).toFixed(2)} MMACs` : `${(p.macs / 1e3).toFixed(1)} kMACs`;
  return `${formatMetric(metric, pointAccuracy(p))} at ${macs}`;
}

/** What a fine-tune gained, for people: "test accuracy 71.2% → 74.0% (front #0 of <run>, 3 epochs, 2 min 10 s)". */
export function describeFinetune(s: FinetuneSummary): string {
  const metric = s.metric === 'accuracy' ? 'accuracy' : s.metric;
  const seconds = Math.round(s.wallMs / 1000);
  const time = seconds >= 60 ? `${Math.floor(seconds / 60)} min ${seconds % 60} s` : `${seconds} s`;
  const which = s.frontIndex === undefined ? 'a subnet' : `front #${s.frontIndex}`;
  return `test ${metric} ${formatMetric(s.metric, s.before.testAccuracy)} → ${formatMetric(s.metric, s.after.testAccuracy)} (${which} of ${s.sourceRunId}, ${s.settings.epochs} epoch${s.settings.epochs === 1 ? '' : 's'}, ${time})`;
}

/** The codicon of each run status, shared by the status bar and the Runs view. */
export const STATUS_ICON: Record<RunStatus, string> = {
  running: 'sync~spin',
  paused: 'debug-pause',
  completed: 'pass',
  stopped: 'debug-stop',
  failed: 'error',
  interrupted: 'warning',
};

/**
 * The status-bar line of a run: `$(sync~spin) name: kernel (phase 2) · step 312/624 (50%) · 410 img/s` while it
 * trains, `… measuring 40/120`, `… searching 120/500`, and `$(pass) name: done · 91.2% at 4.10 MMACs` at the end.
 * `status` is the run's status as its daemon reports it (it wins over the events for runs that ended without a
 * run.finished event, e.g. interrupted ones).
 */
export function runStatusText(name: string, status: RunStatus, p: LiveProgress): { text: string; tooltip: string } {
  const spin = `$(${STATUS_ICON.running})`;
  if (status !== 'running') {
    const { metric, higherIsBetter } = p.metric ?? taskMetric(undefined);
    const best = p.front ? bestFrontEntry(p.front, higherIsBetter) : undefined;
    const icon = `$(${STATUS_ICON[status]})`;
    const what = status === 'completed' ? 'done' : status;
    const text = `${icon} ${name}: ${what}${status === 'completed' && best ? ` · ${describePoint(best, metric)}` : ''}`;
    const tooltip = `MANTA run ${name} ${status}${p.finished?.message ? `: ${p.finished.message}` : ''}${best && status === 'completed' ? `\nbest front entry: ${describePoint(best, metric)}` : ''} — click to open the training monitor`;
    return { text, tooltip };
  }
  const parts: string[] = [];
  switch (p.stage) {
    case 'starting':
      parts.push('starting');
      break;
    case 'training':
      if (p.phase) parts.push(p.phaseIndex !== undefined ? `${p.phase} (phase ${p.phaseIndex + 1})` : p.phase);
      else parts.push('training');
      if (p.step !== undefined && p.totalSteps) parts.push(`step ${p.step}/${p.totalSteps} (${Math.floor((100 * p.step) / p.totalSteps)}%)`);
      if (p.imagesPerSec !== undefined) parts.push(`${Math.round(p.imagesPerSec)} img/s`);
      break;
    case 'measuring':
      parts.push(p.measured ? `measuring ${p.measured.done}/${p.measured.total}` : 'measuring');
      break;
    case 'searching':
      parts.push(p.generation ? `searching ${p.generation.generation}/${p.generation.generations}` : 'searching');
      break;
    case 'done':
      parts.push('finishing');
      break;
  }
  return { text: `${spin} ${name}: ${parts.join(' · ')}`, tooltip: `MANTA run ${name} — click to open the training monitor` };
}
