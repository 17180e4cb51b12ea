// Checkpoint files in a run's checkpoint folder: written atomically (temp file, fsync, rename, fsync of the folder),
// the last K kept, and read back newest first, skipping any that fail to decode.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export interface CheckpointFile {
  step: number;
  path: string;
}

const NAME = /^step-(\d{9,})\.ckpt$/;
const TEMP_PREFIX = '.tmp-';

export function checkpointFileName(step: number): string {
  return `step-${String(step).padStart(9, '0')}.ckpt`;
}

/** Writes `bytes` as the checkpoint of `step`, then deletes all but the newest `keep` checkpoints. Returns its path. */
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
  const files = await listCheckpointFiles(dir);
  for (const old of files.slice(0, Math.max(0, files.length - Math.max(1, keep)))) await fs.rm(old.path, { force: true });
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
