// The editor's own checks across fields, beyond the ones the daemon enforces (schemas/checks.ts, run by diagnose.ts
// on every valid config): habits and likely mistakes that deserve a warning while typing, and that work on a config
// the schema still rejects. Also the quick fixes, as plain data, for the daemon's rules. Pure functions of the parsed
// config; the file system only through an injected probe.
import { configSchema } from '../../schemas';

export type Severity = 'error' | 'warning' | 'info';

/** A fix as data: replace the value at `path`, or rename the property at `path` to `to`. */
export type ConfigFix =
  | { kind: 'replace'; title: string; path: string; value: unknown }
  | { kind: 'renameKey'; title: string; path: string; to: string };

export interface ConfigCheck {
  path: string;
  rule: string;
  message: string;
  severity: Severity;
  fixes?: ConfigFix[];
  /** Highlight the property's name rather than its value. */
  atKey?: boolean;
}

/** What the checks may ask of the file system (absolute paths); injected so the checks stay pure. */
export interface FileProbe {
  kind(absolutePath: string): 'file' | 'dir' | undefined;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const numberList = (v: unknown): number[] | undefined =>
  Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x)) ? (v as number[]) : undefined;

const definitions = (configSchema as { definitions: Record<string, { properties?: Record<string, { default?: unknown }> }> })
  .definitions;
/** A property's default, read from the schema (the single source), e.g. schemaDefault('SupernetConfig', 'kernelChoices'). */
export function schemaDefault(definition: string, property: string): unknown {
  return definitions[definition]?.properties?.[property]?.default;
}

/** The elastic dimensions: the supernet's choice list and the phase field that samples a subset of it. */
export const DIMENSIONS = [
  { choices: 'kernelChoices', phase: 'kernel', noun: 'kernel sizes' },
  { choices: 'expandChoices', phase: 'expand', noun: 'expand ratios' },
  { choices: 'depthChoices', phase: 'depth', noun: 'depths' },
  { choices: 'widthChoices', phase: 'width', noun: 'width multipliers' },
  { choices: 'resolutionChoices', phase: 'resolution', noun: 'resolutions' },
] as const;

/** The supernet's choice lists with schema defaults for the ones left out (undefined where a list is malformed). */
export function choiceLists(supernet: unknown): Record<(typeof DIMENSIONS)[number]['choices'], number[] | undefined> {
  const s = isObject(supernet) ? supernet : {};
  const pick = (name: string) => numberList(s[name] ?? schemaDefault('SupernetConfig', name));
  return {
    kernelChoices: pick('kernelChoices'),
    expandChoices: pick('expandChoices'),
    depthChoices: pick('depthChoices'),
    widthChoices: pick('widthChoices'),
    resolutionChoices: pick('resolutionChoices'),
  };
}

/** Product of every stride before the classifier: stem, first block and the five units. */
export function totalStride(supernet: unknown): number {
  const s = isObject(supernet) ? supernet : {};
  const strideOf = (v: unknown, def: unknown): number => {
    const own = isObject(v) ? v.stride : undefined;
    const x = typeof own === 'number' ? own : def;
    return typeof x === 'number' && x > 0 ? x : 1;
  };
  let stride = strideOf(s.stem, schemaDefault('Stem', 'stride')) * strideOf(s.firstBlock, schemaDefault('FirstBlock', 'stride'));
  if (Array.isArray(s.units)) for (const u of s.units) stride *= strideOf(u, schemaDefault('Unit', 'stride'));
  return stride;
}

const isSortedAscending = (xs: number[]) => xs.every((x, i) => i === 0 || xs[i - 1] < x);
const ascending = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);

function checkSorted(list: number[], path: string, noun: string, out: ConfigCheck[]): void {
  if (isSortedAscending(list)) return;
  out.push({
    path,
    rule: 'ascending',
    severity: 'warning',
    message: `${path}: ${noun} are easier to read in ascending order without repeats`,
    fixes: [{ kind: 'replace', title: `Sort ${noun} ascending`, path, value: ascending(list) }],
  });
}

/**
 * Resolutions at least the total stride but not a multiple of it (the daemon's rule covers the ones below it). Only
 * information: a stride-2 layer pads an odd feature map by one on one side, which is harmless — OFA's own resolution
 * list (128 … 224 in steps of 4, total stride 32) is mostly such resolutions, as is Fashion-MNIST's 28 at stride 16.
 */
