// A run's latest progress, folded from its events (for listRuns and runStatus): cheap enough to run on every batch,
// since only the last event of each interesting kind in a batch is parsed.
import type { RunProgress } from '../protocol/methods';

const STAGES: Record<string, string> = {
  step: 'training',
  phase: 'training',
  evaluation: 'training',
  'measure.progress': 'measuring',
  predictor: 'searching',
  'search.generation': 'searching',
  pareto: 'searching',
};

/** The kind of an encoded event body (`"kind":"step",…`). */
export function bodyKind(body: string): string {
  const start = 8; // after `"kind":"`
  return body.startsWith('"kind":"') ? body.slice(start, body.indexOf('"', start)) : '';
}

/** Folds one event into the progress. */
export function applyEvent(progress: RunProgress, kind: string, data: unknown): void {
  const d = data as Record<string, unknown>;
  if (STAGES[kind]) progress.stage = STAGES[kind];
  if (kind === 'step') {
    for (const key of ['step', 'totalSteps', 'loss', 'accuracy', 'imagesPerSec', 'phaseIndex'] as const) {
      if (typeof d[key] === 'number') progress[key] = d[key] as number;
    }
  } else if (kind === 'phase') {
    if (typeof d.phase === 'string') progress.phase = d.phase as RunProgress['phase'];
    if (typeof d.index === 'number') progress.phaseIndex = d.index;
  }
}

const WATCHED = new Set(['step', 'phase', 'measure.progress', 'search.generation', 'pareto', 'predictor', 'evaluation', 'run.finished']);

/** Folds a batch of encoded bodies: the last event of each watched kind. Returns the batch's last kind. */
export function applyBodies(progress: RunProgress, bodies: readonly string[]): string | undefined {
  const seen = new Set<string>();
  const picked: string[] = [];
  for (let i = bodies.length - 1; i >= 0 && seen.size < WATCHED.size; i--) {
    const kind = bodyKind(bodies[i]);
    if (WATCHED.has(kind) && !seen.has(kind)) {
      seen.add(kind);
      picked.push(bodies[i]);
    }
  }
  for (let i = picked.length - 1; i >= 0; i--) {
    try {
      const e = JSON.parse('{' + picked[i]) as { kind: string; data: unknown };
      applyEvent(progress, e.kind, e.data);
    } catch {
      // a body the worker could not have produced; the log keeps it, progress ignores it
    }
  }
  return bodies.length > 0 ? bodyKind(bodies[bodies.length - 1]) : undefined;
}
