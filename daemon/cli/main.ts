// daemon/cli: the `manta` command — search, export, delete, daemon, info, bench — over the service, train and search modules.
import { isUserError } from '../protocol/user-error';

const usage = `manta — Once-for-All architecture search

Usage:
  manta search <config.manta.json>     train the supernet, search it, export the Pareto front
  manta search --from <runDir|runId> [--objective macs|params|latency] [--max-macs n] [--max-params n] [--max-latency-ms x]
                                       search a finished run again without retraining (a new run beside it)
  manta export <runDir> --arch <json|index> [--out dir]
                                       export any subnet of a finished run
  manta evaluate <runDir|runId> --arch <index|json> --data <file.json> [--split test|validation] [--json]
                                       measure a subnet of a finished run on other data (a config's data block)
  manta finetune <runDir|runId> --arch <index|json> [--epochs n] [--lr x] [--kd-ratio x] [--batch-size n] [--json]
                                       train a subnet of a finished run further (a new run beside it)
  manta delete <runDir|runId> [--force]
                                       delete a run that is not active (through the daemon when it is one of its)
  manta daemon [--stdio] [--socket path] [--detach [--log-file path]] [--idle-exit s] [--print-socket]
                                       serve the JSON-RPC protocol (see daemon/service/PROTOCOL.md)
  manta info [--backend name]          backends, device and versions
  manta stereo-data <folder> [--count n] [--width w] [--height h] [--max-disparity d] [--format pfm|kitti|both]
                                       write generated stereo pairs as a stereo-folder dataset
  manta bench <suite> [--backend b] [--repeat n] [--json]
                                       benchmarks: ${'train, search, telemetry, allreduce, scaling, stereo'}
  manta --version`;

type Command = (argv: string[]) => Promise<number>;

// Each command is loaded on demand, so that `manta --help` does not load tfjs.
const commands: Record<string, () => Promise<Command>> = {
  search: () => import('./commands/search').then((m) => m.searchCommand),
  export: () => import('./commands/export').then((m) => m.exportCommand),
  evaluate: () => import('./commands/evaluate').then((m) => m.evaluateCommand),
  finetune: () => import('./commands/finetune').then((m) => m.finetuneCommand),
  delete: () => import('./commands/delete').then((m) => m.deleteCommand),
  daemon: () => import('./commands/daemon').then((m) => m.daemonCommand),
  info: () => import('./commands/info').then((m) => m.infoCommand),
  'stereo-data': () => import('./commands/stereo-data').then((m) => m.stereoDataCommand),
  bench: () => import('./commands/bench').then((m) => m.benchCommand),
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage + '\n');
    return name ? 0 : 2;
  }
  if (name === '--version') {
    process.stdout.write(`${MANTA_VERSION}\n`);
    return 0;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`manta: unknown command '${name}'. Run 'manta --help' for the commands.\n`);
    return 2;
  }
  const run = await load();
  return run(rest);
}

declare const MANTA_VERSION: string;

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      if (isUserError(e)) {
        process.stderr.write(`manta: ${e.message}\n`);
        process.exitCode = 2;
      } else {
        const detail = process.env.MANTA_DEBUG ? String((e as Error)?.stack ?? e) : String((e as Error)?.message ?? e);
        process.stderr.write(`manta: internal error: ${detail}\n(set MANTA_DEBUG=1 for the stack trace, and please report it)\n`);
        process.exitCode = 1;
      }
    },
  );
}
