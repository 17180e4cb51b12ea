// The PFM format (SceneFlow, Middlebury disparities): parse and encode float32 images, rows top-to-bottom in memory.
import { writeFile } from 'node:fs/promises';
import { DataError } from '../errors';
import { readDataFile } from '../files';

/** A float image as MANTA holds it: rows top-to-bottom, channels interleaved. */
export interface PfmImage {
  width: number;
  height: number;
  channels: 1 | 3;
  /** height·width·channels values; PFM's row order (bottom-to-top) is undone here. */
  data: Float32Array;
}

export interface PfmEncodeOptions {
  /** Byte order of the samples (default true: what numpy, OpenCV and the SceneFlow files use). */
  littleEndian?: boolean;
  /** Magnitude of the header's scale (default 1); its sign is set from the byte order. */
  scale?: number;
}

const PF_GREY = 'Pf';
const PF_RGB = 'PF';
/** Longest header worth scanning for: three short tokens; a file without them this early is not a PFM. */
const MAX_HEADER = 256;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

/** The header's three whitespace-separated fields, and the offset just past the last one. */
function headerTokens(bytes: Uint8Array, file: string): { tokens: string[]; end: number } {
  const tokens: string[] = [];
  let i = 0;
  const limit = Math.min(bytes.length, MAX_HEADER);
  // Width and height are one line by the spec, but some writers split them: read four tokens, whatever the lines.
  while (tokens.length < 4 && i < limit) {
    while (i < limit && isSpace(bytes[i])) i++;
    const start = i;
    while (i < limit && !isSpace(bytes[i])) i++;
    if (i > start) tokens.push(String.fromCharCode(...bytes.subarray(start, i)));
  }
  if (tokens.length < 4 || i >= bytes.length) {
    if (bytes.length < MAX_HEADER) throw new DataError(`PFM file ${file} is truncated: its header (type, width height, scale) is cut short`, 'data.truncated', file);
    throw new DataError(`PFM file ${file} has a bad header: no type, width, height and scale in its first ${MAX_HEADER} bytes`, 'data.bad-format', file);
  }
  return { tokens, end: i };
}

function positiveInt(token: string, what: string, file: string): number {
  if (!/^[0-9]+$/.test(token) || Number(token) === 0) {
    throw new DataError(`PFM file ${file} has a bad header: ${what} '${token}' is not a positive integer`, 'data.bad-format', file);
  }
  return Number(token);
}

/** Decodes a PFM file's bytes; every problem is a DataError naming `file`. */
export function parsePfm(bytes: Uint8Array, file: string): PfmImage {
  if (bytes.length < 2) throw new DataError(`PFM file ${file} is truncated: ${bytes.length} bytes`, 'data.truncated', file);
  const magic = String.fromCharCode(bytes[0], bytes[1]);
  if (magic !== PF_GREY && magic !== PF_RGB) {
    throw new DataError(`PFM file ${file} has a bad header: it starts with '${magic}', not 'Pf' (grey) or 'PF' (colour)`, 'data.bad-format', file);
  }
  const { tokens, end } = headerTokens(bytes, file);
  if (tokens[0] !== magic) throw new DataError(`PFM file ${file} has a bad header: type '${tokens[0]}' is not 'Pf' or 'PF'`, 'data.bad-format', file);
  const channels = magic === PF_RGB ? 3 : 1;
  const width = positiveInt(tokens[1], 'width', file);
  const height = positiveInt(tokens[2], 'height', file);
  const scale = Number(tokens[3]);
  if (!Number.isFinite(scale) || scale === 0) {
    throw new DataError(`PFM file ${file} has a bad header: scale '${tokens[3]}' is not a non-zero number (its sign gives the byte order)`, 'data.bad-format', file);
  }
  const littleEndian = scale < 0;
  const expected = width * height * channels * 4;
  // One whitespace byte ends the header; a CRLF-written file has two, told apart by the file's length.
  let offset = end + 1;
  if (bytes.length - offset !== expected && bytes[end] === 0x0d && bytes[end + 1] === 0x0a && bytes.length - (end + 2) === expected) offset = end + 2;
  const actual = bytes.length - offset;
  if (actual < expected) {
    throw new DataError(
      `PFM file ${file} is truncated: its header promises ${width}×${height}×${channels} float32 values (${expected} bytes) but it holds ${Math.max(0, actual)} bytes`,
      'data.truncated',
      file,
    );
  }
  if (actual > expected) {
    throw new DataError(`PFM file ${file} has ${actual - expected} bytes more than its header (${width}×${height}×${channels}) says`, 'data.bad-format', file);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, expected);
  const data = new Float32Array(width * height * channels);
  const row = width * channels;
  for (let y = 0; y < height; y++) {
    const src = (height - 1 - y) * row; // PFM stores the bottom row first
    const dst = y * row;
    for (let i = 0; i < row; i++) data[dst + i] = view.getFloat32((src + i) * 4, littleEndian);
  }
  return { width, height, channels, data };
}

/** Encodes an image as PFM (bottom row first, as the format requires). */
export function encodePfm(image: PfmImage, opts: PfmEncodeOptions = {}): Buffer {
  const { width, height, channels, data } = image;
  if (data.length !== width * height * channels) {
    throw new RangeError(`encodePfm: ${data.length} values for a ${width}×${height}×${channels} image`);
  }
  const littleEndian = opts.littleEndian ?? true;
  const magnitude = Math.abs(opts.scale ?? 1) || 1;
  const header = Buffer.from(`${channels === 3 ? PF_RGB : PF_GREY}\n${width} ${height}\n${littleEndian ? -magnitude : magnitude}\n`, 'latin1');
  const body = Buffer.alloc(data.length * 4);
  const row = width * channels;
  for (let y = 0; y < height; y++) {
    const src = (height - 1 - y) * row;
    const dst = y * row;
    for (let i = 0; i < row; i++) {
      if (littleEndian) body.writeFloatLE(data[src + i], (dst + i) * 4);
      else body.writeFloatBE(data[src + i], (dst + i) * 4);
    }
  }
  return Buffer.concat([header, body]);
}

export async function readPfm(file: string): Promise<PfmImage> {
  return parsePfm(await readDataFile(file, 'PFM file'), file);
}

export async function writePfm(file: string, image: PfmImage, opts: PfmEncodeOptions = {}): Promise<void> {
  await writeFile(file, encodePfm(image, opts));
}
