// The run-file methods: a client reads a run's results, report, measurements, config and exported subnets through
// the protocol — never from disk — so a daemon on another host behind one forwarded socket serves it as a local one
// does. A file is named by kind (mapped here to the run-folder layout of daemon/pipeline/run-folder.ts) or as
// `subnets/<subnet>/<file>`; any other name, `..` and absolute paths are refused, and links may not lead out of the
// run folder. Large files are read in bounded chunks.
import { constants as fsConstants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ResponseError } from 'vscode-jsonrpc/node';
import { CONFIG_FILE, MEASUREMENTS_FILE, REPORT_FILE, RESULTS_FILE, SUBNETS_DIR } from '../pipeline/run-folder';
import { MantaErrorCodes, type MantaErrorData } from '../protocol/errors';
import {
  READ_RUN_FILE_DEFAULT_LENGTH,
  READ_RUN_FILE_MAX_LENGTH,
  RUN_FILE_KINDS,
  SUBNET_FILES_PREFIX,
  type ReadRunFileParams,
  type ReadRunFileResult,
  type RunFileEntry,
  type RunFileKind,
} from '../protocol/methods';
import { invalidParams } from './params';

/** Each kind's file in the run folder. */
export const RUN_FILE_OF_KIND: Record<RunFileKind, string> = {
  results: RESULTS_FILE,
  report: REPORT_FILE,
  measurements: MEASUREMENTS_FILE,
  config: CONFIG_FILE,
};

/** JSON run files larger than this are refused by the JSON methods (read them with manta/readRunFile). */
const MAX_JSON_BYTES = 8 << 20;

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
// The protocol names the subnets folder; the layout module must agree with it.
if (`${SUBNETS_DIR}/` !== SUBNET_FILES_PREFIX) throw new Error(`run-folder's SUBNETS_DIR '${SUBNETS_DIR}' differs from the protocol's '${SUBNET_FILES_PREFIX}'`);

const isKind = (file: string): file is RunFileKind => (RUN_FILE_KINDS as readonly string[]).includes(file);

function refused(file: string, why: string): ResponseError<MantaErrorData> {
  const message =
    `params.file ${JSON.stringify(file)} is refused: ${why}; a run file is one of ${RUN_FILE_KINDS.join(', ')} ` +
    `or '${SUBNET_FILES_PREFIX}<subnet>/<file>' (manta/listRunFiles lists them)`;
  return invalidParams('manta/readRunFile', [{ path: '/file', rule: 'runFile', message }]);
}

/** The path inside `runDir` that `file` names; throws InvalidParams (naming what is allowed) for any other name. */
export function runFilePath(runDir: string, file: string): string {
  if (isKind(file)) return path.join(runDir, RUN_FILE_OF_KIND[file]);
  const segments = file.split(/[\\/]/);
  if (segments.includes('..')) throw refused(file, "'..' is never accepted");
  if (path.isAbsolute(file) || file.startsWith('\\')) throw refused(file, 'absolute paths are never accepted');
  if (!file.startsWith(SUBNET_FILES_PREFIX)) throw refused(file, 'it is neither a run-file kind nor an exported subnet file');
  const rest = file.slice(SUBNET_FILES_PREFIX.length).split('/');
  if (rest.length !== 2 || !rest.every((s) => SEGMENT.test(s))) throw refused(file, `an exported subnet file is named '${SUBNET_FILES_PREFIX}<subnet>/<file>' (letters, digits, '.', '_', '-')`);
  return path.join(runDir, SUBNETS_DIR, rest[0], rest[1]);
}

function notFound(runId: string, file: string, why: string): ResponseError<MantaErrorData> {
  return new ResponseError<MantaErrorData>(MantaErrorCodes.PathNotFound, `run ${runId} has no ${file}: ${why}`, {
    problems: [{ path: '/file', rule: 'exists', message: `run ${runId} has no ${file}: ${why}` }],
  });
}