function checkResolutionMultiples(list: number[], path: string, stride: number, out: ConfigCheck[]): void {
  list.forEach((r, i) => {
    if (r < stride || r % stride === 0) return;
    const at = `${path}/${i}`;
    const nearest = Math.max(stride, Math.round(r / stride) * stride);
    out.push({
      path: at,
      rule: 'resolution-multiple',
      severity: 'info',
      message: `${at}: resolution ${r} is not a multiple of the total stride ${stride}; feature maps are padded unevenly`,
      fixes: [{ kind: 'replace', title: `Use ${nearest} (a multiple of the total stride ${stride})`, path: at, value: nearest }],
    });
  });
}

/** Image channels a dataset kind delivers (undefined when only the files know). */
function datasetChannels(data: Json): number | undefined {
  if (data.kind === 'synthetic') return typeof data.channels === 'number' ? data.channels : (schemaDefault('SyntheticData', 'channels') as number);
  if (data.kind === 'cifar10' || data.kind === 'folder') return 3;
  if (data.kind === 'idx') return 1;
  return undefined;
}

function joinPath(dir: string, p: string): string {
  if (p.startsWith('/')) return p;
  return (dir.endsWith('/') ? dir : dir + '/') + p;
}

function checkData(data: unknown, configDir: string | undefined, probe: FileProbe | undefined, out: ConfigCheck[]): void {
  if (!isObject(data) || typeof data.kind !== 'string') return;
  if (data.kind === 'cifar10' && typeof data.dir === 'string' && configDir !== undefined && probe) {
    const abs = joinPath(configDir, data.dir);
    if (probe.kind(abs) === 'dir' && probe.kind(joinPath(abs, 'data_batch_1.bin')) !== 'file') {
      out.push({ path: '/data/dir', rule: 'cifar10-batches', severity: 'warning', message: `/data/dir: '${data.dir}' holds no data_batch_1.bin; CIFAR-10's binary version is expected there` });
    }
  }
  const norm = data.normalization;
  if (isObject(norm)) {
    const mean = numberList(norm.mean);
    const std = numberList(norm.std);
    if (mean && std && mean.length !== std.length) {
      out.push({ path: '/data/normalization/std', rule: 'normalization-channels', severity: 'error', message: `/data/normalization: mean has ${mean.length} values but std has ${std.length}` });
    }
    const channels = datasetChannels(data);
    for (const [name, list] of [['mean', mean], ['std', std]] as const) {
      if (list && channels !== undefined && list.length !== 1 && list.length !== channels) {
        out.push({
          path: `/data/normalization/${name}`,
          rule: 'normalization-channels',
          severity: 'error',
          message: `/data/normalization/${name}: ${list.length} values for ${channels}-channel images; give 1 or ${channels}`,
        });
      }
    }
  }
}

function checkPhases(config: Json, choices: ReturnType<typeof choiceLists>, stride: number, out: ConfigCheck[]): void {
  const training = config.training;
  if (!isObject(training) || !Array.isArray(training.phases)) return;
  training.phases.forEach((phase: unknown, i: number) => {
    if (!isObject(phase)) return;
    const base = `/training/phases/${i}`;
    for (const dim of DIMENSIONS) {
      const listed = phase[dim.phase];
      const list = numberList(listed);
      const allowed = choices[dim.choices];
      const path = `${base}/${dim.phase}`;
      if (!list) {
        if (phase.phase === dim.phase && listed === undefined && i > 0) {
          out.push({
            path: `${base}/phase`,
            rule: 'phase-lists-dimension',
            severity: 'warning',
            message: `${base}: a '${dim.phase}' phase that lists no ${dim.noun} samples the same ${dim.noun} as the phase before it`,
            fixes: allowed ? [{ kind: 'replace', title: `Sample every one of the supernet's ${dim.noun}`, path, value: allowed }] : undefined,
          });
        }
        continue;
      }
      checkSorted(list, path, dim.noun, out);
      if (dim.phase === 'resolution') checkResolutionMultiples(list, path, stride, out);
    }
    const epochs = phase.epochs;
    const warmup = phase.warmupEpochs;
    if (typeof epochs === 'number' && typeof warmup === 'number' && warmup >= epochs) {
      out.push({
        path: `${base}/warmupEpochs`,
        rule: 'warmup-within-phase',
        severity: 'warning',
        message: `${base}/warmupEpochs: a warm-up of ${warmup} epochs is not shorter than the phase (${epochs} epochs); the peak learning rate is never reached`,
      });
    }
  });
}

