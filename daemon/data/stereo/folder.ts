// A stereo folder on disk: left views, right views and left-view disparity maps in three sub-folders, paired by base
// name; read into stored pairs, split (validation and test held out by a seeded shuffle, or a test folder), and sized.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ResolvedStereoFolderData } from '../../../schemas';
import { Rng } from '../../engine/rng';
import { DataError } from '../errors';
import { listFolder, readDataFile, resolveDataPath } from '../files';
import { decodeImage, type RgbImage } from '../images';
import { range, shuffleInPlace } from '../splits';
import type { CropSize, PairSplit, StoredPair } from './batches';
import { parseKittiDisparity } from './kitti-png';
import { parsePfm } from './pfm';
import { checkMultiple, largestMultiple, STEREO_SIZE_MULTIPLE } from './sizes';

const VIEW_EXTENSIONS = ['.png', '.jpg', '.jpeg'];
const DISPARITY_EXTENSIONS = ['.pfm', '.png'];
/** Pairs read at once: enough to keep the disk busy while images decode, few enough to bound memory. */
const READ_AHEAD = 8;
/** Sub-stream of the run's seed that holds validation and test pairs out. */
const HOLDOUT_STREAM = 0x57e0;

type Role = 'left' | 'right' | 'disparity';
const ROLE_TEXT: Record<Role, string> = { left: 'left view', right: 'right view', disparity: 'disparity map' };
const ROLE_FILES: Record<Role, string> = { left: 'the left views', right: 'the right views', disparity: 'the disparity maps (.pfm or KITTI .png)' };

/** The three files of one pair. */
interface PairFiles {
  left: string;
  right: string;
  disparity: string;
}

interface StereoListing {
  root: string;
  pairs: PairFiles[];
  /** Names with both views but no disparity map (KITTI's image_2 holds frames _10 and _11, disp_occ_0 only _10). */
  unlabelled: number;
}

export interface StereoFolderParts {
  train: PairSplit;
  validation: PairSplit;
  test: PairSplit;
  trainSize: CropSize;
  evalSize: CropSize;
  describe: string;
}

/** Files of one role by base name; two files of one base name (a.png, a.jpg) are an error naming both. */
async function roleFiles(root: string, sub: string, role: Role): Promise<{ dir: string; byName: Map<string, string> }> {
  const dir = path.resolve(root, sub);
  const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
  if (!isDir) {
    throw new DataError(
      `stereo data folder ${root} has no sub-folder '${sub}' (${dir}) of ${ROLE_FILES[role]}: put them there, or set data.${role} to the sub-folder that holds them`,
      'data.missing-file',
      dir,
    );
  }
  const extensions = role === 'disparity' ? DISPARITY_EXTENSIONS : VIEW_EXTENSIONS;
  const byName = new Map<string, string>();
  for (const entry of await listFolder(dir, `${ROLE_TEXT[role]} folder`)) {
    const ext = path.extname(entry.name).toLowerCase();
    if (entry.isDir || entry.name.startsWith('.') || !extensions.includes(ext)) continue;
    const name = entry.name.slice(0, entry.name.length - ext.length);
    const file = path.join(dir, entry.name);
    const other = byName.get(name);
    if (other) {
      throw new DataError(`${ROLE_TEXT[role]}s ${other} and ${file} have the same base name, so the pair is ambiguous: remove one`, 'data.mismatch', file);
    }
    byName.set(name, file);
  }
  return { dir, byName };
}

