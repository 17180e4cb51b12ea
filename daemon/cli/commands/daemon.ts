// `manta daemon`: the long-running service — JSON-RPC on stdio (--stdio) and on a 0600 Unix socket in the user's
// runtime folder. The protocol is described in daemon/service/PROTOCOL.md. `--detach` starts it in the background
// (daemon-detach.ts), as the extension does on a remote host over SSH.
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import { UserError } from '../../protocol/user-error';
import { Daemon } from '../../service/daemon';
import { InstanceLocked } from '../../service/instance-lock';
import { configureLimits, defaultLimits } from '../../service/limits';
import { cacheDirFor, ensureStateDir, socketPathFor, stateDirFor } from '../../service/paths';
import { parseFlags } from '../flags';
import { DETACHED_ENV, detachDaemon, reportToParent } from './daemon-detach';

declare const MANTA_VERSION: string | undefined;

/** A detached daemon ends itself after 30 idle minutes unless told otherwise: nobody may be left to stop it. */
const DETACHED_IDLE_EXIT_S = 1800;

function idleExitSeconds(value: string | boolean | undefined, fallback: number): number {
  if (typeof value !== 'string') return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new UserError(`manta daemon: --idle-exit takes a number of seconds, 0 or more (0: never); got '${value}'`);
  }
  return n;
}

const help = `manta daemon — serve MANTA's JSON-RPC protocol (daemon/service/PROTOCOL.md)

Options:
  --stdio                 also serve one client on stdin/stdout (logs go to stderr)
  --socket <path>         the Unix socket (default: $XDG_RUNTIME_DIR/manta/daemon.sock or /tmp/manta-<uid>/daemon.sock)
  --no-socket             no socket (only with --stdio; the daemon then ends with its client)
  --allow-roots <a:b:…>   folders runs and exports may be written to, besides a config's (or run's) own folder
  --state-dir <path>      where the registry of runs lives (default: $XDG_STATE_HOME/manta)
  --cache-dir <path>      caches such as latency tables (default: $XDG_CACHE_HOME/manta)
  --synthetic-runs        serve manta/startSyntheticRun (benchmarks and tests)
  --limits <n=v,…>        override resource limits (also MANTA_DAEMON_LIMITS), e.g. maxConnections=16; defaults:
                          ${Object.entries(defaultLimits).map(([k, v]) => `${k}=${v}`).join(', ')}
  --detach                start the daemon in the background (its own session, outliving this shell), wait until it
                          listens, print {"socketPath", "pid", "alreadyRunning", "logFile"} as one JSON line and exit 0
  --log-file <path>       with --detach: where its output is appended (default <state dir>/daemon.log, created 0600)
  --idle-exit <seconds>   exit once no client is connected and no run is active for that long; 0: never
                          (default 0, or ${DETACHED_IDLE_EXIT_S} with --detach)
  --print-socket          print the socket path this daemon would use, and exit

One daemon runs per state folder and per socket; a second one exits with code 2, naming the running one (with
--detach: prints {"socketPath", "pid", "alreadyRunning": true} naming it, and exits 0).
MANTA_LD_LIBRARY_PATH (folders) goes first on LD_LIBRARY_PATH of the daemon's workers only: e.g. the CUDA 11 and
cuDNN 8 libraries the GPU engine needs (see hostInfo's gpuEngine, or manta info).`;

/** MANTA's version: baked in by the build, else read from package.json (running from sources). */
export function mantaVersion(): string {
  if (typeof MANTA_VERSION === 'string') return MANTA_VERSION;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const v = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string; version?: string };
        if (v.name === 'manta' && v.version) return v.version;
      } catch {
        // keep looking upwards
      }
    }
    if (path.dirname(dir) === dir) return '0.0.0';
  }
}

