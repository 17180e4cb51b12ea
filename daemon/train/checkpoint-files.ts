// Checkpoint files in a run's checkpoint folder: written atomically (temp file, fsync, rename, fsync of the folder),
// the last K kept, and read back newest first, skipping any that fail to decode.
//
// Under a daemon a checkpoint counts only once its `checkpoint` event is in the run's event log (a resume discards
// any other), and that log is the daemon's, in another process. So a daemon's worker calls
// `pruneOnlyRecordedCheckpoints()`: from then on an older checkpoint is deleted only after a newer one is on disk
// *and* recorded — the daemon confirms each recorded checkpoint (`checkpointRecorded`), and pruning keeps every
// checkpoint newer than the newest confirmed one plus the newest K confirmed ones. Without it (the CLI, which keeps
// its log in-process and resumes from the newest file), the newest K files are kept.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { testPause } from './test-pause';

export interface CheckpointFile {
  step: number;
  path: string;
}

const NAME = /^step-(\d{9,})\.ckpt$/;
const TEMP_PREFIX = '.tmp-';

export function checkpointFileName(step: number): string {
  return `step-${String(step).padStart(9, '0')}.ckpt`;
}

/** Per checkpoint folder, once pruning waits for confirmations: the newest recorded step and the K to keep. */
let confirmed: Map<string, { recorded: number; keep: number }> | undefined;
/** Per checkpoint folder: the prunes, one at a time (a write waits for those before it). */
const pruning = new Map<string, Promise<void>>();

function chained(dir: string, op: () => Promise<void>): Promise<void> {
  const key = path.resolve(dir);
  const next = (pruning.get(key) ?? Promise.resolve()).then(op);
  pruning.set(key, next.catch(() => undefined));
  return next;
}

/** From now on (in this process) pruning deletes a checkpoint only once a newer one is confirmed recorded. */
export function pruneOnlyRecordedCheckpoints(): void {
  confirmed ??= new Map();
}

/** The checkpoint of `step` in `dir` is recorded (its event is in the run's log): older ones beyond K may go now. */
export async function checkpointRecorded(dir: string, step: number): Promise<void> {
  if (!confirmed) return;
  const key = path.resolve(dir);
  const entry = confirmed.get(key) ?? { recorded: -1, keep: 1 };
  entry.recorded = Math.max(entry.recorded, step);
  confirmed.set(key, entry);
  await chained(dir, async () => {
    await testPause('checkpoint.recorded', key);
    await pruneCheckpoints(dir, entry.keep);
  });
}

/**
 * Deletes old checkpoints: all but the newest `keep` — counting, once pruning waits for confirmations, only those
 * confirmed recorded, and never one newer than the newest confirmed.
 */
async function pruneCheckpoints(dir: string, keep: number): Promise<void> {
  let files = await listCheckpointFiles(dir);
  if (confirmed) {
    const recorded = confirmed.get(path.resolve(dir))?.recorded ?? -1;
    files = files.filter((f) => f.step <= recorded);
  }
  for (const old of files.slice(0, Math.max(0, files.length - Math.max(1, keep)))) {
    await fs.rm(old.path, { force: true });
    await testPause('checkpoint.pruned-one', path.resolve(dir));
  }
}

/**
 * Writes `bytes` as the checkpoint of `step`, then deletes older checkpoints beyond the newest `keep` (see above for
 * when a daemon's worker deletes them). Returns its path.
 */
export async function writeCheckpointFile(dir: string, step: number, bytes: Uint8Array, keep: number): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const name = checkpointFileName(step);
  const final = path.join(dir, name);
  const temp = path.join(dir, `${TEMP_PREFIX}${process.pid}-${name}`);
  const handle = await fs.open(temp, 'w', 0o600);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temp, final);
  await syncDir(dir);
  await testPause('checkpoint.renamed', path.resolve(dir));
  if (confirmed) {
    const key = path.resolve(dir);
    confirmed.set(key, { recorded: confirmed.get(key)?.recorded ?? -1, keep });
  }
  await chained(dir, () => pruneCheckpoints(dir, keep));
  return final;
}

/** The checkpoints in `dir`, oldest first; temp files of interrupted writes are not listed. */
export async function listCheckpointFiles(dir: string): Promise<CheckpointFile[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const files: CheckpointFile[] = [];
  for (const name of names) {
    const m = NAME.exec(name);
    if (m) files.push({ step: Number(m[1]), path: path.join(dir, name) });
  }
  return files.sort((a, b) => a.step - b.step);
}

/**
 * The newest checkpoint in `dir` that `decode` accepts, or undefined when there is none. A file that fails to
 * decode (half-written, corrupt) is reported through `warn` and skipped, never thrown.
 */
export async function readLatestCheckpoint<T>(
  dir: string,
  decode: (bytes: Buffer, source: string) => T,
  warn: (message: string) => void,
): Promise<{ file: CheckpointFile; value: T } | undefined> {
  const files = await listCheckpointFiles(dir);
  for (let i = files.length - 1; i >= 0; i--) {
    const file = files[i];
    try {
      return { file, value: decode(await fs.readFile(file.path), file.path) };
    } catch (e) {
      warn(`skipping checkpoint ${file.path}: ${(e as Error).message}`);
    }
  }
  return undefined;
}

/** Removes temp files left by writes that were interrupted (a killed process). */
export async function removeStaleTempFiles(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  for (const name of names) if (name.startsWith(TEMP_PREFIX)) await fs.rm(path.join(dir, name), { force: true });
}

async function syncDir(dir: string): Promise<void> {
  // fsync of the folder makes the rename durable; some platforms cannot open a folder for it, which is not fatal.
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // best effort
  } finally {
    await handle?.close();
  }
}
