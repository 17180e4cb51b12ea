// Runtime checks of webview → extension messages (webview.ts types them; a page is not to be trusted with the types:
// it may be an older page, a foreign one, or script injected into it). One small hand-written guard per command,
// for every command of MonitorCommands and VisualizerCommands (the `CommandGuards` types make a missing one a compile
// error); each answers the first problem with its path (`params.selected[2].runId is not a string`) or nothing. The
// panels drop a malformed message and log that reason; nothing throws. Plain TypeScript: no dependency, so the
// extension bundle stays small and the webviews could use it too.
import type { MonitorCommands, VisualizerCommands, WebviewMessage } from './webview';

/** Checks one value: undefined when it is fine, else what is wrong, naming `path`. */
export type Check = (value: unknown, path: string) => string | undefined;

/** A guard per command of a webview → extension protocol. */
export type CommandGuards<M> = { readonly [K in keyof M]: Check };

/** What checkWebviewCommand answers. */
export type CommandCheck<M> = { ok: true; message: WebviewMessage<M> } | { ok: false; reason: string };

/** Longest string a page may send where a name or id is expected. */
const MAX_NAME = 1024;
/** Largest file content a page may hand over for saving (a PNG of a chart as base64, a CSV of a long run). */
export const MAX_SAVE_FILE_CHARS = 64 * 1024 * 1024;
/** Most runs the monitor shows at once (one focused, the others overlaid). */
export const MAX_SELECTED_RUNS = 64;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const str =
  (opts: { min?: number; max?: number } = {}): Check =>
  (v, p) => {
    if (typeof v !== 'string') return `${p} is not a string`;
    if (v.length < (opts.min ?? 0)) return `${p} is shorter than ${opts.min}`;
    if (v.length > (opts.max ?? MAX_NAME)) return `${p} is longer than ${opts.max ?? MAX_NAME} characters`;
    return undefined;
  };

const num =
  (opts: { integer?: boolean; min?: number; max?: number; exclusiveMin?: number } = {}): Check =>
  (v, p) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return `${p} is not a finite number`;
    if (opts.integer && !Number.isInteger(v)) return `${p} is not an integer`;
    if (opts.min !== undefined && v < opts.min) return `${p} is below ${opts.min}`;
    if (opts.exclusiveMin !== undefined && v <= opts.exclusiveMin) return `${p} is not above ${opts.exclusiveMin}`;
    if (opts.max !== undefined && v > opts.max) return `${p} is above ${opts.max}`;
    return undefined;
  };

const bool: Check = (v, p) => (typeof v === 'boolean' ? undefined : `${p} is not a boolean`);

const oneOf =
  (...values: readonly string[]): Check =>
  (v, p) =>
    typeof v === 'string' && values.includes(v) ? undefined : `${p} is not one of ${values.join(', ')}`;

