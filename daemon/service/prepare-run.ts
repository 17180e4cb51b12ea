// What `manta/startRun` checks before anything is created: where the config comes from, the config itself (through
// schemas/load-config.ts, the one config path the CLI shares: syntax, schema and cross-field checks, every problem
// at once), and every path it names (inside the allowed roots — the daemon's own policy — then existing).
// Each failure is a JSON-RPC error whose message lists the problems and whose data holds them.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ResponseError } from 'vscode-jsonrpc/node';
import type { ResolvedConfig } from '../../schemas';
import { configPaths } from '../../schemas/checks';
import { checkDataFiles, isConfigError, resolveConfig, type ConfigError, type ConfigInput } from '../../schemas/load-config';
import { MantaErrorCodes, type MantaErrorData, type ParamProblem } from '../protocol/errors';
import type { StartRunParams } from '../protocol/methods';
import { invalidParams, problemsError } from './params';
import { insideRoots } from './roots';

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

function outsideRootsError(problems: ParamProblem[]): ResponseError<MantaErrorData> {
  return problemsError(MantaErrorCodes.PathOutsideRoots, 'path outside the allowed roots', problems);
}

/** Checks that a path given in a request lies in one of `roots` (no check when there are none). */
export function checkRequestPath(p: string, field: string, roots: readonly string[]): void {
  if (roots.length > 0 && !insideRoots(p, roots)) {
    throw outsideRootsError([
      { path: `/${field}`, rule: 'allowedRoots', message: `params.${field} ${p} is outside the allowed roots (${roots.join(', ')}); move it inside or start the daemon with --allow-roots` },
    ]);
  }
}

async function readConfigFile(configPath: string): Promise<string> {
  try {
    const stat = await fs.stat(configPath);
    if (!stat.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOTFILE' });
    return await fs.readFile(configPath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'ENOTFILE' ? 'is not a file' : `cannot be read (${(e as Error).message})`;
    throw problemsError(MantaErrorCodes.PathNotFound, 'config file not found', [
      { path: '/configPath', rule: 'exists', message: `params.configPath ${configPath} ${why}` },
    ]);
  }
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

export async function prepareRun(params: StartRunParams, allowedRoots: readonly string[]): Promise<PreparedRun> {
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
  if (shape.length > 0) throw invalidParams('manta/startRun', shape);

  if (configPath) {
    checkRequestPath(configPath, 'configPath', allowedRoots);
    configDir = path.dirname(configPath);
  } else {
    checkRequestPath(configDir!, 'configDir', allowedRoots);
    const stat = await fs.stat(configDir!).catch(() => undefined);
    if (!stat?.isDirectory()) {
      throw problemsError(MantaErrorCodes.PathNotFound, 'config folder not found', [
        { path: '/configDir', rule: 'exists', message: `params.configDir ${configDir} is not an existing folder` },
      ]);
    }
  }
  const source = configPath ?? 'params.config';
  const { config, value: submitted, warnings } = checkedConfig(configPath ? { text: await readConfigFile(configPath), source } : { value: params.config, source });

  // Paths: inside the config's folder or an allowed root, then existing.
  const roots = [configDir!, ...allowedRoots];
  const runsDir = path.resolve(configDir!, config.output.runsDir);
  const outside: ParamProblem[] = [];
  for (const p of [...configPaths(config), { path: '/output/runsDir', value: config.output.runsDir }]) {
    const full = path.resolve(configDir!, p.value);
    if (!insideRoots(full, roots)) {
      outside.push({ path: p.path, rule: 'allowedRoots', message: `${p.path} ${full} is outside the config's folder ${configDir} and the daemon's allowed roots${allowedRoots.length ? ` (${allowedRoots.join(', ')})` : ''}` });
    }
  }
  if (outside.length > 0) throw outsideRootsError(outside);
  try {
    checkDataFiles(config, configDir!, source);
  } catch (e) {
    throw isConfigError(e) ? configRefusal(e) : e;
  }
  return { submitted, config, configDir: configDir!, configPath, runsDir, warnings };
}
