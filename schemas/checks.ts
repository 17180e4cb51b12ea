// Checks across fields that a JSON Schema cannot express. Pure functions of a resolved config: the daemon rejects a
// config with errors; the language server shows every problem at its field. File checks are separate (they touch
// the disk) in `checkConfigFiles`.
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { ResolvedConfig } from './config.generated';

export interface CrossFieldProblem {
  path: string;
  rule: string;
  message: string;
  severity: 'error' | 'warning';
}

function ascending(list: readonly number[]): boolean {
  return list.every((v, i) => i === 0 || list[i - 1] < v);
}

const choiceLists = ['kernelChoices', 'expandChoices', 'depthChoices', 'widthChoices', 'resolutionChoices'] as const;
const phaseLists = {
  kernel: 'kernelChoices',
  expand: 'expandChoices',
  depth: 'depthChoices',
  width: 'widthChoices',
  resolution: 'resolutionChoices',
} as const;

/** Total down-sampling of the classification supernet: stem × first block × every unit's stride. */
export function totalStride(config: ResolvedConfig): number {
  const s = config.supernet;
  return s.stem.stride * s.firstBlock.stride * s.units.reduce((p, u) => p * u.stride, 1);
}

export function checkConfig(config: ResolvedConfig): CrossFieldProblem[] {
  const problems: CrossFieldProblem[] = [];
  const s = config.supernet;
  for (const name of choiceLists) {
    const list = s[name] as number[];
    if (!ascending(list)) {
      problems.push({ path: `/supernet/${name}`, rule: 'ascending', severity: 'error', message: `/supernet/${name} must be in ascending order without repeats, e.g. ${JSON.stringify([...new Set(list)].sort((a, b) => a - b))}` });
    }
  }
  if (Math.max(...s.widthChoices) !== 1) {
    problems.push({ path: '/supernet/widthChoices', rule: 'largest-is-one', severity: 'error', message: '/supernet/widthChoices must include 1 (the full-width supernet) as its largest value' });
  }
  const stride = totalStride(config);
  s.resolutionChoices.forEach((r, i) => {
    if (r < stride) {
      problems.push({ path: `/supernet/resolutionChoices/${i}`, rule: 'resolution-vs-strides', severity: 'warning', message: `resolution ${r} is smaller than the supernet's total stride ${stride}: feature maps shrink to 1×1 before the last unit, whose stride then does nothing; use at least ${stride} or lower some unit strides` });
    }
  });
  config.training.phases.forEach((phase, i) => {
    for (const [key, listName] of Object.entries(phaseLists) as [keyof typeof phaseLists, (typeof phaseLists)[keyof typeof phaseLists]][]) {
      const chosen = phase[key];
      if (!chosen) continue;
      const allowed = s[listName] as number[];
      chosen.forEach((v, j) => {
        if (!allowed.includes(v)) {
          problems.push({ path: `/training/phases/${i}/${key}/${j}`, rule: 'subset', severity: 'error', message: `${key} ${v} of phase ${i + 1} ('${phase.phase}') is not one of /supernet/${listName} ${JSON.stringify(allowed)}` });
        }
      });
    }
  });
  const first = config.training.phases[0];
  if (first && first.phase !== 'largest') {
    problems.push({ path: '/training/phases/0/phase', rule: 'largest-first', severity: 'warning', message: "progressive shrinking starts by training the largest network: the first phase is usually 'largest'" });
  }
  problems.push(...checkDistributed(config));
  problems.push(...checkTaskShape(config));
  if (config.task === 'stereo') return problems;
  const d = config.data;
  const imageSize = d.kind === 'synthetic' || d.kind === 'folder' ? d.imageSize : d.kind === 'idx' ? 28 : 32;
  const maxRes = Math.max(...s.resolutionChoices);
  if (maxRes > imageSize) {
    problems.push({ path: '/supernet/resolutionChoices', rule: 'upsampling', severity: 'warning', message: `the largest resolution ${maxRes} is above the images' size ${imageSize}: images will be upsampled` });
  }
  return problems;
}

/** Every stereo pair side is a multiple of this: six units each halve the resolution. */
export const STEREO_SIZE_MULTIPLE = 64;