const arrayOf =
  (item: Check, opts: { min?: number; max: number }): Check =>
  (v, p) => {
    if (!Array.isArray(v)) return `${p} is not an array`;
    if (v.length < (opts.min ?? 0)) return `${p} has fewer than ${opts.min} items`;
    if (v.length > opts.max) return `${p} has more than ${opts.max} items`;
    for (let i = 0; i < v.length; i++) {
      const problem = item(v[i], `${p}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  };

/** An object with these required and optional properties and no others. */
const object =
  (required: Record<string, Check>, optional: Record<string, Check> = {}): Check =>
  (v, p) => {
    if (!isRecord(v)) return `${p} is not an object`;
    for (const key of Object.keys(v)) {
      if (!Object.prototype.hasOwnProperty.call(required, key) && !Object.prototype.hasOwnProperty.call(optional, key)) return `${p} has an unknown property '${key.slice(0, 64)}'`;
    }
    for (const [key, check] of Object.entries(required)) {
      if (!Object.prototype.hasOwnProperty.call(v, key)) return `${p}.${key} is missing`;
      const problem = check(v[key], `${p}.${key}`);
      if (problem) return problem;
    }
    for (const [key, check] of Object.entries(optional)) {
      if (!Object.prototype.hasOwnProperty.call(v, key) || v[key] === undefined) continue;
      const problem = check(v[key], `${p}.${key}`);
      if (problem) return problem;
    }
    return undefined;
  };

// ——— the values commands carry (bounds as in params-schemas.ts) ———

const runId = str({ min: 1, max: 128 });
const runKey = object({ hostId: str({ min: 1, max: 256 }), runId });
const arch = object({
  ks: arrayOf(num({ integer: true, min: 0, max: 15 }), { min: 1, max: 256 }),
  e: arrayOf(num({ min: 0, max: 16 }), { min: 1, max: 256 }),
  d: arrayOf(num({ integer: true, min: 0, max: 64 }), { min: 1, max: 256 }),
  r: num({ integer: true, min: 1, max: 4096 }),
  w: num({ exclusiveMin: 0, max: 1 }),
});
/** A task's metric (accuracy for classification; another task may report another scale). */
const accuracy = num();
const paretoPoint = object(
  { arch, macs: num({ min: 0 }), params: num({ min: 0 }), predictedAccuracy: accuracy },
  { latencyMs: num({ min: 0 }), validationAccuracy: accuracy, testAccuracy: accuracy },
);
const empty = object({});

/** A bare file name: the save dialog's default, never a path (no separators, not `.` or `..`, no NUL). */
const fileName: Check = (v, p) => {
  const problem = str({ min: 1, max: 255 })(v, p);
  if (problem) return problem;
  const s = v as string;
  if (/[/\\\0]/.test(s) || s === '.' || s === '..') return `${p} is not a plain file name`;
  return undefined;
};

const saveFile: Check = (v, p) => {
  const problem = object({ suggestedName: fileName, encoding: oneOf('base64', 'utf8'), content: str({ max: MAX_SAVE_FILE_CHARS }) })(v, p);
  if (problem) return problem;
  const { encoding, content } = v as { encoding: string; content: string };
  if (encoding === 'base64' && !/^[A-Za-z0-9+/]*={0,2}$/.test(content)) return `${p}.content is not base64`;
  return undefined;
};

export const MONITOR_COMMAND_GUARDS: CommandGuards<MonitorCommands> = {
  'core/ready': empty,
  'monitor/selectRuns': object({ selected: arrayOf(runKey, { max: MAX_SELECTED_RUNS }) }),
  'monitor/showSubnet': object({ runId, point: paretoPoint, index: num({ integer: true, min: 0 }) }),
  'core/saveFile': saveFile,
};

export const VISUALIZER_COMMAND_GUARDS: CommandGuards<VisualizerCommands> = {
  'core/ready': empty,
  'visualizer/follow': object({ followTraining: bool }),
  'core/saveFile': saveFile,
};

/**
 * Checks a message from a page against a protocol's guards: the envelope (`method`, `params`, `time`, nothing else)
 * and the params of its method. Never throws.
 */
export function checkWebviewCommand<M>(guards: CommandGuards<M>, value: unknown): CommandCheck<M> {
  try {
    if (!isRecord(value)) return { ok: false, reason: 'the message is not an object' };
    const { method } = value;
    if (typeof method !== 'string') return { ok: false, reason: 'the message has no method' };
    const shown = JSON.stringify(method.slice(0, 64));
    if (!Object.prototype.hasOwnProperty.call(guards, method)) return { ok: false, reason: `unknown method ${shown}` };
    const envelope = object({ method: str(), params: () => undefined, time: num({ min: 0 }) })(value, 'message');
    if (envelope) return { ok: false, reason: `${shown}: ${envelope}` };
    if (!Object.prototype.hasOwnProperty.call(value, 'params')) return { ok: false, reason: `${shown}: message.params is missing` };
    const problem = (guards[method as keyof M] as Check)(value.params, 'params');
    if (problem) return { ok: false, reason: `${shown}: ${problem}` };
    return { ok: true, message: value as unknown as WebviewMessage<M> };
  } catch (e) {
    // A getter or a proxy cannot come through postMessage (structured clone), but never let a check throw.
    return { ok: false, reason: `the message could not be checked: ${(e as Error)?.message ?? String(e)}` };
  }
}
