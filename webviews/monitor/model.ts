// What the monitor knows of one run, built from its telemetry events: columnar series aligned on a shared x (step,
// seconds or generation) so the charts take them as they are, phase markers, the search's results and what the run
// is waiting for, and the training job's workers. Pure: no DOM, so it is unit tested in Node and stays cheap at
// 100,000 points per series. Also the task's previews of predictions (stereo: disparity pictures) by label.
import type { BackendInfo, ParetoPoint, TaskPreview, TelemetryEvent, TelemetryEvents, WorkerStatus } from '../../daemon/protocol/events';
import { taskMetric } from '../../daemon/protocol/results';
import type { Arch, DistributedAlgorithm, Objective } from '../../daemon/protocol/values';

/** Columns of values sharing one ascending x column; a column holds null where it has no value at that x. */
export class AlignedTable {
  readonly x: number[] = [];
  readonly columns = new Map<string, (number | null)[]>();

  column(key: string): (number | null)[] {
    let c = this.columns.get(key);
    if (!c) {
      c = new Array<number | null>(this.x.length).fill(null);
      this.columns.set(key, c);
    }
    return c;
  }

  /** Sets `key` at `x`, adding the x when new (appending is the fast path; late values are inserted in order). */
  put(x: number, key: string, value: number | null): void {
    const col = this.column(key);
    const n = this.x.length;
    if (n > 0 && this.x[n - 1] === x) {
      col[n - 1] = value;
      return;
    }
    if (n === 0 || this.x[n - 1] < x) {
      this.x.push(x);
      for (const c of this.columns.values()) c.push(null);
      col[n] = value;
      return;
    }
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.x[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    if (this.x[lo] === x) {
      col[lo] = value;
      return;
    }
    this.x.splice(lo, 0, x);
    for (const c of this.columns.values()) c.splice(lo, 0, null);
    col[lo] = value;
  }

  /** Keeps only rows with x ≤ `maxX` (a resumed run cut its log back). */
  truncateAfter(maxX: number): void {
    let n = this.x.length;
    while (n > 0 && this.x[n - 1] > maxX) n--;
    this.x.length = n;
    for (const c of this.columns.values()) c.length = n;
  }

  get length(): number {
    return this.x.length;
  }
}

export interface PhaseMarker {
  index: number;
  phase: TelemetryEvents['phase']['phase'];
  /** First step of the phase (the step after the last one seen when the phase began). */
  step: number;
  /** Seconds since the run started. */
  seconds: number;
  learningRate: number;
}

export interface MeasuredSubnet {
  arch: Arch;
  accuracy: number;
  macs: number;
  params: number;
}

export interface RunLog {
  seq: number;
  time: number;
  level: TelemetryEvents['log']['level'];
  message: string;
}

/** The training job's workers as its latest `workers` event says (a run trained by several workers). */
export interface JobWorkers {
  /** Step of the snapshot; -1 for the one the daemon sends when the job fails (its numbers are then 0). */
  step: number;
  algorithm: DistributedAlgorithm;
  /** One per rank, rank ascending. */
  workers: WorkerStatus[];
  /** Distinct hosts (and nodes) among the workers. */
  hosts: number;
  nodes: number;
  /** Sum of the snapshot's workers' images/s. */
  totalImagesPerSec: number;
  /** Mean over the snapshot's workers of the ms their last step spent in the all-reduce. */
  meanAllReduceMs: number;
}

/** A `preview` event as the monitor lists it: one per phase (its largest subnet) and per front subnet. */
export interface RunPreview {
  /** `phase <index>` for a phase's preview, else its label; a later preview with the same key replaces the earlier
   * (a resumed run previews a phase again). */
  key: string;
  seq: number;
  label: string;
  phaseIndex?: number;
  arch: Arch;
  preview: TaskPreview;
}

const sticks = (w: WorkerStatus) => w.state === 'lost' || w.state === 'stalled';

export class RunModel {
  lastSeq = -1;
  name: string | undefined;
  backend: BackendInfo | undefined;
  startedAt: number | undefined;
  finished: TelemetryEvents['run.finished'] | undefined;
  /** The task's kind (run.started) and the headline metric the `accuracy` fields of its events hold. */
  task: string | undefined;
  metric = 'accuracy';
  higherIsBetter = true;
  totalSteps = 0;
  lastStep = -1;
  /** step → loss, accuracy, learningRate, imagesPerSec/w<N>. */
  readonly training = new AlignedTable();
  /** step → eval/<subnet>/<split>. */
  readonly evaluation = new AlignedTable();
  /** seconds → cpu/<host>/w<N>, rss/…, heap/…, gpu/…, gpumem/…. */
  readonly system = new AlignedTable();
  /** generation → bestPredictedAccuracy, frontSize. */
  readonly search = new AlignedTable();
  readonly phases: PhaseMarker[] = [];
  readonly measured: MeasuredSubnet[] = [];
  pareto: TelemetryEvents['pareto'] | undefined;
  predictor: TelemetryEvents['predictor'] | undefined;
  lastSampled: TelemetryEvents['subnet.sampled'] | undefined;
  /** What the run is waiting for; cleared by the next sign of progress. */
  waiting: string | undefined;
  readonly logs: RunLog[] = [];
  /** Hosts and workers seen in system events. */
  readonly workers = new Set<string>();
  /** The job's workers (latest `workers` event of the run's current process); undefined until one arrives. */
  job: JobWorkers | undefined;
  /** step → totalImagesPerSec, meanAllReduceMs of the job's workers (from `workers` events). */
  readonly jobHistory = new AlignedTable();
  /** The previews received, oldest first (a replaced one moves to the end: it is the latest). */
  readonly previews: RunPreview[] = [];

