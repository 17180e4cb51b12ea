// The training job's workers, for a run trained by several: a line with the algorithm, how many workers on how many
// hosts and their images/s in all, then a table of the latest snapshot, one row per rank. A lost or stalled worker's
// row is marked by a class and by its text (not by colour alone), with the daemon's detail of what happened beneath.
import type { WorkerStatus } from '../../daemon/protocol/events';
import { el } from '../shared/theme';
import type { JobWorkers } from './model';

const STATE_TEXT: Record<WorkerStatus['state'], string> = {
  running: 'running',
  done: 'done',
  stalled: '⚠ stalled',
  lost: '✕ lost',
};

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const fixed = (v: number, digits: number) => (Number.isFinite(v) ? v.toLocaleString(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '—');

export class WorkersView {
  readonly root: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly table: HTMLTableElement;

  constructor(parent: HTMLElement) {
    this.root = el('section', 'card workers');
    this.root.setAttribute('aria-label', 'Workers of the training job');
    const head = el('header', 'card-head');
    head.append(el('h2', undefined, 'Workers'));
    this.summary = el('p', 'workers-summary');
    this.table = el('table', 'workers-table');
    this.root.append(head, this.summary, this.table);
    this.root.hidden = true;
    parent.append(this.root);
  }

  /** Shows `job` (the focused run's latest snapshot); hidden while no `workers` event has arrived. */
  update(job: JobWorkers | undefined): void {
    this.root.hidden = job === undefined;
    if (!job) {
      this.summary.textContent = '';
      this.table.replaceChildren();
      delete this.root.dataset.workers;
      delete this.root.dataset.step;
      return;
    }
    this.root.dataset.workers = String(job.workers.length);
    this.root.dataset.step = String(job.step);
    // The snapshot the daemon sends when the job fails has no measurements (its numbers are 0).
    const measured = job.step >= 0;
    const troubled = job.workers.filter((w) => w.state === 'lost' || w.state === 'stalled');
    this.summary.textContent = [
      job.algorithm,
      `${plural(job.workers.length, 'worker')} on ${plural(job.hosts, 'host')}`,
      job.algorithm === 'subnet-parallel' ? plural(job.nodes, 'node') : undefined,
      measured ? `${fixed(job.totalImagesPerSec, 1)} images/s in all` : 'the job stopped',
      measured ? `all-reduce ${fixed(job.meanAllReduceMs, 1)} ms per step (mean)` : undefined,
      measured ? `at step ${job.step}` : undefined,
      troubled.length > 0 ? troubled.map((w) => `rank ${w.rank} ${w.state}`).join(', ') : undefined,
    ]
      .filter(Boolean)
      .join(' · ');
    this.root.classList.toggle('has-trouble', troubled.length > 0);

    const subnetParallel = job.algorithm === 'subnet-parallel';
    const headings = ['rank', 'host', ...(subnetParallel ? ['node'] : []), 'images/s', 'all-reduce ms/step', 'state'];
    const head = el('tr');
    for (const h of headings) head.append(el('th', undefined, h));
    const rows: HTMLTableRowElement[] = [];
    for (const w of job.workers) {
      const tr = el('tr', `worker worker-${w.state}`);
      tr.dataset.rank = String(w.rank);
      tr.dataset.state = w.state;
      const cells = [
        String(w.rank),
        w.host,
        ...(subnetParallel ? [String(w.node)] : []),
        measured ? fixed(w.imagesPerSec, 1) : '—',
        measured ? fixed(w.allReduceMs, 1) : '—',
      ];
      for (const c of cells) tr.append(el('td', undefined, c));
      tr.append(el('td', 'state', STATE_TEXT[w.state]));
      rows.push(tr);
      if (w.detail) {
        const detail = el('tr', `worker-detail worker-${w.state}`);
        detail.dataset.rank = String(w.rank);
        const td = el('td', 'detail', w.detail);
        td.colSpan = headings.length;
        detail.append(td);
        rows.push(detail);
      }
    }
    const thead = el('thead');
    thead.append(head);
    const tbody = el('tbody');
    tbody.append(...rows);
    this.table.replaceChildren(thead, tbody);
  }
}