/** Opens a run file for reading after checking that, links resolved, it is a regular file inside the run folder. */
async function openInside(runId: string, runDir: string, file: string): Promise<fs.FileHandle> {
  const target = runFilePath(runDir, file);
  let real: string;
  let realDir: string;
  try {
    [realDir, real] = await Promise.all([fs.realpath(runDir), fs.realpath(target)]);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw notFound(runId, file, code === 'ENOENT' ? 'it does not exist (yet)' : `it cannot be read (${(e as Error).message})`);
  }
  if (!real.startsWith(realDir + path.sep)) throw refused(file, 'it leads out of the run folder');
  const handle = await fs.open(real, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0));
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw notFound(runId, file, 'it is not a file');
  }
  return handle;
}

/** One chunk of a run file (manta/readRunFile). */
export async function readRunFileChunk(runId: string, runDir: string, p: ReadRunFileParams): Promise<ReadRunFileResult> {
  const offset = p.offset ?? 0;
  const length = Math.min(p.length ?? READ_RUN_FILE_DEFAULT_LENGTH, READ_RUN_FILE_MAX_LENGTH);
  const handle = await openInside(runId, runDir, p.file);
  try {
    const stat = await handle.stat();
    const size = stat.size;
    const want = Math.max(0, Math.min(length, size - offset));
    const buffer = Buffer.alloc(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await handle.read(buffer, got, want - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return { data: buffer.subarray(0, got).toString('base64'), offset, size, modifiedAt: stat.mtimeMs, eof: offset + got >= size };
  } finally {
    await handle.close();
  }
}

/** A JSON run file, parsed (manta/getRunResults, getRunMeasurements, getRunConfig). */
export async function readRunJson(runId: string, runDir: string, kind: RunFileKind, missing: string): Promise<Record<string, unknown>> {
  let handle: fs.FileHandle;
  try {
    handle = await openInside(runId, runDir, kind);
  } catch (e) {
    if (e instanceof ResponseError && e.code === MantaErrorCodes.PathNotFound) throw notFound(runId, RUN_FILE_OF_KIND[kind], missing);
    throw e;
  }
  try {
    const { size } = await handle.stat();
    if (size > MAX_JSON_BYTES) {
      throw new ResponseError<MantaErrorData>(MantaErrorCodes.TaskFailed, `run ${runId}'s ${RUN_FILE_OF_KIND[kind]} is ${size} bytes, more than one answer holds; read it with manta/readRunFile`);
    }
    const value: unknown = JSON.parse(await handle.readFile('utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (e) {
    if (e instanceof ResponseError) throw e;
    throw new ResponseError<MantaErrorData>(MantaErrorCodes.TaskFailed, `run ${runId}'s ${RUN_FILE_OF_KIND[kind]} cannot be read: ${(e as Error).message}`);
  } finally {
    await handle.close();
  }
}

/** The readable files a run has now (manta/listRunFiles): the kinds present, then each exported subnet's files. */
export async function listRunFiles(runDir: string): Promise<RunFileEntry[]> {
  const out: RunFileEntry[] = [];
  const add = async (file: string, full: string) => {
    const stat = await fs.lstat(full).catch(() => undefined);
    if (stat?.isFile()) out.push({ file, size: stat.size, modifiedAt: stat.mtimeMs });
  };
  for (const kind of RUN_FILE_KINDS) await add(kind, path.join(runDir, RUN_FILE_OF_KIND[kind]));
  const subnetsDir = path.join(runDir, SUBNETS_DIR);
  const subnets = await fs.readdir(subnetsDir, { withFileTypes: true }).catch(() => []);
  for (const d of subnets.filter((x) => x.isDirectory() && SEGMENT.test(x.name)).sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))) {
    const names = await fs.readdir(path.join(subnetsDir, d.name)).catch(() => [] as string[]);
    for (const name of names.filter((n) => SEGMENT.test(n)).sort()) await add(`${SUBNET_FILES_PREFIX}${d.name}/${name}`, path.join(subnetsDir, d.name, name));
  }
  return out;
}

/** The run-file names of an export's files, when they lie in the run's subnets folder (ExportSubnetResult.runFiles). */
export function exportedRunFiles(runDir: string, files: readonly string[]): string[] | undefined {
  const names: string[] = [];
  for (const f of files) {
    const rel = path.relative(path.join(runDir, SUBNETS_DIR), f).split(path.sep);
    if (rel.length !== 2 || !rel.every((s) => SEGMENT.test(s))) return undefined;
    names.push(`${SUBNET_FILES_PREFIX}${rel[0]}/${rel[1]}`);
  }
  return names;
}
