// CIFAR-10's binary version: data_batch_1.bin … data_batch_5.bin and test_batch.bin, each a run of 3073-byte
// records (one label byte, then 1024 red, 1024 green and 1024 blue bytes of a 32×32 image, row-major).
import path from 'node:path';
import { DataError } from './errors';
import { exists, readDataFile } from './files';

export const CIFAR_SIDE = 32;
export const CIFAR_RECORD = 1 + 3 * CIFAR_SIDE * CIFAR_SIDE;
export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
const TEST_FILE = 'test_batch.bin';

/** Records of one or more batch files, in file order; images are read out of them only when gathered. */
export interface CifarRecords {
  files: string[];
  /** The records of every file, concatenated. */
  bytes: Uint8Array;
  labels: Int32Array;
  count: number;
}

/**
 * The folder that holds the batches: `dir` itself, or the `cifar-10-batches-bin` folder the official archive unpacks
 * to inside it.
 */
export async function findCifarDir(dir: string): Promise<string> {
  if (await exists(path.join(dir, TEST_FILE))) return dir;
  const nested = path.join(dir, 'cifar-10-batches-bin');
  if (await exists(path.join(nested, TEST_FILE))) return nested;
  return dir;
}

/** The training batch files present, which must be data_batch_1.bin up to some data_batch_k.bin without a gap. */
export async function cifarTrainFiles(dir: string): Promise<string[]> {
  const present = await Promise.all(TRAIN_FILES.map((f) => exists(path.join(dir, f))));
  const count = present.indexOf(false) === -1 ? present.length : present.indexOf(false);
  const gap = present.slice(count).indexOf(true);
  if (count === 0 || gap !== -1) {
    const missing = path.join(dir, TRAIN_FILES[count]);
    throw new DataError(
      `CIFAR-10 batch ${missing} does not exist: data.dir must hold data_batch_1.bin … data_batch_5.bin and test_batch.bin`,
      'data.missing-file',
      missing,
    );
  }
  return TRAIN_FILES.slice(0, count).map((f) => path.join(dir, f));
}

export function cifarTestFile(dir: string): string {
  return path.join(dir, TEST_FILE);
}

/** Parses one batch file's records, checking length and labels. */
export function parseCifarBatch(bytes: Uint8Array, file: string): Int32Array {
  if (bytes.length === 0) throw new DataError(`CIFAR-10 batch ${file} is empty: download it again`, 'data.empty', file);
  if (bytes.length % CIFAR_RECORD !== 0) {
    throw new DataError(
      `CIFAR-10 batch ${file} is ${bytes.length} bytes, not a whole number of ${CIFAR_RECORD}-byte records: it is truncated or not the binary version`,
      'data.truncated',
      file,
    );
  }
  const count = bytes.length / CIFAR_RECORD;
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = bytes[i * CIFAR_RECORD];
    if (label > 9) {
      throw new DataError(
        `CIFAR-10 batch ${file}: record ${i} has label ${label}, outside 0..9: it is not a CIFAR-10 binary batch`,
        'data.bad-format',
        file,
      );
    }
    labels[i] = label;
  }
  return labels;
}

export async function readCifarRecords(files: string[]): Promise<CifarRecords> {
  const buffers = await Promise.all(files.map((f) => readDataFile(f, 'CIFAR-10 batch')));
  const labelParts = buffers.map((b, i) => parseCifarBatch(b, files[i]));
  const bytes = buffers.length === 1 ? buffers[0] : Buffer.concat(buffers);
  const labels = new Int32Array(labelParts.reduce((a, l) => a + l.length, 0));
  let at = 0;
  for (const l of labelParts) {
    labels.set(l, at);
    at += l.length;
  }
  return { files, bytes, labels, count: labels.length };
}

/** Copies the records at `indices` into NHWC pixels (the file stores planes: all red, then green, then blue). */
export function gatherCifar(records: CifarRecords, indices: Int32Array, images: Uint8Array, labels: Int32Array): void {
  const plane = CIFAR_SIDE * CIFAR_SIDE;
  const src = records.bytes;
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i] * CIFAR_RECORD;
    labels[i] = src[r];
    const out = i * plane * 3;
    for (let p = 0; p < plane; p++) {
      images[out + 3 * p] = src[r + 1 + p];
      images[out + 3 * p + 1] = src[r + 1 + plane + p];
      images[out + 3 * p + 2] = src[r + 1 + 2 * plane + p];
    }
  }
}