/** The task against its data kind and supernet shape (five units for classification, six for stereo, …). */
function checkTaskShape(config: ResolvedConfig): CrossFieldProblem[] {
  const problems: CrossFieldProblem[] = [];
  const s = config.supernet;
  const d = config.data;
  const stereoData = d.kind === 'stereo-synthetic' || d.kind === 'stereo-folder';
  const error = (path: string, rule: string, message: string): void => {
    problems.push({ path, rule, severity: 'error', message });
  };
  if (config.task === 'classification') {
    if (stereoData) error('/data/kind', 'task-data', `data kind '${d.kind}' holds stereo pairs; task 'classification' needs images with labels ('synthetic', 'idx', 'cifar10', 'folder'), or set "task": "stereo"`);
    if (s.units.length !== 5) error('/supernet/units', 'unit-count', `task 'classification' has five searchable units; /supernet/units has ${s.units.length}`);
    return problems;
  }
  if (!stereoData) error('/data/kind', 'task-data', `task 'stereo' reads stereo pairs: set /data/kind to 'stereo-synthetic' (generated) or 'stereo-folder' (files), not '${d.kind}'`);
  if (s.units.length !== 6) error('/supernet/units', 'unit-count', `task 'stereo' has six searchable units (three siamese, three after the correlation); /supernet/units has ${s.units.length}`);
  s.units.forEach((u, i) => {
    if (u.stride !== 2) error(`/supernet/units/${i}/stride`, 'stereo-stride', `every stereo unit halves the resolution (the decoder's U-links join them scale by scale): stride must be 2, not ${u.stride}`);
  });
  if (s.stem.stride !== 1) error('/supernet/stem/stride', 'stereo-stride', 'the stereo stem runs at full resolution (its features are the last U-link): set /supernet/stem/stride to 1');
  if (s.resolutionChoices.length > 1) {
    problems.push({ path: '/supernet/resolutionChoices', rule: 'stereo-resolution', severity: 'warning', message: 'stereo subnets see pairs at their own size (resizing would rescale the disparities): /supernet/resolutionChoices is not searched; leave one entry' });
  }
  const st = s.stereo;
  if (st.maxDisplacement % st.correlationStride !== 0) {
    error('/supernet/stereo/correlationStride', 'divides', `the correlation stride ${st.correlationStride} must divide /supernet/stereo/maxDisplacement ${st.maxDisplacement}`);
  }
  const sizes: [string, number][] = [];
  if (d.kind === 'stereo-synthetic') sizes.push(['/data/width', d.width], ['/data/height', d.height]);
  if (d.kind === 'stereo-folder') sizes.push(['/data/evaluationWidth', d.evaluationWidth], ['/data/evaluationHeight', d.evaluationHeight]);
  if (stereoData && 'augmentation' in d) sizes.push(['/data/augmentation/cropWidth', d.augmentation.cropWidth], ['/data/augmentation/cropHeight', d.augmentation.cropHeight]);
  for (const [path, v] of sizes) {
    if (v % STEREO_SIZE_MULTIPLE !== 0) {
      const lower = Math.floor(v / STEREO_SIZE_MULTIPLE) * STEREO_SIZE_MULTIPLE;
      error(path, 'stereo-size', `${path} ${v} must be a multiple of ${STEREO_SIZE_MULTIPLE} (six units each halve the resolution): use ${lower > 0 ? `${lower} or ` : ''}${lower + STEREO_SIZE_MULTIPLE}`);
    }
  }
  if (d.kind === 'stereo-synthetic') {
    const c = d.augmentation;
    if (c.cropWidth > d.width || c.cropHeight > d.height) error('/data/augmentation', 'crop-size', `the training crop ${c.cropWidth}×${c.cropHeight} is larger than the pairs (${d.width}×${d.height})`);
    const reach = st.maxDisplacement * 2 ** st.correlationUnit;
    if (reach < d.maxDisparity) {
      problems.push({ path: '/supernet/stereo/maxDisplacement', rule: 'correlation-reach', severity: 'warning', message: `the correlation reaches ${reach} px at full resolution (${st.maxDisplacement} × 2^${st.correlationUnit}) but disparities go up to ${d.maxDisparity} px: raise maxDisplacement to ${Math.ceil(d.maxDisparity / 2 ** st.correlationUnit)}` });
    }
  }
  return problems;
}

