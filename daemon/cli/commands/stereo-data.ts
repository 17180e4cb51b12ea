// `manta stereo-data <folder>`: writes generated stereo pairs as a 'stereo-folder' dataset — left/ and right/ PNG
// views, disparity/ PFM and/or KITTI 16-bit PNG ground truth, names 000000… — to train on or to hand to other tools.
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Rng } from '../../engine/rng';
import { encodeImagePng, encodeKittiDisparity, encodePfm, generateStereoPair, KITTI_MAX_DISPARITY, type StereoPair } from '../../data/stereo';
import { UserError } from '../../protocol/user-error';
import { parseFlags, type Flags } from '../flags';

const USAGE = `usage: manta stereo-data <folder> [--count n] [--width w] [--height h] [--max-disparity d] [--seed s]
       [--channels 1|3] [--format pfm|kitti|both] [--noise sigma] [--integer-disparity] [--force]
  writes <folder>/left/<name>.png, right/<name>.png and disparity/<name>.pfm (kitti: disparity/<name>.png;
  both: PFM in disparity/, KITTI PNG in disparity_kitti/); defaults: 160 pairs of 128×64, max disparity 16, seed 1`;

export type StereoDataFormat = 'pfm' | 'kitti' | 'both';

export interface StereoDataOptions {
  folder: string;
  count: number;
  width: number;
  height: number;
  maxDisparity: number;
  seed: number;
  channels: 1 | 3;
  format: StereoDataFormat;
  /** Sensor noise per view in grey levels (default 2, as the 'stereo-synthetic' data). */
  noise: number;
  /** Integer, fronto-parallel disparities (left(x) = right(x − d) exactly, without noise); otherwise slanted planes too. */
  integerDisparity: boolean;
  /** Write into a non-empty folder (files of the same names are replaced, others stay). */
  force: boolean;
}

const DEFAULTS: Omit<StereoDataOptions, 'folder'> = {
  count: 160,
  width: 128,
  height: 64,
  maxDisparity: 16,
  seed: 1,
  channels: 1,
  format: 'pfm',
  noise: 2,
  integerDisparity: false,
  force: false,
};

/** The generator options of pair `index`: its seed comes from (seed, index), so a longer run keeps the first pairs. */
export function stereoDataPair(o: Omit<StereoDataOptions, 'folder' | 'count' | 'format' | 'force'>, index: number): StereoPair {
  return generateStereoPair({
    width: o.width,
    height: o.height,
    maxDisparity: o.maxDisparity,
    seed: Rng.derive(o.seed, index).nextUint32(),
    channels: o.channels,
    slanted: !o.integerDisparity,
    integerDisparity: o.integerDisparity,
    noise: o.noise,
  });
}

/** The pair's file name stem: 000000, 000001, … (wider when there are more than a million). */
function pairName(index: number, count: number): string {
  return String(index).padStart(Math.max(6, String(count - 1).length), '0');
}

async function checkTarget(folder: string, force: boolean): Promise<void> {
  const s = await stat(folder).catch(() => undefined);
  if (!s) return;
  if (!s.isDirectory()) throw new UserError(`manta stereo-data: ${folder} is a file, not a folder: name a new or empty folder`, 'cli.bad-target');
  const entries = await readdir(folder);
  if (entries.length > 0 && !force) {
    throw new UserError(
      `manta stereo-data: ${folder} is not empty (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}): name a new or empty folder, or pass --force to write into it`,
      'cli.bad-target',
    );
  }
}

/** Generates and writes the pairs; `progress` hears after each pair. */
export async function writeStereoData(o: StereoDataOptions, progress?: (done: number, total: number) => void): Promise<void> {
  if ((o.format === 'kitti' || o.format === 'both') && o.maxDisparity > KITTI_MAX_DISPARITY) {
    throw new UserError(`manta stereo-data: KITTI PNGs hold disparities up to ${KITTI_MAX_DISPARITY}; use --format pfm or --max-disparity ≤ 255`, 'cli.bad-option');
  }
  await checkTarget(o.folder, o.force);
  const dirs = {
    left: path.join(o.folder, 'left'),
    right: path.join(o.folder, 'right'),
    pfm: o.format === 'kitti' ? undefined : path.join(o.folder, 'disparity'),
    kitti: o.format === 'pfm' ? undefined : path.join(o.folder, o.format === 'both' ? 'disparity_kitti' : 'disparity'),
  };
  for (const dir of Object.values(dirs)) if (dir) await mkdir(dir, { recursive: true });
  for (let i = 0; i < o.count; i++) {
    const pair = stereoDataPair(o, i);
    const name = pairName(i, o.count);
    const { width, height, channels } = pair;
    await writeFile(path.join(dirs.left, `${name}.png`), encodeImagePng(width, height, channels, pair.left));
    await writeFile(path.join(dirs.right, `${name}.png`), encodeImagePng(width, height, channels, pair.right));
    if (dirs.pfm) await writeFile(path.join(dirs.pfm, `${name}.pfm`), encodePfm({ width, height, channels: 1, data: pair.disparity }));
    if (dirs.kitti) await writeFile(path.join(dirs.kitti, `${name}.png`), encodeKittiDisparity({ width, height, data: pair.disparity }));
    progress?.(i + 1, o.count);
  }
}

