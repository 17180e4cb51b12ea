// GPUs as the daemon hands them to runs: each run's training workers get GPUs of their own (one per worker, each
// worker seeing only its GPU); a run that finds too few free waits in a queue until another run gives its GPUs back.
// On a host without GPUs (or a run on a CPU backend) nothing is assigned: CPU workers share the cores.
import { spawnSync } from 'node:child_process';
import type { ResolvedConfig } from '../../schemas';
import { resolveWorkers, RUN_GPUS_ENV } from '../pipeline/distributed/plan';
import type { JobPlacement } from '../protocol/values';

export { RUN_GPUS_ENV };

/** The GPUs this daemon may use: nvidia-smi's list, narrowed by the daemon's own CUDA_VISIBLE_DEVICES when set. */
export function detectGpus(env: NodeJS.ProcessEnv = process.env): number[] {
  const out = spawnSync('nvidia-smi', ['--query-gpu=index', '--format=csv,noheader'], { encoding: 'utf8', timeout: 5000 });
  if (out.status !== 0 || typeof out.stdout !== 'string') return [];
  const all = out.stdout.split('\n').map((l) => Number(l.trim())).filter((n) => Number.isInteger(n) && n >= 0);
  const visible = env.CUDA_VISIBLE_DEVICES;
  if (visible === undefined || visible.trim() === '') return all;
  const allowed = new Set(visible.split(',').map((v) => Number(v.trim())));
  return all.filter((g) => allowed.has(g));
}

/** GPUs a run's job asks for on this host: one per worker on a backend that uses them, none otherwise. */
export function gpusWanted(config: ResolvedConfig, gpuCount: number, placement?: JobPlacement): number {
  if (gpuCount === 0 || !(config.backend === 'auto' || config.backend === 'tensorflow')) return 0;
  return placement ? placement.workersPerHost : resolveWorkers(config.distributed.workersPerHost, config.distributed.nodesPerHost, config.training.batchSize, { cores: 0, gpus: gpuCount });
}

export class GpuLedger {
  private readonly held = new Map<string, number[]>();

  constructor(readonly gpus: readonly number[]) {}

  /** `count` free GPUs for `owner`, or undefined when fewer are free (nothing is taken then). */
  take(owner: string, count: number): number[] | undefined {
    if (count > this.gpus.length) throw new RangeError(`${count} GPUs asked for; this host has ${this.gpus.length}`);
    const busy = new Set([...this.held.values()].flat());
    const free = this.gpus.filter((g) => !busy.has(g));
    if (free.length < count) return undefined;
    const mine = free.slice(0, count);
    this.held.set(owner, mine);
    return mine;
  }

  release(owner: string): void {
    this.held.delete(owner);
  }

  /** For a waiting run's message: which runs hold which GPUs. */
  describe(): string {
    const parts = [...this.held].map(([owner, g]) => `GPU ${g.join(', ')} (run ${owner})`);
    return parts.length ? `in use: ${parts.join('; ')}` : 'none in use';
  }
}
