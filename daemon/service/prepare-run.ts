// What `manta/startRun` checks before anything is created: where the config comes from, the config itself (through
// schemas/load-config.ts, the one config path the CLI shares: syntax, schema and cross-field checks, every problem
// at once), and every path it names: the dataset paths must exist (reading is not confined: see roots.ts), the
// folder its runs go to must lie in the config's folder or an allowed root (writing is) and be writable.
// Each failure is a JSON-RPC error whose message lists the problems and whose data holds them. `manta/checkConfig`
// runs the same checks through `inspectRun` and answers with all their problems instead.
import { constants as fsc, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ResponseError } from 'vscode-jsonrpc/node';
import type { ResolvedConfig } from '../../schemas';
import { checkDataFiles, isConfigError, resolveConfig, type ConfigError, type ConfigInput } from '../../schemas/load-config';
import { MantaErrorCodes, type MantaErrorData, type ParamProblem } from '../protocol/errors';
import { Methods, type CheckConfigParams, type StartRunParams } from '../protocol/methods';
import { formatBytes, limits } from './limits';
import { invalidParams, problemsError } from './params';
import { insideRoots, outsideWriteRootsMessage } from './roots';

export interface PreparedRun {
  /** The config as submitted (stored as config.json). */
  submitted: unknown;
  config: ResolvedConfig;
  configDir: string;
  configPath?: string;
  runsDir: string;
  /** Cross-field warnings, logged into the run's events. */
  warnings: string[];
}

function absolute(value: string, field: string, problems: ParamProblem[]): string | undefined {
  if (!path.isAbsolute(value)) {
    problems.push({ path: `/${field}`, rule: 'absolute', message: `params.${field} must be an absolute path on the daemon's host (got ${JSON.stringify(value)})` });
    return undefined;
  }
  return path.normalize(value);
}

/** PathOutsideRoots: the message is the problems' sentences (each names its path and the fix), no rule names. */
function outsideRootsError(problems: ParamProblem[]): ResponseError<MantaErrorData> {
  return new ResponseError<MantaErrorData>(MantaErrorCodes.PathOutsideRoots, problems.map((p) => p.message).join('; '), { problems });
}

/**
 * Checks that a folder the daemon is asked to write into (`field`, a JSON pointer such as `/outDir`) lies in one of
 * the `implicit` folders (the config's, the run's) or one of the daemon's allowed `roots`.
 */
export function checkWritePath(target: string, field: string, what: string, implicit: readonly { label: string; dir: string }[], roots: readonly string[]): void {
  if (insideRoots(target, [...implicit.map((i) => i.dir), ...roots])) return;
  throw outsideRootsError([{ path: field, rule: 'writeRoots', message: outsideWriteRootsMessage(what, target, implicit, roots) }]);
}

async function readConfigFile(configPath: string): Promise<string> {
  try {
    const stat = await fs.stat(configPath);
    if (stat.size > limits.maxConfigBytes) throw configTooLarge(configPath, stat.size);
    if (!stat.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOTFILE' });
    return await fs.readFile(configPath, 'utf8');
  } catch (e) {
    if (e instanceof ResponseError) throw e; // too large: refused before it is read
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'ENOTFILE' ? 'is not a file' : `cannot be read (${(e as Error).message})`;
    throw problemsError(MantaErrorCodes.PathNotFound, 'config file not found', [
      { path: '/configPath', rule: 'exists', message: `params.configPath ${configPath} ${why}` },
    ]);
  }
}

/** A config file over limits.maxConfigBytes is refused before it is read. */
function configTooLarge(configPath: string, size: number): ResponseError<MantaErrorData> {
  return problemsError(MantaErrorCodes.InvalidParams, 'config file too large', [
    { path: '/configPath', rule: 'maxConfigBytes', message: `params.configPath ${configPath} is ${formatBytes(size)} (${size} bytes), over the daemon's limit of ${formatBytes(limits.maxConfigBytes)} for a config file (maxConfigBytes)` },
  ]);
}

/** schemas/'s refusal of a config as the daemon's JSON-RPC error: InvalidConfig, or PathNotFound for dataset files. */
export function configRefusal(e: ConfigError, lead = e.lead): ResponseError<MantaErrorData> {
  const code = e.reason === 'config.missing-files' ? MantaErrorCodes.PathNotFound : MantaErrorCodes.InvalidConfig;
  return problemsError(code, lead, e.problems.map(({ path: p, rule, message }) => ({ path: p, rule, message })));
}

/**
 * The config through schemas/'s one path (syntax, schema with defaults, checks across fields); a refusal becomes
 * the daemon's InvalidConfig error listing every problem. Warnings are returned as sentences.
 */
export function checkedConfig(input: ConfigInput): { config: ResolvedConfig; value: unknown; warnings: string[] } {
  try {
    const { config, value, warnings } = resolveConfig(input);
    return { config, value, warnings: warnings.map((w) => w.message) };
  } catch (e) {
    throw isConfigError(e) ? configRefusal(e) : e;
  }
}

/**
 * The runs folder must be one the daemon's user can create runs in: its nearest existing folder (itself, once made)
 * must be a folder this user may write and enter. Refused with UserError, reason 'run.runs-dir-not-writable'.
 */
async function checkRunsDirWritable(runsDir: string): Promise<void> {
  let dir = runsDir;
  let stat: import('node:fs').Stats | undefined;
  for (;;) {
    stat = await fs.stat(dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined;
      throw e;
    });
    if (stat || path.dirname(dir) === dir) break;
    dir = path.dirname(dir);
  }
  const where = dir === runsDir ? runsDir : `${runsDir} (its nearest existing part, ${dir},`;
  let why: string | undefined;
  if (!stat) why = `${runsDir} cannot be created: no part of it exists`;
  else if (!stat.isDirectory()) why = `${where} is not a folder${dir === runsDir ? '' : ')'}`;
  else if (!(await fs.access(dir, fsc.W_OK | fsc.X_OK).then(() => true, () => false))) why = `${where} is not writable by the daemon's user${dir === runsDir ? '' : ')'}`;
  if (!why) return;
  const problems: ParamProblem[] = [{ path: '/output/runsDir', rule: 'writable', message: `the config's runs folder (/output/runsDir): ${why}; choose another output.runsDir or fix its permissions` }];
  throw new ResponseError<MantaErrorData>(MantaErrorCodes.UserError, `runs folder not writable: ${problems[0].message} [writable]`, { problems, reason: 'run.runs-dir-not-writable' });
}