function numberFlag(flags: Flags, name: string, fallback: number, valid: (n: number) => boolean, rule: string): number {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !valid(n)) throw new UserError(`manta stereo-data: --${name} ${String(raw)} must be ${rule}`, 'cli.bad-option');
  return n;
}

function parseOptions(argv: string[]): StereoDataOptions | undefined {
  const flags = parseFlags(
    argv,
    {
      count: 'string',
      width: 'string',
      height: 'string',
      'max-disparity': 'string',
      seed: 'string',
      channels: 'string',
      format: 'string',
      noise: 'string',
      'integer-disparity': 'boolean',
      force: 'boolean',
      help: 'boolean',
    },
    'manta stereo-data',
  );
  if (flags.help || flags._.length !== 1) return undefined;
  const positiveInt = (n: number): boolean => Number.isInteger(n) && n >= 1;
  const format = flags.format ?? DEFAULTS.format;
  if (format !== 'pfm' && format !== 'kitti' && format !== 'both') throw new UserError(`manta stereo-data: --format ${String(format)} must be pfm, kitti or both`, 'cli.bad-option');
  const integerDisparity = flags['integer-disparity'] === true;
  return {
    folder: path.resolve(flags._[0]),
    count: numberFlag(flags, 'count', DEFAULTS.count, positiveInt, 'a positive integer'),
    width: numberFlag(flags, 'width', DEFAULTS.width, positiveInt, 'a positive integer'),
    height: numberFlag(flags, 'height', DEFAULTS.height, positiveInt, 'a positive integer'),
    maxDisparity: numberFlag(flags, 'max-disparity', DEFAULTS.maxDisparity, (n) => (integerDisparity ? n >= 1 : n > 0) && n <= 512, integerDisparity ? 'in [1, 512] with --integer-disparity' : 'in (0, 512]'),
    seed: numberFlag(flags, 'seed', DEFAULTS.seed, Number.isInteger, 'an integer'),
    channels: numberFlag(flags, 'channels', DEFAULTS.channels, (n) => n === 1 || n === 3, '1 or 3') as 1 | 3,
    format,
    noise: numberFlag(flags, 'noise', DEFAULTS.noise, (n) => n >= 0 && n <= 64, 'in [0, 64] (grey levels)'),
    integerDisparity,
    force: flags.force === true,
  };
}

export async function stereoDataCommand(argv: string[]): Promise<number> {
  const o = parseOptions(argv);
  if (!o) {
    const help = argv.includes('--help');
    (help ? process.stdout : process.stderr).write(USAGE + '\n');
    return help ? 0 : 2;
  }
  // One line rewritten in place on a terminal; elsewhere (a log, a test) only the final count.
  const tty = process.stderr.isTTY === true;
  await writeStereoData(o, (done, total) => {
    if (tty) process.stderr.write(`\rstereo-data: ${done}/${total} pairs`);
    else if (done === total) process.stderr.write(`stereo-data: ${done}/${total} pairs\n`);
  });
  if (tty) process.stderr.write('\n');
  const disparity = { pfm: 'disparity/ (PFM)', kitti: 'disparity/ (KITTI PNG)', both: 'disparity/ (PFM) and disparity_kitti/ (KITTI PNG)' }[o.format];
  process.stdout.write(
    `wrote ${o.count} pairs of ${o.width}×${o.height} (${o.channels === 1 ? 'grey' : 'RGB'}, disparity ≤ ${o.maxDisparity} px) to ${o.folder}: left/, right/, ${disparity}\n`,
  );
  return 0;
}