  constructor(readonly runId: string) {}

  private seconds(time: number): number {
    return this.startedAt === undefined ? 0 : (time - this.startedAt) / 1000;
  }

  /** Applies events in seq order; ones already applied (a replay overlapping live batches) are skipped. */
  ingest(events: readonly TelemetryEvent[]): number {
    let applied = 0;
    for (const e of events) {
      if (e.seq <= this.lastSeq) continue;
      this.lastSeq = e.seq;
      this.apply(e);
      applied++;
    }
    return applied;
  }

  private apply(e: TelemetryEvent): void {
    if (this.startedAt === undefined) this.startedAt = e.time;
    switch (e.kind) {
      case 'run.started':
        this.name = e.data.name;
        this.backend = e.data.backend;
        this.task = e.data.task;
        ({ metric: this.metric, higherIsBetter: this.higherIsBetter } = taskMetric(e.data.task));
        this.finished = undefined;
        // A (re)started process has its own job: its workers are unknown until its first snapshot.
        this.job = undefined;
        return;
      case 'run.finished':
        this.finished = e.data;
        this.waiting = undefined;
        return;
      case 'phase':
        this.phases.push({
          index: e.data.index,
          phase: e.data.phase,
          step: this.lastStep + 1,
          seconds: this.seconds(e.time),
          learningRate: e.data.learningRate,
        });
        return;
      case 'step': {
        const d = e.data;
        this.waiting = undefined;
        this.lastStep = Math.max(this.lastStep, d.step);
        this.totalSteps = d.totalSteps;
        const t = this.training;
        t.put(d.step, 'loss', d.loss);
        if (d.accuracy !== undefined) t.put(d.step, 'accuracy', d.accuracy);
        t.put(d.step, 'learningRate', d.learningRate);
        t.put(d.step, `imagesPerSec/w${d.worker}`, d.imagesPerSec);
        return;
      }
      case 'workers':
        this.applyWorkers(e.data);
        return;
      case 'evaluation':
        this.waiting = undefined;
        this.evaluation.put(e.data.step, `eval/${e.data.subnet}/${e.data.split}`, e.data.accuracy);
        return;
      case 'subnet.sampled':
        this.lastSampled = e.data;
        return;
      case 'measure.progress':
        this.waiting = undefined;
        this.measured.push({ arch: e.data.arch, accuracy: e.data.accuracy, macs: e.data.macs, params: e.data.params });
        return;
      case 'predictor':
        this.predictor = e.data;
        return;
      case 'search.generation':
        this.waiting = undefined;
        // The evolution reports its fitness, the metric negated when lower is better; a lower-is-better metric (an
        // error) is never negative, so its magnitude is the metric whichever the daemon sends.
        this.search.put(e.data.generation, 'bestPredictedAccuracy', e.data.bestPredictedAccuracy);
        this.search.put(e.data.generation, 'frontSize', e.data.frontSize);
        return;
      case 'pareto':
        if (!this.pareto || e.data.measured || !this.pareto.measured) this.pareto = e.data;
        return;
      case 'system': {
        const d = e.data;
        const who = `${d.host}/w${d.worker}`;
        this.workers.add(who);
        const s = this.seconds(e.time);
        this.system.put(s, `cpu/${who}`, d.cpuPercent);
        this.system.put(s, `rss/${who}`, d.rssMB);
        this.system.put(s, `heap/${who}`, d.heapMB);
        if (d.gpuUtilPercent !== undefined) this.system.put(s, `gpu/${who}`, d.gpuUtilPercent);
        if (d.gpuMemoryMB !== undefined) this.system.put(s, `gpumem/${who}`, d.gpuMemoryMB);
        return;
      }
      case 'waiting':
        this.waiting = e.data.reason;
        return;
      case 'preview': {
        const key = e.data.phaseIndex !== undefined ? `phase ${e.data.phaseIndex}` : e.data.label;
        const at = this.previews.findIndex((p) => p.key === key);
        if (at >= 0) this.previews.splice(at, 1);
        this.previews.push({ key, seq: e.seq, label: e.data.label, phaseIndex: e.data.phaseIndex, arch: e.data.arch, preview: e.data.preview });
        return;
      }
      case 'checkpoint':
        return;
      case 'log':
        this.pushLog({ seq: e.seq, time: e.time, level: e.data.level, message: e.data.message });
        return;
      case 'error':
        this.pushLog({ seq: e.seq, time: e.time, level: 'error', message: e.data.message });
        return;
    }
  }

