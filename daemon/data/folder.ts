// An image folder: one sub-folder per class (sorted by name: that order gives the class indices) holding PNG or
// JPEG files, each decoded to RGB and resized to size×size.
import path from 'node:path';
import { DataError } from './errors';
import { listFolder, readDataFile } from './files';
import { decodeImage, resizeBilinear } from './images';
import { sharedBytes } from './splits';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);
/** Files read at once: enough to keep the disk busy while images decode, few enough to bound memory. */
const READ_AHEAD = 8;

export interface FolderListing {
  root: string;
  classNames: string[];
  /** Every image file, class by class, each class's files in name order. */
  files: string[];
  labels: Int32Array;
}

/** Lists the class sub-folders of `root` and their images; an empty class folder is an error naming it. */
export async function listImageFolder(root: string, what: string): Promise<FolderListing> {
  const classDirs = (await listFolder(root, what)).filter((e) => e.isDir && !e.name.startsWith('.'));
  if (classDirs.length === 0) {
    throw new DataError(
      `${what} ${root} has no class sub-folders: put each class's images in a sub-folder named after the class`,
      'data.empty',
      root,
    );
  }
  const files: string[] = [];
  const labels: number[] = [];
  for (let c = 0; c < classDirs.length; c++) {
    const dir = path.join(root, classDirs[c].name);
    const images = (await listFolder(dir, 'class folder')).filter(
      (e) => !e.isDir && !e.name.startsWith('.') && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase()),
    );
    if (images.length === 0) {
      throw new DataError(`class folder ${dir} holds no PNG or JPEG images: add some or remove the folder`, 'data.empty', dir);
    }
    for (const img of images) {
      files.push(path.join(dir, img.name));
      labels.push(c);
    }
  }
  return { root, classNames: classDirs.map((d) => d.name), files, labels: Int32Array.from(labels) };
}

/** Relabels a test listing with the training folder's class indices; a class unknown to training is an error. */
export function alignClasses(test: FolderListing, trainClasses: string[]): FolderListing {
  const index = new Map(trainClasses.map((name, i) => [name, i]));
  const unknown = test.classNames.filter((n) => !index.has(n));
  if (unknown.length > 0) {
    throw new DataError(
      `test folder ${test.root} has class folders not in the training folder (${unknown.join(', ')}): the two must use the same class names`,
      'data.mismatch',
      test.root,
    );
  }
  const labels = test.labels.map((l) => index.get(test.classNames[l]) ?? -1);
  return { ...test, classNames: trainClasses, labels };
}

/** Decodes and resizes the images at `indices` into a new shared split of size×size×3 pixels. */
export async function readFolderImages(
  listing: FolderListing,
  indices: Int32Array,
  size: number,
): Promise<{ images: Uint8Array; labels: Int32Array }> {
  const pixels = size * size * 3;
  const images = sharedBytes(indices.length * pixels);
  const labels = new Int32Array(indices.length);
  for (let at = 0; at < indices.length; at += READ_AHEAD) {
    const chunk = Array.from(indices.subarray(at, at + READ_AHEAD));
    const buffers = await Promise.all(chunk.map((j) => readDataFile(listing.files[j], 'image')));
    for (let k = 0; k < chunk.length; k++) {
      const file = listing.files[chunk[k]];
      const img = decodeImage(buffers[k], file);
      const resized = resizeBilinear(img.data, { height: img.height, width: img.width, channels: 3 }, size, size);
      images.set(resized, (at + k) * pixels);
      labels[at + k] = listing.labels[chunk[k]];
    }
  }
  return { images, labels };
}
