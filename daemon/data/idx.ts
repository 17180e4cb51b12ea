// The IDX format of MNIST and Fashion-MNIST: a big-endian header (0, 0, type 0x08 = unsigned byte, number of
// dimensions, then each dimension as uint32) followed by the bytes. Raw or gzipped.
import { DataError } from './errors';
import { readMaybeGzip } from './files';

export interface IdxImages {
  count: number;
  height: number;
  width: number;
  /** count·height·width bytes (a view into the file's buffer). */
  pixels: Uint8Array;
}

/** Parses an IDX file of unsigned bytes with `dims` dimensions; every problem names the file. */
export function parseIdx(bytes: Uint8Array, dims: 1 | 3, file: string): { shape: number[]; data: Uint8Array } {
  const kind = dims === 3 ? 'IDX3 image file (magic 0x00000803)' : 'IDX1 label file (magic 0x00000801)';
  if (bytes.length < 4)
    throw new DataError(`${file} is truncated: ${bytes.length} bytes, too short for an IDX header`, 'data.truncated', file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic !== 0x800 + dims) {
    throw new DataError(
      `${file} has magic number 0x${magic.toString(16).padStart(8, '0')}, not that of an ${kind}: check which file the config names`,
      'data.bad-format',
      file,
    );
  }
  const header = 4 + 4 * dims;
  if (bytes.length < header) throw new DataError(`${file} is truncated: its IDX header is cut short`, 'data.truncated', file);
  const shape: number[] = [];
  for (let i = 0; i < dims; i++) shape.push(view.getUint32(4 + 4 * i));
  const expected = shape.reduce((a, b) => a * b, 1);
  const actual = bytes.length - header;
  if (actual < expected) {
    throw new DataError(
      `${file} is truncated: its header promises ${shape.join('×')} = ${expected} bytes of data but it holds ${actual}; download it again`,
      'data.truncated',
      file,
    );
  }
  if (actual > expected) {
    throw new DataError(
      `${file} has ${actual - expected} bytes more than its IDX header (${shape.join('×')}) says: it is not a valid IDX file`,
      'data.bad-format',
      file,
    );
  }
  if (shape.some((d) => d === 0)) throw new DataError(`${file} holds no data (shape ${shape.join('×')})`, 'data.empty', file);
  return { shape, data: bytes.subarray(header) };
}

export async function readIdxImages(file: string): Promise<IdxImages> {
  const { shape, data } = parseIdx(await readMaybeGzip(file, 'IDX image file'), 3, file);
  return { count: shape[0], height: shape[1], width: shape[2], pixels: data };
}

/** Labels as Int32; each must be below `classes`. */
export async function readIdxLabels(file: string, classes: number): Promise<Int32Array> {
  const { data } = parseIdx(await readMaybeGzip(file, 'IDX label file'), 1, file);
  const labels = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v >= classes) {
      throw new DataError(
        `${file}: label ${v} at index ${i} is outside 0..${classes - 1}; set data.classes to at least ${v + 1}`,
        'data.bad-format',
        file,
      );
    }
    labels[i] = v;
  }
  return labels;
}

/** Images and labels of one split, checked against each other. */
export async function readIdxPair(
  imagesFile: string,
  labelsFile: string,
  classes: number,
): Promise<{ images: IdxImages; labels: Int32Array }> {
  const [images, labels] = await Promise.all([readIdxImages(imagesFile), readIdxLabels(labelsFile, classes)]);
  if (images.count !== labels.length) {
    throw new DataError(
      `${imagesFile} holds ${images.count} images but ${labelsFile} holds ${labels.length} labels: the two files must belong together`,
      'data.mismatch',
      labelsFile,
    );
  }
  return { images, labels };
}
