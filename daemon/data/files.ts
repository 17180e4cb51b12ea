// Reading data files with errors that name the file: missing, unreadable, or a gzip stream that is cut short.
import { readFile, readdir, stat } from 'node:fs/promises';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import path from 'node:path';
import { DataError } from './errors';

const gunzipAsync = promisify(gunzip);

/** A path from the config: relative ones are relative to the config file's folder. */
export function resolveDataPath(baseDir: string, p: string): string {
  return path.resolve(baseDir, p);
}

function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

/** The file's bytes; a missing or unreadable file is a DataError naming it. */
export async function readDataFile(file: string, what = 'data file'): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT') throw new DataError(`${what} ${file} does not exist: check the path in the config`, 'data.missing-file', file);
    if (code === 'EISDIR') throw new DataError(`${what} ${file} is a folder, not a file: name the file itself`, 'data.bad-format', file);
    throw new DataError(`${what} ${file} cannot be read (${code ?? String(e)}): check its permissions`, 'data.missing-file', file);
  }
}

/** The file's bytes, gunzipped when they start with the gzip magic (whatever the file is called). */
export async function readMaybeGzip(file: string, what = 'data file'): Promise<Uint8Array> {
  const raw = await readDataFile(file, what);
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return await gunzipAsync(raw);
    } catch (e) {
      const why = errnoCode(e) === 'Z_BUF_ERROR' ? 'is truncated (the gzip stream ends early)' : 'is a corrupt gzip file';
      throw new DataError(`${what} ${file} ${why}: download it again`, 'data.truncated', file);
    }
  }
  return raw;
}

/** Entries of a folder that must exist, sorted by name (code-point order, independent of the locale). */
export async function listFolder(dir: string, what: string): Promise<{ name: string; isDir: boolean }[]> {
  try {
    const s = await stat(dir);
    if (!s.isDirectory()) throw new DataError(`${what} ${dir} is a file, not a folder: name the folder`, 'data.bad-format', dir);
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.map((d) => ({ name: d.name, isDir: d.isDirectory() })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (e) {
    if (e instanceof DataError) throw e;
    if (errnoCode(e) === 'ENOENT')
      throw new DataError(`${what} ${dir} does not exist: check the path in the config`, 'data.missing-file', dir);
    throw new DataError(`${what} ${dir} cannot be read (${errnoCode(e) ?? String(e)}): check its permissions`, 'data.missing-file', dir);
  }
}

export async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
