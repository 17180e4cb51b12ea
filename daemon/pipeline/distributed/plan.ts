// Where this host's training workers stand in the job: the config's /distributed section, the job's placement across
// hosts (none: this host alone) and this machine's devices give the world size, every rank's node and host, and the
// ranks that run here. Pure, so the language server's rules and the daemon agree on it.
import { randomBytes } from 'node:crypto';
import type { ResolvedConfig } from '../../../schemas';
import type { DistributedAlgorithm, JobPlacement } from '../../protocol/values';
import { UserError } from '../../protocol/user-error';

/** Environment variable by which the daemon tells a run's process which GPUs are its own (comma-separated indices). */
export const RUN_GPUS_ENV = 'MANTA_RUN_GPUS';

/** The GPUs the daemon gave this run (none on a CPU host or outside a daemon). */
export function runGpus(env: NodeJS.ProcessEnv = process.env): number[] {
  return (env[RUN_GPUS_ENV] ?? '').split(',').filter((v) => /^\d+$/.test(v.trim())).map(Number);
}

export interface JobPlan {
  algorithm: DistributedAlgorithm;
  worldSize: number;
  workersPerHost: number;
  hostIndex: number;
  /** Node id of every rank: hosts' nodes numbered in host order. */
  nodeOf: number[];
  /** Host label of every rank. */
  hostOf: string[];
  /** The ranks on this host; the first one trains in the run's own process, the others in worker processes. */
  localRanks: number[];
  coordinator: { host: string; port: number };
  bindAddress: string;
  token: string;
  timeoutMs: number;
  /** Whether this host goes on to measure and search after training (host 0). */
  coordinatorHost: boolean;
}

export interface MachineDevices {
  cores: number;
  /** GPUs the engine can use here (0 on a CPU host). */
  gpus: number;
}

/**
 * The job plan, or undefined when training stays in the run's process (one worker on one host). `port` is the
 * rendezvous port of a single-host job (a free loopback port the caller picked).
 */
export function planJob(config: ResolvedConfig, placement: JobPlacement | undefined, machine: MachineDevices, localPort = 0): JobPlan | undefined {
  const d = config.distributed;
  const batch = config.training.batchSize;
  const workers = placement ? placement.workersPerHost : resolveWorkers(d.workersPerHost, d.nodesPerHost, batch, machine);
  const hosts = placement?.hosts ?? ['local'];
  if (!placement && workers === 1) return undefined;
  if (placement) checkPlacement(placement);
  if (workers % d.nodesPerHost !== 0) {
    throw new UserError(`${d.nodesPerHost} nodes per host do not divide ${workers} workers per host: set /distributed/nodesPerHost to a divisor of the workers per host`, 'distributed.nodes');
  }
  const worldSize = workers * hosts.length;
  if (batch % worldSize !== 0) {
    throw new UserError(
      `the batch of ${batch} (/training/batchSize) cannot be split evenly across the job's ${worldSize} workers (${hosts.length} host${hosts.length > 1 ? 's' : ''} × ${workers}): choose a batch size that the worker count divides, or fewer workers per host`,
      'distributed.batch',
    );
  }
  const hostIndex = placement?.hostIndex ?? 0;
  const perNode = workers / d.nodesPerHost;
  const nodeOf = Array.from({ length: worldSize }, (_, rank) => Math.floor(rank / workers) * d.nodesPerHost + Math.floor((rank % workers) / perNode));
  const hostOf = Array.from({ length: worldSize }, (_, rank) => hosts[Math.floor(rank / workers)]);
  return {
    algorithm: d.algorithm,
    worldSize,
    workersPerHost: workers,
    hostIndex,
    nodeOf,
    hostOf,
    localRanks: Array.from({ length: workers }, (_, i) => hostIndex * workers + i),
    coordinator: placement?.coordinator ?? { host: '127.0.0.1', port: localPort },
    bindAddress: placement?.bindAddress ?? '127.0.0.1',
    token: placement?.token ?? randomBytes(32).toString('hex'),
    timeoutMs: d.timeoutSeconds * 1000,
    coordinatorHost: hostIndex === 0,
  };
}

/**
 * Workers on this host: the configured number, or 'auto' — one per GPU, else one per core — lowered to the largest
 * count that divides the batch and is a multiple of the nodes per host.
 */
export function resolveWorkers(setting: number | 'auto', nodesPerHost: number, batch: number, machine: MachineDevices): number {
  if (setting !== 'auto') return setting;
  const most = Math.max(1, machine.gpus > 0 ? machine.gpus : machine.cores);
  for (let n = most; n >= 1; n--) if (batch % n === 0 && n % nodesPerHost === 0) return n;
  return 1;
}

function checkPlacement(p: JobPlacement): void {
  if (p.hosts.length < 1 || new Set(p.hosts).size !== p.hosts.length) throw new UserError(`the job's hosts ${JSON.stringify(p.hosts)} must be distinct names`, 'distributed.placement');
  if (!Number.isInteger(p.hostIndex) || p.hostIndex < 0 || p.hostIndex >= p.hosts.length) {
    throw new UserError(`host index ${p.hostIndex} is not one of the job's ${p.hosts.length} hosts`, 'distributed.placement');
  }
  if (!Number.isInteger(p.workersPerHost) || p.workersPerHost < 1) throw new UserError(`${p.workersPerHost} workers per host is not a worker count: give a positive whole number`, 'distributed.placement');
  if (!/^[0-9a-f]{32,128}$/i.test(p.token)) throw new UserError("the job's token is not a hex secret of 32 to 128 digits: let the starter of the job generate it", 'distributed.placement');
}
