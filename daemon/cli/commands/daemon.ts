// `manta daemon`: the long-running service — JSON-RPC on stdio (--stdio) and on a 0600 Unix socket in the user's
// runtime folder. The protocol is described in daemon/service/PROTOCOL.md.
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import { Daemon } from '../../service/daemon';
import { configureLimits, defaultLimits } from '../../service/limits';
import { cacheDirFor, socketPathFor, stateDirFor } from '../../service/paths';
import { parseFlags } from '../flags';

declare const MANTA_VERSION: string | undefined;

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

One daemon runs per state folder and per socket; a second one exits with code 2, naming the running one.`;

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
      help: 'boolean',
    },
    'manta daemon',
  );
  if (flags.help) {
    process.stdout.write(help + '\n');
    return 0;
  }
  if (flags['no-socket'] && !flags.stdio) {
    process.stderr.write('manta daemon: --no-socket needs --stdio (a daemon must be reachable somehow)\n');
    return 2;
  }
  configureLimits(typeof flags.limits === 'string' ? flags.limits : undefined);
  const log = (line: string) => process.stderr.write(`manta daemon: ${line}\n`);
  let output: NodeJS.WritableStream | undefined;
  if (flags.stdio) {
    // stdout carries the protocol now: route console output to stderr, and write stdout asynchronously (process.stdout
    // blocks on a full pipe, which would let a slow client stall the daemon).
    for (const name of ['log', 'info', 'debug', 'warn'] as const) console[name] = (...args: unknown[]) => process.stderr.write(format(...args) + '\n');
    output = createWriteStream('', { fd: 1 });
  }
  const roots = typeof flags['allow-roots'] === 'string' ? flags['allow-roots'].split(path.delimiter).filter(Boolean).map((r) => path.resolve(r)) : [];
  const daemon = await Daemon.start({
    version: mantaVersion(),
    socketPath: flags['no-socket'] ? undefined : path.resolve(typeof flags.socket === 'string' ? flags.socket : socketPathFor()),
    stdio: output ? { input: process.stdin, output } : undefined,
    stateDir: path.resolve(typeof flags['state-dir'] === 'string' ? flags['state-dir'] : stateDirFor()),
    cacheDir: path.resolve(typeof flags['cache-dir'] === 'string' ? flags['cache-dir'] : cacheDirFor()),
    allowedRoots: roots,
    syntheticRuns: flags['synthetic-runs'] === true,
    log,
  });
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