/**
 * The distributed section against the batch: every worker trains an equal shard of the global batch, and every node
 * has the same number of workers (so that the mean over nodes of node means is the mean over workers).
 */
function checkDistributed(config: ResolvedConfig): CrossFieldProblem[] {
  const problems: CrossFieldProblem[] = [];
  const { workersPerHost: workers, nodesPerHost: nodes, algorithm } = config.distributed;
  const batch = config.training.batchSize;
  if (typeof workers === 'number') {
    if (batch % workers !== 0) {
      problems.push({ path: '/distributed/workersPerHost', rule: 'batch-divisible', severity: 'error', message: `the batch (/training/batchSize ${batch}) is split evenly across workers: ${workers} workers do not divide it; use ${divisorsUpTo(batch, workers).join(', ')} workers, or a batch that ${workers} divides` });
    }
    if (workers % nodes !== 0) {
      problems.push({ path: '/distributed/nodesPerHost', rule: 'nodes-divide-workers', severity: 'error', message: `${nodes} nodes per host do not divide ${workers} workers per host; every node needs the same number of workers` });
    }
  } else if (nodes > 1 && batch % nodes !== 0) {
    problems.push({ path: '/distributed/nodesPerHost', rule: 'batch-divisible', severity: 'error', message: `${nodes} nodes per host cannot share the batch (/training/batchSize ${batch}) evenly` });
  }
  if (algorithm === 'data-parallel' && nodes > 1) {
    problems.push({ path: '/distributed/nodesPerHost', rule: 'nodes-unused', severity: 'warning', message: "nodes per host matter only to 'subnet-parallel'; 'data-parallel' trains the same subnets on every worker" });
  }
  return problems;
}

function divisorsUpTo(n: number, max: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= max; d++) if (n % d === 0) out.push(d);
  return out;
}

/** Dataset paths of a config, as (JSON pointer, path relative to the config file, expected kind). */
export function configPaths(config: Pick<ResolvedConfig, 'data'>): { path: string; value: string; kind: 'file' | 'dir' }[] {
  const d = config.data;
  switch (d.kind) {
    case 'synthetic':
      return [];
    case 'idx':
      return (['trainImages', 'trainLabels', 'testImages', 'testLabels'] as const).map((k) => ({ path: `/data/${k}`, value: d[k], kind: 'file' as const }));
    case 'cifar10':
      return [{ path: '/data/dir', value: d.dir, kind: 'dir' }];
    case 'folder':
      return [
        { path: '/data/train', value: d.train, kind: 'dir' as const },
        ...(d.test ? [{ path: '/data/test', value: d.test, kind: 'dir' as const }] : []),
      ];
    case 'stereo-synthetic':
      return [];
    case 'stereo-folder':
      return [
        { path: '/data/path', value: d.path, kind: 'dir' as const },
        ...(d.test ? [{ path: '/data/test', value: d.test, kind: 'dir' as const }] : []),
      ];
  }
}

/** Checks that the dataset paths exist, relative to the config file's directory. */
export function checkConfigFiles(config: Pick<ResolvedConfig, 'data'>, baseDir: string): CrossFieldProblem[] {
  const problems: CrossFieldProblem[] = [];
  for (const p of configPaths(config)) {
    const full = isAbsolute(p.value) ? p.value : resolve(baseDir, p.value);
    if (!existsSync(full)) {
      problems.push({ path: p.path, rule: 'exists', severity: 'error', message: `${p.value} does not exist (looked at ${full})` });
    } else if (p.kind === 'dir' && !statSync(full).isDirectory()) {
      problems.push({ path: p.path, rule: 'is-directory', severity: 'error', message: `${p.value} is not a directory` });
    } else if (p.kind === 'file' && !statSync(full).isFile()) {
      problems.push({ path: p.path, rule: 'is-file', severity: 'error', message: `${p.value} is not a file` });
    }
  }
  return problems;
}