  /**
   * Each snapshot replaces the last one, except that a worker marked lost or stalled stays so until a later snapshot
   * lists its rank again (one that leaves it out keeps the mark and its detail).
   */
  private applyWorkers(d: TelemetryEvents['workers']): void {
    const byRank = new Map<number, WorkerStatus>(d.workers.map((w) => [w.rank, { ...w }]));
    for (const w of this.job?.workers ?? []) if (sticks(w) && !byRank.has(w.rank)) byRank.set(w.rank, w);
    const workers = [...byRank.values()].sort((a, b) => a.rank - b.rank);
    const total = d.workers.reduce((sum, w) => sum + w.imagesPerSec, 0);
    const meanAllReduce = d.workers.length > 0 ? d.workers.reduce((sum, w) => sum + w.allReduceMs, 0) / d.workers.length : 0;
    this.job = {
      step: d.step,
      algorithm: d.algorithm,
      workers,
      hosts: new Set(workers.map((w) => w.host)).size,
      nodes: new Set(workers.map((w) => w.node)).size,
      totalImagesPerSec: total,
      meanAllReduceMs: meanAllReduce,
    };
    // The failure snapshot (step -1) carries no measurements: it is not a point of the history.
    if (d.step >= 0 && d.workers.length > 0) {
      this.jobHistory.put(d.step, 'totalImagesPerSec', total);
      this.jobHistory.put(d.step, 'meanAllReduceMs', meanAllReduce);
    }
  }

  /** Workers of the latest snapshot that are lost or stalled. */
  troubledWorkers(): WorkerStatus[] {
    return this.job?.workers.filter(sticks) ?? [];
  }

  private pushLog(l: RunLog): void {
    this.logs.push(l);
    if (this.logs.length > 500) this.logs.splice(0, this.logs.length - 500);
  }

  /** What a preview is called in the picker: its phase (number and dimension) and label, or its label alone. */
  previewTitle(p: RunPreview): string {
    if (p.phaseIndex === undefined) return p.label;
    const phase = this.phases.find((m) => m.index === p.phaseIndex);
    return `phase ${p.phaseIndex + 1}${phase ? ` (${phase.phase})` : ''}: ${p.label}`;
  }

  /** The front as the Pareto chart draws it, cost ascending. */
  frontPoints(): ParetoPoint[] {
    const points = this.pareto?.points ?? [];
    const cost = (p: ParetoPoint) => costOf(p, this.pareto?.objective ?? 'macs');
    return [...points].sort((a, b) => cost(a) - cost(b));
  }
}

export function costOf(p: { macs: number; params: number; latencyMs?: number }, objective: Objective): number {
  return objective === 'latency' ? (p.latencyMs ?? NaN) : objective === 'params' ? p.params : p.macs;
}

export function accuracyOf(p: ParetoPoint): number {
  return p.testAccuracy ?? p.validationAccuracy ?? p.predictedAccuracy;
}

/**
 * TensorBoard's smoothing: an exponential moving average, debiased so the first points are not pulled towards 0.
 * Nulls stay null (gaps), and the average carries over them. weight 0 returns the values unchanged.
 */
export function smooth(values: readonly (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values.slice();
  const out = new Array<number | null>(values.length);
  let last = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || !Number.isFinite(v)) {
      out[i] = null;
      continue;
    }
    last = last * weight + (1 - weight) * v;
    n++;
    out[i] = last / (1 - weight ** n);
  }
  return out;
}

/** A table as CSV: the x column, then every column (empty where null). */
export function tableCsv(table: AlignedTable, xName: string, keys: readonly string[] = [...table.columns.keys()]): string {
  const escape = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const rows = [[xName, ...keys].map(escape).join(',')];
  const cols = keys.map((k) => table.columns.get(k) ?? []);
  for (let i = 0; i < table.x.length; i++) {
    rows.push([String(table.x[i]), ...cols.map((c) => (c[i] === null || c[i] === undefined ? '' : String(c[i])))].join(','));
  }
  return rows.join('\n') + '\n';
}