export async function daemonCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(
    argv,
    {
      stdio: 'boolean',
      socket: 'string',
      'no-socket': 'boolean',
      'allow-roots': 'string',
      'state-dir': 'string',
      'cache-dir': 'string',
      'synthetic-runs': 'boolean',
      limits: 'string',
      detach: 'boolean',
      'log-file': 'string',
      'idle-exit': 'string',
      'print-socket': 'boolean',
      help: 'boolean',
    },
    'manta daemon',
  );
  if (flags.help) {
    process.stdout.write(help + '\n');
    return 0;
  }
  const socketPath = path.resolve(typeof flags.socket === 'string' ? flags.socket : socketPathFor());
  if (flags['print-socket']) {
    process.stdout.write(socketPath + '\n');
    return 0;
  }
  if (flags['no-socket'] && !flags.stdio) {
    process.stderr.write('manta daemon: --no-socket needs --stdio (a daemon must be reachable somehow)\n');
    return 2;
  }
  if (flags.detach && (flags.stdio || flags['no-socket'])) {
    process.stderr.write(`manta daemon: --detach and --${flags.stdio ? 'stdio' : 'no-socket'} exclude each other: a detached daemon has no stdin or stdout to serve; connect to its socket instead\n`);
    return 2;
  }
  if (typeof flags['log-file'] === 'string' && !flags.detach) {
    process.stderr.write('manta daemon: --log-file needs --detach (without it the daemon logs to stderr)\n');
    return 2;
  }
  const idleExit = idleExitSeconds(flags['idle-exit'], flags.detach ? DETACHED_IDLE_EXIT_S : 0);
  const stateDir = path.resolve(typeof flags['state-dir'] === 'string' ? flags['state-dir'] : stateDirFor());
  const cacheDir = path.resolve(typeof flags['cache-dir'] === 'string' ? flags['cache-dir'] : cacheDirFor());
  const roots = typeof flags['allow-roots'] === 'string' ? flags['allow-roots'].split(path.delimiter).filter(Boolean).map((r) => path.resolve(r)) : [];
  if (flags.detach) {
    configureLimits(typeof flags.limits === 'string' ? flags.limits : undefined); // refuses a bad --limits here, not in the log
    await ensureStateDir(stateDir);
    const args = ['daemon', '--socket', socketPath, '--state-dir', stateDir, '--cache-dir', cacheDir, '--idle-exit', String(idleExit)];
    if (roots.length > 0) args.push('--allow-roots', roots.join(path.delimiter));
    if (flags['synthetic-runs']) args.push('--synthetic-runs');
    if (typeof flags.limits === 'string') args.push('--limits', flags.limits);
    const logFile = path.resolve(typeof flags['log-file'] === 'string' ? flags['log-file'] : path.join(stateDir, 'daemon.log'));
    return detachDaemon({ socketPath, logFile, args });
  }
  // The child of --detach: it reports to its parent once it listens (or finds the lock taken), then lives alone.
  const detached = process.env[DETACHED_ENV] === '1' && typeof process.send === 'function';
  delete process.env[DETACHED_ENV];
  configureLimits(typeof flags.limits === 'string' ? flags.limits : undefined);
  const log = detached
    ? (line: string) => process.stderr.write(`${new Date().toISOString()} manta daemon: ${line}\n`) // lines of a log read later say when
    : (line: string) => process.stderr.write(`manta daemon: ${line}\n`);
  let output: NodeJS.WritableStream | undefined;
  if (flags.stdio) {
    // stdout carries the protocol now: route console output to stderr, and write stdout asynchronously (process.stdout
    // blocks on a full pipe, which would let a slow client stall the daemon).
    for (const name of ['log', 'info', 'debug', 'warn'] as const) console[name] = (...args: unknown[]) => process.stderr.write(format(...args) + '\n');
    output = createWriteStream('', { fd: 1 });
  }
  let daemon: Daemon;
  try {
    daemon = await Daemon.start({
      version: mantaVersion(),
      socketPath: flags['no-socket'] ? undefined : socketPath,
      stdio: output ? { input: process.stdin, output } : undefined,
      stateDir,
      cacheDir,
      allowedRoots: roots,
      syntheticRuns: flags['synthetic-runs'] === true,
      idleExitMs: idleExit * 1000,
      log,
    });
  } catch (e) {
    if (detached && e instanceof InstanceLocked) await reportToParent({ type: 'locked', ...(e.holder ? { holder: e.holder } : {}), message: e.message });
    throw e;
  }
  if (detached) {
    // Its own session has no terminal to hang up; a stray SIGHUP must not end the runs either.
    process.on('SIGHUP', () => log('SIGHUP ignored (a detached daemon stops on SIGTERM or manta/shutdown)'));
    await reportToParent({ type: 'listening', pid: process.pid });
  }
  const stop = () => void daemon.shutdown();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // A bug must not take the runs' daemon down with it: report and keep serving.
  const onCrash = (e: unknown) => log(`internal error (the daemon keeps running): ${(e as Error)?.stack ?? String(e)}`);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  await daemon.closed;
  process.off('SIGTERM', stop);
  process.off('SIGINT', stop);
  process.off('uncaughtException', onCrash);
  process.off('unhandledRejection', onCrash);
  if (output) {
    process.stdin.destroy();
    await new Promise<void>((resolve) => output!.end(resolve));
  }
  return 0;
}
