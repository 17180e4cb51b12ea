// `manta delete <runDir|runId>`: deletes a run that is not active.
// - A run the daemon knows (by id, or a folder that is one of its runs) is deleted through the daemon
//   (manta/deleteRun), which refuses a running or paused run and keeps its registry consistent.
// - Any other folder (a `manta search` run; a daemon's run while no daemon answers) is deleted here, only when it is a
//   MANTA run folder (run.json or config.json in it) and not active: refused while its run.json says running and the
//   process it records is alive, or records none (then --force deletes it). A daemon's registry pointer to the folder
//   is removed with it, so a later daemon does not list a run that is gone.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { DeleteRunRequest, ListRunsRequest, type RunRef, type RunSummary } from '../../protocol/methods';
import { UserError } from '../../protocol/user-error';
import { RUN_ID_PATTERN } from '../../protocol/params-schemas';
import { CONFIG_FILE, RUN_META_FILE } from '../../pipeline/run-folder';
import { connectSocket, type DaemonClient } from '../../service/client';
import { socketPathFor, stateDirFor } from '../../service/paths';
import { processAlive } from '../../service/processes';
import { readRunMeta, runPointerFile, unregisterRun, type RunMeta } from '../../service/run-files';
import { parseFlags } from '../flags';

const USAGE = 'usage: manta delete <runDir | runId> [--socket path] [--state-dir dir] [--force]';

/** A run id as the daemon's params schema allows it. */
const RUN_ID = new RegExp(RUN_ID_PATTERN);

export async function deleteCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, { socket: 'string', 'state-dir': 'string', force: 'boolean', help: 'boolean' }, 'manta delete');
  if (flags.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const target = flags._[0];
  if (!target || flags._.length !== 1) {
    process.stderr.write(USAGE + '\n');
    return 2;
  }
  const socketPath = path.resolve(typeof flags.socket === 'string' ? flags.socket : socketPathFor());
  const stateDir = path.resolve(typeof flags['state-dir'] === 'string' ? flags['state-dir'] : stateDirFor());
  const stat = await fs.lstat(target).catch(() => undefined);

  if (!stat) {
    // Not a path: a run id of the daemon's.
    if (!RUN_ID.test(target) || target.includes(path.sep)) throw new UserError(`${target}: no such run folder`, 'run.not-found');
    const client = await tryConnect(socketPath);
    if (!client) throw new UserError(`${target}: no such run folder, and no daemon answers at ${socketPath} to delete a run of that id`, 'run.not-found');
    try {
      const run = await deleteThroughDaemon(client, { runId: target });
      process.stdout.write(`deleted run ${run.runId} (${run.runDir}) through the daemon at ${socketPath}\n`);
      return 0;
    } finally {
      client.close();
    }
  }

  if (stat.isSymbolicLink()) throw new UserError(`${target} is a symbolic link; name the run folder itself`, 'run.not-a-run');
  if (!stat.isDirectory()) throw new UserError(`${target} is not a folder (name a run folder or a run id)`, 'run.not-a-run');
  const runDir = await fs.realpath(target);
  const meta = await readRunMeta(runDir).catch(() => undefined);
  const hasConfig = await fs
    .stat(path.join(runDir, CONFIG_FILE))
    .then((s) => s.isFile())
    .catch(() => false);
  if (!meta && !hasConfig) {
    throw new UserError(`${target} is not a MANTA run folder (no ${RUN_META_FILE} or ${CONFIG_FILE} in it); nothing deleted`, 'run.not-a-run');
  }

  // One of the daemon's runs: through the daemon.
  const client = await tryConnect(socketPath);
  if (client) {
    try {
      const { runs } = await client.connection.sendRequest(ListRunsRequest, {});
      for (const run of runs) {
        const dir = await fs.realpath(run.runDir).catch(() => run.runDir);
        if (dir !== runDir) continue;
        const deleted = await deleteThroughDaemon(client, { runId: run.runId });
        process.stdout.write(`deleted run ${deleted.runId} (${runDir}) through the daemon at ${socketPath}\n`);
        return 0;
      }
    } finally {
      client.close();
    }
  }

  // A run folder of its own (`manta search`), or a daemon's while no daemon runs: only when nothing runs it.
  refuseWhenActive(target, meta, flags.force === true);
  const pointer = meta ? await ownPointer(stateDir, meta.runId, runDir) : undefined;
  await fs.rm(runDir, { recursive: true, force: false });
  if (pointer) await unregisterRun(stateDir, pointer);
  process.stdout.write(`deleted ${runDir}\n`);
  return 0;
}

/** Refuses (UserError) while the run may be active: its run.json says running (or paused) and its process lives. */
function refuseWhenActive(target: string, meta: RunMeta | undefined, force: boolean): void {
  if (!meta || (meta.status !== 'running' && meta.status !== 'paused')) return;
  const pid = meta.workerPid;
  if (typeof pid === 'number' && Number.isInteger(pid) && pid > 0) {
    if (pid !== process.pid && processAlive(pid)) {
      throw new UserError(
        `run ${meta.runId} in ${target} is ${meta.status}: its process ${pid} is alive. Stop it first (Ctrl-C in its terminal, or ` +
          `MANTA: Stop Search for a daemon's run); nothing deleted`,
        'run.active',
      );
    }
    return; // its process is gone: the run was interrupted
  }
  if (!force) {
    throw new UserError(
      `run ${meta.runId} in ${target} is ${meta.status} by its ${RUN_META_FILE}, which records no process to check; ` +
        `if nothing runs it any more, delete it with --force; nothing deleted`,
      'run.active',
    );
  }
}

async function tryConnect(socketPath: string): Promise<DaemonClient | undefined> {
  const stat = await fs.stat(socketPath).catch(() => undefined);
  if (!stat?.isSocket()) return undefined;
  const version = typeof MANTA_VERSION === 'string' ? MANTA_VERSION : 'dev';
  return connectSocket(socketPath, { client: { name: 'manta-cli', version } }).catch(() => undefined);
}

async function deleteThroughDaemon(client: DaemonClient, ref: RunRef): Promise<RunSummary> {
  try {
    const { run } = await client.connection.sendRequest(DeleteRunRequest, ref);
    return run;
  } catch (e) {
    // The daemon's refusal (an active run, an unknown id) as a one-line message.
    throw new UserError(`the daemon refused to delete ${ref.runId}: ${(e as Error).message}; nothing deleted`, 'run.delete-refused');
  }
}

/** The run id whose daemon registry pointer (<stateDir>/runs/<runId>.json) names this folder, if one does. */
async function ownPointer(stateDir: string, runId: string, runDir: string): Promise<string | undefined> {
  if (!RUN_ID.test(runId)) return undefined;
  try {
    const pointer = JSON.parse(await fs.readFile(runPointerFile(stateDir, runId), 'utf8')) as { runDir?: unknown };
    if (typeof pointer.runDir !== 'string') return undefined;
    return (await fs.realpath(pointer.runDir)) === runDir ? runId : undefined;
  } catch {
    return undefined; // no pointer, or not to this folder
  }
}

declare const MANTA_VERSION: string | undefined;
