// Every resource limit of the daemon, in one place, with its value. A client that hits one gets an error naming it
// (or, for replies it does not read, is simply not read from until it does), and the daemon keeps serving the others.
// `manta daemon --limits name=value,…` or MANTA_DAEMON_LIMITS (same syntax; tests shorten deadlines with it) override
// them; `manta daemon --help` and PROTOCOL.md (*Limits*) list them.
import { UserError } from '../protocol/user-error';

export interface DaemonLimits {
  /** Socket connections served at once; one more is answered with an error and closed. */
  maxConnections: number;
  /** Requests of one connection whose handler has not answered yet; one more is answered with an error. */
  maxInFlightRequests: number;
  /** Bytes of replies a connection has not read yet; beyond it the daemon stops reading that connection until they drain. */
  maxReplyBacklogBytes: number;
  /** Largest message (frame body) a client may send; a bigger one closes that connection. */
  maxFrameBytes: number;
  /** How long a socket connection may go without a successful manta/hello; then it is closed. */
  helloTimeoutMs: number;
  /** Largest config file the daemon reads (`configPath`). */
  maxConfigBytes: number;
  /** Worker-forking requests (exportSubnet, measureLatencyTable, the host probe) running at once; the rest wait, in order. */
  taskConcurrency: number;
  /** Worker-forking requests waiting for their turn; one more is refused. */
  maxQueuedTasks: number;
}

export const defaultLimits: Readonly<DaemonLimits> = Object.freeze({
  maxConnections: 64,
  maxInFlightRequests: 256,
  maxReplyBacklogBytes: 2 * 1024 * 1024,
  maxFrameBytes: 4 * 1024 * 1024,
  helloTimeoutMs: 10_000,
  maxConfigBytes: 1024 * 1024,
  taskConcurrency: 2,
  maxQueuedTasks: 64,
});

/** The limits in force (set once at start by `manta daemon`; the defaults otherwise). */
export const limits: DaemonLimits = { ...defaultLimits };

/** Parses `name=value,name=value` (values are non-negative integers) over `base`; unknown names are an error. */
export function parseLimits(text: string, base: DaemonLimits = { ...defaultLimits }, source = '--limits'): DaemonLimits {
  const out = { ...base };
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, value] = item.split('=', 2).map((s) => s.trim());
    if (!Object.prototype.hasOwnProperty.call(defaultLimits, name)) {
      throw new UserError(`${source}: unknown limit '${name}' (known: ${Object.keys(defaultLimits).join(', ')})`, 'daemon.limits');
    }
    if (!/^\d+$/.test(value ?? '') || (Number(value) === 0 && name !== 'maxInFlightRequests' && name !== 'maxQueuedTasks') || !Number.isSafeInteger(Number(value))) {
      throw new UserError(`${source}: limit ${name} needs a positive integer (got ${JSON.stringify(value ?? '')})`, 'daemon.limits');
    }
    out[name as keyof DaemonLimits] = Number(value);
  }
  return out;
}

/** Sets the limits in force: the defaults, then MANTA_DAEMON_LIMITS, then the `--limits` flag. */
export function configureLimits(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): DaemonLimits {
  let next: DaemonLimits = { ...defaultLimits };
  if (env.MANTA_DAEMON_LIMITS) next = parseLimits(env.MANTA_DAEMON_LIMITS, next, 'MANTA_DAEMON_LIMITS');
  if (flag) next = parseLimits(flag, next);
  Object.assign(limits, next);
  return limits;
}

/** A size for people: 4194304 → "4 MiB", 1500 → "1500 bytes". */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/** The `reason` of the UserError answered when a limit is hit: `limit.<name>`. */
export function limitReason(name: keyof DaemonLimits): string {
  return `limit.${name}`;
}