/** Pairs up the three sub-folders of `root` by base name; a file without its partners is an error naming it. */
async function listStereoFolder(root: string, cfg: ResolvedStereoFolderData): Promise<StereoListing> {
  await listFolder(root, 'stereo data folder'); // a missing root is reported as such, before its sub-folders
  const roles = {
    left: await roleFiles(root, cfg.left, 'left'),
    right: await roleFiles(root, cfg.right, 'right'),
    disparity: await roleFiles(root, cfg.disparity, 'disparity'),
  };
  const names = [...new Set([...roles.left.byName.keys(), ...roles.right.byName.keys(), ...roles.disparity.byName.keys()])].sort();
  const pairs: PairFiles[] = [];
  const unpaired: { file: string; message: string }[] = [];
  let unlabelled = 0;
  for (const name of names) {
    const left = roles.left.byName.get(name);
    const right = roles.right.byName.get(name);
    const disparity = roles.disparity.byName.get(name);
    if (left && right && disparity) pairs.push({ left, right, disparity });
    else if (left && right) unlabelled++;
    else {
      const present = (['left', 'right', 'disparity'] as const).find((r) => roles[r].byName.has(name)) as Role;
      const file = roles[present].byName.get(name) as string;
      const lacks = (['left', 'right', 'disparity'] as const)
        .filter((r) => !roles[r].byName.has(name))
        .map((r) => `${ROLE_TEXT[r]} in ${roles[r].dir}`)
        .join(' and no ');
      unpaired.push({ file, message: `${ROLE_TEXT[present]} ${file} has no ${lacks}` });
    }
  }
  if (unpaired.length > 0) {
    const more = unpaired.length > 1 ? `; ${unpaired.length - 1} more file${unpaired.length > 2 ? 's are' : ' is'} unpaired` : '';
    throw new DataError(`${unpaired[0].message} (files pair up by base name): add the missing file or remove this one${more}`, 'data.mismatch', unpaired[0].file);
  }
  if (pairs.length === 0) {
    const why = unlabelled > 0 ? `: its ${unlabelled} view pairs have no disparity map in ${roles.disparity.dir}` : '';
    throw new DataError(
      `stereo data folder ${root} holds no complete pairs${why}; put <name>.png in ${cfg.left}/ and ${cfg.right}/ and <name>.pfm or <name>.png in ${cfg.disparity}/`,
      'data.empty',
      root,
    );
  }
  return { root, pairs, unlabelled };
}

/** RGB as read, or grey by Rec. 601 luma (exact for grey files, which decodeImage replicates into RGB). */
function toChannels(img: RgbImage, channels: 1 | 3): Uint8Array {
  if (channels === 3) return img.data;
  const n = img.width * img.height;
  const grey = new Uint8Array(n);
  for (let i = 0; i < n; i++) grey[i] = Math.round(0.299 * img.data[3 * i] + 0.587 * img.data[3 * i + 1] + 0.114 * img.data[3 * i + 2]);
  return grey;
}

/** A disparity file by extension: PFM (inf, NaN and ≤ 0 mean no ground truth) or KITTI's PNG (0 means none). */
function decodeDisparity(bytes: Buffer, file: string): { width: number; height: number; data: Float32Array } {
  if (path.extname(file).toLowerCase() === '.png') return parseKittiDisparity(bytes, file);
  const pfm = parsePfm(bytes, file);
  if (pfm.channels !== 1) throw new DataError(`disparity map ${file} is a colour PFM (PF); a disparity map has one channel (Pf)`, 'data.bad-format', file);
  const data = pfm.data;
  for (let i = 0; i < data.length; i++) if (!(data[i] > 0) || data[i] === Infinity) data[i] = NaN;
  return { width: pfm.width, height: pfm.height, data };
}

async function readPair(files: PairFiles, channels: 1 | 3): Promise<StoredPair> {
  const [l, r, d] = await Promise.all([
    readDataFile(files.left, 'left view'),
    readDataFile(files.right, 'right view'),
    readDataFile(files.disparity, 'disparity map'),
  ]);
  const left = decodeImage(l, files.left);
  const right = decodeImage(r, files.right);
  const disparity = decodeDisparity(d, files.disparity);
  const size = (x: { width: number; height: number }): string => `${x.width}×${x.height}`;
  if (left.width !== right.width || left.height !== right.height) {
    throw new DataError(
      `views of different size: left ${files.left} is ${size(left)}, right ${files.right} is ${size(right)}; a rectified pair has views of one size: fix or remove the pair`,
      'data.mismatch',
      files.right,
    );
  }
  if (disparity.width !== left.width || disparity.height !== left.height) {
    throw new DataError(
      `disparity map ${files.disparity} is ${size(disparity)} but its views (${files.left}) are ${size(left)}: fix or remove the pair`,
      'data.mismatch',
      files.disparity,
    );
  }
  return { name: files.left, width: left.width, height: left.height, left: toChannels(left, channels), right: toChannels(right, channels), disparity: disparity.data };
}

async function readPairs(files: readonly PairFiles[], channels: 1 | 3): Promise<StoredPair[]> {
  const out: StoredPair[] = [];
  for (let at = 0; at < files.length; at += READ_AHEAD) {
    out.push(...(await Promise.all(files.slice(at, at + READ_AHEAD).map((f) => readPair(f, channels)))));
  }
  return out;
}

/**
 * A crop size: the configured one (a multiple of 64), or the largest multiple of 64 that the smallest pair holds;
 * every pair must hold it. `what` and `settings` name the crop and its config fields in messages.
 */