function checkSearch(config: Json, out: ConfigCheck[]): void {
  const search = isObject(config.search) ? config.search : {};
  const measured = typeof search.measuredSubnets === 'number' ? search.measuredSubnets : (schemaDefault('SearchConfig', 'measuredSubnets') as number);
  const predictor = isObject(search.predictor) ? search.predictor : {};
  const heldOut = typeof predictor.heldOut === 'number' ? predictor.heldOut : 0.2;
  if (Math.floor(measured * heldOut) < 5) {
    const path = isObject(search.predictor) && 'heldOut' in predictor ? '/search/predictor/heldOut' : '/search/measuredSubnets';
    out.push({
      path,
      rule: 'held-out-size',
      severity: 'warning',
      message: `${path}: ${measured} measured subnets × ${heldOut} held out leaves ${Math.floor(measured * heldOut)} for the predictor's Kendall's tau; use at least 5`,
    });
  }
  const constraints = isObject(search.constraints) ? search.constraints : {};
  if (search.objective === 'latency' || constraints.maxLatencyMs !== undefined) {
    // An honest note rather than an error: latency comes from a model timed on this host's runtime.
    out.push({
      path: search.objective === 'latency' ? '/search/objective' : '/search/constraints/maxLatencyMs',
      rule: 'latency-table',
      severity: 'info',
      message: 'latency comes from a model fitted to subnets timed on search.latency.runtime on the host that runs the search; it differs between machines',
    });
  }
}

/**
 * The editor's own checks of a parsed (possibly schema-invalid) config. `configDir` (absolute, the config file's
 * folder) and `probe` enable the checks that look at dataset files.
 */
export function editorChecks(value: unknown, configDir?: string, probe?: FileProbe): ConfigCheck[] {
  const out: ConfigCheck[] = [];
  if (!isObject(value)) return out;
  checkData(value.data, configDir, probe, out);
  const supernet = value.supernet;
  const stride = totalStride(supernet);
  const s = isObject(supernet) ? supernet : {};
  const resolutions = numberList(s.resolutionChoices);
  if (resolutions) checkResolutionMultiples(resolutions, '/supernet/resolutionChoices', stride, out);
  checkPhases(value, choiceLists(supernet), stride, out);
  checkSearch(value, out);
  return out;
}

/** A problem the daemon's rules (schemas/checks.ts) report, as diagnose.ts receives it. */
export interface DaemonRuleProblem {
  path: string;
  rule: string;
}

const pointerParts = (p: string) => p.split('/').slice(1);

/** Quick fixes for the daemon's cross-field rules, computed from the config they were found in. */
export function fixesFor(problem: DaemonRuleProblem, value: unknown): ConfigFix[] {
  if (!isObject(value)) return [];
  const s = isObject(value.supernet) ? value.supernet : {};
  const parts = pointerParts(problem.path);
  switch (problem.rule) {
    case 'ascending': {
      const list = numberList(s[parts[1]]);
      return list ? [{ kind: 'replace', title: 'Sort ascending and drop repeats', path: problem.path, value: ascending(list) }] : [];
    }
    case 'largest-is-one': {
      const list = numberList(s.widthChoices);
      return list ? [{ kind: 'replace', title: 'Add the full width 1', path: problem.path, value: ascending([...list.filter((w) => w < 1), 1]) }] : [];
    }
    case 'resolution-vs-strides': {
      const stride = totalStride(s);
      return [{ kind: 'replace', title: `Use ${stride} (the total stride)`, path: problem.path, value: stride }];
    }
    case 'subset': {
      // /training/phases/<i>/<dim>/<j>: drop the value from the phase's list (when something is left).
      const listPath = '/' + parts.slice(0, -1).join('/');
      const phases = isObject(value.training) && Array.isArray(value.training.phases) ? value.training.phases : [];
      const phase = phases[Number(parts[2])];
      const list = isObject(phase) ? numberList(phase[parts[3]]) : undefined;
      const dim = DIMENSIONS.find((d) => d.phase === parts[3]);
      const allowed = dim ? numberList(s[dim.choices] ?? schemaDefault('SupernetConfig', dim.choices)) : undefined;
      const kept = list && allowed ? list.filter((x) => allowed.includes(x)) : [];
      return kept.length > 0 ? [{ kind: 'replace', title: `Keep only ${dim?.noun ?? 'values'} the supernet has`, path: listPath, value: kept }] : [];
    }
    case 'largest-first':
      return [{ kind: 'replace', title: "Make the first phase 'largest'", path: problem.path, value: 'largest' }];
    default:
      return [];
  }
}