/** What `inspectRun` found: the run when every check passed, else each failed check's refusal. */
export interface RunInspection {
  prepared?: PreparedRun;
  /** In the order manta/startRun reports them (it answers with the first). */
  refusals: ResponseError<MantaErrorData>[];
  /** Cross-field warnings (empty when the config itself was refused). */
  warnings: string[];
}

/**
 * Every check of `manta/startRun`, refusing nothing but a request of the wrong shape (InvalidParams naming `method`):
 * where the config comes from and the config itself come first (nothing after them can be checked without a
 * config); then the runs folder (allowed roots, writable) and the dataset paths, each checked whatever the others found.
 */
export async function inspectRun(params: CheckConfigParams, allowedRoots: readonly string[], method: string = Methods.startRun): Promise<RunInspection> {
  // Where the config comes from: an object with its folder, or a file.
  const shape: ParamProblem[] = [];
  const hasObject = params.config !== undefined || params.configDir !== undefined;
  if (hasObject && params.configPath !== undefined) {
    shape.push({ path: '/configPath', rule: 'oneOf', message: 'give either params.config with params.configDir, or params.configPath, not both' });
  } else if (!hasObject && params.configPath === undefined) {
    shape.push({ path: '', rule: 'oneOf', message: 'params needs params.config with params.configDir, or params.configPath' });
  } else if (hasObject) {
    if (params.config === undefined) shape.push({ path: '/config', rule: 'required', message: "params is missing required property 'config' (it has configDir)" });
    if (params.configDir === undefined) shape.push({ path: '/configDir', rule: 'required', message: "params is missing required property 'configDir' (relative paths of the config resolve against it)" });
  }
  const configPath = params.configPath !== undefined ? absolute(params.configPath, 'configPath', shape) : undefined;
  let configDir = params.configDir !== undefined ? absolute(params.configDir, 'configDir', shape) : undefined;
  if (shape.length > 0) throw invalidParams(method, shape);

  const refusals: ResponseError<MantaErrorData>[] = [];
  const refused = (e: unknown): void => {
    if (!(e instanceof ResponseError)) throw e;
    refusals.push(e as ResponseError<MantaErrorData>);
  };
  let checked: ReturnType<typeof checkedConfig>;
  const source = configPath ?? 'params.config';
  try {
    // Reading the config (and its dataset) is not confined: the client is the daemon's own user (see roots.ts).
    if (configPath) {
      configDir = path.dirname(configPath);
    } else {
      const stat = await fs.stat(configDir!).catch(() => undefined);
      if (!stat?.isDirectory()) {
        throw problemsError(MantaErrorCodes.PathNotFound, 'config folder not found', [
          { path: '/configDir', rule: 'exists', message: `params.configDir ${configDir} is not an existing folder` },
        ]);
      }
    }
    checked = checkedConfig(configPath ? { text: await readConfigFile(configPath), source } : { value: params.config, source });
  } catch (e) {
    refused(e);
    return { refusals, warnings: [] };
  }
  const { config, value: submitted, warnings } = checked;

  // Where its runs go: inside the config's folder or an allowed root, and writable there. The dataset paths must exist.
  const runsDir = path.resolve(configDir!, config.output.runsDir);
  try {
    checkWritePath(runsDir, '/output/runsDir', "the config's runs folder (/output/runsDir)", [{ label: "the config's folder", dir: configDir! }], allowedRoots);
    await checkRunsDirWritable(runsDir);
  } catch (e) {
    refused(e);
  }
  try {
    checkDataFiles(config, configDir!, source);
  } catch (e) {
    refused(isConfigError(e) ? configRefusal(e) : e);
  }
  if (refusals.length > 0) return { refusals, warnings };
  return { prepared: { submitted, config, configDir: configDir!, configPath, runsDir, warnings }, refusals, warnings };
}

/** The checks of `inspectRun`; the first refusal is thrown. */
export async function prepareRun(params: StartRunParams, allowedRoots: readonly string[]): Promise<PreparedRun> {
  const inspected = await inspectRun(params, allowedRoots);
  if (!inspected.prepared) throw inspected.refusals[0];
  return inspected.prepared;
}