function cropFor(pairs: readonly StoredPair[], configured: CropSize, what: string, settings: [string, string]): CropSize {
  const narrowest = pairs.reduce((a, b) => (b.width < a.width ? b : a));
  const lowest = pairs.reduce((a, b) => (b.height < a.height ? b : a));
  const pick = (value: number, setting: string, smallest: StoredPair, side: number): number => {
    if (value > 0) {
      checkMultiple(value, setting);
      return value;
    }
    const fit = largestMultiple(side);
    if (fit === 0) {
      throw new DataError(
        `pair ${smallest.name} is ${smallest.width}×${smallest.height}, under ${STEREO_SIZE_MULTIPLE} px for the ${what}: stereo pairs must be at least ${STEREO_SIZE_MULTIPLE}×${STEREO_SIZE_MULTIPLE}; remove it`,
        'data.mismatch',
        smallest.name,
      );
    }
    return fit;
  };
  const crop = { width: pick(configured.width, settings[0], narrowest, narrowest.width), height: pick(configured.height, settings[1], lowest, lowest.height) };
  for (const p of pairs) {
    if (p.width < crop.width || p.height < crop.height) {
      throw new DataError(
        `pair ${p.name} is ${p.width}×${p.height}, smaller than the ${what} ${crop.width}×${crop.height}: lower ${settings[0]} and ${settings[1]} or remove the pair`,
        'data.mismatch',
        p.name,
      );
    }
  }
  return crop;
}

/** Splits `count` pairs by a seeded shuffle: `test` (0 with a test folder) and `validation` held out, in name order. */
function holdOut(count: number, validation: number, test: number, seed: number, root: string): { train: number[]; validation: number[]; test: number[] } {
  if (count - validation - test < 1) {
    const held = test > 0 ? `validationSize ${validation} + testSize ${test}` : `validationSize ${validation}`;
    throw new DataError(`stereo data folder ${root} has ${count} pairs; ${held} leave none for training: lower them or add pairs`, 'data.empty', root);
  }
  const order = Array.from(shuffleInPlace(range(count), Rng.derive(seed, HOLDOUT_STREAM)));
  const sorted = (a: number[]): number[] => a.sort((x, y) => x - y);
  return { test: sorted(order.slice(0, test)), validation: sorted(order.slice(test, test + validation)), train: sorted(order.slice(test + validation)) };
}

/** Reads the folder (and the test folder, when there is one) and plans the splits and sizes. */
export async function readStereoFolder(cfg: ResolvedStereoFolderData, opts: { baseDir: string; seed: number }): Promise<StereoFolderParts> {
  const root = resolveDataPath(opts.baseDir, cfg.path);
  const listing = await listStereoFolder(root, cfg);
  const testListing = cfg.test ? await listStereoFolder(resolveDataPath(opts.baseDir, cfg.test), cfg) : undefined;
  const all = await readPairs(listing.pairs, cfg.channels);
  const plan = holdOut(all.length, cfg.validationSize, testListing ? 0 : cfg.testSize, opts.seed, root);
  const split = (pairs: StoredPair[]): PairSplit => ({ channels: cfg.channels, pairs });
  const train = split(plan.train.map((i) => all[i]));
  const validation = split(plan.validation.map((i) => all[i]));
  const test = split(testListing ? await readPairs(testListing.pairs, cfg.channels) : plan.test.map((i) => all[i]));
  const aug = cfg.augmentation;
  const trainSize = cropFor(train.pairs, { width: aug.cropWidth, height: aug.cropHeight }, 'training crop', ['data.augmentation.cropWidth', 'data.augmentation.cropHeight']);
  const evalSize = cropFor([...validation.pairs, ...test.pairs], { width: cfg.evaluationWidth, height: cfg.evaluationHeight }, 'evaluation crop', ['data.evaluationWidth', 'data.evaluationHeight']);
  const skipped = listing.unlabelled + (testListing?.unlabelled ?? 0);
  const describe =
    `stereo folder ${root}: ${train.pairs.length} / ${validation.pairs.length} / ${test.pairs.length} pairs` +
    `${testListing ? ` (test: ${testListing.root})` : ''}, ${cfg.channels === 1 ? 'grey' : 'RGB'}, ` +
    `crops ${trainSize.width}×${trainSize.height} for training and ${evalSize.width}×${evalSize.height} for evaluation, disparity ≤ ${cfg.maxDisparity} px` +
    (skipped > 0 ? `; ${skipped} view pairs without a disparity map left out` : '');
  return { train, validation, test, trainSize, evalSize, describe };
}
